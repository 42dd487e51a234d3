"""Precision, recall and specificity: the functions, their streaming classes and the formulas.

Per class, from the weighted :class:`~maskjax.metrics._confusion.Counts`:
precision = tp / (tp + fp), recall = tp / (tp + fn), specificity = tn / (tn + fp); then averaged
(:func:`~maskjax.metrics._confusion.ratio_compute`). Top-k recall (``top_k > 1``) counts a hit when
the target is among the k highest scores (:func:`topk_update`). Defaults match scikit-learn
(``average="macro"`` over the classes present; binary = the positive class); specificity matches
torchmetrics.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from jax import lax

from maskjax import _checks
from maskjax.metrics import _format
from maskjax.metrics._confusion import (Counts, RatioMetric, StateSpec)
from maskjax.metrics._docs import SAMPLES_AVERAGES, doc, ratio_doc
from maskjax.metrics._format import Formatted

__all__ = ["precision", "recall", "specificity", "Precision", "Recall", "Specificity"]


# --------------------------------------------------------------------------- #
# Formulas: (tp, fp, fn, tn, beta²) -> (numerator, denominator)
# --------------------------------------------------------------------------- #
def precision_formula(tp, fp, fn, tn, b2):
    return tp, tp + fp


def recall_formula(tp, fp, fn, tn, b2):
    return tp, tp + fn


def specificity_formula(tp, fp, fn, tn, b2):
    return tn, tn + fp


# --------------------------------------------------------------------------- #
# Top-k state (recall and accuracy with top_k > 1)
# --------------------------------------------------------------------------- #
def topk_update(fmt: Formatted, *, num_classes: int, top_k: int) -> Counts:
    """Top-k :class:`Counts` (multiclass float scores), torchmetrics' ``top_k`` rule.

    The prediction of an element is its target when the target is among the ``k`` highest
    scores, otherwise its top-1 class (torchmetrics ``_refine_preds_oh``); tp, fp, fn, tn then
    follow as for hard labels. The target is in the top k iff fewer than ``k`` classes beat it, a
    class beating it when its score is higher, or equal with a *higher* index (scikit-learn
    ``top_k_accuracy_score``'s order: a stable ascending sort, reversed). The top-1 class is the
    arg-max (ties to the lowest index). A fused compare-and-count over ``[N, C]``, never
    materialised. ``seen`` counts kept targets only: with ``top_k > 1`` a macro average runs over
    the classes with ``tp + fn > 0`` (torchmetrics); with ``top_k = 1`` (``top_k_accuracy``) kept
    targets and predictions (``tp + fp + fn > 0``).
    """
    if fmt.scores is None:
        raise ValueError("top_k needs float scores [..., C] as `preds`, got integer class ids.")
    c = num_classes
    s = fmt.scores.reshape(-1, c)
    t = fmt.targets.reshape(-1)
    w = fmt.weight.reshape(-1)
    keep = fmt.keep.reshape(-1).astype(w.dtype)
    st = jnp.take_along_axis(s, t[:, None], axis=1)
    iota = lax.broadcasted_iota(jnp.int32, s.shape, 1)
    beats = (s > st) | ((s == st) & (iota > t[:, None]))
    hit = jnp.sum(beats, axis=1, dtype=jnp.int32) < top_k
    p = jnp.where(hit, t, fmt.preds.reshape(-1))
    hit = hit.astype(w.dtype)
    by_t = jax.ops.segment_sum(jnp.stack([w * hit, w, keep], axis=-1), t, num_segments=c)
    if top_k == 1:   # top_accuracy(k=1): classes present in targets or predictions (tp + fp + fn > 0)
        by_p = jax.ops.segment_sum(jnp.stack([w, keep], axis=-1), p, num_segments=c)
        return Counts(by_t[:, 0], by_p[:, 0], by_t[:, 1], jnp.sum(by_t[:, 1]), by_t[:, 2] + by_p[:, 1])
    by_p = jax.ops.segment_sum(w, p, num_segments=c)
    return Counts(by_t[:, 0], by_p, by_t[:, 1], jnp.sum(by_t[:, 1]), by_t[:, 2])


@dataclasses.dataclass(frozen=True)
class TopKState(StateSpec):
    """Top-k :class:`Counts` (multiclass float scores, :func:`topk_update`)."""

    top_k: int = 1

    def init(self, dtype: str) -> Counts:
        from maskjax.metrics._confusion import counts_init
        return counts_init(self.task, self.num_classes, dtype)

    def increment(self, fmt: _format.Formatted) -> Counts:
        return topk_update(fmt, num_classes=self.num_classes, top_k=self.top_k)


def check_top_k(metric: Any) -> None:
    """``top_k`` is a static int >= 1, and > 1 only for multiclass."""
    _checks.check_static_int(metric.top_k, "top_k", minimum=1)
    if metric.top_k > 1 and metric.task != "multiclass":
        raise ValueError(f"`top_k` > 1 needs task='multiclass', got task={metric.task!r}.")


def top_k_spec(metric: Any) -> StateSpec:
    """The metric's state: :class:`TopKState` when ``top_k > 1``, else the ratio metrics' own."""
    if metric.top_k > 1 or getattr(metric, "_always_top_k", False):
        return TopKState(*metric._spec_args(), top_k=metric.top_k)
    return RatioMetric.state_spec(metric)


# --------------------------------------------------------------------------- #
# Streaming classes
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True, kw_only=True)
class Precision(RatioMetric):
    top_k: int = 1
    formula = staticmethod(precision_formula)
    _averages: ClassVar[tuple[Any, ...]] = SAMPLES_AVERAGES

    def _check_config(self) -> None:
        check_top_k(self)

    def state_spec(self) -> StateSpec:
        return top_k_spec(self)


ratio_doc(Precision, "Streaming precision tp / (tp + fp).", "precision", example="""
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Precision
      >>> p = Precision(task="binary")
      >>> s = p.update(p.init(), jnp.array([.9, .8, .2]), jnp.array([1, 0, 1]))
      >>> float(p.compute(p.update(s, jnp.array([.7]), jnp.array([1]))))
      0.6666666865348816
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Recall(RatioMetric):
    top_k: int = 1
    formula = staticmethod(recall_formula)
    _averages: ClassVar[tuple[Any, ...]] = SAMPLES_AVERAGES

    def _check_config(self) -> None:
        check_top_k(self)

    def state_spec(self) -> StateSpec:
        return top_k_spec(self)


ratio_doc(Recall, "Streaming recall tp / (tp + fn).", "recall",
           "      top_k: a hit when the target is among the ``top_k`` highest scores (multiclass).\n", """
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Recall
      >>> r = Recall(task="multiclass", num_classes=3, average=None)
      >>> r(jnp.array([0, 1, 1, 2]), jnp.array([0, 1, 2, 2])).tolist()
      [1.0, 1.0, 0.5]
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Specificity(RatioMetric):
    top_k: int = 1
    formula = staticmethod(specificity_formula)

    def _check_config(self) -> None:
        check_top_k(self)

    def state_spec(self) -> StateSpec:
        return top_k_spec(self)


ratio_doc(Specificity, "Streaming specificity tn / (tn + fp).", "specificity", example="""
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Specificity
      >>> float(Specificity(task="binary")(jnp.array([1, 0, 0, 1]), jnp.array([0, 0, 0, 1])))
      0.6666666865348816
""")


@doc(samples=True, class_id=True, top_k=True)
def precision(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
              threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
              average: str | None = "macro", absent_classes: str = "auto", mask: Any = None,
              sample_weight: Any = None, class_weight: Any = None, ignore_index: int | None = None,
              zero_division: float = 0.0, axis: int | None = None, pos_label: int | None = None, multidim_average: str = "global", top_k: int = 1, class_id: int | None = None, labels: Any = None,
        validate: bool = False) -> jax.Array:
    r"""Precision (positive predictive value).

    Per class :math:`tp / (tp + fp)` from weighted counts, then averaged. Matches
    scikit-learn ``precision_score`` (``average='macro'`` default; binary =
    ``average='binary'``).

    Args:
      __ARGS__
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None`` (binary: the positive class).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import precision
      >>> y = jnp.array([0, 0, 1]); yhat = jnp.array([0, 0, 0])
      >>> round(float(precision(yhat, y, task="multiclass", num_classes=3)), 4)
      0.3333
      >>> round(precision(yhat, y, task="multiclass", num_classes=3, average=None)[0].item(), 4)  # class 0
      0.6667
    """
    return Precision.one_shot(preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                              from_logits=from_logits, lower_is_positive=lower_is_positive,
                              average=average, absent_classes=absent_classes, mask=mask,
                              sample_weight=sample_weight, class_weight=class_weight,
                              ignore_index=ignore_index, zero_division=zero_division, axis=axis, pos_label=pos_label, multidim_average=multidim_average, top_k=top_k, class_id=class_id, labels=labels,
        validate=validate)


@doc(samples=True, class_id=True, top_k=True)
def recall(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
           threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
           average: str | None = "macro", absent_classes: str = "auto", mask: Any = None,
           sample_weight: Any = None, class_weight: Any = None, ignore_index: int | None = None,
           zero_division: float = 0.0, axis: int | None = None, pos_label: int | None = None, multidim_average: str = "global", top_k: int = 1, class_id: int | None = None, labels: Any = None,
        validate: bool = False) -> jax.Array:
    r"""Recall (sensitivity, true positive rate).

    Per class :math:`tp / (tp + fn)` from weighted counts, then averaged. Matches
    scikit-learn ``recall_score``.

    Args:
      __ARGS__
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None`` (binary: the positive class).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import recall
      >>> y = jnp.array([0, 1, 1, 0, 2, 2]); yhat = jnp.array([0, 1, 0, 0, 1, 2])
      >>> w = jnp.array([1., 2., 0., 1., 3., 1.])
      >>> round(float(recall(yhat, y, task="multiclass", num_classes=3, sample_weight=w)), 4)
      0.75
    """
    return Recall.one_shot(preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                           from_logits=from_logits, lower_is_positive=lower_is_positive,
                           average=average, absent_classes=absent_classes, mask=mask,
                           sample_weight=sample_weight, class_weight=class_weight,
                           ignore_index=ignore_index, zero_division=zero_division, axis=axis, pos_label=pos_label, multidim_average=multidim_average, top_k=top_k, class_id=class_id, labels=labels,
        validate=validate)


@doc(samples=False, class_id=True, top_k=True)
def specificity(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                average: str | None = "macro", absent_classes: str = "auto", mask: Any = None,
                sample_weight: Any = None, class_weight: Any = None, ignore_index: int | None = None,
                zero_division: float = 0.0, axis: int | None = None, pos_label: int | None = None, multidim_average: str = "global", top_k: int = 1, class_id: int | None = None, labels: Any = None,
        validate: bool = False) -> jax.Array:
    r"""Specificity (true negative rate).

    Per class :math:`tn / (tn + fp)` from weighted counts, then averaged. Matches
    torchmetrics ``specificity`` (scikit-learn has none; tn per class is
    one-vs-rest).

    Args:
      __ARGS__
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None`` (binary: the positive class).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import specificity
      >>> p = jnp.array([0.9, 0.8, 0.2, 0.1]); y = jnp.array([1, 0, 0, 0])
      >>> round(float(specificity(p, y, task="binary")), 4)
      0.6667
    """
    return Specificity.one_shot(preds, targets, task=task, num_classes=num_classes,
                                threshold=threshold, from_logits=from_logits,
                                lower_is_positive=lower_is_positive, average=average,
                                absent_classes=absent_classes, mask=mask, sample_weight=sample_weight,
                                class_weight=class_weight, ignore_index=ignore_index,
                                zero_division=zero_division, axis=axis, pos_label=pos_label, multidim_average=multidim_average, top_k=top_k, class_id=class_id, labels=labels,
        validate=validate)
