r"""Overlap losses: soft Dice, Tversky, Jaccard (IoU) and soft F-beta.

One smoothing convention for the three overlap losses — the Tversky form of
optax ``dice_loss`` — per sample ``b`` and class ``c``, with soft counts
:math:`I = \sum w p t`, :math:`P = \sum w p`, :math:`T = \sum w t` over the
reduced axes (``w`` the element weight: mask · sample_weight · not ignored):

.. math::
  \mathrm{FP} = P - I, \quad \mathrm{FN} = T - I, \quad
  \ell_{bc} = 1 - \frac{I + s}{I + \alpha\,\mathrm{FP} + \beta\,\mathrm{FN} + s}.

Dice is :math:`\alpha = \beta = \tfrac12`, i.e. :math:`1 - (2I + 2s)/(P + T + 2s)`;
Jaccard is :math:`\alpha = \beta = 1`, i.e. :math:`1 - (I + s)/(P + T - I + s)`.
The smoothing ``s`` defaults to 1 (optax). When the denominator is 0 (``s = 0``
and a class absent from both prediction and target) the score is 1 (loss 0).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from maskjax import _checks
from maskjax._reduction import reduce_weighted
from maskjax._safe_divide import safe_divide
from maskjax._weighting import check_class_weight, fold_mask_and_weight, not_ignored, safe_labels
from maskjax.losses._common import check_bool_flag, float_preds, float_targets


def _overlap_loss(preds: Any, targets: Any, *, alpha: float, beta: float, smooth: float,
                  axis: int, from_logits: bool, multilabel: bool, class_weight: Any,
                  ignore_index: int | None, per_sample: bool, mask: Any, sample_weight: Any,
                  reduction: str) -> jax.Array:
    _checks.check_reduction(reduction)
    preds = float_preds(preds)
    dtype = preds.dtype
    if preds.ndim < 1:
        raise ValueError(f"`preds` must have a class axis (rank >= 1), got shape {tuple(preds.shape)}.")
    ax = _checks.normalize_axis(axis, preds.ndim)
    check_bool_flag(from_logits, "from_logits")
    check_bool_flag(multilabel, "multilabel")
    check_bool_flag(per_sample, "per_sample")
    alpha = _checks.check_static_float(alpha, "alpha", 0.0)
    beta = _checks.check_static_float(beta, "beta", 0.0)
    smooth = _checks.check_static_float(smooth, "smooth", 0.0)
    num_classes = preds.shape[ax]
    cw = None if class_weight is None else check_class_weight(class_weight, num_classes).astype(dtype)
    sigmoid = multilabel or num_classes == 1
    if from_logits:
        probs = jax.nn.sigmoid(preds) if sigmoid else jax.nn.softmax(preds, axis=ax)
    else:
        probs = preds
    probs = jnp.moveaxis(probs, ax, -1)
    element_shape = probs.shape[:-1]

    targets = _checks.as_array(targets, "targets")
    _checks.check_numeric(targets, "targets")
    valid = None
    if _checks.is_integer(targets) and targets.shape == element_shape and targets.shape != preds.shape:
        if multilabel:
            raise ValueError("`targets` as class ids needs `multilabel=False`; pass [..., L] 0/1 targets.")
        valid = not_ignored(targets, ignore_index)
        labels = safe_labels(targets, valid)
        in_range = (labels >= 0) & (labels < num_classes)
        t = jax.nn.one_hot(labels, num_classes, dtype=dtype)
        # out-of-range ids poison the sums (NaN loss), never silently dropped
        t = t * jnp.where(in_range, 1.0, jnp.nan).astype(dtype)[..., None]
    else:
        if ignore_index is not None:
            raise ValueError("`ignore_index` applies to integer class-id targets only; use `mask`.")
        if targets.shape != preds.shape:
            raise ValueError(
                f"`targets` must be class ids of shape {tuple(element_shape)} (preds without the "
                f"class axis) or one-hot / soft targets of shape {tuple(preds.shape)}, got "
                f"{tuple(targets.shape)}."
            )
        t = jnp.moveaxis(targets.astype(dtype), ax, -1)

    ew = fold_mask_and_weight(element_shape, mask=mask, sample_weight=sample_weight, dtype=dtype)
    w = ew.weight if valid is None else ew.weight * valid.astype(dtype)
    if per_sample:
        if len(element_shape) < 1:
            raise ValueError("`per_sample=True` needs a leading batch axis in `preds`; "
                             "use `per_sample=False`.")
        sum_axes = tuple(range(1, len(element_shape)))
    else:
        sum_axes = tuple(range(len(element_shape)))
    t = jnp.where(w[..., None] != 0, t, 0.0)  # masked / ignored elements hold no NaN
    wp = w[..., None] * probs
    inter = jnp.sum(wp * t, axis=sum_axes)
    psum = jnp.sum(wp, axis=sum_axes)
    tsum = jnp.sum(w[..., None] * t, axis=sum_axes)
    den = inter + alpha * (psum - inter) + beta * (tsum - inter) + smooth
    per_class = 1.0 - safe_divide(inter + smooth, den, zero_division=1.0)
    if cw is not None:
        per_class = per_class * cw
    loss = jnp.mean(per_class, axis=-1)  # optax: class weights multiply, then a plain class mean
    kept = jnp.any(w != 0, axis=sum_axes).astype(dtype)
    if not per_sample:
        return jnp.where(kept != 0, loss, jnp.zeros((), dtype))
    numer = jnp.where(kept != 0, loss, jnp.zeros((), dtype))
    return reduce_weighted(numer, kept, kept, reduction=reduction)


_SHARED_ARGS = r"""
    Args:
      preds: ``[B, ..., C, ...]`` logits (or probabilities with
        ``from_logits=False``), classes along ``axis``.
      targets: one-hot / soft / 0-1 targets of ``preds``' shape, or integer
        class ids of ``preds``' shape without ``axis`` (one-hot encoded inside).
      {extra}smooth: the smoothing ``s >= 0`` (default 1, as optax).
      axis: the class axis (``-1``: channels-last as optax; ``1`` for torch).
      from_logits: ``True`` (default, as optax): softmax over ``axis``, or a
        sigmoid when ``multilabel=True`` or there is a single channel (optax's
        rule for ``C = 1``); ``False``: ``preds`` are probabilities.
      multilabel: sigmoid per class instead of softmax.
      class_weight: optional ``[C]``: the per-class losses are multiplied by it
        and then averaged over classes (optax's rule).
      ignore_index: class id (integer targets only) whose elements count nowhere.
      per_sample: ``True`` (default, optax): sums over all axes but the batch
        (first) and class axes, one loss per sample; ``False``: pools the whole
        batch per class (segmentation-models-pytorch, Keras ``axis=None``).
      mask: bool or 0/1 broadcast from the left to ``preds.shape`` without the
        class axis; masked elements are removed from I, P and T.
      sample_weight: per-element weights inside I, P and T (broadcast the
        same way). To weight whole samples, take ``reduction="none"`` and pass
        the ``[B]`` losses to :func:`maskjax.reduce`.
      reduction: how per-sample losses combine (samples with no kept element
        count nowhere); ``"none"`` gives ``[B]``. With ``per_sample=False`` the
        result is one pooled scalar for every reduction.

    Returns:
      A scalar, or ``[B]`` for ``reduction="none"`` with ``per_sample=True``.
"""


def dice_loss(preds: Any, targets: Any, *, smooth: float = 1.0, axis: int = -1,
              from_logits: bool = True, multilabel: bool = False, class_weight: Any = None,
              ignore_index: int | None = None, per_sample: bool = True, mask: Any = None,
              sample_weight: Any = None, reduction: str = "mean") -> jax.Array:
    return _overlap_loss(preds, targets, alpha=0.5, beta=0.5, smooth=smooth, axis=axis,
                         from_logits=from_logits, multilabel=multilabel,
                         class_weight=class_weight, ignore_index=ignore_index,
                         per_sample=per_sample, mask=mask, sample_weight=sample_weight,
                         reduction=reduction)


dice_loss.__doc__ = r"""Soft Dice loss: :math:`1 - (2I + 2s)/(P + T + 2s)` per sample and class.

    The Tversky form with :math:`\alpha = \beta = \frac12` (see the module
    docstring). Parity: ``optax.losses.dice_loss`` (same smoothing, default
    ``smooth=1``, same per-sample layout: maskjax ``reduction="none"`` equals
    optax's ``[B]`` output); Keras ``dice`` is ``per_sample=False``,
    ``smooth=0``, ``from_logits=False`` up to its ``1e-7`` in the denominator.
    The older ``(2I + s)/(P + T + s)`` convention (segmentation-models-pytorch
    ≤ 0.2) is *not* used.
""" + _SHARED_ARGS.format(extra="") + r"""
    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.losses import dice_loss
      >>> probs = jnp.array([[[0.9], [0.2], [0.6]]])      # [B=1, N=3, C=1]
      >>> t = jnp.array([[[1.0], [0.0], [1.0]]])
      >>> round(float(dice_loss(probs, t, from_logits=False, smooth=0.0)), 4)
      0.1892
"""


def tversky_loss(preds: Any, targets: Any, *, alpha: float = 0.5, beta: float = 0.5,
                 smooth: float = 1.0, axis: int = -1, from_logits: bool = True,
                 multilabel: bool = False, class_weight: Any = None,
                 ignore_index: int | None = None, per_sample: bool = True, mask: Any = None,
                 sample_weight: Any = None, reduction: str = "mean") -> jax.Array:
    return _overlap_loss(preds, targets, alpha=alpha, beta=beta, smooth=smooth, axis=axis,
                         from_logits=from_logits, multilabel=multilabel,
                         class_weight=class_weight, ignore_index=ignore_index,
                         per_sample=per_sample, mask=mask, sample_weight=sample_weight,
                         reduction=reduction)


tversky_loss.__doc__ = r"""Tversky loss (Salehi et al., 2017): :math:`1 - (I + s)/(I + \alpha FP + \beta FN + s)`.

    ``alpha`` weighs false positives :math:`FP = \sum p(1 - t)`, ``beta``
    false negatives :math:`FN = \sum (1 - p)t`; the defaults ½, ½ give
    :func:`dice_loss` (as optax and Keras). Parity: ``optax.losses.dice_loss``
    with ``alpha``/``beta``. Trap: Keras ``tversky`` applies its ``alpha`` to
    :math:`\sum t(1 - p)` (what it calls ``fp`` is a false negative), so Keras
    ``tversky(alpha=a, beta=b)`` is maskjax ``tversky_loss(alpha=b, beta=a,
    smooth=0, per_sample=False, from_logits=False)``.
""" + _SHARED_ARGS.format(extra="alpha: weight of false positives (>= 0).\n      beta: weight of false negatives (>= 0).\n      ") + r"""
    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.losses import tversky_loss
      >>> probs = jnp.array([[[0.9], [0.2], [0.6]]])
      >>> t = jnp.array([[[1.0], [0.0], [1.0]]])
      >>> round(float(tversky_loss(probs, t, alpha=0.3, beta=0.7, from_logits=False, smooth=0.0)), 4)
      0.2147
"""


def jaccard_loss(preds: Any, targets: Any, *, smooth: float = 1.0, axis: int = -1,
                 from_logits: bool = True, multilabel: bool = False, class_weight: Any = None,
                 ignore_index: int | None = None, per_sample: bool = True, mask: Any = None,
                 sample_weight: Any = None, reduction: str = "mean") -> jax.Array:
    return _overlap_loss(preds, targets, alpha=1.0, beta=1.0, smooth=smooth, axis=axis,
                         from_logits=from_logits, multilabel=multilabel,
                         class_weight=class_weight, ignore_index=ignore_index,
                         per_sample=per_sample, mask=mask, sample_weight=sample_weight,
                         reduction=reduction)


jaccard_loss.__doc__ = r"""Soft Jaccard (IoU) loss: :math:`1 - (I + s)/(P + T - I + s)`.

    The Tversky form with :math:`\alpha = \beta = 1` (same smoothing
    convention as :func:`dice_loss`). Equals ``optax.losses.dice_loss`` with
    ``alpha=beta=1``.
""" + _SHARED_ARGS.format(extra="") + r"""
    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.losses import jaccard_loss
      >>> probs = jnp.array([[[0.9], [0.2], [0.6]]])
      >>> t = jnp.array([[[1.0], [0.0], [1.0]]])
      >>> round(float(jaccard_loss(probs, t, from_logits=False, smooth=0.0)), 4)
      0.3182
"""


def soft_fbeta_loss(preds: Any, targets: Any, *, beta: float = 1.0, average: str = "micro",
                    from_logits: bool = True, mask: Any = None, sample_weight: Any = None,
                    reduction: str = "mean") -> jax.Array:
    r"""``1 −`` soft F-beta: a differentiable surrogate of F-beta.

    With probabilities :math:`p` (``sigmoid(preds)`` when ``from_logits``),
    0/1 targets :math:`y` and element weights :math:`w` (mask · sample_weight):

    .. math::
      tp = \sum w p y, \quad fp = \sum w p (1 - y), \quad fn = \sum w (1 - p) y,
      \qquad \ell = 1 - \frac{(1 + \beta^2)\,tp}{(1 + \beta^2)\,tp + \beta^2 fn + fp}.

    With hard 0/1 ``p`` this is exactly ``1 − sklearn.metrics.fbeta_score``
    (micro: all elements pooled; macro: per label, then averaged). A zero
    denominator (nothing predicted, nothing true, or everything masked) scores
    1 (loss 0).

    Args:
      preds: logits (or probabilities with ``from_logits=False``); for
        ``average="macro"``, ``[..., L]`` with labels last.
      targets: ``preds``-shaped 0/1 (bool, int or float).
      beta: ``β >= 0``; 1 gives soft F1.
      average: ``"micro"`` (pool every element, any shape) or ``"macro"``
        (one loss per label along the last axis, then ``reduction`` over
        labels; labels with no kept element count nowhere).
      from_logits: ``True``: sigmoid first.
      mask, sample_weight: broadcast from the left to ``preds.shape``.
      reduction: how per-label losses combine for ``"macro"`` (``"none"``
        gives ``[L]``); ``"micro"`` always gives one scalar.

    Returns:
      A scalar, or ``[L]`` for ``average="macro", reduction="none"``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.losses import soft_fbeta_loss
      >>> p = jnp.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
      >>> y = jnp.array([[1, 0], [0, 1], [1, 0]])
      >>> round(float(soft_fbeta_loss(p, y, from_logits=False)), 4)   # 1 − F1 = 1 − 2/3
      0.3333
      >>> soft_fbeta_loss(p, y, average="macro", from_logits=False, reduction="none").tolist()
      [0.5, 0.0]
    """
    _checks.check_reduction(reduction)
    _checks.check_choice(average, "average", ("micro", "macro"))
    check_bool_flag(from_logits, "from_logits")
    beta = _checks.check_static_float(beta, "beta", 0.0)
    preds = float_preds(preds)
    dtype = preds.dtype
    y = float_targets(targets, dtype)
    _checks.check_same_shape(preds, y, "preds", "targets")
    if average == "macro" and preds.ndim < 1:
        raise ValueError("`average='macro'` needs a label axis (last) in `preds`.")
    p = jax.nn.sigmoid(preds) if from_logits else preds
    w = fold_mask_and_weight(preds.shape, mask=mask, sample_weight=sample_weight, dtype=dtype).weight
    axes = None if average == "micro" else tuple(range(preds.ndim - 1))
    wp = w * p
    tp = jnp.sum(wp * y, axis=axes)
    fp = jnp.sum(wp * (1.0 - y), axis=axes)
    fn = jnp.sum(w * (1.0 - p) * y, axis=axes)
    b2 = beta * beta
    score = safe_divide((1.0 + b2) * tp, (1.0 + b2) * tp + b2 * fn + fp, zero_division=1.0)
    loss = 1.0 - score
    if average == "micro":
        return loss
    kept = jnp.any(w != 0, axis=axes).astype(dtype)
    return reduce_weighted(jnp.where(kept != 0, loss, 0.0), kept, kept, reduction=reduction)
