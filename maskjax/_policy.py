"""The bad-input policy for weighting arguments: one place, reused by losses (and metrics).

Two rules, applied before any weight enters a sum:

* **Negative or NaN ``sample_weight``.** When the values are concrete (an
  eager call: NumPy arrays, lists, committed ``jax.Array``\\ s) a negative or
  NaN weight raises ``ValueError`` naming the argument, the expected range and
  what was received. Under ``jit`` (a tracer: values unknown at trace time)
  the weight is poisoned instead: a negative entry becomes NaN, and a NaN
  stays NaN, so the result is NaN — never a plausible number such as the
  −6.66 a negative weight used to give. An ``inf`` weight is allowed (it is
  not a bad *value* of a weight, only a large one).
* **Wide integer labels.** With x64 off, JAX stores integers as int32, so a
  NumPy int64 label ``2**32 + 1`` would silently wrap into class 1.
  :func:`as_labels` raises ``ValueError`` naming the argument instead (the
  values are concrete whenever they are not yet a JAX array).
* **A trailing size-1 channel.** A ``mask`` / ``sample_weight`` of rank
  ``r + 1`` whose last axis is 1 against ``r``-dimensional elements (Keras'
  ``[B, H, W, 1]`` masks against ``[B, H, W]`` element losses) has that axis
  dropped, then broadcasts from the left as usual.

:func:`fold` applies both and then :func:`maskjax._weighting.fold_mask_and_weight`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks
from maskjax._weighting import ElementWeights, fold_mask_and_weight

__all__ = ["is_concrete", "check_weight_values", "squeeze_trailing", "fold", "as_labels"]


def is_concrete(x: Any) -> bool:
    """``True`` when ``x``'s values can be read now (not a tracer inside ``jit``/``grad``)."""
    return not isinstance(x, jax.core.Tracer)


def check_weight_values(weight: Any, name: str = "sample_weight") -> jax.Array:
    """Apply the weight policy to ``weight``: raise eagerly, poison to NaN under ``jit``.

    Args:
      weight: any array-like of weights (``None`` is passed through).
      name: the argument's name, used in the error message.

    Returns:
      ``weight`` as a floating ``jax.Array`` (at least float32); under ``jit``
      negative entries are replaced by NaN.

    Raises:
      ValueError: concrete values with a NaN or a negative entry.
      TypeError: a non-numeric ``weight``.

    Example:
      >>> from maskjax._policy import check_weight_values
      >>> check_weight_values([1.0, 0.5]).tolist()
      [1.0, 0.5]
      >>> check_weight_values([1.0, -1.0])
      Traceback (most recent call last):
      ...
      ValueError: `sample_weight` must be >= 0 and not NaN; got 1 negative and 0 NaN value(s) (first bad value -1.0 at index (1,)).
    """
    if weight is None:
        return None
    concrete = is_concrete(weight)
    arr = _checks.as_array(weight, name)
    _checks.check_numeric(arr, name)
    if not _checks.is_floating(arr):
        arr = arr.astype(jnp.promote_types(arr.dtype, jnp.float32))
    if concrete and is_concrete(arr):
        host = np.asarray(arr)
        neg, nan = host < 0, np.isnan(host)
        if neg.any() or nan.any():
            bad = np.argwhere(neg | nan)[0]
            raise ValueError(
                f"`{name}` must be >= 0 and not NaN; got {int(neg.sum())} negative and "
                f"{int(nan.sum())} NaN value(s) (first bad value {float(host[tuple(bad)])!r} at index "
                f"{tuple(int(i) for i in bad)})."
            )
        return arr
    # traced: values unknown; a negative weight makes the result NaN (documented), never a number
    return jnp.where(arr < 0, jnp.asarray(jnp.nan, arr.dtype), arr)


def squeeze_trailing(x: Any, shape: tuple[int, ...], name: str) -> Any:
    """Drop trailing size-1 axes of ``x`` beyond the rank of ``shape`` (Keras ``[..., 1]`` masks)."""
    if x is None:
        return None
    arr = _checks.as_array(x, name)
    while arr.ndim > len(shape) and arr.shape[-1] == 1:
        arr = arr.reshape(arr.shape[:-1])
    return arr


def fold(shape: tuple[int, ...], *, mask: Any = None, sample_weight: Any = None,
         dtype: Any = jnp.float32) -> ElementWeights:
    """:func:`maskjax._weighting.fold_mask_and_weight` after the policy above.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax._policy import fold
      >>> fold((2, 3), mask=jnp.ones((2, 3, 1))).weight.shape
      (2, 3)
    """
    mask = squeeze_trailing(mask, shape, "mask")
    if sample_weight is not None:
        sample_weight = squeeze_trailing(check_weight_values(sample_weight), shape, "sample_weight")
    return fold_mask_and_weight(shape, mask=mask, sample_weight=sample_weight, dtype=dtype)


_INT32 = np.iinfo(np.int32)


def as_labels(x: Any, name: str = "targets") -> jax.Array:
    """``x`` as a JAX array; integer values outside int32 raise instead of wrapping (x64 off).

    Only inputs that are not yet JAX arrays are checked (a JAX array, traced or
    not, already holds its final dtype).

    Example:
      >>> import numpy as np
      >>> from maskjax._policy import as_labels
      >>> as_labels(np.array([0, 2], np.int64)).tolist()
      [0, 2]
      >>> as_labels(np.array([0, 2**32 + 1]))
      Traceback (most recent call last):
      ...
      ValueError: `targets` holds integers outside the int32 range [-2147483648, 2147483647] (got 4294967297); with x64 disabled they would wrap into other values (2**32 + 1 becomes 1). Remap the labels, or enable jax_enable_x64.
    """
    if x is not None and not isinstance(x, jax.Array) and not jax.config.jax_enable_x64:
        try:
            host = np.asarray(x)
        except (TypeError, ValueError):
            host = None
        if (host is not None and host.dtype.kind in "iu" and host.dtype.itemsize > 4
                and host.size):
            lo, hi = int(host.min()), int(host.max())
            if lo < _INT32.min or hi > _INT32.max:
                bad = hi if hi > _INT32.max else lo
                raise ValueError(
                    f"`{name}` holds integers outside the int32 range [{_INT32.min}, {_INT32.max}] "
                    f"(got {bad}); with x64 disabled they would wrap into other values "
                    "(2**32 + 1 becomes 1). Remap the labels, or enable jax_enable_x64."
                )
    return _checks.as_array(x, name)
