"""Mask builders: ``True`` means *keep* everywhere in maskjax."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from maskjax import _checks

__all__ = ["from_lengths", "from_padding"]


def from_lengths(lengths: Any, maxlen: int) -> jax.Array:
    """Sequence mask from lengths: ``mask[b, t] = t < lengths[b]``.

    Args:
      lengths: ``[B]`` (or any ``[*B]``) integer lengths.
      maxlen: static Python int, the padded length ``T``.

    Returns:
      ``[*B, T]`` bool mask, ``True`` on the first ``lengths[b]`` steps
      (the same as ``tf.sequence_mask`` and Keras ``Masking`` on padded rows).

    Raises:
      TypeError: non-integer ``lengths`` or a non-int ``maxlen``.

    Example:
      >>> import maskjax
      >>> maskjax.masks.from_lengths([2, 0, 3], maxlen=3).astype(int).tolist()
      [[1, 1, 0], [0, 0, 0], [1, 1, 1]]
    """
    lengths = _checks.as_array(lengths, "lengths")
    _checks.check_integer(lengths, "lengths")
    maxlen = _checks.check_static_int(maxlen, "maxlen", minimum=0)
    return jnp.arange(maxlen) < lengths[..., None]


def from_padding(targets: Any, pad_value: Any = 0, *, feature_axis: int | None = -1) -> jax.Array:
    """Mask of the elements that are *not* padding.

    An element is padding when all its features (along ``feature_axis``) equal
    ``pad_value`` — a scalar, or a pad vector such as the one-hot code of a pad
    character. With ``feature_axis=None`` each entry is its own element.

    Args:
      targets: ``[..., F]`` targets (or ``[...]`` with ``feature_axis=None``).
      pad_value: scalar or ``[F]`` vector.
      feature_axis: the feature axis that is removed from the mask, or ``None``.

    Returns:
      bool mask of ``targets.shape`` without ``feature_axis``; ``True`` = keep.

    Raises:
      ValueError: ``pad_value`` whose length is not ``F``, or a bad axis.

    Example:
      >>> import jax.numpy as jnp, maskjax
      >>> onehot = jnp.array([[[0, 1], [1, 0], [0, 0]]])   # last step is all-zero padding
      >>> maskjax.masks.from_padding(onehot, 0).tolist()
      [[True, True, False]]
      >>> maskjax.masks.from_padding(jnp.array([[5, 7, -100]]), -100, feature_axis=None).tolist()
      [[True, True, False]]
    """
    targets = _checks.as_array(targets, "targets")
    pad = _checks.as_array(pad_value, "pad_value")
    if feature_axis is None:
        if pad.ndim != 0:
            raise ValueError(f"`pad_value` must be a scalar when feature_axis=None, got shape {tuple(pad.shape)}.")
        return targets != pad
    axis = _checks.normalize_axis(feature_axis, targets.ndim, "feature_axis")
    if pad.ndim > 1 or (pad.ndim == 1 and pad.shape[0] != targets.shape[axis]):
        raise ValueError(
            f"`pad_value` must be a scalar or a vector of length {targets.shape[axis]} "
            f"(the size of feature axis {feature_axis}), got shape {tuple(pad.shape)}."
        )
    moved = jnp.moveaxis(targets, axis, -1)
    return ~jnp.all(moved == pad, axis=-1)
