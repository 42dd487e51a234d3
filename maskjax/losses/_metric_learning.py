r"""Metric-learning losses on distances (siamese / pair networks)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from maskjax import _checks
from maskjax.losses._common import drop_masked_elementwise, finish, float_preds, float_targets


def contrastive_loss(preds: Any, targets: Any, *, margin: float = 1.0, mask: Any = None,
                     sample_weight: Any = None, reduction: str = "mean",
                     average_axis: int | None = None) -> jax.Array:
    r"""Contrastive loss on pair distances (Hadsell, Chopra & LeCun, 2006).

    ``preds`` are distances :math:`d \ge 0` between the two members of each
    pair, ``targets`` :math:`y = 1` for a *similar* pair and 0 for a
    dissimilar one:

    .. math::
      \ell = y\, d^2 + (1 - y) \max(m - d, 0)^2.

    This is the convention of TensorFlow Addons ``tfa.losses.contrastive_loss``
    and Keras-io's siamese example (no ½ factors; Hadsell et al. write
    ½ on both terms, i.e. half this value). Note that some libraries
    (e.g. pytorch-metric-learning) use 0 for similar pairs: flip the labels.

    Args:
      preds: distances, any shape, floating.
      targets: ``preds``-shaped labels, 1 (similar) / 0 (dissimilar); bool, int
        or float (soft labels interpolate the two terms).
      margin: the margin ``m``; dissimilar pairs farther than ``m`` cost 0.
      mask, sample_weight: broadcast from the left to ``preds.shape``.
      average_axis: ``None`` (default) or an axis of ``preds``: the per-element
        values are first averaged over it (Keras' per-sample ``mean(..., axis=-1)``;
        ignored elements left out) and ``mask`` / ``sample_weight`` then apply to
        the reduced shape. ``average_axis=-1`` reproduces Keras in every reduction
        (README, "Keras reductions").
      reduction: see :func:`maskjax.reduce`.

    Returns:
      A scalar, or ``preds``-shaped values for ``reduction="none"``
      (``preds``' shape without ``average_axis`` when it is given).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.losses import contrastive_loss
      >>> d = jnp.array([0.5, 0.5, 2.0])
      >>> same = jnp.array([1, 0, 0])
      >>> contrastive_loss(d, same, reduction="none").tolist()
      [0.25, 0.25, 0.0]
    """
    d = float_preds(preds)
    y = float_targets(targets, d.dtype)
    _checks.check_same_shape(d, y, "preds", "targets")
    d, y = drop_masked_elementwise(mask, d, y, average_axis=average_axis)
    margin = _checks.check_static_float(margin, "margin")
    loss = y * jnp.square(d) + (1.0 - y) * jnp.square(jnp.maximum(margin - d, 0.0))
    return finish(loss, mask=mask, sample_weight=sample_weight, reduction=reduction, average_axis=average_axis)
