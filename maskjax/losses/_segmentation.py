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

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from maskjax import _checks, _policy
from maskjax._reduction import reduce_weighted
from maskjax._safe_divide import safe_divide
from maskjax._weighting import check_class_weight, not_ignored, safe_labels
from maskjax.losses._common import check_bool_flag, float_preds, float_targets


class _Counts(NamedTuple):
    inter: jax.Array   # [B, C] per sample (or [C] pooled); [.., 1] with pool_classes
    psum: jax.Array
    tsum: jax.Array
    kept: jax.Array    # [B] (or scalar): 1 where the sample has a kept element


def _overlap_counts(preds: Any, targets: Any, *, axis: int, from_logits: bool, multilabel: bool,
                    ignore_index: int | None, per_sample: bool, pool_classes: bool, mask: Any,
                    sample_weight: Any) -> _Counts:
    """Soft counts I, P, T over the reduced axes (see the module docstring)."""
    preds = float_preds(preds)
    dtype = preds.dtype
    if preds.ndim < 1:
        raise ValueError(f"`preds` must have a class axis (rank >= 1), got shape {tuple(preds.shape)}.")
    ax = _checks.normalize_axis(axis, preds.ndim)
    check_bool_flag(from_logits, "from_logits")
    check_bool_flag(multilabel, "multilabel")
    check_bool_flag(per_sample, "per_sample")
    check_bool_flag(pool_classes, "pool_classes")
    num_classes = preds.shape[ax]
    element_shape = preds.shape[:ax] + preds.shape[ax + 1:]

    targets = _policy.as_labels(targets, "targets")
    _checks.check_numeric(targets, "targets")
    valid = None
    if _checks.is_integer(targets) and targets.shape == element_shape and targets.shape != preds.shape:
        if multilabel:
            raise ValueError("`targets` as class ids needs `multilabel=False`; pass [..., L] 0/1 targets.")
        valid = not_ignored(targets, ignore_index)
        labels = safe_labels(targets, valid)
        in_range = (labels >= 0) & (labels < num_classes)
        # out-of-range ids poison the sums (NaN loss, eager and jit alike), never silently
        # dropped: an explicit select, which XLA cannot fold away as it may fold 0 · NaN
        t = jnp.where(in_range[..., None], jax.nn.one_hot(labels, num_classes, dtype=dtype),
                      jnp.asarray(jnp.nan, dtype))
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

    ew = _policy.fold(element_shape, mask=mask, sample_weight=sample_weight, dtype=dtype)
    w = ew.weight if valid is None else ew.weight * valid.astype(dtype)
    live = w != 0
    # mask before computing: a NaN / inf score in a masked element reaches neither value nor grad
    preds = jnp.where(jnp.expand_dims(live, ax), preds, jnp.zeros((), dtype))
    sigmoid = multilabel or num_classes == 1
    if from_logits:
        probs = jax.nn.sigmoid(preds) if sigmoid else jax.nn.softmax(preds, axis=ax)
    else:
        probs = preds
    probs = jnp.moveaxis(probs, ax, -1)
    if per_sample:
        if len(element_shape) < 1:
            raise ValueError("`per_sample=True` needs a leading batch axis in `preds`; "
                             "use `per_sample=False`.")
        sum_axes = tuple(range(1, len(element_shape)))
    else:
        sum_axes = tuple(range(len(element_shape)))
    t = jnp.where(live[..., None], t, jnp.zeros((), dtype))  # masked / ignored elements hold no NaN
    wp = w[..., None] * probs
    inter = jnp.sum(wp * t, axis=sum_axes)
    psum = jnp.sum(wp, axis=sum_axes)
    tsum = jnp.sum(w[..., None] * t, axis=sum_axes)
    if pool_classes:  # Keras `axis=None`: one pooled count over the channels too
        inter, psum, tsum = (jnp.sum(v, axis=-1, keepdims=True) for v in (inter, psum, tsum))
    kept = jnp.any(live, axis=sum_axes).astype(dtype)
    return _Counts(inter, psum, tsum, kept)


def _finish_overlap(counts: _Counts, *, alpha: float, beta: float, smooth: float,
                    class_weight: jax.Array | None, class_slice: slice, per_sample: bool,
                    reduction: str) -> jax.Array:
    inter, psum, tsum, kept = counts
    dtype = inter.dtype
    den = inter + alpha * (psum - inter) + beta * (tsum - inter) + smooth
    per_class = 1.0 - safe_divide(inter + smooth, den, zero_division=1.0)
    if class_weight is not None:
        per_class = per_class * class_weight.astype(dtype)
    # optax: class weights multiply, then a plain mean over the (kept) classes
    loss = jnp.mean(per_class[..., class_slice], axis=-1)
    loss = jnp.where(kept != 0, loss, jnp.zeros((), dtype))
    if not per_sample:
        return loss
    return reduce_weighted(loss, kept, kept, reduction=reduction)


def _overlap_loss(preds: Any, targets: Any, *, alpha: float, beta: float, smooth: float,
                  axis: int, from_logits: bool, multilabel: bool, class_weight: Any,
                  ignore_index: int | None, per_sample: bool, mask: Any, sample_weight: Any,
                  reduction: str, pool_classes: bool = False) -> jax.Array:
    _checks.check_reduction(reduction)
    alpha = _checks.check_static_float(alpha, "alpha", 0.0)
    beta = _checks.check_static_float(beta, "beta", 0.0)
    smooth = _checks.check_static_float(smooth, "smooth", 0.0)
    counts = _overlap_counts(preds, targets, axis=axis, from_logits=from_logits,
                             multilabel=multilabel, ignore_index=ignore_index,
                             per_sample=per_sample, pool_classes=pool_classes, mask=mask,
                             sample_weight=sample_weight)
    cw = None
    if class_weight is not None:
        if pool_classes:
            raise ValueError(
                "`class_weight` weighs per-class losses and has no meaning with "
                "`pool_classes=True` (one count pooled over the classes); drop one of them."
            )
        num_classes = _checks.as_array(preds, "preds").shape[_checks.normalize_axis(
            axis, _checks.as_array(preds, "preds").ndim)]
        cw = check_class_weight(class_weight, num_classes)
    return _finish_overlap(counts, alpha=alpha, beta=beta, smooth=smooth, class_weight=cw,
                           class_slice=slice(None), per_sample=per_sample, reduction=reduction)


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
        batch per class (segmentation-models-pytorch).
      pool_classes: ``False`` (default, optax): one score per class, then the
        class mean; ``True``: I, P and T are also summed over the classes, one
        pooled score (Keras ``dice`` / ``Tversky``: ``axis=None`` is
        ``per_sample=False, pool_classes=True``; ``axis=(1, 2, 3)`` on
        ``[B, H, W, C]`` is ``per_sample=True, pool_classes=True``). Not
        combinable with ``class_weight``.
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
              ignore_index: int | None = None, per_sample: bool = True, pool_classes: bool = False,
              mask: Any = None,
              sample_weight: Any = None, reduction: str = "mean") -> jax.Array:
    return _overlap_loss(preds, targets, alpha=0.5, beta=0.5, smooth=smooth, axis=axis,
                         from_logits=from_logits, multilabel=multilabel,
                         class_weight=class_weight, ignore_index=ignore_index,
                         per_sample=per_sample, mask=mask, sample_weight=sample_weight,
                         reduction=reduction, pool_classes=pool_classes)


dice_loss.__doc__ = r"""Soft Dice loss: :math:`1 - (2I + 2s)/(P + T + 2s)` per sample and class.

    The Tversky form with :math:`\alpha = \beta = \frac12` (see the module
    docstring). Parity: ``optax.losses.dice_loss`` (same smoothing, default
    ``smooth=1``, same per-sample layout: maskjax ``reduction="none"`` equals
    optax's ``[B]`` output); Keras ``dice`` / ``Dice()`` (``axis=None``) is
    ``per_sample=False, pool_classes=True, smooth=0, from_logits=False`` up to
    its ``1e-7`` in the denominator (Keras pools the channels too; without
    ``pool_classes`` the two agree only for one channel).
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
                 ignore_index: int | None = None, per_sample: bool = True, pool_classes: bool = False,
                 mask: Any = None,
                 sample_weight: Any = None, reduction: str = "mean") -> jax.Array:
    return _overlap_loss(preds, targets, alpha=alpha, beta=beta, smooth=smooth, axis=axis,
                         from_logits=from_logits, multilabel=multilabel,
                         class_weight=class_weight, ignore_index=ignore_index,
                         per_sample=per_sample, mask=mask, sample_weight=sample_weight,
                         reduction=reduction, pool_classes=pool_classes)


tversky_loss.__doc__ = r"""Tversky loss (Salehi et al., 2017): :math:`1 - (I + s)/(I + \alpha FP + \beta FN + s)`.

    ``alpha`` weighs false positives :math:`FP = \sum p(1 - t)`, ``beta``
    false negatives :math:`FN = \sum (1 - p)t`; the defaults ½, ½ give
    :func:`dice_loss` (as optax and Keras). Parity: ``optax.losses.dice_loss``
    with ``alpha``/``beta``.

    Keras ``tversky`` / ``Tversky`` depend on the Keras version. Up to Keras
    3.15 its ``alpha`` multiplies :math:`\sum t(1 - p)` (what it calls ``fp``
    is a false negative): Keras ``tversky(alpha=a, beta=b)`` is maskjax
    ``tversky_loss(alpha=b, beta=a, smooth=0, per_sample=False,
    pool_classes=True, from_logits=False)``. Keras 3.16 swapped them back
    (keras-team/keras#23333): there it is ``alpha=a, beta=b`` with the same
    other options. maskjax's ``alpha`` always weighs false positives.
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
                 ignore_index: int | None = None, per_sample: bool = True, pool_classes: bool = False,
                 mask: Any = None,
                 sample_weight: Any = None, reduction: str = "mean") -> jax.Array:
    return _overlap_loss(preds, targets, alpha=1.0, beta=1.0, smooth=smooth, axis=axis,
                         from_logits=from_logits, multilabel=multilabel,
                         class_weight=class_weight, ignore_index=ignore_index,
                         per_sample=per_sample, mask=mask, sample_weight=sample_weight,
                         reduction=reduction, pool_classes=pool_classes)


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


def generalized_dice_loss(preds: Any, targets: Any, *, smooth: float = 1.0, axis: int = -1,
                          from_logits: bool = True, multilabel: bool = False,
                          ignore_background: bool = False, ignore_index: int | None = None,
                          mask: Any = None, sample_weight: Any = None,
                          reduction: str = "mean") -> jax.Array:
    r"""Generalised Dice loss (Sudre et al., 2017): Dice with inverse squared class frequencies.

    With the soft counts of :func:`dice_loss` per sample ``b`` and class ``c``
    and the class frequencies :math:`f_c = \sum w\,t_c` over the whole batch
    (kept elements only):

    .. math::
      v_c = \frac{1}{f_c^2 + 10^{-7}}, \quad
      \omega_c = C\,\frac{v_c}{\sum_k v_k}, \quad
      \ell_b = \operatorname{mean}_{c} \;\omega_c
        \Bigl(1 - \frac{2 I_{bc} + 2s}{P_{bc} + T_{bc} + 2s}\Bigr),

    the class mean running over classes ``1..C-1`` with ``ignore_background``
    (the weights are still normalised over all ``C``). The weights depend on
    the targets only (no gradient flows through them).

    Parity: ``optax.losses.multiclass_generalized_dice_loss`` (same weights,
    smoothing, ``apply_softmax`` = ``from_logits``, ``ignore_background``):
    optax's scalar is the plain mean of the per-sample ``ℓ_b``, i.e. maskjax
    ``reduction="mean"`` without mask or weights.

    Args:
      preds: ``[B, ..., C, ...]`` logits (or probabilities with
        ``from_logits=False``), classes along ``axis``.
      targets: one-hot / soft targets of ``preds``' shape, or integer class ids
        of ``preds``' shape without ``axis``.
      smooth: the smoothing ``s >= 0`` (default 1, as optax).
      axis: the class axis (``-1``: channels-last as optax; ``1`` for torch).
      from_logits: ``True``: softmax over ``axis`` (a sigmoid for one channel
        or ``multilabel=True``); ``False``: ``preds`` are probabilities.
      multilabel: sigmoid per class instead of softmax.
      ignore_background: leave class 0 out of the class mean (optax).
      ignore_index: class id (integer targets only) whose elements count nowhere.
      mask: bool or 0/1 broadcast from the left to ``preds.shape`` without the
        class axis (a trailing size-1 axis is accepted); masked elements count
        neither in the soft counts nor in the frequencies.
      sample_weight: per-element weights inside the counts and frequencies
        (broadcast the same way).
      reduction: how per-sample losses combine (samples with no kept element
        count nowhere); ``"none"`` gives ``[B]``.

    Returns:
      A scalar, or ``[B]`` for ``reduction="none"``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.losses import generalized_dice_loss
      >>> probs = jnp.array([[[0.8, 0.2], [0.4, 0.6], [0.9, 0.1], [0.7, 0.3]]])  # [B=1, N=4, C=2]
      >>> labels = jnp.array([[0, 1, 0, 0]])
      >>> round(float(generalized_dice_loss(probs, labels, from_logits=False, smooth=0.0)), 4)
      0.4263
    """
    _checks.check_reduction(reduction)
    smooth = _checks.check_static_float(smooth, "smooth", 0.0)
    check_bool_flag(ignore_background, "ignore_background")
    counts = _overlap_counts(preds, targets, axis=axis, from_logits=from_logits,
                             multilabel=multilabel, ignore_index=ignore_index, per_sample=True,
                             pool_classes=False, mask=mask, sample_weight=sample_weight)
    freq = jax.lax.stop_gradient(jnp.sum(counts.tsum, axis=0))
    inv = 1.0 / (jnp.square(freq) + 1e-7)
    num_classes = freq.shape[-1]
    cw = inv / jnp.sum(inv) * num_classes
    class_slice = slice(1, None) if ignore_background and num_classes > 1 else slice(None)
    return _finish_overlap(counts, alpha=0.5, beta=0.5, smooth=smooth, class_weight=cw,
                           class_slice=class_slice, per_sample=True, reduction=reduction)


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
    w = _policy.fold(preds.shape, mask=mask, sample_weight=sample_weight, dtype=dtype).weight
    # mask before computing: a NaN / inf in a masked element reaches neither value nor gradient
    live = w != 0
    zero = jnp.zeros((), dtype)
    preds, y = jnp.where(live, preds, zero), jnp.where(live, y, zero)
    p = jax.nn.sigmoid(preds) if from_logits else preds
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
