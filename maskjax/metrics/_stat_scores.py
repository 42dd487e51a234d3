"""Stat scores (tp, fp, tn, fn, support) and the confusion matrix: functions, classes, maths.

Both read the shared :class:`~maskjax.metrics._confusion.Counts` (binary / multi-label matrices,
``[[tn, fp], [fn, tp]]`` per label) or, for the multiclass matrix, one ``segment_sum`` on the flat
key ``t·C + p`` (:func:`~maskjax.metrics._confusion.confmat_update`). Layouts match torchmetrics
``stat_scores`` and scikit-learn ``confusion_matrix`` / ``multilabel_confusion_matrix``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from maskjax import _checks
from maskjax._safe_divide import safe_divide
from maskjax.metrics import _format
from maskjax.metrics._confusion import (ConfusionMetric, Counts, CountsState, StateSpec, include_classes,
                                        jit_compute, _cells)
from maskjax.metrics._docs import doc
from maskjax.metrics._streaming import State
from maskjax.metrics._config import check_labels, take_labels
from maskjax.metrics._confusion import ConfmatState
from maskjax.metrics._samplewise import SampleRows

__all__ = ["stat_scores", "confusion_matrix", "StatScores", "ConfusionMatrix"]


def stat_scores_compute(counts: Counts, *, task: str, average: Any = None,
                        absent_classes: str = "auto", ignore_index: int | None = None) -> jax.Array:
    """``[..., 5]`` = (tp, fp, tn, fn, support), torchmetrics' layout.

    Binary ``[5]``; ``average=None`` ``[K, 5]``; ``"micro"`` sums classes;
    ``"macro"`` averages the included classes (float).
    """
    tp, fp, fn, tn = _cells(counts)
    tn = jnp.broadcast_to(tn, tp.shape)
    res = jnp.stack([tp, fp, tn, fn, counts.target], axis=-1)
    if task == "binary":
        return res[0]
    if average is None:
        return res
    if average == "micro":
        return jnp.sum(res, axis=0)
    include = include_classes(counts.seen, task=task, absent_classes=absent_classes,
                              ignore_index=ignore_index).astype(jnp.float32)
    return safe_divide(jnp.sum(res * include[:, None], axis=0), jnp.sum(include))


def counts_confmat(counts: Counts) -> jax.Array:
    """``[K, 2, 2]`` per-label ``[[tn, fp], [fn, tp]]`` (scikit-learn ``multilabel_confusion_matrix``)."""
    tp, fp, fn, tn = _cells(counts)
    tn = jnp.broadcast_to(tn, tp.shape)
    return jnp.stack([jnp.stack([tn, fp], -1), jnp.stack([fn, tp], -1)], -2)


def confmat_compute(confmat: jax.Array, *, normalize: str | None = None) -> jax.Array:
    """Normalise a ``[..., C, C]`` confusion matrix over true rows, pred columns or all.

    Zero rows / columns / totals give 0 (scikit-learn).
    """
    if normalize is None:
        return confmat
    cm = confmat.astype(jnp.float32)
    if normalize == "true":
        return safe_divide(cm, jnp.sum(cm, -1, keepdims=True))
    if normalize == "pred":
        return safe_divide(cm, jnp.sum(cm, -2, keepdims=True))
    return safe_divide(cm, jnp.sum(cm, (-2, -1), keepdims=True))


stat_scores_compute = jit_compute(stat_scores_compute, ("task", "average", "absent_classes", "ignore_index"))
confmat_compute = jit_compute(confmat_compute, ("normalize",))
counts_confmat = jax.jit(counts_confmat)


# --------------------------------------------------------------------------- #
# Streaming classes
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True, kw_only=True)
class StatScores(ConfusionMetric):
    """Streaming stat scores: ``[..., 5]`` = (tp, fp, tn, fn, support), torchmetrics' layout.

    Streaming form of ``maskjax.metrics.stat_scores``. Binary gives ``[5]``;
    ``average=None`` ``[K, 5]``; ``"micro"`` sums classes; ``"macro"`` averages
    the included classes.

    Args:
      task, num_classes, threshold, from_logits, lower_is_positive, ignore_index, class_weight,
        dtype, validate: as :class:`Accuracy`.
      average: ``None``, ``"micro"`` or ``"macro"``.
      absent_classes: which classes ``"macro"`` averages over.

    State:
      ``Counts`` (shared with the other counting metrics).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import StatScores
      >>> st = StatScores(task="binary")
      >>> st(jnp.array([1, 1, 0, 0]), jnp.array([1, 0, 1, 0])).tolist()
      [1.0, 1.0, 1.0, 1.0, 2.0]
    """

    average: Any = None
    absent_classes: str = "auto"
    _averages: ClassVar[tuple[Any, ...]] = ("micro", "macro", None)
    _samplewise_ok: ClassVar[bool] = True

    def compute(self, state: State) -> jax.Array:
        if isinstance(state, SampleRows):
            return self._samplewise_rows(state)
        return stat_scores_compute(state, task=self.task, average=self.average,
                                      absent_classes=self.absent_classes, ignore_index=self.ignore_index)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfusionMatrix(ConfusionMetric):
    """Streaming confusion matrix, optionally normalised.

    Streaming form of ``maskjax.metrics.confusion_matrix``: multiclass
    ``[C, C]`` (``C[i, j]`` = Σ w over true i, predicted j); binary ``[2, 2]``
    and multi-label ``[L, 2, 2]`` (``[[tn, fp], [fn, tp]]``) from the shared
    ``Counts``.

    Args:
      task, num_classes, threshold, from_logits, lower_is_positive, ignore_index, class_weight,
        dtype, validate: as :class:`Accuracy`.
      normalize: ``None``, ``"true"`` (rows), ``"pred"`` (columns) or ``"all"``.

    State:
      ``[C, C]`` counts (multiclass) or ``Counts`` (binary / multi-label).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import ConfusionMatrix
      >>> cm = ConfusionMatrix(task="multiclass", num_classes=3)
      >>> s = cm.update(cm.init(), jnp.array([0, 1, 0]), jnp.array([0, 1, 1]))
      >>> cm.compute(cm.update(s, jnp.array([1, 2]), jnp.array([2, 2]))).tolist()   # float32 counts
      [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]
    """

    normalize: str | None = None
    labels: Any = None

    def _check_config(self) -> None:
        _checks.check_choice(self.normalize, "normalize", (None, "true", "pred", "all"))
        object.__setattr__(self, "labels", check_labels(self.labels, "multiclass" if self.task == "binary"
                                                        else self.task))

    def state_spec(self) -> StateSpec:
        if self.task == "multiclass":
            return ConfmatState(*self._spec_args())
        return CountsState(*self._spec_args())

    def compute(self, state: Any) -> jax.Array:
        cm = state
        if self.task != "multiclass":
            cm = counts_confmat(state)
            if self.task == "binary":
                cm = cm[0]
        if self.labels is not None:   # scikit-learn labels=: rows and columns in that order (absent → 0)
            cm = take_labels(cm, self.labels, axis=0)
            if self.task != "multilabel":
                cm = take_labels(cm, self.labels, axis=1)
        return confmat_compute(cm, normalize=self.normalize)


# --------------------------------------------------------------------------- #
# One-shot functions
# --------------------------------------------------------------------------- #
@doc()
def stat_scores(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                average: str | None = None, absent_classes: str = "auto", mask: Any = None,
                sample_weight: Any = None, class_weight: Any = None, ignore_index: int | None = None,
                axis: int | None = None, pos_label: int | None = None, multidim_average: str = "global",
        validate: bool = False) -> jax.Array:
    """Weighted ``(tp, fp, tn, fn, support)`` per class (torchmetrics ``stat_scores`` layout).

    Args:
      __ARGS__
      average: ``None`` (default, per class ``[K, 5]``), ``"micro"`` (summed
        ``[5]``) or ``"macro"`` (mean over the averaged classes ``[5]``).
      absent_classes: see :func:`precision` (only for ``"macro"``).
      multidim_average: ``"global"`` or ``"samplewise"`` (``[N, 5]`` / ``[N, K, 5]``,
        torchmetrics).

    Returns:
      ``[5]`` for binary, ``[K, 5]`` or ``[5]`` otherwise. int32 without
      weights, float32 with ``sample_weight`` / ``class_weight``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import stat_scores
      >>> stat_scores(jnp.array([0, 2, 1, 2]), jnp.array([0, 1, 1, 2]),
      ...             task="multiclass", num_classes=3).tolist()
      [[1, 0, 3, 0, 1], [1, 0, 2, 1, 2], [1, 1, 2, 0, 1]]
    """
    _format.check_average(average, _format.check_task(task), (None, "micro", "macro"))
    return StatScores.one_shot(preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                               from_logits=from_logits, lower_is_positive=lower_is_positive,
                               average=average, absent_classes=absent_classes, mask=mask,
                               sample_weight=sample_weight, class_weight=class_weight,
                               ignore_index=ignore_index, axis=axis, pos_label=pos_label, multidim_average=multidim_average,
        validate=validate)


@doc()
def confusion_matrix(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                     threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                     normalize: str | None = None, mask: Any = None, sample_weight: Any = None,
                     class_weight: Any = None, ignore_index: int | None = None,
                     axis: int | None = None, pos_label: int | None = None, labels: Any = None,
        validate: bool = False) -> jax.Array:
    r"""Weighted confusion matrix :math:`C_{ij} = \sum w` over (true i, predicted j).

    Matches scikit-learn ``confusion_matrix`` (binary: ``labels=[0, 1]``,
    ``[[tn, fp], [fn, tp]]``) and ``multilabel_confusion_matrix`` (``[L, 2, 2]``).
    The multiclass matrix is one ``segment_sum`` on the key ``t·C + p``.

    Args:
      __ARGS__
      normalize: ``None``, ``"true"`` (rows sum to 1), ``"pred"`` (columns) or
        ``"all"``; empty rows / columns give 0 (scikit-learn).
      labels: scikit-learn ``labels=``: rows and columns of these classes in
        this order (absent / out-of-range ids give zero rows); multilabel: these labels.

    Returns:
      ``[2, 2]`` (binary), ``[C, C]`` (multiclass) or ``[L, 2, 2]`` (multilabel);
      int32 counts without weights or normalisation, float32 otherwise.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import confusion_matrix
      >>> y = jnp.array([0, 1, 1, 0, 2, 2]); yhat = jnp.array([0, 1, 0, 0, 1, 2])
      >>> w = jnp.array([1., 2., 0., 1., 3., 1.])
      >>> confusion_matrix(yhat, y, task="multiclass", num_classes=3, sample_weight=w).tolist()
      [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 3.0, 1.0]]
    """
    _checks.check_choice(normalize, "normalize", [None, "true", "pred", "all"])
    return ConfusionMatrix.one_shot(preds, targets, task=task, num_classes=num_classes,
                                    threshold=threshold, from_logits=from_logits,
                                    lower_is_positive=lower_is_positive, normalize=normalize,
                                    mask=mask, sample_weight=sample_weight, class_weight=class_weight,
                                    ignore_index=ignore_index, axis=axis, pos_label=pos_label, labels=labels,
        validate=validate)
