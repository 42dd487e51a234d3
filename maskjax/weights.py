"""Class-weight builders computed from targets (jit-able, mask-aware)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks, _policy
from maskjax._safe_divide import safe_divide
from maskjax._weighting import not_ignored, safe_labels

__all__ = ["class_counts", "balanced", "median_frequency"]


def class_counts(targets: Any, num_classes: int, *, mask: Any = None, sample_weight: Any = None,
                 ignore_index: int | None = None) -> jax.Array:
    """Weighted count of each class among the kept targets.

    Args:
      targets: integer class ids of any shape ``[*S]``.
      num_classes: static ``C``.
      mask, sample_weight: broadcast from the left to ``S``.
      ignore_index: a target value that counts nowhere.

    Returns:
      ``[C]`` float32 counts. Labels outside ``[0, C)`` count nowhere.

    Example:
      >>> import maskjax
      >>> maskjax.weights.class_counts([0, 1, 1, 2, -100], 3, ignore_index=-100).tolist()
      [1.0, 2.0, 1.0]
    """
    targets = _policy.as_labels(targets, "targets")
    _checks.check_integer(targets, "targets", "class ids")
    num_classes = _checks.check_static_int(num_classes, "num_classes", minimum=1)
    w = _policy.fold(targets.shape, mask=mask, sample_weight=sample_weight).weight
    valid = not_ignored(targets, ignore_index) & (targets >= 0) & (targets < num_classes)
    ids = safe_labels(targets, valid).reshape(-1)
    return jax.ops.segment_sum(jnp.where(valid, w, 0).reshape(-1), ids, num_segments=num_classes)


def _check_not_multi_hot(targets: jax.Array, num_classes: int) -> None:
    """Refuse multi-hot ``[..., C]`` 0/1 rows passed as class ids (a silent, meaningless result)."""
    if targets.dtype == jnp.bool_:
        raise TypeError(
            "`targets` is bool: class ids must be integers. For multi-hot [..., L] labels call "
            "`balanced(targets, L, task=\"multilabel\")` (one (negative, positive) pair per label)."
        )
    if (num_classes > 2 and targets.ndim >= 2 and targets.shape[-1] == num_classes
            and _policy.is_concrete(targets)):
        values = np.asarray(targets)
        if values.size and np.isin(values, (0, 1)).all():
            raise ValueError(
                f"`targets` looks multi-hot: shape {tuple(targets.shape)} ends in num_classes="
                f"{num_classes} and holds only 0 and 1, so classes 2..{num_classes - 1} would get "
                "weight 0. Pass `task=\"multilabel\"` for multi-hot labels, or "
                "`task=\"multiclass\"` if these really are class ids."
            )


def _balanced_multilabel(targets: Any, num_labels: int, *, mask: Any, sample_weight: Any,
                         ignore_index: int | None) -> jax.Array:
    targets = _policy.as_labels(targets, "targets")
    _checks.check_numeric(targets, "targets")
    if targets.ndim < 1 or targets.shape[-1] != num_labels:
        raise ValueError(
            f"`targets` for task=\"multilabel\" must be multi-hot [..., {num_labels}] (labels last), "
            f"got shape {tuple(targets.shape)}."
        )
    w = _policy.fold(targets.shape, mask=mask, sample_weight=sample_weight).weight
    valid = not_ignored(targets, ignore_index)
    w = jnp.where(valid, w, 0.0).reshape(-1, num_labels)
    pos = targets.reshape(-1, num_labels) != 0
    counts = jnp.stack([jnp.sum(jnp.where(pos, 0.0, w), axis=0),
                        jnp.sum(jnp.where(pos, w, 0.0), axis=0)], axis=-1)   # [L, 2]
    present = jnp.sum(counts > 0, axis=-1, keepdims=True)
    return safe_divide(jnp.sum(counts, axis=-1, keepdims=True), present * counts)


def balanced(targets: Any, num_classes: int, *, task: str | None = None, mask: Any = None,
             sample_weight: Any = None, ignore_index: int | None = None) -> jax.Array:
    r"""scikit-learn's ``class_weight="balanced"``: :math:`w_c = n / (k \cdot n_c)`.

    ``n`` is the (weighted) number of kept targets, ``k`` the number of classes
    present, ``n_c`` the count of class ``c``. Matches
    ``sklearn.utils.class_weight.compute_class_weight("balanced", ...)`` when
    every class is present; a class absent from the targets gets weight 0
    (scikit-learn raises instead).

    With ``task="multilabel"``, ``targets`` is multi-hot ``[..., L]`` and each
    label column is its own two-class problem: the result is ``[L, 2]``
    (negative, positive), row ``l`` equal to ``compute_class_weight("balanced",
    classes=[0, 1], y=targets[:, l])`` — the ``[L, 2]`` ``class_weight`` that
    :func:`maskjax.losses.binary_cross_entropy` takes. A label that is always
    0 (or always 1) gets ``[1, 0]`` (or ``[0, 1]``).

    Args:
      targets: integer class ids ``[*S]``; multi-hot ``[..., L]`` 0/1 (bool,
        int or float) with ``task="multilabel"``.
      num_classes: static ``C`` (the number of labels ``L`` for multi-label).
      task: ``None`` (class ids; multi-hot-looking input — rank >= 2, a last
        axis of size ``C > 2``, only 0 and 1 — raises rather than giving a
        meaningless vector), ``"multiclass"`` (class ids, no such check) or
        ``"multilabel"``.
      mask, sample_weight: as in :func:`class_counts` (for multi-label, a
        ``mask`` may also have the full ``[..., L]`` shape).
      ignore_index: a target value that counts nowhere (e.g. ``-1`` = label
        unknown for multi-label).

    Returns:
      ``[C]`` float32 class weights, or ``[L, 2]`` for ``task="multilabel"``.

    Raises:
      TypeError: bool class ids without ``task="multilabel"``.
      ValueError: an unknown ``task``; multi-hot-looking targets with
        ``task=None``; multi-label targets whose last axis is not ``L``.

    Example:
      >>> import maskjax
      >>> [round(x, 4) for x in maskjax.weights.balanced([0, 0, 0, 1], 2).tolist()]
      [0.6667, 2.0]
      >>> y = [[1, 0], [0, 0], [0, 1], [0, 1]]
      >>> [[round(v, 4) for v in row] for row in
      ...  maskjax.weights.balanced(y, 2, task="multilabel").tolist()]
      [[0.6667, 2.0], [1.0, 1.0]]
    """
    if task is not None:
        _checks.check_choice(task, "task", ("multiclass", "multilabel"))
    num_classes = _checks.check_static_int(num_classes, "num_classes", minimum=1)
    if task == "multilabel":
        return _balanced_multilabel(targets, num_classes, mask=mask, sample_weight=sample_weight,
                                    ignore_index=ignore_index)
    if task is None:
        _check_not_multi_hot(_policy.as_labels(targets, "targets"), num_classes)
    counts = class_counts(targets, num_classes, mask=mask, sample_weight=sample_weight,
                          ignore_index=ignore_index)
    present = jnp.sum(counts > 0)
    return safe_divide(jnp.sum(counts), present * counts)


def median_frequency(targets: Any, num_classes: int, *, mask: Any = None, sample_weight: Any = None,
                     ignore_index: int | None = None) -> jax.Array:
    r"""Median-frequency balancing (Eigen & Fergus, 2015): :math:`w_c = \mathrm{median}(f) / f_c`.

    :math:`f_c = n_c / n` is the frequency of class ``c`` over all kept targets
    (the global-frequency variant used by most segmentation code); the median
    is taken over the classes present. Absent classes get weight 0.

    Args:
      targets: integer class ids ``[*S]`` (e.g. ``[B, H, W]`` label maps).
      num_classes: static ``C``.
      mask, sample_weight, ignore_index: as in :func:`class_counts`.

    Returns:
      ``[C]`` float32 class weights; the median-frequency class gets 1.

    Example:
      >>> import maskjax
      >>> maskjax.weights.median_frequency([0, 0, 0, 0, 1, 1, 2], 3).tolist()
      [0.5, 1.0, 2.0]
    """
    counts = class_counts(targets, num_classes, mask=mask, sample_weight=sample_weight,
                          ignore_index=ignore_index)
    freq = safe_divide(counts, jnp.sum(counts))
    present = counts > 0
    median = jnp.nanmedian(jnp.where(present, freq, jnp.nan))
    median = jnp.where(jnp.any(present), median, 0.0)
    return safe_divide(median, freq)
