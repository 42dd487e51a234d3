"""Streaming curve and calibration metrics: AUROC, AveragePrecision, ROC, PRCurve, CalibrationError.

Two state kinds, chosen by the configuration:

* **binned** (``thresholds=n`` or a tuple of increasing values): the additive
  ``BinnedState`` of :mod:`maskjax.metrics._binned` — per-class histograms
  of positives and negatives, ``[K, T + 1]``. ``merge`` is addition and
  ``psum`` across devices is exact; AUROC, AP, ROC and PR curves of one
  task / thresholds share one state in a :class:`Collection` (``average``
  only affects ``compute``). Values equal the one-shot functions with the
  same ``thresholds=`` (torchmetrics' binned curves).
* **exact** (``thresholds=None``, the default of the one-shot functions):
  sort-based curves need every score, which no fixed-size *sum* can hold.
  The state is a fixed-capacity **buffer** ``[K, capacity]`` of scores,
  labels and weights (weight 0 = empty slot, which the exact functions drop)
  plus the number of elements written ``[K]``. ``update`` appends the kept
  elements of a batch (a scatter at ``count + rank``, never a dynamic
  shape), ``merge`` appends one buffer to the other and ``all_reduce``
  all-gathers buffers across devices — so merge is a multiset union, not an
  addition, and a buffer state must not be ``psum``-ed. ``capacity`` must
  bound the number of kept elements of the whole evaluation (per device
  before ``all_reduce``, in total after it): once ``count > capacity`` the
  extra elements are lost and ``compute`` returns ``nan`` everywhere.
  ``compute`` runs the exact one-shot function on the buffer, so values
  equal scikit-learn.

Scores are float32 and binned counts float32 (exact up to 2**24 of weight
per bucket); ``dtype="float64"`` with x64 for more.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Hashable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks
from maskjax.metrics import _binned, _calibration, _curve_inputs as ci, _curves
from maskjax.metrics._streaming import Metric, State, add_into, check_accumulator_dtype

__all__ = ["AUROC", "AveragePrecision", "ROC", "PRCurve", "CalibrationError"]


class CurveBuffer(NamedTuple):
    """Exact-mode state: ``[K, capacity]`` scores, 0/1 labels, weights (0 = empty) and ``[K]`` count."""

    scores: jax.Array
    labels: jax.Array
    weights: jax.Array
    count: jax.Array


def _append(buf: CurveBuffer, scores: jax.Array, labels: jax.Array, weights: jax.Array) -> CurveBuffer:
    """Append the non-zero-weight elements of ``[K, M]`` problems at ``count + rank`` (scatter, drop OOB)."""
    buf = CurveBuffer(*map(jnp.asarray, buf))
    scores, labels, weights = map(jnp.asarray, (scores, labels, weights))
    k, cap = buf.scores.shape
    kept = weights != 0
    rank = jnp.cumsum(kept, axis=-1, dtype=jnp.int32) - 1
    pos = jnp.where(kept, buf.count[:, None] + rank, cap)            # cap: out of range → dropped
    rows = jnp.broadcast_to(jnp.arange(k, dtype=jnp.int32)[:, None], pos.shape)

    def put(dst, src):
        return dst.at[rows, pos].set(src.astype(dst.dtype), mode="drop")

    return CurveBuffer(put(buf.scores, scores), put(buf.labels, labels), put(buf.weights, weights),
                       buf.count + jnp.sum(kept, axis=-1, dtype=jnp.int32))


def _static_thresholds(thresholds: Any) -> Any:
    if thresholds is None:
        return None
    if isinstance(thresholds, (int, np.integer)) and not isinstance(thresholds, bool):
        return _checks.check_static_int(thresholds, "thresholds", minimum=2)
    arr = np.asarray(thresholds, np.float64)
    if arr.ndim != 1 or arr.size < 1 or np.any(np.diff(arr) <= 0):
        raise ValueError(f"`thresholds` must be None, an int >= 2 or an increasing 1-D array, got {thresholds!r}.")
    return tuple(float(v) for v in arr)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Curve(Metric):
    """Shared configuration, state and update of the curve metrics (see the module docstring)."""

    task: str = "binary"
    num_classes: int | None = None
    thresholds: Any = None
    capacity: int | None = None
    from_logits: bool = False
    lower_is_positive: bool = False
    ignore_index: int | None = None
    dtype: str | None = None

    _average_default: ClassVar[Any] = "macro"

    def __post_init__(self) -> None:
        ci.check_task(self.task)
        ci.check_from_logits(self.from_logits)
        ci.check_flag(self.lower_is_positive, "lower_is_positive")
        if self.task != "binary":
            if self.num_classes is None:
                raise ValueError(f"task={self.task!r} needs `num_classes` (C or L) to fix the state shape.")
            object.__setattr__(self, "num_classes", _checks.check_static_int(self.num_classes, "num_classes", 1))
        object.__setattr__(self, "thresholds", _static_thresholds(self.thresholds))
        if self.thresholds is None:
            if self.capacity is None:
                raise ValueError(
                    "exact curves (thresholds=None) stream into a fixed-capacity buffer: pass `capacity=` "
                    "(the largest number of kept elements you will add), or `thresholds=` (an int or "
                    "increasing values) for an additive binned state.")
            object.__setattr__(self, "capacity", _checks.check_static_int(self.capacity, "capacity", 1))
        elif self.capacity is not None:
            raise ValueError("`capacity` is for exact curves (thresholds=None); binned curves need none.")
        dt = check_accumulator_dtype(self.dtype)
        if dt is not None and not dt.startswith("float"):
            raise ValueError(f"curve states are float: `dtype` must be None, 'float32' or 'float64', got {dt!r}.")
        object.__setattr__(self, "dtype", dt)
        if "average" in {f.name for f in dataclasses.fields(self)}:
            object.__setattr__(self, "average", self._check_average(self.average))
        self._check_config()

    def _check_average(self, average: Any) -> Any:
        return ci.check_average(average) if self.task != "binary" else average

    def _check_config(self) -> None:
        """Subclass hook."""

    @property
    def _k(self) -> int:
        return 1 if self.task == "binary" else self.num_classes

    @property
    def _float(self) -> str:
        return self.dtype or "float32"

    def state_key(self) -> Hashable:
        kind = "binned" if self.thresholds is not None else "exact"
        return (kind, self.task, self.num_classes, self.thresholds, self.capacity, self.from_logits,
                self.lower_is_positive, self.ignore_index, self._float)

    def _thr(self) -> jax.Array:
        """The increasing ``[T]`` thresholds the binned state counts against.

        ``lower_is_positive``: the state bins ``-score`` against ``-t[::-1]`` (still
        increasing, still evenly spaced), as the one-shot functions do.
        """
        thr = _binned.binned_thresholds(self.thresholds if isinstance(self.thresholds, int)
                                        else np.asarray(self.thresholds, np.float32))
        return -thr[::-1] if self.lower_is_positive else thr

    def init(self) -> State:
        if self.thresholds is not None:
            t = self.thresholds if isinstance(self.thresholds, int) else len(self.thresholds)
            return _binned.binned_init(t, self._k, self._float)
        z = jnp.zeros((self._k, self.capacity), self._float)
        return CurveBuffer(z, z, z, jnp.zeros((self._k,), jnp.int32))

    def update(self, state: State, preds: Any, targets: Any, *, mask: Any = None,
               sample_weight: Any = None) -> State:
        """Add a batch (pure, jit-able).

        Args:
          state: the running state.
          preds: scores: binary ``[*S]``, multiclass ``[*S, C]``, multi-label ``[*S, L]``.
          targets: 0/1 like ``preds`` (binary / multi-label) or class ids ``[*S]`` (multiclass).
          mask: bool or 0/1, broadcast from the left; ``False`` drops an element.
          sample_weight: non-negative weights, broadcast from the left.

        Returns:
          The new state.
        """
        kw = dict(task=self.task, num_classes=self.num_classes, from_logits=self.from_logits, mask=mask,
                  sample_weight=sample_weight, ignore_index=self.ignore_index)
        p = ci.format_problems(preds, targets, **kw)
        if self.thresholds is not None:
            if self.lower_is_positive:
                p = p._replace(scores=-p.scores)
            inc = _binned.histogram(p, self._thr(), isinstance(self.thresholds, int), self._float)
            return add_into(state, inc, type(self).__name__)
        return _append(state, p.scores, p.labels, p.weights)     # exact: raw scores, flag used at compute

    def merge(self, a: State, b: State) -> State:
        if self.thresholds is not None:
            return _binned.binned_merge(a, b)
        out = _append(a, b.scores, b.labels, b.weights)
        # Elements b lost to its own overflow stay counted, so the result reports overflow too.
        lost_b = b.count - jnp.sum(b.weights != 0, axis=-1, dtype=jnp.int32)
        return out._replace(count=out.count + lost_b)

    def all_reduce(self, state: State, axis_name: Any) -> State:
        if self.thresholds is not None:
            return jax.lax.psum(state, axis_name)
        # An all-gather written as a psum of zero-padded slots: exact (x + 0 = x) and typed as
        # replicated inside shard_map (lax.all_gather's result is not, under check_vma).
        size = jax.lax.psum(1, axis_name)
        offset = jax.lax.axis_index(axis_name) * self.capacity

        def gather(x):  # [K, cap] -> [K, D·cap]
            slots = jnp.zeros((x.shape[0], size * self.capacity), x.dtype)
            return jax.lax.psum(jax.lax.dynamic_update_slice(slots, x, (0, offset)), axis_name)

        out = _append(self.init(), gather(state.scores), gather(state.labels), gather(state.weights))
        total = jax.lax.psum(state.count, axis_name)
        return out._replace(count=total)

    # -- exact-mode helpers: run the one-shot function on the buffer ---------------------------
    def _buffer_inputs(self, buf: CurveBuffer) -> tuple[dict, Any]:
        """One-shot arguments equivalent to the buffered elements; and the overflow flag."""
        overflow = jnp.any(buf.count > self.capacity)
        lip = self.lower_is_positive
        if self.task == "binary":
            return dict(preds=buf.scores[0], targets=buf.labels[0].astype(jnp.int32), task="binary",
                        sample_weight=buf.weights[0], lower_is_positive=lip), overflow
        # Per-class problems (one-vs-rest or multi-label) are multi-label problems over [cap, K].
        return dict(preds=buf.scores.T, targets=buf.labels.T.astype(jnp.int32), task="multilabel",
                    sample_weight=buf.weights.T, lower_is_positive=lip), overflow

    @staticmethod
    def _nan_if(overflow: jax.Array, tree: Any) -> Any:
        def f(x):
            return jnp.where(overflow, jnp.nan, x) if jnp.issubdtype(x.dtype, jnp.floating) else x
        return jax.tree.map(f, tree)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AUROC(_Curve):
    """Streaming area under the ROC curve (binned: additive histograms; exact: a buffer).

    Streaming form of ``maskjax.metrics.auroc``: same values as the one-shot
    function with the same ``thresholds`` (``None`` → exact, scikit-learn).

    Args:
      task: ``"binary"``, ``"multiclass"`` (one-vs-rest) or ``"multilabel"``.
      num_classes: ``C`` / ``L`` (required unless binary: it fixes the state shape).
      thresholds: an int ``n`` (``linspace(0, 1, n)``) or increasing values → binned,
        additive state; ``None`` → exact, needs ``capacity``.
      capacity: exact mode: the most kept elements the buffer holds (overflow → ``nan``).
      average: ``"macro"``, ``"weighted"``, ``"micro"`` or ``None`` (multiclass / multi-label).
      from_logits: apply sigmoid / softmax first.
      lower_is_positive: distance-like scores, a lower score means positive (as the
        one-shot functions: ``score <= threshold``; thresholds reported in score units).
      ignore_index: a target value that counts nowhere.
      dtype: ``None`` / ``"float32"``, or ``"float64"`` with x64.

    State:
      ``BinnedState`` ``[K, T + 1]`` histograms (binned) or a ``CurveBuffer`` (exact); shared
      with AveragePrecision, ROC and PRCurve of the same configuration.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import AUROC
      >>> m = AUROC(thresholds=5)
      >>> s = m.update(m.init(), jnp.array([.1, .4]), jnp.array([0, 0]))
      >>> float(m.compute(m.update(s, jnp.array([.35, .8]), jnp.array([1, 1]))))
      0.875
      >>> exact = AUROC(capacity=16)
      >>> float(exact(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1])))
      0.75
    """

    average: Any = "macro"

    def compute(self, state: State) -> jax.Array:
        if self.thresholds is not None:
            return _binned.binned_auroc(state, self.average, self.task)
        kw, overflow = self._buffer_inputs(state)
        return self._nan_if(overflow, _curves.auroc(**kw, average=self.average))


@dataclasses.dataclass(frozen=True, kw_only=True)
class AveragePrecision(_Curve):
    """Streaming average precision (binned: additive histograms; exact: a buffer).

    Streaming form of ``maskjax.metrics.average_precision`` (step-wise, no
    interpolation): the same values as the one-shot function with the same
    ``thresholds``.

    Args:
      task, num_classes, thresholds, capacity, average, from_logits, lower_is_positive, ignore_index,
        dtype: as :class:`AUROC`.

    State:
      As :class:`AUROC` (shared).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import AveragePrecision
      >>> ap = AveragePrecision(capacity=8)
      >>> round(float(ap(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1]))), 4)
      0.8333
    """

    average: Any = "macro"

    def compute(self, state: State) -> jax.Array:
        if self.thresholds is not None:
            return _binned.binned_average_precision(state, self.average, self.task)
        kw, overflow = self._buffer_inputs(state)
        return self._nan_if(overflow, _curves.average_precision(**kw, average=self.average))


def _curve_average(self, average):
    return None if self.task == "binary" else ci.check_average(average, (None, "micro"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ROC(_Curve):
    """Streaming ROC curve: ``maskjax.metrics.RocCurve`` ``(fpr, tpr, thresholds, valid)``.

    Streaming form of ``maskjax.metrics.roc_curve``. Binned: ``[T]`` arrays,
    thresholds decreasing (torchmetrics). Exact: fixed-length
    ``capacity + 1`` arrays with a ``valid`` mask (``.trim()`` gives the
    scikit-learn arrays eagerly).

    Args:
      task, num_classes, thresholds, capacity, from_logits, lower_is_positive, ignore_index, dtype:
        as :class:`AUROC`.
      average: ``None`` (one curve per class) or ``"micro"`` (multiclass / multi-label).

    State:
      As :class:`AUROC` (shared).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import ROC
      >>> roc = ROC(thresholds=3)
      >>> c = roc(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1]))
      >>> c.fpr.tolist(), c.tpr.tolist(), c.thresholds.tolist()
      ([0.0, 0.0, 1.0], [0.0, 0.5, 1.0], [1.0, 0.5, 0.0])
    """

    average: Any = None
    _check_average = _curve_average

    def compute(self, state: State) -> _curves.RocCurve:
        if self.thresholds is not None:
            return _curves.binned_roc_result(state, self._thr(), task=self.task, average=self.average,
                                             lower_is_positive=self.lower_is_positive)
        kw, overflow = self._buffer_inputs(state)
        return self._nan_if(overflow, _curves.roc_curve(**kw, average=self.average))


@dataclasses.dataclass(frozen=True, kw_only=True)
class PRCurve(_Curve):
    """Streaming precision-recall curve: ``maskjax.metrics.PrecisionRecallCurve``.

    Streaming form of ``maskjax.metrics.precision_recall_curve`` ``(precision,
    recall, thresholds, valid)``. Binned: ``[T + 1]`` / ``[T]`` arrays,
    thresholds increasing (torchmetrics). Exact: fixed length with ``valid``.

    Args:
      task, num_classes, thresholds, capacity, from_logits, lower_is_positive, ignore_index, dtype:
        as :class:`AUROC`.
      average: ``None`` (one curve per class) or ``"micro"`` (multiclass / multi-label).

    State:
      As :class:`AUROC` (shared).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import PRCurve
      >>> pr = PRCurve(capacity=8)
      >>> c = pr(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1]))
      >>> [[round(v, 3) for v in x.tolist()] for x in c.trim()]
      [[0.5, 0.667, 0.5, 1.0, 1.0], [1.0, 1.0, 0.5, 0.5, 0.0], [0.1, 0.35, 0.4, 0.8]]
    """

    average: Any = None
    _check_average = _curve_average

    def compute(self, state: State) -> _curves.PrecisionRecallCurve:
        if self.thresholds is not None:
            return _curves.binned_pr_result(state, self._thr(), task=self.task, average=self.average,
                                            lower_is_positive=self.lower_is_positive)
        kw, overflow = self._buffer_inputs(state)
        return self._nan_if(overflow, _curves.precision_recall_curve(**kw, average=self.average))


@dataclasses.dataclass(frozen=True, kw_only=True)
class CalibrationError(Metric):
    """Streaming calibration error (ECE ``"l1"``, RMS ``"l2"``, MCE ``"max"``).

    Streaming form of ``maskjax.metrics.calibration_error``. The state is the
    per-bin sums ``(Σ w, Σ w·confidence, Σ w·correct)``, ``[n_bins + 1]`` each
    — additive.

    Args:
      task: ``"binary"``, ``"multiclass"`` (top-label) or ``"multilabel"`` (element-wise).
      num_classes: optional check of ``C``.
      n_bins: equal-width confidence bins (default 15, torchmetrics).
      norm: ``"l1"``, ``"l2"`` or ``"max"``.
      from_logits: apply sigmoid / softmax first.
      ignore_index: a target value that counts nowhere.
      dtype: ``None`` / ``"float32"``, or ``"float64"`` with x64.

    State:
      ``{"weight", "confidence", "accuracy"}`` per-bin sums.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import CalibrationError
      >>> ece = CalibrationError(n_bins=2)
      >>> s = ece.update(ece.init(), jnp.array([.2, .3]), jnp.array([0, 1]))
      >>> round(float(ece.compute(ece.update(s, jnp.array([.9, .8]), jnp.array([1, 1])))), 4)
      0.2
    """

    task: str = "binary"
    num_classes: int | None = None
    n_bins: int = 15
    norm: str = "l1"
    from_logits: bool = False
    ignore_index: int | None = None
    dtype: str | None = None

    def __post_init__(self) -> None:
        ci.check_task(self.task)
        ci.check_from_logits(self.from_logits)
        object.__setattr__(self, "n_bins", _checks.check_static_int(self.n_bins, "n_bins", 1))
        _checks.check_choice(self.norm, "norm", _calibration.NORMS)
        dt = check_accumulator_dtype(self.dtype)
        if dt is not None and not dt.startswith("float"):
            raise ValueError(f"`dtype` must be None, 'float32' or 'float64', got {dt!r}.")
        object.__setattr__(self, "dtype", dt)

    def state_key(self) -> Hashable:
        return ("calibration", self.task, self.num_classes, self.n_bins, self.from_logits, self.ignore_index,
                self.dtype or "float32")

    def init(self) -> State:
        return _calibration.calibration_init(self.n_bins, self.dtype or "float32")

    def update(self, state: State, preds: Any, targets: Any, *, mask: Any = None,
               sample_weight: Any = None) -> State:
        """Add a batch's per-bin sums (pure, jit-able): ``_calibration.calibration_update``."""
        inc = _calibration.calibration_update(preds, targets, task=self.task, num_classes=self.num_classes,
                                              n_bins=self.n_bins, from_logits=self.from_logits, mask=mask,
                                              sample_weight=sample_weight, ignore_index=self.ignore_index)
        return add_into(state, inc, type(self).__name__)

    def compute(self, state: State) -> jax.Array:
        return _calibration.calibration_compute(state, self.norm)

    def reliability(self, state: State) -> _calibration.ReliabilityDiagram:
        """The reliability-diagram data of the state (``maskjax.metrics.reliability_diagram``'s)."""
        return _calibration.reliability_from_state(state)
