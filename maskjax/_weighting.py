"""The one weighting contract: mask, sample_weight, class_weight, ignore_index.

Every loss and metric folds its weighting arguments into one per-element
weight with these helpers, then hands it to :mod:`maskjax._reduction` (losses)
or to the weighted counts (metrics). The rules, in one place:

* ``mask`` — bool or 0/1, ``True`` keeps an element. Broadcast from the left.
* ``sample_weight`` — float, broadcast from the left (a ``[B]`` weight against
  ``[B, T]`` elements weights rows; Keras would raise, torch has no such
  argument).
* ``class_weight`` — ``[C]`` looked up by the element's target class (for
  dense / one-hot targets: ``Σ_c t_c · class_weight[c]``); for multi-label
  ``[L]`` (per label) or ``[L, 2]`` (``[:, 0]`` for negatives, ``[:, 1]`` for
  positives).
* ``ignore_index`` — any target value (−100, 255, −1 or a valid class id);
  elements with that target get weight 0 everywhere.

The element weight is ``mask · sample_weight · class_weight[target] ·
(target != ignore_index)``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from maskjax import _checks


class ElementWeights(NamedTuple):
    """Per-element weight and the 0/1 'kept' indicator it came from.

    ``weight`` is the product of every weighting argument; ``keep`` is 1 where
    the element is neither masked out nor ignored (the Keras 3
    ``sum_over_batch_size`` denominator counts these).
    """

    weight: jax.Array
    keep: jax.Array


def broadcast_left(x: jax.Array, shape: tuple[int, ...], name: str, target: str = "element") -> jax.Array:
    """Broadcast ``x`` to ``shape`` aligning leading axes (``[B]`` → ``[B, T]``)."""
    _checks.check_broadcast_left(x, shape, name, target)
    x = x.reshape(x.shape + (1,) * (len(shape) - x.ndim))
    return jnp.broadcast_to(x, shape)


def weight_dtype(*arrays: jax.Array | None) -> jnp.dtype:
    """Float dtype for weights: at least float32, wider if an input is wider."""
    dtype = jnp.dtype(jnp.float32)
    for a in arrays:
        if a is not None and _checks.is_floating(a):
            dtype = jnp.promote_types(dtype, a.dtype)
    return dtype


def fold_mask_and_weight(shape: tuple[int, ...], *, mask: Any = None, sample_weight: Any = None,
                         dtype: Any = jnp.float32) -> ElementWeights:
    """Fold ``mask`` and ``sample_weight`` into one ``[*shape]`` weight."""
    keep = jnp.ones(shape, dtype)
    if mask is not None:
        mask = _checks.as_array(mask, "mask")
        if not (mask.dtype == jnp.bool_ or _checks.is_integer(mask) or _checks.is_floating(mask)):
            raise TypeError(f"`mask` must be bool or 0/1 numbers, got dtype {mask.dtype}.")
        keep = broadcast_left(mask != 0, shape, "mask").astype(dtype)
    weight = keep
    if sample_weight is not None:
        sample_weight = _checks.as_array(sample_weight, "sample_weight")
        _checks.check_numeric(sample_weight, "sample_weight")
        weight = weight * broadcast_left(sample_weight.astype(dtype), shape, "sample_weight")
    return ElementWeights(weight, keep)


def check_class_weight(class_weight: Any, num_classes: int, name: str = "class_weight",
                       allow_pairs: bool = False) -> jax.Array:
    """Validate a ``[C]`` (or, for multi-label, ``[L, 2]``) class-weight vector."""
    cw = _checks.as_array(class_weight, name)
    _checks.check_numeric(cw, name)
    ok = cw.shape == (num_classes,) or (allow_pairs and cw.shape == (num_classes, 2))
    if not ok:
        expected = f"({num_classes},)" + (f" or ({num_classes}, 2)" if allow_pairs else "")
        raise ValueError(
            f"`{name}` must have shape {expected} (one weight per class), got {tuple(cw.shape)}."
        )
    return cw.astype(jnp.promote_types(cw.dtype, jnp.float32)) if not _checks.is_floating(cw) else cw


def not_ignored(labels: jax.Array, ignore_index: int | None) -> jax.Array:
    """Bool array: ``True`` where ``labels != ignore_index`` (all ``True`` if None)."""
    ignore_index = _checks.check_ignore_index(ignore_index)
    if ignore_index is None:
        return jnp.ones(labels.shape, bool)
    return labels != ignore_index


def safe_labels(labels: jax.Array, valid: jax.Array) -> jax.Array:
    """Labels with ignored positions replaced by 0, so gathers stay in range."""
    return jnp.where(valid, labels, jnp.zeros_like(labels))


def class_weight_of_labels(labels: jax.Array, class_weight: jax.Array | None, valid: jax.Array,
                           dtype: Any = jnp.float32) -> jax.Array:
    """``class_weight[label]`` per element (1 when no class weight); 0 where not valid."""
    if class_weight is None:
        return valid.astype(dtype)
    looked_up = jnp.take(class_weight.astype(dtype), safe_labels(labels, valid), mode="clip")
    return jnp.where(valid, looked_up, jnp.zeros((), dtype))


def class_weight_of_distribution(targets: jax.Array, class_weight: jax.Array | None, axis: int,
                                 dtype: Any = jnp.float32) -> jax.Array:
    """``Σ_c t_c · class_weight[c]`` over ``axis`` for dense / one-hot targets."""
    if class_weight is None:
        return jnp.sum(targets.astype(dtype), axis=axis)
    shape = [1] * targets.ndim
    shape[axis] = -1
    return jnp.sum(targets.astype(dtype) * class_weight.astype(dtype).reshape(shape), axis=axis)


def multilabel_class_weight(targets: jax.Array, class_weight: jax.Array | None,
                            dtype: Any = jnp.float32) -> jax.Array:
    """Per-element multi-label weight from ``[L]`` or ``[L, 2]`` (neg, pos) weights.

    ``targets`` is ``[..., L]`` (0/1 or soft in [0, 1]); with ``[L, 2]`` the
    weight interpolates: ``t · w[:, 1] + (1 − t) · w[:, 0]``.
    """
    t = targets.astype(dtype)
    if class_weight is None:
        return jnp.ones(targets.shape, dtype)
    cw = class_weight.astype(dtype)
    if cw.ndim == 1:
        return jnp.broadcast_to(cw, targets.shape)
    return t * cw[:, 1] + (1 - t) * cw[:, 0]
