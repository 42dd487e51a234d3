"""The one bad-input rule of the metrics: a kept NaN score or a bad weight makes the result NaN.

maskjax's policy (README, "What bad input gets"):

* **NaN scores.** A NaN score in a *kept* element (not masked, target not ``ignore_index``) makes
  the metric NaN: a diverging model must show it, never a plausible number (a NaN thresholded as
  "negative", or arg-maxed to a class, or sorted as +inf). ``validate=True`` raises eagerly
  instead, naming the argument. Masked / ignored NaNs count nowhere, as everything masked.
* **Bad weights.** A NaN or negative ``sample_weight`` raises ``ValueError`` naming the argument
  when its values are concrete (an eager call, the fronts, the CLI:
  :func:`maskjax._policy.check_weight_values`); under ``jit`` it makes the result NaN.

One-shot functions poison their result with :func:`poison`; streaming metrics carry the number of
batches with such elements in their tagged state (:class:`maskjax.metrics._wide.Tagged`), so a NaN seen in any
batch, on any device, makes the final ``compute`` NaN.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from maskjax import _checks, _policy

__all__ = ["any_invalid", "check_weights", "poison"]


def _left(x: jax.Array, shape: tuple[int, ...]) -> jax.Array | None:
    """``x`` broadcast from the left to ``shape`` (``None`` when it does not fit)."""
    if x.ndim > len(shape) and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    if x.ndim > len(shape) or tuple(x.shape) != tuple(shape[: x.ndim]) and not all(
            a in (1, b) for a, b in zip(x.shape, shape)):
        return None
    x = x.reshape(x.shape + (1,) * (len(shape) - x.ndim))
    return jnp.broadcast_to(x, shape)


def any_invalid(preds: Any, targets: Any = None, *, mask: Any = None, sample_weight: Any = None,
                  ignore_index: int | None = None) -> jax.Array:
    """int32 0 or 1: whether a kept element has a NaN score, or a weight is NaN or negative.

    A flag, not a count, so that a stream's running total (one per bad batch) cannot overflow.
    """
    total = jnp.zeros((), jnp.int32)
    if preds is None:
        return total
    preds = _checks.as_array(preds, "preds")
    shape = tuple(preds.shape)
    kept = jnp.ones(shape, bool)
    if mask is not None:
        m = _left(_checks.as_array(mask, "mask") != 0, shape)
        kept = kept if m is None else kept & m
    if ignore_index is not None and targets is not None:
        t = _checks.as_array(targets, "targets")
        if jnp.issubdtype(t.dtype, jnp.integer):
            keep_t = _left(t != ignore_index, shape)
            kept = kept if keep_t is None else kept & keep_t
    if jnp.issubdtype(preds.dtype, jnp.floating):
        bad_scores = kept & jnp.isnan(preds)
        if bad_scores.ndim:
            # the last (class) axis first: XLA fuses that reduction, where one int32 sum over the
            # whole shape materialised it ([16, 128, 20] scores: 37 -> 23 µs on the dev CPU)
            bad_scores = jnp.any(bad_scores, axis=-1)
        total = total | (jnp.sum(bad_scores, dtype=jnp.int32) > 0)
    if sample_weight is not None:
        w = _checks.as_array(sample_weight, "sample_weight")
        if jnp.issubdtype(w.dtype, jnp.floating) or jnp.issubdtype(w.dtype, jnp.integer):
            bad = jnp.isnan(w) | (w < 0) if jnp.issubdtype(w.dtype, jnp.floating) else w < 0
            if mask is not None:
                m = _left(_checks.as_array(mask, "mask") != 0, tuple(w.shape))
                bad = bad if m is None else bad & m
            total = total | (jnp.sum(bad, dtype=jnp.int32) > 0)
    return total


def check_weights(sample_weight: Any) -> None:
    """Raise ``ValueError`` now for concrete NaN / negative weights (under ``jit``: NaN result)."""
    if sample_weight is not None and _policy.is_concrete(sample_weight):
        _policy.check_weight_values(sample_weight, "sample_weight")


def poison(result: Any, invalid: Any) -> Any:
    """``result`` with every float leaf NaN where ``invalid > 0``.

    Integer leaves (the int32 counts of an unweighted one-shot ``confusion_matrix`` /
    ``stat_scores``) cannot hold NaN and are left as they are (documented: use ``validate=True``,
    or float counts); boolean leaves (a curve's ``valid`` mask) too.
    """
    bad = jnp.asarray(invalid) > 0

    def leaf(x: Any) -> Any:
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            return x
        return jnp.where(bad, jnp.asarray(jnp.nan, x.dtype), x)

    return jax.tree.map(leaf, result)
