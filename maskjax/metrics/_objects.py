"""Streaming confusion-matrix metrics: one class per functional metric, no maths of their own.

Each class is a frozen, hashable dataclass of configuration. ``update``
formats a batch with :func:`maskjax.metrics._format.format_inputs` and adds
the additive state of :mod:`maskjax.metrics._stat_scores` (``counts_update``,
``confmat_update``, ``topk_update``, ``exact_match_update``,
``samples_update``); ``compute`` calls that module's compute functions. So a
streaming metric and the one-shot function run the same code.

State kinds and what shares them (the ``state_key`` a :class:`Collection`
groups by):

* ``Counts`` (per-class tp, predicted, target, total, seen): Accuracy,
  Precision, Recall, F1Score, FBetaScore, Specificity, JaccardIndex,
  DiceScore, HammingDistance, StatScores, BalancedAccuracy,
  MatthewsCorrCoef, CohenKappa (unweighted / binary), ConfusionMatrix (binary
  and multi-label) — one state for all of them, given the same task, number
  of classes, threshold, ``from_logits``, ``lower_is_positive``,
  ``ignore_index``, ``class_weight`` and accumulator dtype. ``average``,
  ``zero_division``, ``beta``, ``absent_classes`` only affect ``compute``.
* ``[C, C]`` confusion matrix: multiclass ConfusionMatrix and CohenKappa with
  linear/quadratic weights.
* top-k counts (``top_k > 1``): Accuracy and Recall.
* per-sample sums: ExactMatch, and ``average="samples"`` (multi-label).

Counts are ``int32`` by default (exact to 2**31 - 1); ``dtype="float32"`` is
required for weighted counts (``sample_weight`` / ``class_weight``; exact to
2**24). See :mod:`maskjax.metrics._stream_base` for wider accumulation.

The threshold, ``class_weight`` and other options are configuration here
(hashable Python values), so a jitted step that closes over a metric bakes
them in; a new threshold is a new metric (and a new compilation).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar, Hashable

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks
from maskjax.metrics import _format, _stat_scores as ss
from maskjax.metrics._stream_base import Metric, State, add_into, check_accumulator_dtype

__all__ = [
    "Accuracy",
    "Precision",
    "Recall",
    "F1Score",
    "FBetaScore",
    "Specificity",
    "JaccardIndex",
    "DiceScore",
    "HammingDistance",
    "StatScores",
    "BalancedAccuracy",
    "MatthewsCorrCoef",
    "CohenKappa",
    "ConfusionMatrix",
    "ExactMatch",
    "PrecisionAtK",
    "RecallAtK",
]


def _static_tuple(x: Any, name: str) -> Any:
    """Arrays / lists → nested tuples of Python floats (hashable config); scalars → float."""
    if x is None:
        return None
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"`{name}` must be a number or an array of numbers, got {x!r}.")
    if arr.ndim == 0:
        return float(arr)
    return tuple(map(tuple, arr.tolist())) if arr.ndim == 2 else tuple(float(v) for v in arr.tolist())


def _zero_division(value: Any) -> float:
    value = _format.check_zero_division(value)
    return math.nan if math.isnan(value) else value  # one nan object: configs stay equal


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Confusion(Metric):
    """Shared configuration and update of every counting metric (see the module docstring)."""

    task: str
    num_classes: int | None = None
    threshold: Any = 0.5
    from_logits: bool = False
    lower_is_positive: bool = False
    ignore_index: int | None = None
    class_weight: Any = None
    dtype: str | None = None
    validate: bool = False

    # Subclass knobs.
    _metric_name: ClassVar[str | None] = None  # score_compute name, if a ratio metric
    _averages: ClassVar[tuple[Any, ...]] = _format.AVERAGES

    def __post_init__(self) -> None:
        checked = _format.check_args(self.task, num_classes=self.num_classes,
                                     ignore_index=self.ignore_index)
        object.__setattr__(self, "num_classes", checked["num_classes"])
        object.__setattr__(self, "ignore_index", checked["ignore_index"])
        object.__setattr__(self, "threshold", _static_tuple(self.threshold, "threshold"))
        object.__setattr__(self, "class_weight", _static_tuple(self.class_weight, "class_weight"))
        for flag in ("from_logits", "lower_is_positive", "validate"):
            _checks.check_bool(getattr(self, flag), flag)
        if self.task == "multilabel" and self.num_classes is None:
            raise ValueError("task='multilabel' needs `num_classes` (the number of labels L) to "
                             "fix the state shape before any data is seen.")
        dt = check_accumulator_dtype(self.dtype)
        if self.class_weight is not None and (dt is None or dt.startswith("int")):
            raise ValueError("`class_weight` makes the counts weighted: pass dtype='float32' "
                             "(or 'float64' with x64).")
        object.__setattr__(self, "dtype", dt)
        if "average" in {f.name for f in dataclasses.fields(self)}:
            average = _format.check_average(self.average, self.task, self._averages)
            object.__setattr__(self, "average", average)
        if "zero_division" in {f.name for f in dataclasses.fields(self)}:
            object.__setattr__(self, "zero_division", _zero_division(self.zero_division))
        if "absent_classes" in {f.name for f in dataclasses.fields(self)}:
            _format.check_absent_classes(self.absent_classes)
        self._check_config()

    def _check_config(self) -> None:
        """Subclass hook for extra checks."""

    # -- state ----------------------------------------------------------------------------
    def _kind(self) -> str:
        """Which additive state this metric keeps: counts / confmat / topk / samples / exact_match."""
        if self.task == "multilabel" and getattr(self, "average", None) == "samples":
            return "samples"
        return "counts"

    def _count_dtype(self) -> str:
        return self.dtype or "int32"

    def state_key(self) -> Hashable:
        shaping = (self.threshold, self.from_logits, self.lower_is_positive)
        if self.task == "multiclass":
            shaping = None  # arg-max: threshold and from_logits do not change the counts
        key = (self._kind(), self.task, self.num_classes, shaping, self.ignore_index, self.class_weight,
               self._count_dtype())
        return key + self._extra_key()

    def _extra_key(self) -> tuple:
        return ()

    def init(self) -> State:
        kind = self._kind()
        if kind in ("counts", "topk"):
            return ss.counts_init(self.task, self.num_classes, self._count_dtype())
        if kind == "confmat":
            return ss.confmat_init(self.num_classes, self._count_dtype())
        return ss.samples_init(self.dtype if self.dtype and self.dtype.startswith("float") else "float32")

    def _format(self, preds: Any, targets: Any, mask: Any, sample_weight: Any) -> _format.Formatted:
        if self.validate:
            _format.validate_values(preds, targets, task=self.task, num_classes=self.num_classes,
                                    ignore_index=self.ignore_index)
        thr = self.threshold if not isinstance(self.threshold, tuple) else np.asarray(self.threshold,
                                                                                      np.float32)
        cw = None if self.class_weight is None else np.asarray(self.class_weight, np.float32)
        return _format.format_inputs(preds, targets, task=self.task, num_classes=self.num_classes,
                                     threshold=thr, from_logits=self.from_logits,
                                     lower_is_positive=self.lower_is_positive, mask=mask,
                                     sample_weight=sample_weight, class_weight=cw,
                                     ignore_index=self.ignore_index)

    def _increment(self, fmt: _format.Formatted) -> State:
        kind = self._kind()
        if kind == "counts":
            return ss.counts_update(fmt, task=self.task, num_classes=self.num_classes)
        if kind == "topk":
            return ss.topk_update(fmt, num_classes=self.num_classes, top_k=self.top_k)
        if kind == "confmat":
            return ss.confmat_update(fmt, num_classes=self.num_classes)
        if kind == "exact_match":
            return ss.exact_match_update(fmt, task=self.task)
        return ss.samples_update(fmt, self._metric_name, zero_division=self.zero_division,
                                 beta=getattr(self, "beta", 1.0))

    def update(self, state: State, preds: Any, targets: Any, *, mask: Any = None,
               sample_weight: Any = None) -> State:
        """Add one batch's counts to ``state`` (pure; jit-able; shapes as the one-shot function).

        Args:
          state: the running state (from :meth:`init`, :meth:`update` or :meth:`merge`).
          preds: scores or hard predictions (``[*S]`` binary, ``[*S, C]`` or ``[*S]`` multiclass,
            ``[*S, L]`` multi-label).
          targets: targets of the same convention.
          mask: bool or 0/1, broadcast from the left; ``False`` drops an element.
          sample_weight: float weights, broadcast from the left (needs ``dtype="float32"``).

        Returns:
          The new state.
        """
        fmt = self._format(preds, targets, mask, sample_weight)
        return add_into(state, self._increment(fmt), type(self).__name__)


# ------------------------------------------------------------------------------------------------
# Ratio metrics: score_compute(counts, name, ...)
# ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Ratio(_Confusion):
    average: Any = "macro"
    zero_division: Any = 0.0
    absent_classes: str = "auto"

    def _extra_key(self) -> tuple:
        if self._kind() == "samples":  # per-sample scores depend on these
            return (self._metric_name, self.zero_division, getattr(self, "beta", 1.0))
        return ()

    def compute(self, state: State) -> jax.Array:
        """The metric from the accumulated state (``[]``, or ``[K]`` for ``average=None``)."""
        if self._kind() == "samples":
            return ss.samples_compute(state, zero_division=self.zero_division)
        name = "recall" if self._kind() == "topk" else self._metric_name
        return ss.score_compute(state, name, task=self.task, average=self.average,
                                zero_division=self.zero_division, absent_classes=self.absent_classes,
                                ignore_index=self.ignore_index, beta=getattr(self, "beta", 1.0))


_SAMPLES = _format.AVERAGES + ("samples",)
_COMMON_ARGS = """
    Args:
      task: ``"binary"``, ``"multiclass"`` or ``"multilabel"`` (explicit, never guessed).
      num_classes: ``C`` (multiclass, required) or ``L`` (multi-label, required: it fixes the
        state shape); ``None`` for binary.
      threshold: positive iff ``score > threshold`` (binary / multi-label; a scalar or a
        per-label tuple/array); ``score < threshold`` with ``lower_is_positive``.
      from_logits: apply a sigmoid before thresholding (binary / multi-label).
      lower_is_positive: distances: lower scores are positive.
      ignore_index: a target value whose elements count nowhere.
      class_weight: ``[C]`` (or ``[L]`` / ``[L, 2]``) weights by target class (needs
        ``dtype="float32"``).
      dtype: accumulator dtype: ``None`` (int32 counts, unweighted), ``"float32"`` (weighted
        counts, needed for ``sample_weight``), ``"int64"`` / ``"float64"`` with x64.
      validate: run the eager value check (out-of-range labels, NaN scores) in ``update``;
        cannot be used under ``jax.jit``.
"""
_AVG_ARGS = """      average: ``"micro"``, ``"macro"``, ``"weighted"``, ``None`` (per class){samples}.
      zero_division: 0, 1 or nan for a zero denominator (nan drops a class from the average).
      absent_classes: ``"auto"``, ``"exclude"`` or ``"include"``: which classes a macro average
        runs over (see :func:`maskjax.metrics._format.include_classes`).
"""


def _ratio_doc(cls, title: str, name: str, extra: str = "", example: str = "") -> type:
    samples = ', ``"samples"`` (multi-label)' if cls._averages == _SAMPLES else ""
    cls.__doc__ = (f"{title}\n\n    Streaming form of ``maskjax.metrics.{name}``: the same format and "
                   f"count update, summed over batches, then the same compute.\n"
                   + _COMMON_ARGS + extra + _AVG_ARGS.format(samples=samples)
                   + "\n    State:\n      ``Counts`` (shared by every counting metric of the same "
                   "task and thresholds).\n\n    Example:\n" + example)
    return cls


@dataclasses.dataclass(frozen=True, kw_only=True)
class Accuracy(_Ratio):
    top_k: int = 1
    average: Any = "micro"
    _metric_name: ClassVar[str] = "accuracy"

    def _check_config(self) -> None:
        _checks.check_static_int(self.top_k, "top_k", minimum=1)
        if self.top_k > 1 and self.task != "multiclass":
            raise ValueError(f"`top_k` > 1 needs task='multiclass', got task={self.task!r}.")

    def _kind(self) -> str:
        return "topk" if self.top_k > 1 else _Ratio._kind(self)

    def _extra_key(self) -> tuple:
        return (self.top_k,) if self.top_k > 1 else ()


_ratio_doc(Accuracy, "Streaming accuracy (multiclass micro = scikit-learn ``accuracy_score``).", "accuracy",
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
class Precision(_Ratio):
    _metric_name: ClassVar[str] = "precision"
    _averages: ClassVar[tuple[Any, ...]] = _SAMPLES


_ratio_doc(Precision, "Streaming precision tp / (tp + fp).", "precision", example="""
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Precision
      >>> p = Precision(task="binary")
      >>> s = p.update(p.init(), jnp.array([.9, .8, .2]), jnp.array([1, 0, 1]))
      >>> float(p.compute(p.update(s, jnp.array([.7]), jnp.array([1]))))
      0.6666666865348816
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Recall(_Ratio):
    top_k: int = 1
    _metric_name: ClassVar[str] = "recall"
    _averages: ClassVar[tuple[Any, ...]] = _SAMPLES

    _check_config = Accuracy._check_config
    _kind = Accuracy._kind
    _extra_key = Accuracy._extra_key


_ratio_doc(Recall, "Streaming recall tp / (tp + fn).", "recall",
           "      top_k: a hit when the target is among the ``top_k`` highest scores (multiclass).\n", """
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Recall
      >>> r = Recall(task="multiclass", num_classes=3, average=None)
      >>> r(jnp.array([0, 1, 1, 2]), jnp.array([0, 1, 2, 2])).tolist()
      [1.0, 1.0, 0.5]
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class FBetaScore(_Ratio):
    beta: float = 1.0
    _metric_name: ClassVar[str] = "fbeta"
    _averages: ClassVar[tuple[Any, ...]] = _SAMPLES

    def _check_config(self) -> None:
        object.__setattr__(self, "beta", _checks.check_static_float(self.beta, "beta", low=0.0))


_ratio_doc(FBetaScore, "Streaming F-beta (1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp).", "fbeta_score",
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
        if self.beta != 1.0:
            raise ValueError(f"F1Score has beta=1; use FBetaScore for beta={self.beta}.")


_ratio_doc(F1Score, "Streaming F1 = 2·tp / (2·tp + fp + fn).", "f1_score", example="""
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import F1Score
      >>> f1 = F1Score(task="multiclass", num_classes=3, average="macro")
      >>> state = f1.update(f1.init(), jnp.array([[.8, .1, .1], [.2, .7, .1]]), jnp.array([0, 2]))
      >>> round(float(f1.compute(state)), 4)   # classes 0 (F1 1), 1 and 2 (F1 0)
      0.3333
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Specificity(_Ratio):
    _metric_name: ClassVar[str] = "specificity"


_ratio_doc(Specificity, "Streaming specificity tn / (tn + fp).", "specificity", example="""
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Specificity
      >>> float(Specificity(task="binary")(jnp.array([1, 0, 0, 1]), jnp.array([0, 0, 0, 1])))
      0.6666666865348816
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class JaccardIndex(_Ratio):
    _metric_name: ClassVar[str] = "jaccard"
    _averages: ClassVar[tuple[Any, ...]] = _SAMPLES


_ratio_doc(JaccardIndex, "Streaming Jaccard index (IoU) tp / (tp + fp + fn).", "jaccard_index", example="""
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import JaccardIndex
      >>> iou = JaccardIndex(task="multiclass", num_classes=2, average=None)
      >>> iou(jnp.array([[0, 1], [1, 1]]), jnp.array([[0, 1], [0, 1]])).tolist()
      [0.5, 0.6666666865348816]
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DiceScore(_Ratio):
    _metric_name: ClassVar[str] = "dice"
    _averages: ClassVar[tuple[Any, ...]] = _SAMPLES


_ratio_doc(DiceScore, "Streaming Dice score 2·tp / (2·tp + fp + fn) (hard predictions).", "dice_score",
           example="""
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import DiceScore
      >>> float(DiceScore(task="binary")(jnp.array([1, 1, 0, 0]), jnp.array([1, 0, 1, 0])))
      0.5
""")


@dataclasses.dataclass(frozen=True, kw_only=True)
class HammingDistance(_Ratio):
    average: Any = "micro"
    _metric_name: ClassVar[str] = "hamming"


_ratio_doc(HammingDistance, "Streaming Hamming distance: the fraction of wrong labels.", "hamming_distance",
           example="""
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import HammingDistance
      >>> h = HammingDistance(task="multilabel", num_classes=2)
      >>> float(h(jnp.array([[1, 0], [1, 1]]), jnp.array([[1, 1], [1, 1]])))
      0.25
""")


# ------------------------------------------------------------------------------------------------
# Other compute functions over the shared counts
# ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class StatScores(_Confusion):
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
      [1, 1, 1, 1, 2]
    """

    average: Any = None
    absent_classes: str = "auto"
    _averages: ClassVar[tuple[Any, ...]] = ("micro", "macro", None)

    def compute(self, state: State) -> jax.Array:
        return ss.stat_scores_compute(state, task=self.task, average=self.average,
                                      absent_classes=self.absent_classes, ignore_index=self.ignore_index)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BalancedAccuracy(_Confusion):
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

    def compute(self, state: State) -> jax.Array:
        return ss.balanced_accuracy_compute(state, task=self.task, average=self.average,
                                            zero_division=self.zero_division,
                                            absent_classes=self.absent_classes, ignore_index=self.ignore_index)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MatthewsCorrCoef(_Confusion):
    """Streaming Matthews correlation coefficient (scikit-learn's multiclass formula).

    Streaming form of ``maskjax.metrics.matthews_corrcoef``; computed from the
    per-class sums of the shared ``Counts`` state (no C×C matrix needed).

    Args:
      task, num_classes, threshold, from_logits, lower_is_positive, ignore_index, class_weight,
        dtype, validate: as :class:`Accuracy`.
      zero_division: the value when nothing was kept.

    State:
      ``Counts`` (shared with the other counting metrics).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import MatthewsCorrCoef
      >>> mcc = MatthewsCorrCoef(task="multiclass", num_classes=3, dtype="float32")
      >>> p, t = jnp.array([0, 1, 0, 0, 1, 2]), jnp.array([0, 1, 1, 0, 2, 2])
      >>> round(float(mcc(p, t, sample_weight=jnp.array([1., 2, 0, 1, 3, 1]))), 5)
      0.59656
    """

    zero_division: Any = 0.0

    def compute(self, state: State) -> jax.Array:
        return ss.mcc_compute(state, task=self.task, zero_division=self.zero_division)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CohenKappa(_Confusion):
    """Streaming Cohen's kappa, unweighted or with ``weights="linear"`` / ``"quadratic"``.

    Streaming form of ``maskjax.metrics.cohen_kappa``. Unweighted (and any
    binary) kappa needs only the shared ``Counts``; weighted multiclass kappa
    keeps a ``[C, C]`` confusion matrix (shared with :class:`ConfusionMatrix`).

    Args:
      task, num_classes, threshold, from_logits, lower_is_positive, ignore_index, class_weight,
        dtype, validate: as :class:`Accuracy`.
      weights: ``None``, ``"linear"`` or ``"quadratic"``.
      zero_division: the value when kappa is undefined (default nan, as scikit-learn).

    State:
      ``Counts``, or a ``[C, C]`` confusion matrix for weighted multiclass kappa.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import CohenKappa
      >>> k = CohenKappa(task="multiclass", num_classes=3, dtype="float32")
      >>> p, t = jnp.array([0, 1, 0, 0, 1, 2]), jnp.array([0, 1, 1, 0, 2, 2])
      >>> round(float(k(p, t, sample_weight=jnp.array([1., 2, 0, 1, 3, 1]))), 5)
      0.47826
    """

    weights: str | None = None
    zero_division: Any = math.nan

    def _check_config(self) -> None:
        _checks.check_choice(self.weights, "weights", (None, "linear", "quadratic"))

    def _kind(self) -> str:
        return "confmat" if (self.task == "multiclass" and self.weights is not None) else "counts"

    def compute(self, state: State) -> jax.Array:
        if self._kind() == "confmat":
            return ss.kappa_confmat_compute(state, weights=self.weights, zero_division=self.zero_division)
        return ss.kappa_compute(state, task=self.task, zero_division=self.zero_division)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfusionMatrix(_Confusion):
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
      >>> cm.compute(cm.update(s, jnp.array([1, 2]), jnp.array([2, 2]))).tolist()
      [[1, 0, 0], [1, 1, 0], [0, 1, 1]]
    """

    normalize: str | None = None

    def _check_config(self) -> None:
        _checks.check_choice(self.normalize, "normalize", (None, "true", "pred", "all"))

    def _kind(self) -> str:
        return "confmat" if self.task == "multiclass" else "counts"

    def compute(self, state: State) -> jax.Array:
        cm = state
        if self.task != "multiclass":
            cm = ss.counts_confmat(state)
            if self.task == "binary":
                cm = cm[0]
        return ss.confmat_compute(cm, normalize=self.normalize)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExactMatch(_Confusion):
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

    def _kind(self) -> str:
        return "exact_match"

    def compute(self, state: State) -> jax.Array:
        return ss.samples_compute(state, zero_division=self.zero_division)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _RankingAtK(Metric):
    """Shared config and update of the multi-label ranking metrics (P@k, R@k)."""

    k: int
    ignore_index: int | None = None
    zero_division: Any = 0.0
    dtype: str | None = None

    _which: ClassVar[str] = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", _checks.check_static_int(self.k, "k", minimum=1))
        checked = _format.check_args("multilabel", ignore_index=self.ignore_index)
        object.__setattr__(self, "ignore_index", checked["ignore_index"])
        object.__setattr__(self, "zero_division", _zero_division(self.zero_division))
        dt = check_accumulator_dtype(self.dtype)
        object.__setattr__(self, "dtype", dt if dt and dt.startswith("float") else "float32")

    def state_key(self) -> Hashable:
        return ("ranking", self._which, self.k, self.ignore_index, self.zero_division, self.dtype)

    def init(self) -> State:
        return ss.samples_init(self.dtype)

    def update(self, state: State, preds: Any, targets: Any, *, mask: Any = None,
               sample_weight: Any = None) -> State:
        """Add one batch of ``[*S, L]`` scores and 0/1 relevance (per-sample sums; jit-able).

        Args:
          state: the running state.
          preds: float scores ``[*S, L]``.
          targets: 0/1 relevance ``[*S, L]``.
          mask: bool, broadcast from the left to ``[*S, L]``.
          sample_weight: per sample, broadcast from the left to ``[*S]``.

        Returns:
          The new state.
        """
        inc = ss.ranking_update(_checks.as_array(preds, "preds"), _checks.as_array(targets, "targets"),
                                k=self.k, which=self._which, mask=mask, sample_weight=sample_weight,
                                ignore_index=self.ignore_index, zero_division=self.zero_division)
        return add_into(state, inc, type(self).__name__)

    def compute(self, state: State) -> jax.Array:
        return ss.samples_compute(state, zero_division=self.zero_division)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PrecisionAtK(_RankingAtK):
    """Streaming multi-label precision@k (``maskjax.metrics.precision_at_k``).

    State: ``SamplesState`` (Σ s·P@k, Σ s, Σ P@k, count) — per-sample sums, so
    streaming over any split of the samples equals the one-shot value.

    Args:
      k: static int, the cut-off.
      ignore_index: a target value treated like a masked label.
      zero_division: the value when no sample is kept.
      dtype: float accumulator dtype (``"float32"``; ``"float64"`` with x64).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import PrecisionAtK
      >>> m = PrecisionAtK(k=2)
      >>> s = jnp.array([[0.9, 0.8, 0.1, 0.7], [0.2, 0.1, 0.9, 0.3]])
      >>> y = jnp.array([[1, 0, 0, 1], [0, 0, 1, 0]])
      >>> state = m.update(m.update(m.init(), s[:1], y[:1]), s[1:], y[1:])
      >>> float(m.compute(state))
      0.5
    """

    _which: ClassVar[str] = "precision"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecallAtK(_RankingAtK):
    """Streaming multi-label recall@k (``maskjax.metrics.recall_at_k``).

    State: ``SamplesState`` of per-sample sums, as :class:`PrecisionAtK`.

    Args:
      k: static int, the cut-off.
      ignore_index: a target value treated like a masked label.
      zero_division: the value of 0/0 for a sample without relevant labels.
      dtype: float accumulator dtype.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import RecallAtK
      >>> m = RecallAtK(k=2)
      >>> s = jnp.array([[0.9, 0.8, 0.1, 0.7], [0.2, 0.1, 0.9, 0.3]])
      >>> y = jnp.array([[1, 0, 0, 1], [0, 0, 1, 0]])
      >>> float(m(s, y))
      0.75
    """

    _which: ClassVar[str] = "recall"
