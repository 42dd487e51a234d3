r"""Regression losses: squared / absolute error, Huber, log-cosh, cosine similarity.

The first four are element-wise (as ``torch.nn.functional`` and optax): the
per-element loss has the shape of ``preds``, and ``reduction="mean"`` without
weights is the plain mean over every element — torch's ``"mean"``. Keras first
averages over the last axis and then reduces; on full, unweighted batches the
result is the same, and with weights use Keras' rule with ``"sum_over_batch_size"``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from maskjax import _checks
from maskjax.losses._common import (EPSILON, drop_masked, drop_masked_elementwise, finish,
                                    float_preds, float_targets, kept_elements)


def _pair(preds: Any, targets: Any, mask: Any = None, class_axis: int | None = None,
          average_axis: Any = None) -> tuple[jax.Array, jax.Array]:
    """Float ``preds`` / ``targets`` of one shape, masked elements zeroed before any maths."""
    preds = float_preds(preds)
    targets = float_targets(targets, preds.dtype)
    _checks.check_same_shape(preds, targets, "preds", "targets")
    if mask is None:
        return preds, targets
    if class_axis is None:
        return drop_masked_elementwise(mask, preds, targets, average_axis=average_axis)
    if preds.ndim < 1:
        raise ValueError("`preds` must have a vector axis (rank >= 1).")
    ax = _checks.normalize_axis(class_axis, preds.ndim)
    element_shape = preds.shape[:ax] + preds.shape[ax + 1:]
    return drop_masked(kept_elements(mask, element_shape), preds, targets, class_axis=ax)


def mean_squared_error(preds: Any, targets: Any, *, mask: Any = None, sample_weight: Any = None,
                       reduction: str = "mean",
                       average_axis: int | None = None) -> jax.Array:
    r"""Squared error :math:`\ell = (x - y)^2`, element-wise, then reduced.

    Parity: ``torch.nn.functional.mse_loss`` (every reduction),
    ``optax.squared_error`` (``reduction="none"``), Keras
    ``MeanSquaredError`` on unweighted batches.

    Args:
      preds: predictions, any shape, floating.
      targets: ``preds``-shaped.
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
      >>> from maskjax.losses import mean_squared_error
      >>> x = jnp.array([[1.0, 2.0], [3.0, 4.0]])
      >>> y = jnp.array([[1.0, 0.0], [0.0, 4.0]])
      >>> float(mean_squared_error(x, y))
      3.25
      >>> float(mean_squared_error(x, y, mask=jnp.array([[1, 1], [0, 0]])))
      2.0
    """
    preds, targets = _pair(preds, targets, mask, average_axis=average_axis)
    return finish(jnp.square(preds - targets), mask=mask, sample_weight=sample_weight,
                  reduction=reduction, average_axis=average_axis)


def mean_absolute_error(preds: Any, targets: Any, *, mask: Any = None, sample_weight: Any = None,
                        reduction: str = "mean",
                        average_axis: int | None = None) -> jax.Array:
    r"""Absolute error :math:`\ell = |x - y|`, element-wise, then reduced.

    Parity: ``torch.nn.functional.l1_loss`` (every reduction), Keras
    ``MeanAbsoluteError`` on unweighted batches.

    Args:
      preds: predictions, any shape, floating.
      targets: ``preds``-shaped.
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
      >>> from maskjax.losses import mean_absolute_error
      >>> loss = mean_absolute_error(jnp.array([1.0, 2.0, 4.0]), jnp.array([1.0, 0.0, 0.0]),
      ...                            sample_weight=jnp.array([1.0, 1.0, 0.5]))
      >>> round(float(loss), 4)
      1.6
    """
    preds, targets = _pair(preds, targets, mask, average_axis=average_axis)
    err = preds - targets
    # |e| as e·sign(e): the same value, and gradient sign(e) = 0 at e = 0 as torch's F.l1_loss and
    # TF's abs (jnp.abs' gradient is 1 there)
    return finish(err * jnp.sign(err), mask=mask, sample_weight=sample_weight,
                  reduction=reduction, average_axis=average_axis)


def huber_loss(preds: Any, targets: Any, *, delta: float = 1.0, mask: Any = None,
               sample_weight: Any = None, reduction: str = "mean",
               average_axis: int | None = None) -> jax.Array:
    r"""Huber loss, element-wise.

    .. math::
      \ell = \begin{cases} \tfrac12 e^2 & |e| \le \delta \\
             \delta (|e| - \tfrac12 \delta) & |e| > \delta \end{cases},
      \qquad e = x - y.

    Parity: ``torch.nn.functional.huber_loss(delta=)`` (every reduction),
    ``optax.huber_loss`` (``reduction="none"``), Keras ``Huber`` on
    unweighted batches. (torch's ``smooth_l1_loss`` is this divided by
    ``delta``.)

    Args:
      preds: predictions, any shape, floating.
      targets: ``preds``-shaped.
      delta: the positive switch point ``δ``.
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
      >>> from maskjax.losses import huber_loss
      >>> huber_loss(jnp.array([0.5, 3.0]), jnp.array([0.0, 0.0]), reduction="none").tolist()
      [0.125, 2.5]
    """
    preds, targets = _pair(preds, targets, mask, average_axis=average_axis)
    delta = _checks.check_static_float(delta, "delta", 0.0)
    if delta == 0.0:
        raise ValueError("`delta` must be > 0, got 0.0.")
    abs_err = jnp.abs(preds - targets)
    quadratic = jnp.minimum(abs_err, delta)
    loss = 0.5 * jnp.square(quadratic) + delta * (abs_err - quadratic)
    return finish(loss, mask=mask, sample_weight=sample_weight, reduction=reduction, average_axis=average_axis)


def log_cosh(preds: Any, targets: Any, *, mask: Any = None, sample_weight: Any = None,
             reduction: str = "mean",
             average_axis: int | None = None) -> jax.Array:
    r"""Log-cosh error :math:`\ell = \log\cosh(x - y)`, computed stably.

    Uses :math:`\log\cosh e = \operatorname{logaddexp}(e, -e) - \log 2`
    (optax's form), finite for any finite error.

    Parity: ``optax.log_cosh`` (``reduction="none"``), Keras ``LogCosh`` on
    unweighted batches.

    Args:
      preds: predictions, any shape, floating.
      targets: ``preds``-shaped.
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
      >>> from maskjax.losses import log_cosh
      >>> v = log_cosh(jnp.array([0.0, 1.0, 1000.0]), jnp.zeros(3), reduction="none")
      >>> [round(x, 3) for x in v.tolist()]
      [0.0, 0.434, 999.307]
    """
    preds, targets = _pair(preds, targets, mask, average_axis=average_axis)
    err = preds - targets
    loss = jnp.logaddexp(err, -err) - jnp.log(2.0).astype(err.dtype)
    return finish(loss, mask=mask, sample_weight=sample_weight, reduction=reduction, average_axis=average_axis)


def _l2_normalize(x: jax.Array, axis: int) -> jax.Array:
    """``x / max(‖x‖, ε)`` with ε = 1e-7, as Keras ``normalize``; finite gradient at 0."""
    sq = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
    big = sq > EPSILON**2
    inv = jnp.where(big, jax.lax.rsqrt(jnp.where(big, sq, 1.0)), 1.0 / EPSILON)
    return x * inv


def cosine_similarity_loss(preds: Any, targets: Any, *, axis: int = -1, mask: Any = None,
                           sample_weight: Any = None, reduction: str = "mean") -> jax.Array:
    r"""Negative cosine similarity over ``axis`` (Keras' sign convention).

    .. math::
      \ell = -\frac{x \cdot y}{\max(\lVert x \rVert, \epsilon)\,\max(\lVert y \rVert, \epsilon)},
      \qquad \epsilon = 10^{-7},

    so ``ℓ`` lies in ``[-1, 1]``: −1 for parallel vectors (the best), 0 for
    orthogonal ones or a zero vector, as Keras ``CosineSimilarity``. For the
    ``1 − cos`` convention of torch's ``CosineEmbeddingLoss`` (similar pairs)
    and ``optax.cosine_distance``, add 1.

    Args:
      preds: ``[..., D, ...]`` vectors along ``axis``.
      targets: ``preds``-shaped.
      axis: the vector axis.
      mask, sample_weight: broadcast from the left to the element shape
        (``preds.shape`` without ``axis``).
      reduction: see :func:`maskjax.reduce`.

    Returns:
      A scalar, or element-shaped values for ``reduction="none"``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.losses import cosine_similarity_loss
      >>> x = jnp.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
      >>> y = jnp.array([[0.0, 1.0], [2.0, 2.0], [1.0, 0.0]])
      >>> [round(v, 4) + 0.0 for v in cosine_similarity_loss(x, y, reduction="none").tolist()]
      [0.0, -1.0, 0.0]
    """
    preds, targets = _pair(preds, targets, mask, class_axis=axis)
    ax = _checks.normalize_axis(axis, preds.ndim)
    loss = -jnp.sum(_l2_normalize(preds, ax) * _l2_normalize(targets, ax), axis=ax)
    return finish(loss, mask=mask, sample_weight=sample_weight, reduction=reduction)
