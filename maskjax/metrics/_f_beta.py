"""F-beta, F1, Dice and Jaccard (IoU): the functions, their streaming classes and the formulas.

Per class, from the weighted :class:`~maskjax.metrics._confusion.Counts`:

* F-beta = (1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp) (F1: β = 1);
* Dice = 2·tp / (2·tp + fp + fn) (the segmentation name of F1);
* Jaccard = tp / (tp + fp + fn);

then averaged (:func:`~maskjax.metrics._confusion.ratio_compute`), or per sample for multi-label
``average="samples"``. Defaults match scikit-learn ``fbeta_score`` / ``f1_score`` /
``jaccard_score`` (``average="macro"`` over the classes present) and torchmetrics ``dice``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from maskjax import _checks
from maskjax.metrics._confusion import Counts, RatioMetric, StateSpec
from maskjax.metrics._precision_recall import check_top_k, top_k_spec
from maskjax.metrics._docs import SAMPLES_AVERAGES, doc, ratio_doc

__all__ = ["f1_score", "fbeta_score", "dice_score", "jaccard_index",
           "F1Score", "FBetaScore", "DiceScore", "JaccardIndex"]


# --------------------------------------------------------------------------- #
# Formulas: (tp, fp, fn, tn, beta²) -> (numerator, denominator)
# --------------------------------------------------------------------------- #
def fbeta_formula(tp, fp, fn, tn, b2):
    # beta = inf is the recall (scikit-learn): the limit of (1 + b²)tp / ((1 + b²)tp + b²fn + fp).
    inf = jnp.isinf(b2)
    b2 = jnp.where(inf, 0.0, b2)
    return (jnp.where(inf, tp, (1 + b2) * tp),
            jnp.where(inf, tp + fn, (1 + b2) * tp + b2 * fn + fp))


def dice_formula(tp, fp, fn, tn, b2):
    return 2 * tp, 2 * tp + fp + fn


def jaccard_formula(tp, fp, fn, tn, b2):
    return tp, tp + fp + fn


# --------------------------------------------------------------------------- #
# Streaming classes
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True, kw_only=True)
class FBetaScore(RatioMetric):
    beta: float = 1.0
    top_k: int = 1
    formula = staticmethod(fbeta_formula)
    _averages: ClassVar[tuple[Any, ...]] = SAMPLES_AVERAGES

    def _check_config(self) -> None:
        check_top_k(self)
        if not isinstance(self.beta, jax.Array):
            object.__setattr__(self, "beta", _checks.check_static_float(self.beta, "beta", low=0.0))

    def state_spec(self) -> StateSpec:
        return top_k_spec(self)


ratio_doc(FBetaScore, "Streaming F-beta (1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp).", "fbeta_score",
           "      beta: the weight of recall (β > 1 favours recall).\n", """
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import FBetaScore
      >>> f2 = FBetaScore(task="binary", beta=2.0)
      >>> round(float(f2(jnp.array([1, 1, 0, 0]), jnp.array([1, 0, 1, 1]))), 4)
      0.3571
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class F1Score(FBetaScore):
    beta: float = 1.0

    def _check_config(self) -> None:
        check_top_k(self)
        if self.beta != 1.0:
            raise ValueError(f"F1Score has beta=1; use FBetaScore for beta={self.beta}.")


ratio_doc(F1Score, "Streaming F1 = 2·tp / (2·tp + fp + fn).", "f1_score", example="""
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import F1Score
      >>> f1 = F1Score(task="multiclass", num_classes=3, average="macro")
      >>> state = f1.update(f1.init(), jnp.array([[.8, .1, .1], [.2, .7, .1]]), jnp.array([0, 2]))
      >>> round(float(f1.compute(state)), 4)   # classes 0 (F1 1), 1 and 2 (F1 0)
      0.3333
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class JaccardIndex(RatioMetric):
    formula = staticmethod(jaccard_formula)
    _averages: ClassVar[tuple[Any, ...]] = SAMPLES_AVERAGES

    def _adjust_counts(self, counts: Counts) -> Counts:
        # Micro over the classes that are averaged: a class id used as ignore_index keeps no false
        # positives either (torchmetrics _jaccard_index_reduce drops its row and column).
        ig = self.ignore_index
        if self.task != "multiclass" or self.average != "micro" or ig is None or not 0 <= ig < self.num_classes:
            return counts
        keep = jnp.arange(self.num_classes) != ig
        z = lambda x: jnp.where(keep, x, jnp.zeros((), x.dtype))  # noqa: E731
        return counts._replace(tp=z(counts.tp), pred=z(counts.pred), target=z(counts.target))


ratio_doc(JaccardIndex, "Streaming Jaccard index (IoU) tp / (tp + fp + fn).", "jaccard_index", example="""
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import JaccardIndex
      >>> iou = JaccardIndex(task="multiclass", num_classes=2, average=None)
      >>> iou(jnp.array([[0, 1], [1, 1]]), jnp.array([[0, 1], [0, 1]])).tolist()
      [0.5, 0.6666666865348816]
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DiceScore(RatioMetric):
    formula = staticmethod(dice_formula)
    _averages: ClassVar[tuple[Any, ...]] = SAMPLES_AVERAGES


ratio_doc(DiceScore, "Streaming Dice score 2·tp / (2·tp + fp + fn) (hard predictions).", "dice_score",
           example="""
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import DiceScore
      >>> float(DiceScore(task="binary")(jnp.array([1, 1, 0, 0]), jnp.array([1, 0, 1, 0])))
      0.5
""")


@doc(samples=True, class_id=True, top_k=True)
def f1_score(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
             threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
             average: str | None = "macro", absent_classes: str = "auto", mask: Any = None,
             sample_weight: Any = None, class_weight: Any = None, ignore_index: int | None = None,
             zero_division: float = 0.0, axis: int | None = None, pos_label: int | None = None, multidim_average: str = "global", top_k: int = 1, class_id: int | None = None, labels: Any = None,
        validate: bool = False) -> jax.Array:
    r"""F1 score, the harmonic mean of precision and recall.

    Per class :math:`2 tp / (2 tp + fp + fn)` from weighted counts, then averaged. Matches
    scikit-learn ``f1_score`` (0/0 only when tp + fp + fn = 0).

    Args:
      __ARGS__
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None`` (binary: the positive class).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import f1_score
      >>> y = jnp.array([0, 1, 1, 0, 2, 2]); yhat = jnp.array([0, 1, 0, 0, 1, 2])
      >>> w = jnp.array([1., 2., 0., 1., 3., 1.])
      >>> round(float(f1_score(yhat, y, task="multiclass", num_classes=3, sample_weight=w)), 4)
      0.6571
    """
    return F1Score.one_shot(preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                            from_logits=from_logits, lower_is_positive=lower_is_positive,
                            average=average, absent_classes=absent_classes, mask=mask,
                            sample_weight=sample_weight, class_weight=class_weight,
                            ignore_index=ignore_index, zero_division=zero_division, axis=axis, pos_label=pos_label, multidim_average=multidim_average, top_k=top_k, class_id=class_id, labels=labels,
        validate=validate)


@doc(samples=True, class_id=True, top_k=True)
def fbeta_score(preds: Any, targets: Any, *, beta: float, task: str, num_classes: int | None = None,
                threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                average: str | None = "macro", absent_classes: str = "auto", mask: Any = None,
                sample_weight: Any = None, class_weight: Any = None, ignore_index: int | None = None,
                zero_division: float = 0.0, axis: int | None = None, pos_label: int | None = None, multidim_average: str = "global", top_k: int = 1, class_id: int | None = None, labels: Any = None,
        validate: bool = False) -> jax.Array:
    r"""F-beta score: recall weighted ``beta`` times as much as precision.

    Per class :math:`(1+\beta^2) tp / ((1+\beta^2) tp + \beta^2 fn + fp)`,
    then averaged. Matches scikit-learn ``fbeta_score``.

    Args:
      __ARGS__
      beta: non-negative weight of recall (traced; ``beta=0`` is precision).
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import fbeta_score
      >>> p = jnp.array([0.9, 0.4, 0.6, 0.2]); y = jnp.array([1, 1, 0, 0])
      >>> round(float(fbeta_score(p, y, task="binary", beta=2.0)), 4)
      0.5
    """
    b = _checks.check_static_float(beta, "beta", low=0.0) if not isinstance(beta, jax.Array) else beta
    return FBetaScore.one_shot(preds, targets, beta=b, task=task, num_classes=num_classes,
                               threshold=threshold, from_logits=from_logits,
                               lower_is_positive=lower_is_positive, average=average,
                               absent_classes=absent_classes, mask=mask, sample_weight=sample_weight,
                               class_weight=class_weight, ignore_index=ignore_index,
                               zero_division=zero_division, axis=axis, pos_label=pos_label, multidim_average=multidim_average, top_k=top_k, class_id=class_id, labels=labels,
        validate=validate)


@doc(samples=True, class_id=True)
def dice_score(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
               threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
               average: str | None = "macro", absent_classes: str = "auto", mask: Any = None,
               sample_weight: Any = None, class_weight: Any = None, ignore_index: int | None = None,
               zero_division: float = 0.0, axis: int | None = None, pos_label: int | None = None, multidim_average: str = "global", class_id: int | None = None, labels: Any = None,
        validate: bool = False) -> jax.Array:
    r"""Dice coefficient (Sørensen–Dice), the segmentation name of F1.

    Per class :math:`2 tp / (2 tp + fp + fn)` from weighted counts, then averaged. Matches
    scikit-learn ``f1_score`` and torchmetrics ``dice`` (same value as :func:`f1_score`).

    Args:
      __ARGS__
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None`` (binary: the positive class).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import dice_score
      >>> seg = jnp.array([[0, 1, 1], [2, 2, 0]]); gt = jnp.array([[0, 1, 2], [2, 2, 255]])
      >>> round(float(dice_score(seg, gt, task="multiclass", num_classes=3, ignore_index=255)), 4)
      0.8222
    """
    return DiceScore.one_shot(preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                              from_logits=from_logits, lower_is_positive=lower_is_positive,
                              average=average, absent_classes=absent_classes, mask=mask,
                              sample_weight=sample_weight, class_weight=class_weight,
                              ignore_index=ignore_index, zero_division=zero_division, axis=axis, pos_label=pos_label, multidim_average=multidim_average, class_id=class_id, labels=labels,
        validate=validate)


@doc(samples=True, class_id=True)
def jaccard_index(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                  threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                  average: str | None = "macro", absent_classes: str = "auto", mask: Any = None,
                  sample_weight: Any = None, class_weight: Any = None, ignore_index: int | None = None,
                  zero_division: float = 0.0, axis: int | None = None, pos_label: int | None = None, multidim_average: str = "global", class_id: int | None = None, labels: Any = None,
        validate: bool = False) -> jax.Array:
    r"""Jaccard index (intersection over union, IoU).

    Per class :math:`tp / (tp + fp + fn)` from weighted counts, then averaged. Matches
    scikit-learn ``jaccard_score``.

    Args:
      __ARGS__
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None`` (binary: the positive class).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import jaccard_index
      >>> seg = jnp.array([[0, 1, 1], [2, 2, 0]]); gt = jnp.array([[0, 1, 2], [2, 2, 0]])
      >>> iou = jaccard_index(seg, gt, task="multiclass", num_classes=3, average=None)
      >>> [round(v, 4) for v in iou.tolist()]
      [1.0, 0.5, 0.6667]
    """
    return JaccardIndex.one_shot(preds, targets, task=task, num_classes=num_classes,
                                 threshold=threshold, from_logits=from_logits,
                                 lower_is_positive=lower_is_positive, average=average,
                                 absent_classes=absent_classes, mask=mask, sample_weight=sample_weight,
                                 class_weight=class_weight, ignore_index=ignore_index,
                                 zero_division=zero_division, axis=axis, pos_label=pos_label, multidim_average=multidim_average, class_id=class_id, labels=labels,
        validate=validate)
