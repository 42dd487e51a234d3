r"""Classification losses: softmax and sigmoid cross-entropy, focal, multi-positive.

All of them take logits by default (``from_logits=True``, as
``torch.nn.functional`` and optax do; Keras defaults to probabilities). With
``from_logits=False`` probabilities are clipped to ``[ε, 1 − ε]`` with
``ε = 1e-7`` (Keras' ``epsilon()``) before the log, exactly as Keras does.

Every loss folds ``mask``, ``sample_weight``, ``class_weight`` and
``ignore_index`` into one per-element weight and reduces through
:func:`maskjax._reduction.reduce_weighted` (see :func:`maskjax.reduce` for the
``reduction`` modes).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks, _policy
from maskjax._weighting import (check_class_weight, multilabel_class_weight, not_ignored,
                                safe_labels)
from maskjax.losses._common import (EPSILON, check_bool_flag, check_label_smoothing,
                                    drop_masked, drop_masked_elementwise, finish, float_preds,
                                    float_targets, kept_elements)


def _shift_by_max(preds: jax.Array, axis: int) -> tuple[jax.Array, jax.Array]:
    """``(s, log Σ_axis exp s)`` for ``s = preds − max(preds, axis)`` (the max a constant for the
    gradient; ±inf maxima shift by 0).

    Softmax does not change under a shift, and ``x_y − logsumexp(x)`` computed unshifted cancels in
    float32 once logits are large (``[1e4, 1e4]`` gave 0.69336 for log 2 = 0.693147;
    ``jax.nn.log_softmax`` and torch shift the same way). The shifted max is 0, so ``log Σ exp`` is
    taken directly: ``logsumexp`` would find the max again (W8's [16, 20, 192] value and gradient:
    about the unshifted time, vs +20% with ``logsumexp`` of the shifted values).
    """
    m = jax.lax.stop_gradient(jnp.max(preds, axis=axis, keepdims=True))
    shifted = preds - jnp.where(jnp.isfinite(m), m, jnp.zeros((), preds.dtype))
    return shifted, jnp.log(jnp.sum(jnp.exp(shifted), axis=axis))


def _log_probs(preds: jax.Array, axis: int, from_logits: bool) -> jax.Array:
    if from_logits:
        return jax.nn.log_softmax(preds, axis=axis)
    p = preds / jnp.sum(preds, axis=axis, keepdims=True)
    return jnp.log(jnp.clip(p, EPSILON, 1.0 - EPSILON))


def cross_entropy(preds: Any, targets: Any, *, axis: int = -1, from_logits: bool = True,
                  class_weight: Any = None, ignore_index: int | None = None,
                  label_smoothing: float = 0.0, mask: Any = None, sample_weight: Any = None,
                  reduction: str = "mean") -> jax.Array:
    r"""Softmax cross-entropy with class-id or probability targets.

    The dtype of ``targets`` decides what they are (never their values):
    integer targets are class ids, floating targets are distributions over
    ``axis``; bool targets are rejected.

    With :math:`\tilde t = (1 - \varepsilon)\,t + \varepsilon / C` (``t`` the
    one-hot of the class id, or the given distribution), class weights
    :math:`w_c` (1 if not given) and :math:`\log p = \operatorname{log\_softmax}`:

    .. math::
      \ell_i = -\sum_c w_c \tilde t_{ic} \log p_{ic}, \qquad
      \omega_i = \sum_c w_c t_{ic} \;(= w_{y_i}\text{ for class ids; } 1
      \text{ without class weights}).

    Each element's weight is ``mask · sample_weight · (y ≠ ignore_index)``;
    ``"mean"`` is :math:`\sum_i m_i s_i \ell_i / \sum_i m_i s_i \omega_i`.

    Parity:
      * class-id targets: equals ``torch.nn.functional.cross_entropy`` (with
        ``weight``, ``ignore_index``, ``label_smoothing``, any K-dim layout via
        ``axis=1``) in every reduction — except that an all-ignored batch gives 0
        (torch: NaN);
      * probability targets without ``class_weight``: equals torch (``"mean"``
        divides by the number of rows) and ``optax.softmax_cross_entropy``
        (``reduction="none"``);
      * probability targets *with* ``class_weight``: ``"mean"`` divides by
        :math:`\sum \omega_i` so that one-hot targets give exactly the class-id
        result; torch divides by the number of rows instead (``"sum"`` and
        ``"none"`` agree with torch);
      * ``from_logits=False``: Keras ``(Sparse)CategoricalCrossentropy``
        (probabilities renormalised over ``axis`` and clipped to
        ``[1e-7, 1 - 1e-7]``); Keras' default reduction is
        ``"sum_over_batch_size"``, and ``ignore_index=k`` with that reduction is
        Keras' ``ignore_class=k``.

    Out-of-range class ids (other than ``ignore_index``) give a NaN loss under
    jit; they are never clipped to a valid class.

    Args:
      preds: ``[..., C, ...]`` logits (or probabilities with
        ``from_logits=False``), classes along ``axis``.
      targets: integer class ids of shape ``preds.shape`` without ``axis``, or
        floating distributions of shape ``preds.shape``.
      axis: the class axis of ``preds`` (``1`` for torch's ``[N, C, d1, ...]``).
      from_logits: ``True``: ``preds`` are logits; ``False``: probabilities.
      class_weight: optional ``[C]`` weights, looked up by target class.
      ignore_index: optional class id whose elements count nowhere (class-id
        targets only), e.g. ``-100`` or ``255``.
      label_smoothing: ``ε`` in ``[0, 1]``.
      mask: bool or 0/1, broadcast from the left to the element shape
        (``preds.shape`` without ``axis``); ``True`` keeps.
      sample_weight: floats, broadcast from the left to the element shape.
      reduction: ``"mean"``, ``"sum"``, ``"none"``, ``"sum_over_batch_size"`` or
        ``"sum_by_nonzero_weights"`` (see :func:`maskjax.reduce`).

    Returns:
      A scalar, or the element-shaped ``m · s · ℓ`` for ``reduction="none"``.

    Raises:
      TypeError: non-float ``preds``, bool ``targets``, a non-bool ``from_logits``.
      ValueError: mismatched shapes, ``axis`` out of range, a ``class_weight``
        that is not ``[C]``, ``ignore_index`` with probability targets, an
        unknown ``reduction``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.losses import cross_entropy
      >>> logits = jnp.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, 1.0, 1.0]])
      >>> labels = jnp.array([0, 2, -100])
      >>> round(float(cross_entropy(logits, labels, ignore_index=-100)), 4)
      0.1755
      >>> per_row = cross_entropy(logits, labels, mask=jnp.array([True, False, False]),
      ...                         ignore_index=-100, reduction="none")
      >>> [round(v, 4) for v in per_row.tolist()]
      [0.2413, 0.0, 0.0]
    """
    preds = float_preds(preds)
    targets = _policy.as_labels(targets, "targets")
    if preds.ndim < 1:
        raise ValueError(f"`preds` must have a class axis (rank >= 1), got shape {tuple(preds.shape)}.")
    ax = _checks.normalize_axis(axis, preds.ndim)
    check_bool_flag(from_logits, "from_logits")
    eps = check_label_smoothing(label_smoothing)
    num_classes = preds.shape[ax]
    dtype = preds.dtype
    cw = None if class_weight is None else check_class_weight(class_weight, num_classes).astype(dtype)
    cshape = [1] * preds.ndim
    cshape[ax] = num_classes

    if targets.dtype == jnp.bool_:
        raise TypeError(
            "`targets` must be integer class ids or floating distributions, got bool; "
            "cast one-hot bool targets to float."
        )
    if _checks.is_integer(targets):
        element_shape = preds.shape[:ax] + preds.shape[ax + 1:]
        if targets.shape != element_shape:
            raise ValueError(
                f"integer `targets` (class ids) must have the shape of `preds` without the class "
                f"axis {axis}: expected {tuple(element_shape)}, got {tuple(targets.shape)}."
            )
        preds = drop_masked(kept_elements(mask, element_shape), preds, class_axis=ax)
        valid = not_ignored(targets, ignore_index)
        labels = safe_labels(targets, valid)
        in_range = (labels >= 0) & (labels < num_classes)
        idx = jnp.expand_dims(labels, ax)
        if from_logits:
            preds, lse = _shift_by_max(preds, ax)
            logp_y = jnp.squeeze(jnp.take_along_axis(preds, idx, axis=ax, mode="clip"), ax) - lse
        else:
            logp = _log_probs(preds, ax, from_logits=False)
            logp_y = jnp.squeeze(jnp.take_along_axis(logp, idx, axis=ax, mode="clip"), ax)
        w_y = None if cw is None else jnp.take(cw, labels, mode="clip")
        nll = -logp_y if w_y is None else -w_y * logp_y
        loss = nll
        if eps > 0.0:
            wsum = num_classes if cw is None else jnp.sum(cw)
            if from_logits:  # Σ_c w_c log p_c = Σ_c w_c x_c − lse · Σ_c w_c, no log_softmax needed
                wx = jnp.sum(preds if cw is None else preds * cw.reshape(cshape), axis=ax)
                smooth = -(wx - lse * wsum)
            else:
                smooth = -jnp.sum(logp if cw is None else logp * cw.reshape(cshape), axis=ax)
            loss = (1.0 - eps) * nll + (eps / num_classes) * smooth
        loss = jnp.where(in_range, loss, jnp.asarray(jnp.nan, dtype))
        return finish(loss, mask=mask, sample_weight=sample_weight, reduction=reduction,
                      element_weight=w_y, valid=valid)

    if not _checks.is_floating(targets):
        raise TypeError(f"`targets` must be integer class ids or floating distributions, got {targets.dtype}.")
    if ignore_index is not None:
        raise ValueError(
            "`ignore_index` applies to integer class-id targets only; got floating (probability) "
            "targets. Use `mask` to drop elements."
        )
    if targets.shape != preds.shape:
        raise ValueError(
            f"floating `targets` are distributions over `axis` and must have the shape of `preds` "
            f"{tuple(preds.shape)}, got {tuple(targets.shape)} (integer targets are class ids)."
        )
    t = targets.astype(dtype)
    preds, t = drop_masked(kept_elements(mask, preds.shape[:ax] + preds.shape[ax + 1:]), preds, t,
                           class_axis=ax)
    t_smooth = t if eps == 0.0 else (1.0 - eps) * t + eps / num_classes
    logp = _log_probs(preds, ax, from_logits)
    wt = t_smooth if cw is None else t_smooth * cw.reshape(cshape)
    loss = -jnp.sum(wt * logp, axis=ax)
    omega = None if cw is None else jnp.sum(t * cw.reshape(cshape), axis=ax)
    return finish(loss, mask=mask, sample_weight=sample_weight, reduction=reduction,
                  element_weight=omega)


def _log_sigmoids(preds: jax.Array, from_logits: bool) -> tuple[jax.Array, jax.Array]:
    """``(log p, log(1 − p))``: stable log-sigmoids for logits, clipped logs otherwise."""
    if from_logits:
        return jax.nn.log_sigmoid(preds), jax.nn.log_sigmoid(-preds)
    p = jnp.clip(preds, EPSILON, 1.0 - EPSILON)
    return jnp.log(p), jnp.log(1.0 - p)


def _multilabel_cw(class_weight: Any, preds: jax.Array, targets: jax.Array) -> jax.Array | None:
    if class_weight is None:
        return None
    if preds.ndim < 1:
        raise ValueError("`class_weight` needs a label axis: `preds` must have rank >= 1.")
    cw = check_class_weight(class_weight, preds.shape[-1], allow_pairs=True)
    return multilabel_class_weight(targets, cw, dtype=preds.dtype)


def binary_cross_entropy(preds: Any, targets: Any, *, from_logits: bool = True,
                         pos_weight: Any = None, class_weight: Any = None,
                         label_smoothing: float = 0.0, ignore_index: int | None = None,
                         mask: Any = None, sample_weight: Any = None,
                         reduction: str = "mean",
                         average_axis: int | None = None) -> jax.Array:
    r"""Element-wise sigmoid cross-entropy (binary and multi-label).

    With :math:`\tilde y = (1 - \varepsilon) y + \varepsilon / 2` (TF / Keras
    label smoothing), positive weight :math:`a` and class weight :math:`w`:

    .. math::
      \ell = -w\,[a\,\tilde y \log \sigma(x) + (1 - \tilde y) \log(1 - \sigma(x))],
      \qquad \omega = w,

    computed with ``log_sigmoid`` for logits. ``pos_weight`` is part of the loss
    value only (as in torch), ``class_weight`` is an element weight: it also
    enters the ``"mean"`` denominator (:math:`\sum m s \ell / \sum m s \omega`).

    Parity: ``torch.nn.functional.binary_cross_entropy_with_logits`` with
    ``pos_weight`` (broadcast along the last axis) in every reduction; torch's
    ``weight=`` does not enter its mean's denominator, so it equals
    ``class_weight=`` with ``reduction="sum_over_batch_size"`` (or ``"sum"``).
    ``optax.sigmoid_binary_cross_entropy`` is ``reduction="none"``. With
    ``from_logits=False``: Keras ``binary_crossentropy`` (clip to
    ``[1e-7, 1 − 1e-7]``) before Keras' mean over the last axis.

    Args:
      preds: ``[..., L]`` logits (or probabilities with ``from_logits=False``).
      targets: ``preds``-shaped 0/1 (bool, int or float; soft targets allowed).
      from_logits: ``True``: ``preds`` are logits.
      pos_weight: optional weight of the positive term, broadcastable to
        ``preds`` the numpy way (a ``[L]`` vector weights each label), as torch.
      class_weight: optional ``[L]`` per-label weights or ``[L, 2]``
        (negative, positive) weights, looked up by the unsmoothed target.
      label_smoothing: ``ε`` in ``[0, 1]``.
      ignore_index: a target value (e.g. ``-1`` for "label unknown", as
        torchmetrics' multi-label convention) whose elements count nowhere.
      mask: bool or 0/1 broadcast from the left to ``preds.shape``.
      sample_weight: floats broadcast from the left to ``preds.shape``.
      average_axis: ``None`` (default) or an axis of ``preds``: the per-element
        values are first averaged over it (Keras' per-sample ``mean(..., axis=-1)``;
        ignored elements left out) and ``mask`` / ``sample_weight`` then apply to
        the reduced shape. ``average_axis=-1`` reproduces Keras in every reduction
        (README, "Keras reductions").
      reduction: see :func:`maskjax.reduce`.

    Returns:
      A scalar, or ``preds``-shaped values for ``reduction="none"``
      (``preds``' shape without ``average_axis`` when it is given).

    Raises:
      TypeError: non-float ``preds``; ValueError: shape mismatches, a bad
      ``pos_weight`` or ``class_weight`` shape, an unknown ``reduction``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.losses import binary_cross_entropy
      >>> logits = jnp.array([[1.0, -2.0], [0.5, 3.0]])
      >>> y = jnp.array([[1, 0], [0, 1]])
      >>> round(float(binary_cross_entropy(logits, y)), 4)
      0.3657
      >>> round(float(binary_cross_entropy(logits, y, pos_weight=jnp.array([2.0, 1.0]))), 4)
      0.444
    """
    preds = float_preds(preds)
    dtype = preds.dtype
    targets, valid = _binary_targets(targets, dtype, ignore_index)
    _checks.check_same_shape(preds, targets, "preds", "targets")
    preds, targets = drop_masked_elementwise(mask, preds, targets, average_axis=average_axis)
    check_bool_flag(from_logits, "from_logits")
    eps = check_label_smoothing(label_smoothing)
    t = targets if eps == 0.0 else (1.0 - eps) * targets + 0.5 * eps
    log_p, log_q = _log_sigmoids(preds, from_logits)
    pos = t * log_p
    if pos_weight is not None:
        pw = _checks.as_array(pos_weight, "pos_weight")
        _checks.check_numeric(pw, "pos_weight")
        try:
            shape = jnp.broadcast_shapes(pw.shape, preds.shape)
        except ValueError:
            shape = None
        if shape != preds.shape:
            raise ValueError(
                f"`pos_weight` with shape {tuple(pw.shape)} must broadcast to `preds` shape "
                f"{tuple(preds.shape)} (numpy rules: a [L] vector weights the last axis)."
            )
        pos = pos * pw.astype(dtype)
    loss = -(pos + (1.0 - t) * log_q)
    cwe = _multilabel_cw(class_weight, preds, targets)
    if cwe is not None:
        loss = loss * cwe
    return finish(loss, mask=mask, sample_weight=sample_weight, reduction=reduction, average_axis=average_axis,
                  element_weight=cwe, valid=valid)


def _binary_targets(targets: Any, dtype: Any, ignore_index: int | None) -> tuple[jax.Array, Any]:
    """0/1 (or soft) targets as ``dtype``, and where they are not ``ignore_index`` (None: all)."""
    raw = _policy.as_labels(targets, "targets")
    if _checks.check_ignore_index(ignore_index) is None:
        return float_targets(raw, dtype), None
    valid = not_ignored(raw, ignore_index)
    return float_targets(jnp.where(valid, raw, jnp.zeros((), raw.dtype)), dtype), valid


def focal_loss(preds: Any, targets: Any, *, alpha: float | None = None, gamma: float = 2.0,
               from_logits: bool = True, ignore_index: int | None = None, mask: Any = None,
               sample_weight: Any = None, reduction: str = "mean",
               average_axis: int | None = None) -> jax.Array:
    r"""Sigmoid focal loss (Lin et al., 2017), element-wise.

    .. math::
      p_t = p y + (1 - p)(1 - y), \quad
      \ell = \alpha_t\,(1 - p_t)^\gamma\,\mathrm{BCE}(x, y), \quad
      \alpha_t = \alpha y + (1 - \alpha)(1 - y)

    (:math:`\alpha_t = 1` when ``alpha`` is ``None``). :math:`(1 - p_t)^\gamma`
    is computed as :math:`\exp(\gamma \log(1 - p_t))` from log-sigmoids, as
    optax does, so it is finite for large logits.

    Parity: ``optax.sigmoid_focal_loss`` (``alpha=None`` default, as here) and
    ``torchvision.ops.sigmoid_focal_loss`` — whose default is ``alpha=0.25``:
    pass ``alpha=0.25`` to migrate from torchvision; torchvision's
    ``reduction="mean"`` is the plain mean (= maskjax ``"mean"`` without weights).

    Args:
      preds: logits (or probabilities with ``from_logits=False``), any shape.
      targets: ``preds``-shaped 0/1 (bool, int or float).
      alpha: ``None`` or a float in ``[0, 1]`` weighting positives.
      gamma: focusing exponent ``>= 0``.
      from_logits: ``True``: ``preds`` are logits.
      ignore_index: a target value whose elements count nowhere.
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
      >>> from maskjax.losses import focal_loss
      >>> logits = jnp.array([2.0, -1.0, 0.0])
      >>> y = jnp.array([1, 0, 1])
      >>> [round(v, 4) for v in focal_loss(logits, y, reduction="none").tolist()]
      [0.0018, 0.0227, 0.1733]
    """
    preds = float_preds(preds)
    dtype = preds.dtype
    y, valid = _binary_targets(targets, dtype, ignore_index)
    _checks.check_same_shape(preds, y, "preds", "targets")
    preds, y = drop_masked_elementwise(mask, preds, y, average_axis=average_axis)
    check_bool_flag(from_logits, "from_logits")
    gamma = _checks.check_static_float(gamma, "gamma", 0.0)
    if alpha is not None:
        alpha = _checks.check_static_float(alpha, "alpha", 0.0, 1.0)
    log_p, log_q = _log_sigmoids(preds, from_logits)
    ce = -(y * log_p + (1.0 - y) * log_q)
    log_1m_pt = jax.nn.logsumexp(jnp.stack([log_p, log_q], axis=-1), axis=-1,
                                 b=jnp.stack([1.0 - y, y], axis=-1))
    loss = ce * jnp.exp(gamma * log_1m_pt) if gamma != 0.0 else ce
    if alpha is not None:
        loss = (alpha * y + (1.0 - alpha) * (1.0 - y)) * loss
    return finish(loss, mask=mask, sample_weight=sample_weight, reduction=reduction, average_axis=average_axis, valid=valid)


def multi_positive_cross_entropy(preds: Any, targets: Any, *, axis: int = -1,
                                 from_logits: bool = True, mask: Any = None,
                                 sample_weight: Any = None, reduction: str = "mean") -> jax.Array:
    r"""Cross-entropy when several classes are acceptable: the best acceptable class counts.

    ``targets`` marks the set :math:`S_i` of acceptable classes of each
    element. The loss is the cross-entropy of the best-scoring acceptable class:

    .. math::
      c^*_i = \arg\max_{c \in S_i} x_{ic}, \qquad
      \ell_i = -\log p_{i c^*_i} = \operatorname{logsumexp}_c x_{ic} - \max_{c \in S_i} x_{ic}.

    With a one-element set this is :func:`cross_entropy` with that class id.
    An element whose set is empty counts nowhere (weight 0). With
    ``from_logits=False``, :math:`-\log` of the clipped, renormalised
    probability of the most probable acceptable class.

    Args:
      preds: ``[..., C, ...]`` logits (classes along ``axis``).
      targets: bool (or integer 0/1) array of ``preds``' shape; non-zero marks
        an acceptable class. Floating targets are rejected (use
        :func:`cross_entropy` for distributions).
      axis: the class axis.
      from_logits: ``True``: ``preds`` are logits.
      mask, sample_weight: broadcast from the left to the element shape
        (``preds.shape`` without ``axis``).
      reduction: see :func:`maskjax.reduce`.

    Returns:
      A scalar, or element-shaped values for ``reduction="none"``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.losses import multi_positive_cross_entropy
      >>> logits = jnp.array([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0]])
      >>> ok = jnp.array([[True, True, False], [False, False, False]])
      >>> [round(v, 4) for v in multi_positive_cross_entropy(logits, ok, reduction="none").tolist()]
      [0.1698, 0.0]
    """
    preds = float_preds(preds)
    targets = _policy.as_labels(targets, "targets")
    if not (targets.dtype == jnp.bool_ or _checks.is_integer(targets)):
        raise TypeError(
            f"`targets` must be a bool (or integer 0/1) set of acceptable classes, got {targets.dtype}."
        )
    _checks.check_same_shape(preds, targets, "preds", "targets")
    if preds.ndim < 1:
        raise ValueError("`preds` must have a class axis (rank >= 1).")
    ax = _checks.normalize_axis(axis, preds.ndim)
    check_bool_flag(from_logits, "from_logits")
    preds, targets = drop_masked(kept_elements(mask, preds.shape[:ax] + preds.shape[ax + 1:]),
                                 preds, targets, class_axis=ax)
    acceptable = targets != 0
    valid = jnp.any(acceptable, axis=ax)
    if from_logits:
        scores, lse = _shift_by_max(preds, ax)
    else:
        scores, lse = _log_probs(preds, ax, from_logits=False), jnp.zeros((), preds.dtype)
    best = jnp.max(jnp.where(acceptable, scores, -jnp.inf), axis=ax)
    best = jnp.where(valid, best, jnp.zeros((), preds.dtype))
    loss = lse - best
    return finish(loss, mask=mask, sample_weight=sample_weight, reduction=reduction, valid=valid)


def _focal_alpha(alpha: Any, num_classes: int, dtype: Any) -> jax.Array | float | None:
    """``None``, a Python float, or a ``[C]`` per-class weight vector."""
    if alpha is None:
        return None
    if isinstance(alpha, (int, float, np.integer, np.floating)) and not isinstance(alpha, bool):
        return _checks.check_static_float(alpha, "alpha", 0.0)
    a = _checks.as_array(alpha, "alpha")
    _checks.check_numeric(a, "alpha")
    if a.ndim == 0:
        return a.astype(dtype)
    if a.shape != (num_classes,):
        raise ValueError(
            f"`alpha` must be a float or a per-class vector of shape ({num_classes},), "
            f"got shape {tuple(a.shape)}."
        )
    return a.astype(dtype)


def softmax_focal_loss(logits: Any, targets: Any, *, alpha: Any = 0.25, gamma: float = 2.0,
                       from_logits: bool = True, axis: int = -1, label_smoothing: float = 0.0,
                       ignore_index: int | None = None, mask: Any = None,
                       sample_weight: Any = None, reduction: str = "mean") -> jax.Array:
    r"""Categorical (softmax) focal cross-entropy, Keras' ``CategoricalFocalCrossentropy``.

    With :math:`p = \operatorname{clip}(\operatorname{softmax}(x), \epsilon, 1 - \epsilon)`,
    :math:`\epsilon = 10^{-7}` (Keras clips exactly so), smoothed targets
    :math:`\tilde t = (1 - \varepsilon) t + \varepsilon / C` (``t`` the one-hot of a
    class id, or the given distribution) and per-class :math:`\alpha_c`:

    .. math::
      \ell = -\sum_c \alpha_c\,(1 - p_c)^\gamma\,\tilde t_c \log p_c .

    Parity: ``keras.losses.CategoricalFocalCrossentropy(alpha, gamma,
    from_logits=True)`` on one-hot targets (and the same on class ids, which
    are one-hot encoded by gather, never materialised), with a scalar or
    per-class ``alpha``; Keras' default reduction is ``"sum_over_batch_size"``
    (equal to ``"mean"`` without ``sample_weight``). ``alpha=None`` means 1;
    ``gamma=0`` with ``alpha=None`` is the clipped softmax cross-entropy.

    Args:
      logits: ``[..., C, ...]`` logits (probabilities with ``from_logits=False``,
        renormalised over ``axis`` as Keras does), classes along ``axis``.
      targets: integer class ids of ``logits``' shape without ``axis``, or
        floating one-hot / soft targets of ``logits``' shape.
      alpha: a float, a ``[C]`` per-class weight, or ``None`` (1). Default 0.25
        (Keras, Lin et al.).
      gamma: focusing exponent ``>= 0``.
      from_logits: ``True`` (default, maskjax's rule): softmax first.
      axis: the class axis.
      label_smoothing: ``ε`` in ``[0, 1]``.
      ignore_index: class id (integer targets only) whose elements count nowhere.
      mask, sample_weight: broadcast from the left to the element shape
        (``logits.shape`` without ``axis``; a trailing size-1 axis is accepted).
      reduction: see :func:`maskjax.reduce`.

    Returns:
      A scalar, or element-shaped values for ``reduction="none"``.

    Raises:
      TypeError: non-float ``logits`` or bool ``targets``; ValueError:
      mismatched shapes, an ``alpha`` that is not a float or ``[C]``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.losses import softmax_focal_loss
      >>> logits = jnp.array([[2.0, 0.0, -1.0], [0.0, 0.5, 0.2]])
      >>> [round(v, 4) for v in softmax_focal_loss(logits, jnp.array([0, 2]), reduction="none").tolist()]
      [0.001, 0.1351]
    """
    preds = float_preds(logits, "logits")
    targets = _policy.as_labels(targets, "targets")
    if preds.ndim < 1:
        raise ValueError(f"`logits` must have a class axis (rank >= 1), got shape {tuple(preds.shape)}.")
    ax = _checks.normalize_axis(axis, preds.ndim)
    check_bool_flag(from_logits, "from_logits")
    eps = check_label_smoothing(label_smoothing)
    gamma = _checks.check_static_float(gamma, "gamma", 0.0)
    num_classes = preds.shape[ax]
    dtype = preds.dtype
    a = _focal_alpha(alpha, num_classes, dtype)
    element_shape = preds.shape[:ax] + preds.shape[ax + 1:]
    keep = kept_elements(mask, element_shape)
    preds = drop_masked(keep, preds, class_axis=ax)
    cshape = [1] * preds.ndim
    cshape[ax] = num_classes
    if from_logits:
        p = jax.nn.softmax(preds, axis=ax)
    else:
        p = preds / jnp.sum(preds, axis=ax, keepdims=True)
    p = jnp.clip(p, EPSILON, 1.0 - EPSILON)
    # f_c = α_c (1 − p_c)^γ (−log p_c): the per-class focal term, Keras' exact operations
    f = -jnp.log(p) if gamma == 0.0 else jnp.power(1.0 - p, gamma) * -jnp.log(p)
    if a is not None:
        f = f * (a.reshape(cshape) if isinstance(a, jax.Array) and a.ndim == 1 else a)

    if targets.dtype == jnp.bool_:
        raise TypeError("`targets` must be integer class ids or floating one-hot targets, got bool; "
                        "cast one-hot bool targets to float.")
    if _checks.is_integer(targets):
        if targets.shape != element_shape:
            raise ValueError(
                f"integer `targets` (class ids) must have the shape of `logits` without the class "
                f"axis {axis}: expected {tuple(element_shape)}, got {tuple(targets.shape)}."
            )
        valid = not_ignored(targets, ignore_index)
        labels = safe_labels(targets, valid)
        in_range = (labels >= 0) & (labels < num_classes)
        f_y = jnp.squeeze(jnp.take_along_axis(f, jnp.expand_dims(labels, ax), axis=ax, mode="clip"), ax)
        loss = f_y if eps == 0.0 else (1.0 - eps) * f_y + (eps / num_classes) * jnp.sum(f, axis=ax)
        loss = jnp.where(in_range, loss, jnp.asarray(jnp.nan, dtype))
        return finish(loss, mask=mask, sample_weight=sample_weight, reduction=reduction, valid=valid)
    if not _checks.is_floating(targets):
        raise TypeError(f"`targets` must be integer class ids or floating one-hot targets, got {targets.dtype}.")
    if ignore_index is not None:
        raise ValueError("`ignore_index` applies to integer class-id targets only; use `mask`.")
    if targets.shape != preds.shape:
        raise ValueError(
            f"floating `targets` must have the shape of `logits` {tuple(preds.shape)}, got "
            f"{tuple(targets.shape)} (integer targets are class ids)."
        )
    t = drop_masked(keep, targets.astype(dtype), class_axis=ax)
    t = t if eps == 0.0 else (1.0 - eps) * t + eps / num_classes
    return finish(jnp.sum(t * f, axis=ax), mask=mask, sample_weight=sample_weight,
                  reduction=reduction)
