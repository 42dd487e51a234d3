"""The one reduction every loss (and every averaged metric) goes through."""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp

from maskjax import _checks, _policy
from maskjax._safe_divide import safe_divide
from maskjax._weighting import weight_dtype


def reduce_weighted(weighted_values: jax.Array, weight: jax.Array, keep: jax.Array, *,
                    reduction: str, axis: int | Sequence[int] | None = None) -> jax.Array:
    """Reduce values that are *already multiplied* by their element weight.

    Private workhorse of :func:`reduce`. ``weighted_values = w · v``,
    ``weight = w`` and ``keep`` the 0/1 kept indicator, all of one shape.
    Losses whose numerator is not ``w · v`` for a single ``v`` (class weights
    inside a soft-target sum, say) call this directly.
    """
    _checks.check_reduction(reduction)
    if reduction == "none":
        return weighted_values
    axes = _checks.normalize_axes(axis, weighted_values.ndim)
    total = jnp.sum(weighted_values, axis=axes)
    if reduction == "sum":
        return total
    if reduction == "mean":
        return safe_divide(total, jnp.sum(weight, axis=axes))
    if reduction == "sum_over_batch_size":
        return safe_divide(total, jnp.sum(keep, axis=axes))
    # sum_by_nonzero_weights (TF1 default, Keras 2): divide by the number of non-zero weights.
    return safe_divide(total, jnp.sum((weight != 0).astype(total.dtype), axis=axes))


def reduce(values: Any, *, mask: Any = None, sample_weight: Any = None, reduction: str = "mean",
           axis: int | Sequence[int] | None = None) -> jax.Array:
    r"""Masked, weighted reduction of per-element values: the one reduction of maskjax.

    With :math:`w = m \cdot s` (mask times sample weight, both broadcast from
    the left to ``values.shape``):

    * ``"mean"``: :math:`\sum w v / \sum w` — the masked, weighted mean
      (Keras 3 ``mean_with_sample_weight`` when the weight has the full element
      shape; torch's ``mean`` with class-index weights).
    * ``"sum"``: :math:`\sum w v` (torch, Keras ``"sum"``).
    * ``"none"``: :math:`w v`, elementwise (masked elements are 0).
    * ``"sum_over_batch_size"``: :math:`\sum w v / \sum m` — Keras 3's default:
      the denominator counts kept elements, not weights.
    * ``"sum_by_nonzero_weights"``: :math:`\sum w v / \#\{w \ne 0\}` — the TF1
      ``compute_weighted_loss`` default and Keras 2's rule.

    A zero denominator (everything masked, all weights 0) gives 0 with a zero,
    finite gradient — never NaN. A negative or NaN ``sample_weight`` raises
    ``ValueError`` when its values are concrete (eager call) and makes the
    result NaN under ``jit`` (:mod:`maskjax._policy`). A ``mask`` /
    ``sample_weight`` with one extra trailing size-1 axis (Keras ``[B, T, 1]``
    against ``[B, T]`` values) is accepted.

    Args:
      values: ``[*S]`` per-element values (e.g. an unreduced loss).
      mask: bool or 0/1, broadcastable *from the left* to ``S``; ``True`` keeps.
      sample_weight: floats broadcastable from the left to ``S`` (``[B]``
        against ``[B, T]`` weights each row).
      reduction: one of the modes above.
      axis: axes to reduce (``None``: all). Reducing ``axis=1`` of ``[B, T]``
        gives a per-sample ``[B]`` result.

    Returns:
      The reduced array: a scalar for ``axis=None``, ``S`` minus ``axis``
      otherwise, ``S`` for ``"none"``.

    Raises:
      ValueError: unknown ``reduction``, ``axis`` out of range, a ``mask`` /
        ``sample_weight`` that does not broadcast from the left, or a concrete
        negative / NaN ``sample_weight``.

    Example:
      >>> import jax.numpy as jnp, maskjax
      >>> v = jnp.array([[1., 2., 3.], [4., 5., 6.]])
      >>> m = jnp.array([[1, 1, 0], [1, 0, 0]])
      >>> w = jnp.array([2., .5])            # one weight per row
      >>> float(maskjax.reduce(v, mask=m, sample_weight=w, reduction="sum"))
      8.0
      >>> round(float(maskjax.reduce(v, mask=m, sample_weight=w, reduction="sum_over_batch_size")), 4)
      2.6667
      >>> maskjax.reduce(v, mask=m, reduction="mean", axis=1).tolist()
      [1.5, 4.0]
    """
    values = _checks.as_array(values, "values")
    _checks.check_numeric(values, "values")
    _checks.check_reduction(reduction)
    if reduction != "none":
        _checks.normalize_axes(axis, values.ndim)
    dtype = weight_dtype(values)
    weights = _policy.fold(values.shape, mask=mask, sample_weight=sample_weight, dtype=dtype)
    # where(), not a product alone: a masked-out inf/nan value must not leak into the sum.
    weighted = jnp.where(weights.weight != 0, values.astype(dtype), 0) * weights.weight
    return reduce_weighted(weighted, weights.weight, weights.keep, reduction=reduction, axis=axis)
