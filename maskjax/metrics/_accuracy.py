"""Accuracy, balanced accuracy, Hamming distance, exact match and top-k accuracy.

The functions, their streaming classes and their maths in one place:

* accuracy = (tp + tn) / Σw per class (binary / multi-label), Σ tp / Σ w for multiclass micro
  (scikit-learn ``accuracy_score``), per-class recall averaged for multiclass macro (torchmetrics);
* Hamming distance = 1 − accuracy ((fp + fn) / total per label; scikit-learn ``hamming_loss``);
* balanced accuracy = mean recall over the classes that occur (scikit-learn);
* exact match = the fraction of samples with every kept element right (:func:`exact_match_update`);
* top-k accuracy = recall of the top-k hit counts (:class:`~maskjax.metrics._precision_recall.TopKState`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from maskjax import _checks
from maskjax._safe_divide import safe_divide
from maskjax.metrics import _format
from maskjax.metrics._confusion import (ConfusionMetric, Counts, RatioMetric, StateSpec, average_scores,
                                        include_classes, jit_compute, ratio_compute, _cells)
from maskjax.metrics._docs import doc, ratio_doc
from maskjax.metrics._format import Formatted
from maskjax.metrics._streaming import State
from maskjax.metrics._samples_state import SamplesState, _sample_weight, _samples_state, samples_compute
from maskjax.metrics._precision_recall import check_top_k, recall_formula, top_k_spec

__all__ = ["accuracy", "balanced_accuracy", "hamming_distance", "exact_match", "top_k_accuracy",
           "Accuracy", "BalancedAccuracy", "HammingDistance", "ExactMatch"]


# --------------------------------------------------------------------------- #
# Formulas and states
# --------------------------------------------------------------------------- #
def accuracy_formula(tp, fp, fn, tn, b2):
    return tp + tn, tp + fp + fn + tn


def hamming_formula(tp, fp, fn, tn, b2):
    return fp + fn, tp + fp + fn + tn


def miss_rate_formula(tp, fp, fn, tn, b2):
    return fn, tp + fn


def exact_match_update(fmt: Formatted, *, task: str) -> SamplesState:
    """Subset accuracy: a sample is correct iff all its kept elements are.

    Multi-label: a sample is one ``[L]`` row (scikit-learn ``accuracy_score``
    on indicator matrices). Binary / multiclass: a sample is one index of the
    first axis, all later axes must match (torchmetrics ``exact_match``).
    """
    if task == "multilabel":
        sample_shape = fmt.preds.shape[:-1]
    else:
        sample_shape = fmt.preds.shape[:1]
    n = len(sample_shape)
    axes = tuple(range(n, fmt.preds.ndim))
    wrong = jnp.any(fmt.keep & (fmt.preds != fmt.targets), axis=axes)
    kept = jnp.any(fmt.keep, axis=axes)
    return _samples_state((~wrong).astype(jnp.float32), kept,
                          _sample_weight(fmt.sample_weight, sample_shape))


@dataclasses.dataclass(frozen=True)
class ExactMatchState(StateSpec):
    """Per-sample all-correct sums (:class:`SamplesState`)."""

    def init(self, dtype: str) -> SamplesState:
        from maskjax.metrics._samples_state import samples_init
        return samples_init(dtype if dtype.startswith("float") else "float32")

    def increment(self, fmt: _format.Formatted) -> SamplesState:
        return exact_match_update(fmt, task=self.task)


def _adjust_for_chance(score: jax.Array, n_classes: jax.Array) -> jax.Array:
    """scikit-learn ``adjusted=True``: ``(score − 1/n) / (1 − 1/n)``, n = classes with support."""
    chance = 1.0 / n_classes.astype(jnp.float32)
    return (score - chance) / (1.0 - chance)


def balanced_accuracy_compute(counts: Counts, *, task: str, average: Any = "macro",
                              zero_division: Any = 0.0, absent_classes: str = "auto",
                              ignore_index: int | None = None, adjusted: bool = False) -> jax.Array:
    """Mean recall over the classes present in the targets (scikit-learn).

    Multiclass: per-class recall, classes with zero (weighted) support dropped.
    Binary: mean of TPR and TNR, each only if its class occurs. Multi-label:
    that binary value per label, then ``average`` over labels.
    """
    nan = jnp.float32(jnp.nan)
    tp, fp, fn, tn = _cells(counts)
    if task == "multiclass":
        rec = safe_divide(tp, tp + fn, nan)
        include = jnp.ones(rec.shape, bool)
        if ignore_index is not None and 0 <= ignore_index < rec.shape[0]:
            include = include.at[ignore_index].set(False)
        score = average_scores(rec, include, counts.target, "macro", zero_division)
        if adjusted:
            score = _adjust_for_chance(score, jnp.sum(include & ~jnp.isnan(rec)))
        return score
    tpr = safe_divide(tp, tp + fn, nan)
    tnr = safe_divide(tn, tn + fp, nan)
    both = jnp.stack([tpr, tnr])
    ok = ~jnp.isnan(both)
    per_label = safe_divide(jnp.sum(jnp.where(ok, both, 0.0), 0), jnp.sum(ok, 0), nan)
    if task == "binary":
        score = jnp.where(jnp.isnan(per_label[0]), jnp.asarray(zero_division, jnp.float32), per_label[0])
        return _adjust_for_chance(score, jnp.sum(ok[:, 0])) if adjusted else score
    if average is None:
        return jnp.where(jnp.isnan(per_label), jnp.asarray(zero_division, jnp.float32), per_label)
    if average == "micro":
        tp, fp, fn, tn = (jnp.sum(x)[None] for x in (tp, fp, fn, tn))
        return balanced_accuracy_compute(Counts(tp, tp + fp, tp + fn, tp + fp + fn + tn, tp),
                                         task="binary", zero_division=zero_division)
    include = include_classes(counts.seen, task=task, absent_classes=absent_classes, ignore_index=None)
    return average_scores(per_label, include, counts.target, average, zero_division)


balanced_accuracy_compute = jit_compute(balanced_accuracy_compute,
                                        ("task", "average", "absent_classes", "ignore_index", "adjusted"))


# --------------------------------------------------------------------------- #
# Streaming classes
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True, kw_only=True)
class Accuracy(RatioMetric):
    top_k: int = 1
    average: Any = "micro"
    formula = staticmethod(accuracy_formula)
    multiclass_formula = staticmethod(recall_formula)    # Σ tp / Σ w = scikit-learn accuracy_score

    def _check_config(self) -> None:
        check_top_k(self)

    def state_spec(self) -> StateSpec:
        return top_k_spec(self)


ratio_doc(Accuracy, "Streaming accuracy (multiclass micro = scikit-learn ``accuracy_score``).", "accuracy",
           "      top_k: a hit when the target is among the ``top_k`` highest scores (multiclass).\n", """
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Accuracy
      >>> acc = Accuracy(task="multiclass", num_classes=3)
      >>> state = acc.init()
      >>> state = acc.update(state, jnp.array([0, 1, 2]), jnp.array([0, 1, 1]))
      >>> state = acc.update(state, jnp.array([2, 2]), jnp.array([2, 0]), mask=jnp.array([True, False]))
      >>> float(acc.compute(state))   # 3 of 4 kept elements
      0.75
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class _TopKAccuracy(Accuracy):
    """:func:`top_k_accuracy`: the top-k state even for k = 1 (scikit-learn's tie order, not arg-max)."""

    _always_top_k: ClassVar[bool] = True


@dataclasses.dataclass(frozen=True, kw_only=True)
class HammingDistance(RatioMetric):
    average: Any = "micro"
    formula = staticmethod(hamming_formula)
    multiclass_formula = staticmethod(miss_rate_formula)   # 1 − accuracy per class

    def _ratio(self, counts: Counts, *, average: Any, absent_classes: str, ignore_index: Any) -> jax.Array:
        if self.task != "multiclass" or average == "micro":
            return super()._ratio(counts, average=average, absent_classes=absent_classes,
                                  ignore_index=ignore_index)
        # Per class 1 − accuracy = 1 − tp / (tp + fn), the accuracy's 0/0 taking zero_division: a
        # class absent from the targets scores 1 − zero_division (torchmetrics: 1), not 0.
        acc = ratio_compute(counts, recall_formula, task=self.task, average=None,
                            zero_division=self.zero_division)
        scores = 1.0 - acc
        if average is None:
            return scores
        include = include_classes(counts.seen, task=self.task, absent_classes=absent_classes,
                                  ignore_index=ignore_index)
        return average_scores(scores, include, counts.target, average, self.zero_division)


ratio_doc(HammingDistance, "Streaming Hamming distance: the fraction of wrong labels.", "hamming_distance",
           example="""
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import HammingDistance
      >>> h = HammingDistance(task="multilabel", num_classes=2)
      >>> float(h(jnp.array([[1, 0], [1, 1]]), jnp.array([[1, 1], [1, 1]])))
      0.25
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class BalancedAccuracy(ConfusionMetric):
    """Streaming balanced accuracy: mean recall over the classes present (scikit-learn).

    Streaming form of ``maskjax.metrics.balanced_accuracy``.

    Args:
      task, num_classes, threshold, from_logits, lower_is_positive, ignore_index, class_weight,
        dtype, validate: as :class:`Accuracy`.
      average: multi-label averaging over labels.
      zero_division: value when nothing is defined.
      absent_classes: which labels a multi-label macro average runs over.

    State:
      ``Counts`` (shared with the other counting metrics).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import BalancedAccuracy
      >>> ba = BalancedAccuracy(task="multiclass", num_classes=3)
      >>> float(ba(jnp.array([0, 1, 0, 0, 1, 2]), jnp.array([0, 1, 1, 0, 2, 2])))
      0.6666666865348816
    """

    average: Any = "macro"
    zero_division: Any = 0.0
    absent_classes: str = "auto"
    adjusted: bool = False

    def _check_config(self) -> None:
        _checks.check_bool(self.adjusted, "adjusted")
        if self.adjusted and self.task == "multilabel":
            raise ValueError("`adjusted=True` (scikit-learn) is defined for task='binary' / 'multiclass'.")

    def compute(self, state: State) -> jax.Array:
        return balanced_accuracy_compute(state, task=self.task, average=self.average,
                                            zero_division=self.zero_division,
                                            absent_classes=self.absent_classes, ignore_index=self.ignore_index,
                                            adjusted=self.adjusted)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExactMatch(ConfusionMetric):
    """Streaming exact match (subset accuracy): a sample counts iff all its kept elements are right.

    Streaming form of ``maskjax.metrics.exact_match``: multi-label samples are
    ``[L]`` rows (scikit-learn ``accuracy_score`` on indicator matrices);
    binary / multiclass samples are indices of the first axis.

    Args:
      task, num_classes, threshold, from_logits, lower_is_positive, ignore_index, class_weight,
        validate: as :class:`Accuracy`.
      dtype: ``None`` / ``"float32"`` (per-sample sums are float32) or ``"float64"``.
      zero_division: the value when no sample was kept.

    State:
      ``SamplesState`` (Σ s·score, Σ s, Σ score, count).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import ExactMatch
      >>> em = ExactMatch(task="multilabel", num_classes=2)
      >>> float(em(jnp.array([[1, 0], [1, 1]]), jnp.array([[1, 0], [0, 1]])))
      0.5
    """

    zero_division: Any = 0.0

    def state_spec(self) -> StateSpec:
        return ExactMatchState(*self._spec_args())

    def compute(self, state: State) -> jax.Array:
        return samples_compute(state, zero_division=self.zero_division)


# --------------------------------------------------------------------------- #
# One-shot functions
# --------------------------------------------------------------------------- #
@doc()
def accuracy(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
             threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
             top_k: int = 1, average: str | None = "micro", absent_classes: str = "auto",
             mask: Any = None, sample_weight: Any = None, class_weight: Any = None,
             ignore_index: int | None = None, zero_division: float = 0.0,
             axis: int | None = None, pos_label: int | None = None, multidim_average: str = "global", labels: Any = None,
        validate: bool = False) -> jax.Array:
    r"""Weighted fraction of correct predictions.

    * binary: :math:`(tp + tn) / \sum w` (Keras ``BinaryAccuracy``).
    * multiclass: ``"micro"`` = :math:`\sum_k tp_k / \sum w` = scikit-learn
      ``accuracy_score``; ``"macro"`` / ``"weighted"`` / ``None`` = per-class
      recall, averaged (torchmetrics ``multiclass_accuracy``). ``top_k > 1``:
      see :func:`top_k_accuracy`.
    * multilabel: element-wise, :math:`(tp + tn) / total` per label, ``"micro"``
      pooling all elements (Keras ``BinaryAccuracy``, torchmetrics multilabel).
      For the fraction of samples with every label right use :func:`exact_match`.

    Args:
      __ARGS__
      top_k: multiclass only: correct if the target is among the ``top_k``
        highest scores.
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import accuracy
      >>> d = jnp.array([1.5, 0.7, 0.1, 0.3, 3.2])   # siamese distances
      >>> same = jnp.array([1, 0, 0, 1, 0])
      >>> round(float(accuracy(d, same, task="binary", threshold=0.5, lower_is_positive=True)), 4)
      0.6
    """
    return Accuracy.one_shot(preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                             from_logits=from_logits, lower_is_positive=lower_is_positive, top_k=top_k,
                             average=average, absent_classes=absent_classes, mask=mask,
                             sample_weight=sample_weight, class_weight=class_weight,
                             ignore_index=ignore_index, zero_division=zero_division, axis=axis,
                             pos_label=pos_label, multidim_average=multidim_average, labels=labels,
                             validate=validate)


@doc()
def balanced_accuracy(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                      threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                      average: str | None = "macro", mask: Any = None, sample_weight: Any = None,
                      class_weight: Any = None, ignore_index: int | None = None,
                      zero_division: float = 0.0, axis: int | None = None, pos_label: int | None = None, adjusted: bool = False,
        validate: bool = False) -> jax.Array:
    r"""Balanced accuracy: mean recall over the classes that occur in the targets.

    Multiclass: :math:`\frac{1}{|K'|}\sum_{k \in K'} tp_k / (tp_k + fn_k)` over
    classes with non-zero (weighted) support; binary: mean of TPR and TNR
    (each only if its class occurs). Matches scikit-learn
    ``balanced_accuracy_score`` (and its ``adjusted=True``). Multilabel: the binary
    value per label, averaged with ``average`` (macro over all labels).

    Args:
      __ARGS__
      average: multilabel only: ``"macro"``, ``"weighted"``, ``"micro"``
        (pooled) or ``None``.
      zero_division: value when no class occurs (all masked).
      adjusted: chance-corrected, scikit-learn ``adjusted=True``:
        :math:`(s - 1/n) / (1 - 1/n)` with n the classes that occur
        (binary / multiclass).

    Returns:
      Scalar (``[L]`` for multilabel ``average=None``).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import balanced_accuracy
      >>> y = jnp.array([0, 1, 1, 0, 2, 2]); yhat = jnp.array([0, 1, 0, 0, 1, 2])
      >>> w = jnp.array([1., 2., 0., 1., 3., 1.])
      >>> round(float(balanced_accuracy(yhat, y, task="multiclass", num_classes=3, sample_weight=w)), 4)
      0.75
    """
    return BalancedAccuracy.one_shot(preds, targets, task=task, num_classes=num_classes,
                                     threshold=threshold, from_logits=from_logits,
                                     lower_is_positive=lower_is_positive, average=average, mask=mask,
                                     sample_weight=sample_weight, class_weight=class_weight,
                                     ignore_index=ignore_index, zero_division=zero_division,
                                     axis=axis, pos_label=pos_label, adjusted=adjusted,
        validate=validate)


@doc()
def hamming_distance(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                     threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                     average: str | None = "micro", absent_classes: str = "auto", mask: Any = None,
                     sample_weight: Any = None, class_weight: Any = None,
                     ignore_index: int | None = None, zero_division: float = 0.0,
                     axis: int | None = None, pos_label: int | None = None, multidim_average: str = "global", labels: Any = None,
        validate: bool = False) -> jax.Array:
    r"""Hamming distance: the weighted fraction of wrong elements, ``1 − accuracy``.

    Multilabel: :math:`(fp + fn) / total` per label, ``"micro"`` over all
    elements = scikit-learn ``hamming_loss``. Binary / multiclass: ``1 −``
    :func:`accuracy` (per class: :math:`fn / (tp + fn)`), as torchmetrics.

    Args:
      __ARGS__
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import hamming_distance
      >>> y = jnp.zeros((2, 4), int).at[0, 1].set(1)
      >>> float(hamming_distance(jnp.zeros((2, 4)), y, task="multilabel"))
      0.125
    """
    return HammingDistance.one_shot(preds, targets, task=task, num_classes=num_classes,
                                    threshold=threshold, from_logits=from_logits,
                                    lower_is_positive=lower_is_positive, average=average,
                                    absent_classes=absent_classes, mask=mask,
                                    sample_weight=sample_weight, class_weight=class_weight,
                                    ignore_index=ignore_index, zero_division=zero_division,
                                    axis=axis, pos_label=pos_label, multidim_average=multidim_average, labels=labels,
        validate=validate)


@doc()
def exact_match(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                mask: Any = None, sample_weight: Any = None, ignore_index: int | None = None,
                zero_division: float = 0.0, axis: int | None = None, pos_label: int | None = None,
        validate: bool = False) -> jax.Array:
    r"""Subset accuracy: the weighted fraction of samples with *every* kept element right.

    Multilabel: a sample is an ``[L]`` row (scikit-learn ``accuracy_score`` on
    indicator matrices). Binary / multiclass: a sample is an index of the
    first axis, all later axes must be right (torchmetrics ``exact_match``).
    Masked / ignored elements are skipped; a sample with none kept is dropped.
    ``sample_weight`` here is per sample (broadcast from the left to the
    sample shape).

    Args:
      __ARGS__
      zero_division: value when no sample is kept.

    Returns:
      Scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import exact_match
      >>> y = jnp.array([[1, 0, 0], [0, 1, 1]]); p = jnp.array([[0.9, 0.2, 0.1], [0.1, 0.8, 0.3]])
      >>> float(exact_match(p, y, task="multilabel"))
      0.5
    """
    return ExactMatch.one_shot(preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                               from_logits=from_logits, lower_is_positive=lower_is_positive, mask=mask,
                               sample_weight=sample_weight, ignore_index=ignore_index,
                               zero_division=zero_division, axis=axis, pos_label=pos_label,
        validate=validate)


def top_k_accuracy(preds: Any, targets: Any, *, top_k: int, num_classes: int,
                   task: str = "multiclass", average: str | None = "micro",
                   absent_classes: str = "auto", mask: Any = None, sample_weight: Any = None,
                   class_weight: Any = None, ignore_index: int | None = None,
                   zero_division: float = 0.0, validate: bool = False,
                   axis: int | None = None) -> jax.Array:
    r"""Top-k accuracy: the target is among the ``top_k`` highest scores.

    A target t is a hit iff :math:`\#\{j: s_j > s_t\} + \#\{j > t: s_j = s_t\} < k`
    (a fused compare-and-count, no sort, no one-hot). ``"micro"`` matches
    scikit-learn ``top_k_accuracy_score`` and torchmetrics
    ``multiclass_accuracy(top_k=k)``; ``"macro"`` is the mean per-class hit
    rate over the classes present in the targets (torchmetrics). Tied scores
    rank the higher class index first, as scikit-learn (a stable ascending
    sort, reversed), also for ``top_k=1`` (where ``accuracy``'s arg-max takes
    the lowest index).

    Args:
      preds: float scores ``[*S, C]``.
      targets: int class ids ``[*S]`` (or one-hot ``[*S, C]``).
      top_k: static int in ``[1, C]``.
      num_classes: ``C``.
      task: must be ``"multiclass"``.
      average: ``"micro"``, ``"macro"``, ``"weighted"`` or ``None``.
      absent_classes: ``"auto"`` (classes present in the targets) /
        ``"exclude"`` / ``"include"``.
      mask: see :func:`accuracy`.
      sample_weight: see :func:`accuracy`.
      class_weight: ``[C]``, looked up by the target.
      ignore_index: target value that counts nowhere.
      zero_division: value of a 0/0 (0, 1 or nan).
      validate: eager range check of the targets.
      axis: the class axis of ``preds`` (default last; ``1`` for torch's ``[N, C, d...]``).

    Returns:
      Scalar, or ``[C]`` for ``average=None``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import top_k_accuracy
      >>> s = jnp.array([[0.5, 0.3, 0.2], [0.1, 0.3, 0.6], [0.4, 0.35, 0.25]])
      >>> round(float(top_k_accuracy(s, jnp.array([1, 0, 2]), top_k=2, num_classes=3)), 4)
      0.3333
    """
    if task != "multiclass":
        raise ValueError(f"top_k_accuracy needs task='multiclass', got {task!r}.")
    k = _checks.check_static_int(top_k, "top_k", minimum=1)
    if isinstance(num_classes, int) and k > num_classes:
        raise ValueError(f"`top_k`={k} must be <= num_classes={num_classes}.")
    preds_arr = _checks.as_array(preds, "preds")
    if not _checks.is_floating(preds_arr):
        raise TypeError("top_k_accuracy needs float scores [..., C] as `preds`, got dtype "
                        f"{preds_arr.dtype}.")
    return _TopKAccuracy.one_shot(preds_arr, targets, top_k=k, task=task, num_classes=num_classes, average=average,
                             absent_classes=absent_classes, mask=mask, sample_weight=sample_weight,
                             class_weight=class_weight, ignore_index=ignore_index,
                             zero_division=zero_division, validate=validate, axis=axis)
