"""Pieces every loss shares: input conversion, the weighting fold and the reduction.

Every loss computes a per-element value ``ℓ`` (already carrying any class
weight that belongs to the numerator) and, when class weights or ignored
targets are involved, a per-element *denominator weight* ``ω``. Then
:func:`finish` folds ``mask · sample_weight · valid`` into both and hands them
to :func:`maskjax._reduction.reduce_weighted`, the one reduction of maskjax:

* numerator ``ℓ · m · s · valid`` and weight ``ω · m · s · valid``;
* ``keep = m · valid`` (the Keras 3 ``sum_over_batch_size`` denominator).
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp

from maskjax import _checks, _policy
from maskjax._reduction import reduce_weighted
from maskjax._safe_divide import safe_divide
from maskjax._weighting import broadcast_left, weight_dtype

#: Probability clipping used when ``from_logits=False`` (Keras' ``epsilon()``).
EPSILON = 1e-7


def float_preds(preds: Any, name: str = "preds") -> jax.Array:
    """``preds`` as a floating array of at least float32 (TypeError otherwise)."""
    given = getattr(preds, "dtype", None)  # as passed (NumPy int64 becomes int32 in JAX)
    preds = _checks.as_array(preds, name)
    if not _checks.is_floating(preds):
        raise TypeError(
            f"`{name}` must have a floating dtype (scores, logits or probabilities), "
            f"got {given if given is not None else preds.dtype}."
        )
    return preds.astype(weight_dtype(preds))


def float_targets(targets: Any, dtype: Any, name: str = "targets") -> jax.Array:
    """Targets that may be bool / int 0-1 / float, as ``dtype``."""
    targets = _policy.as_labels(targets, name)
    _checks.check_numeric(targets, name)
    return targets.astype(dtype)


check_bool_flag = _checks.check_bool


def check_label_smoothing(value: Any) -> float:
    return _checks.check_static_float(value, "label_smoothing", 0.0, 1.0)


def kept_elements(mask: Any, element_shape: tuple[int, ...]) -> jax.Array | None:
    """Bool ``element_shape`` array of the elements ``mask`` keeps (``None``: no mask)."""
    if mask is None:
        return None
    m = _policy.squeeze_trailing(mask, element_shape, "mask")
    if not (m.dtype == jnp.bool_ or _checks.is_integer(m) or _checks.is_floating(m)):
        raise TypeError(f"`mask` must be bool or 0/1 numbers, got dtype {m.dtype}.")
    return broadcast_left(m != 0, element_shape, "mask")


@jax.custom_jvp
def _guard_gradient(x: jax.Array, keep: jax.Array) -> jax.Array:
    """Identity on ``x``; its derivative is zeroed where ``keep`` is False (forward and reverse)."""
    return x


@_guard_gradient.defjvp
def _guard_jvp(primals, tangents):
    x, keep = primals
    # a select (never a product): its transpose sends back select(keep, g, 0), dropping NaN
    return x, jnp.where(keep, tangents[0], jnp.zeros((), x.dtype))


def drop_masked(keep: jax.Array | None, *arrays: jax.Array, class_axis: int | None = None):
    """Cut masked elements of ``arrays`` out of the gradient *before* any maths.

    The forward value is untouched (no extra pass over the inputs: :func:`finish`
    drops masked values with a ``where``); in the backward pass the gradient of
    a masked element is set to 0 *after* the loss' own backward, so a NaN / inf
    there (``0 · NaN`` in, e.g., a softmax VJP) reaches no gradient. Losses
    whose forward mixes elements (overlap sums) zero their inputs instead.
    ``class_axis``: the arrays carry a class axis there that ``keep`` lacks.
    """
    if keep is None:
        return arrays if len(arrays) > 1 else arrays[0]
    k = keep if class_axis is None else jnp.expand_dims(keep, class_axis)
    out = tuple(_guard_gradient(a, k) if _checks.is_floating(a) else a for a in arrays)
    return out if len(out) > 1 else out[0]


def drop_masked_elementwise(mask: Any, preds: jax.Array, *others: jax.Array,
                            average_axis: Any = None):
    """:func:`drop_masked` for element-wise losses (``mask`` broadcast from the left to ``preds``).

    With an ``average_axis`` other than the last, the mask belongs to the
    reduced shape and does not broadcast from the left: nothing is zeroed
    here (the value is still masked by :func:`finish`).
    """
    arrays = (preds,) + others
    if mask is None or (average_axis is not None and not isinstance(average_axis, bool)
                        and isinstance(average_axis, int) and preds.ndim >= 1
                        and average_axis % preds.ndim != preds.ndim - 1):
        return arrays if len(arrays) > 1 else arrays[0]
    return drop_masked(kept_elements(mask, preds.shape), *arrays)


def check_average_axis(average_axis: Any, ndim: int) -> int | None:
    """``None`` or a static int axis of an array of rank ``ndim`` (normalised to >= 0)."""
    if average_axis is None:
        return None
    if ndim < 1:
        raise ValueError(
            f"`average_axis`={average_axis!r} needs per-element values of rank >= 1, got rank 0 "
            "`preds`; pass `average_axis=None`."
        )
    return _checks.normalize_axis(average_axis, ndim, "average_axis")


def average_over(loss: jax.Array, element_weight: jax.Array | None, valid: jax.Array | None,
                 axis: int) -> tuple[jax.Array, jax.Array | None, jax.Array | None]:
    """Keras' per-sample rule: average ``loss`` (and ``ω``) over ``axis`` before weighting.

    Elements that are not ``valid`` (ignored targets) are left out of the
    average; a slice with no valid element gets 0 and is itself not valid.
    """
    if valid is None:
        omega = None if element_weight is None else jnp.mean(element_weight, axis=axis)
        return jnp.mean(loss, axis=axis), omega, None
    dtype = loss.dtype
    v = valid.astype(dtype)
    n = jnp.sum(v, axis=axis)
    zero = jnp.zeros((), dtype)
    total = jnp.sum(jnp.where(valid, loss, zero), axis=axis)  # an ignored NaN must not leak
    omega = None if element_weight is None else safe_divide(
        jnp.sum(jnp.where(valid, element_weight, zero), axis=axis), n)
    return safe_divide(total, n), omega, n > 0


def finish(loss: jax.Array, *, mask: Any, sample_weight: Any, reduction: str,
           element_weight: jax.Array | None = None, valid: jax.Array | None = None,
           axis: int | Sequence[int] | None = None, average_axis: int | None = None) -> jax.Array:
    """Fold the weighting arguments into ``loss`` and reduce it.

    Args:
      loss: ``[*S]`` per-element loss ``ℓ`` (floating).
      mask, sample_weight: the user's arguments, broadcast from the left to ``S``.
      reduction: a :data:`maskjax._checks.REDUCTIONS` mode.
      element_weight: ``ω`` of shape ``S`` for the ``"mean"`` denominator
        (class weight of the target); ``None`` means 1.
      valid: bool ``S``; ``False`` elements (ignored targets, empty sets) count
        nowhere.
      axis: axes to reduce (``None``: all).
      average_axis: if given, ``ℓ`` and ``ω`` are first averaged over this
        axis (Keras' per-sample ``mean(..., axis=-1)``) and ``mask`` /
        ``sample_weight`` apply to the reduced shape.
    """
    _checks.check_reduction(reduction)
    ax = check_average_axis(average_axis, loss.ndim)
    if ax is not None:
        loss, element_weight, valid = average_over(loss, element_weight, valid, ax)
    dtype = loss.dtype
    ew = _policy.fold(loss.shape, mask=mask, sample_weight=sample_weight, dtype=dtype)
    base, keep = ew.weight, ew.keep
    if valid is not None:
        valid = valid.astype(dtype)
        base, keep = base * valid, keep * valid
    weight = base if element_weight is None else base * element_weight.astype(dtype)
    # where(), not only a product: a masked-out inf/nan must not leak into the sum.
    numer = jnp.where(base != 0, loss, jnp.zeros((), dtype)) * base
    return reduce_weighted(numer, weight, keep, reduction=reduction, axis=axis)


def check_target_shape_matches(preds: jax.Array, targets: jax.Array, *, pname: str = "preds",
                               tname: str = "targets") -> None:
    _checks.check_same_shape(preds, targets, pname, tname)
