"""Shared machinery of the curve metrics: the one-shot runner and the streaming base.

Curves, ranking and calibration: ROC / PR curves, AUROC, AP, best threshold, ECE.

Two modes, chosen by ``thresholds``:

* **Exact** (``thresholds=None``, the default): sort-based, ties grouped as
  scikit-learn groups them; matches ``sklearn.metrics.roc_curve``,
  ``precision_recall_curve``, ``roc_auc_score`` and
  ``average_precision_score``. Under ``jax.jit`` shapes must be static, so an
  exact curve over ``M`` elements is returned at a **fixed length** (see
  :class:`RocCurve`, :class:`PrecisionRecallCurve`) with a ``valid`` mask;
  ``.trim()`` gives the scikit-learn arrays eagerly.
* **Binned** (``thresholds=n`` → ``torch.linspace(0, 1, n)`` bit for bit, or an
  increasing array): O(N + T) histograms, positive iff ``score >= t``;
  matches torchmetrics' ``thresholds=`` results. The state is additive: see
  :mod:`maskjax.metrics._binned` for ``binned_init`` / ``binned_update`` /
  ``binned_auroc`` … (streaming).

Tasks: ``"binary"`` (``preds``, ``targets`` of one shape), ``"multiclass"``
(one-vs-rest: ``preds [..., C]`` scores, ``targets [...]`` class ids),
``"multilabel"`` (``preds [..., L]``, ``targets [..., L]``). Weighting:
``mask``, ``sample_weight`` (broadcast from the left), ``ignore_index`` as in
every maskjax metric; elements of weight 0 count nowhere (scikit-learn drops
zero-weight samples too). ``from_logits=True`` applies sigmoid (binary,
multi-label) or softmax (multiclass) first; it is never guessed.

Distance-like scores (a *lower* score means positive): ``lower_is_positive=True``
(the confusion metrics' option). Exact mode ranks ``-score`` (values equal
scikit-learn on negated scores) but reports thresholds in the original units:
predict positive iff ``score <= threshold``, so ROC thresholds increase
(entry 0 is ``-inf``) and PR thresholds decrease. Binned mode counts
positive iff ``score <= t`` (exactly: it bins ``-score`` against ``-t``);
ROC thresholds come out increasing, PR thresholds decreasing, in the original
units.

Degenerate inputs never raise: AUROC of a problem without positives or
without negatives (including everything masked) is ``nan`` (scikit-learn);
AP without positives is 0 (scikit-learn). Averages drop ``nan`` classes
(torchmetrics' rule; scikit-learn would return ``nan``). An empty input
behaves as one fully masked element (exact curves then have two entries,
the second invalid). Scores are ordered by their bits, so denormals rank
above zero (as in scikit-learn) although XLA:CPU compares them as zero.

The exact and binned statistics are not differentiable: their gradients are
zero (``stop_gradient``), on every backend.

Streaming objects (:class:`_Curve`):

Streaming curve and calibration metrics: AUROC, AveragePrecision, ROC, PRCurve, CalibrationError.

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
import functools
from typing import Any, Callable, ClassVar, Hashable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks
from maskjax._safe_divide import safe_divide
from maskjax.metrics import _format, _invalid
from maskjax.metrics._state_merge import merged_not_summed
from maskjax.metrics._streaming import Metric, State, add_into, check_accumulator_dtype
from maskjax.metrics.curves import _binned, _exact


def _trim_rows(arrays, valids, squeeze):
    arrays = [np.asarray(a) for a in arrays]
    valids = [np.asarray(v) for v in valids]
    if arrays[0].ndim == 1:
        return tuple(a[v] for a, v in zip(arrays, valids))
    rows = [tuple(a[k][v[k]] for a, v in zip(arrays, valids)) for k in range(arrays[0].shape[0])]
    return rows


class RocCurve(NamedTuple):
    """A ROC curve at a fixed length (a pytree: works under ``jit``).

    Exact mode, ``M`` elements per problem: ``fpr``, ``tpr``, ``thresholds``
    and ``valid`` have length ``M + 1`` (``[K, M + 1]`` for K per-class
    curves). Entry 0 is the point (0, 0) at threshold ``inf`` (scikit-learn).
    Then come the elements in decreasing score order; each holds the point of
    its tie group (predict positive iff ``score >= threshold``), so a group
    repeats its point and ``valid`` marks one entry per distinct threshold.
    Entries of dropped elements (masked, ignored, zero weight) come last and
    repeat the final point (1, 1). Repeated points have zero width, so plots
    and trapezoidal areas over the full arrays equal those over the trimmed
    curve. ``fpr`` (``tpr``) is ``nan`` when there are no negatives
    (positives), as in scikit-learn.

    Binned mode: ``[T]`` arrays in decreasing threshold order, all valid
    (torchmetrics' binned ``roc``).
    """

    fpr: jax.Array
    tpr: jax.Array
    thresholds: jax.Array
    valid: jax.Array

    def trim(self, drop_intermediate: bool = False):
        """Eager: the scikit-learn arrays ``(fpr, tpr, thresholds)`` (a list of them per class).

        Equal to ``sklearn.metrics.roc_curve(..., drop_intermediate=False)``;
        with ``drop_intermediate=True`` scikit-learn's rule (drop points
        collinear with their neighbours) is applied to the rates, with a
        tolerance of a few ulps (scikit-learn tests the raw counts exactly).
        """
        out = _trim_rows((self.fpr, self.tpr, self.thresholds), (self.valid,) * 3, False)
        if not drop_intermediate:
            return out

        def drop(f, t, th):
            if len(f) <= 2:
                return f, t, th
            tol = 8 * np.finfo(f.dtype).eps      # collinear up to the rounding of the rates
            keep = np.r_[True, (np.abs(np.diff(f, 2)) > tol) | (np.abs(np.diff(t, 2)) > tol), True]
            return f[keep], t[keep], th[keep]

        return drop(*out) if isinstance(out, tuple) else [drop(*r) for r in out]


class PrecisionRecallCurve(NamedTuple):
    """A precision-recall curve at a fixed length (a pytree: works under ``jit``).

    scikit-learn order: thresholds increasing, recall decreasing, and a final
    point (precision 1, recall 0) without a threshold. Exact mode, ``M``
    elements: ``precision``, ``recall``, ``valid`` have length ``M + 1`` and
    ``thresholds`` length ``M``. Entries of dropped elements come first and
    repeat the first (lowest-threshold) point; within a tie group entries
    repeat the group's point; ``valid`` marks one entry per distinct threshold
    plus the final point (``valid[:-1]`` applies to ``thresholds``). Precision
    with no predicted positive is 0 and recall without positives is 1
    (scikit-learn).

    Binned mode: ``precision``, ``recall`` ``[T + 1]``, ``thresholds`` ``[T]``,
    all valid; precision / recall with a zero denominator are ``nan``
    (torchmetrics).
    """

    precision: jax.Array
    recall: jax.Array
    thresholds: jax.Array
    valid: jax.Array

    def trim(self):
        """Eager: ``(precision, recall, thresholds)`` as ``sklearn.metrics.precision_recall_curve``."""
        return _trim_rows((self.precision, self.recall, self.thresholds),
                          (self.valid, self.valid, self.valid[..., :-1]), False)


def _problems(preds, targets, task, num_classes, from_logits, mask, sample_weight, ignore_index, micro):
    # the callers moved the class axis last already (class_axis_last): axis=-1, nothing to guess again
    return _format.format_problems(preds, targets, task=task, num_classes=num_classes, from_logits=from_logits,
                                   mask=mask, sample_weight=sample_weight, ignore_index=ignore_index, micro=micro,
                                   axis=-1)


def exact_roc(c, support, *, task, average, lower_is_positive):
    """The exact :class:`RocCurve` from sorted counts (scikit-learn ``roc_curve`` at fixed length)."""
    lowest = jnp.min(jnp.where(jnp.isnan(c.scores), jnp.inf, c.scores), axis=-1, keepdims=True)
    th = jnp.where(jnp.isnan(c.scores), lowest, c.scores)
    k = c.fps.shape[0]
    zero = jnp.zeros((k, 1), c.fps.dtype)
    fps = jnp.concatenate([zero, c.fps], -1)
    tps = jnp.concatenate([zero, c.tps], -1)
    fpr = jnp.where(c.n_neg[:, None] > 0, safe_divide(fps, c.n_neg[:, None]), jnp.nan)
    tpr = jnp.where(c.n_pos[:, None] > 0, safe_divide(tps, c.n_pos[:, None]), jnp.nan)
    th = jnp.concatenate([jnp.full((k, 1), jnp.inf, th.dtype), th], -1)
    valid = jnp.concatenate([jnp.ones((k, 1), bool), c.last], -1)
    out = RocCurve(*_squeeze(task, average, fpr, tpr, th, valid))
    return out._replace(thresholds=_negate(out.thresholds)) if lower_is_positive else out


def exact_pr(c, support, *, task, average, lower_is_positive):
    """The exact :class:`PrecisionRecallCurve` from sorted counts (scikit-learn, fixed length)."""
    precision = safe_divide(c.tps, c.tps + c.fps)
    recall = jnp.where(c.n_pos[:, None] > 0, safe_divide(c.tps, c.n_pos[:, None]), 1.0)
    lowest = jnp.min(jnp.where(jnp.isnan(c.scores), jnp.inf, c.scores), axis=-1, keepdims=True)
    th = jnp.where(jnp.isnan(c.scores), lowest, c.scores)
    k = precision.shape[0]
    one = jnp.ones((k, 1), precision.dtype)
    precision = jnp.concatenate([precision[:, ::-1], one], -1)
    recall = jnp.concatenate([recall[:, ::-1], jnp.zeros_like(one)], -1)
    valid = jnp.concatenate([c.last[:, ::-1], jnp.ones((k, 1), bool)], -1)
    out = PrecisionRecallCurve(*_squeeze(task, average, precision, recall, th[:, ::-1], valid))
    return out._replace(thresholds=_negate(out.thresholds)) if lower_is_positive else out


def _kw(local):
    kw = {k: local[k] for k in ("preds", "targets", "task", "num_classes", "thresholds", "average",
                                "from_logits", "lower_is_positive", "mask", "sample_weight", "ignore_index")}
    kw["axis"] = local.get("axis")
    return kw


class CurveSpec(NamedTuple):
    """What one curve metric computes from the shared passes (hashable: part of the jit key).

    ``exact(counts, support, *, task, average, lower_is_positive)`` reduces the sorted counts of
    :func:`maskjax.metrics.curves._exact.sorted_counts`; ``binned(state, thr, *, task, average,
    lower_is_positive)`` reduces a :class:`~maskjax.metrics.curves._binned.BinnedState`.
    ``is_curve``: returns a curve (``average`` in ``None`` / ``"micro"``), not a scalar.
    """

    exact: Callable
    binned: Callable
    is_curve: bool


_STATIC = ("spec", "task", "num_classes", "average", "from_logits", "lower_is_positive", "ignore_index", "evenly")


@functools.partial(jax.jit, static_argnames=_STATIC)
def _run(preds, targets, mask, sample_weight, thr, *, spec, task, num_classes, average, from_logits,
         lower_is_positive, ignore_index, evenly):
    """All curve computations, compiled once per shape and static configuration.

    Eager calls then cost one compile (not one per primitive); under an outer
    ``jit`` this inlines. ``thr`` is ``None`` (exact) or the ``[T]`` thresholds.
    ``lower_is_positive``: everything runs on ``-score`` (and ``-thr[::-1]``, still
    increasing; ``score <= t`` iff ``-score >= -t``, negation is exact), and the
    reported thresholds are negated back to the original units.
    """
    micro = average == "micro"
    p = _problems(preds, targets, task, num_classes, from_logits, mask, sample_weight, ignore_index, micro)
    if lower_is_positive:
        p = p._replace(scores=-p.scores)
    opts = dict(task=task, average=average, lower_is_positive=lower_is_positive)
    if thr is not None:
        if lower_is_positive:
            thr = -thr[::-1]      # evenly spaced stays evenly spaced: the bucket arithmetic stays exact
        return spec.binned(_binned.histogram(p, thr, evenly), thr, **opts)
    c = _exact.sorted_counts(p.scores, p.labels, p.weights, unit_weights=sample_weight is None)
    # The per-class support by a plain sum, not c.n_pos: on the NumPy backend that would run the
    # per-element kernel (a second sort) just for "weighted" averaging.
    support = jnp.sum(jnp.where(p.labels != 0, p.weights, 0), axis=-1)
    return spec.exact(c, support, **opts)


def _negate(th):
    """``-th`` with ``+0.0`` for zero scores (not the ``-0.0`` of negating a sorted ``0.0`` twice)."""
    return jnp.where(th == 0, jnp.zeros_like(th), -th)


def binned_roc_result(state: _binned.BinnedState, thr: jax.Array, *, task: str, average: Any = None,
                      lower_is_positive: bool = False) -> RocCurve:
    """:class:`RocCurve` of a binned state, shaped as :func:`roc_curve` returns it (all entries valid).

    ``thr``: the increasing ``[T]`` thresholds the state was binned with;
    ``average="micro"`` pools a per-class state (a no-op on a state already
    built from micro problems); binary / micro results drop the class axis.
    ``lower_is_positive=True``: the state binned ``-score`` against ``thr =
    -t[::-1]``; thresholds are reported negated back (original units).
    """
    fpr, tpr, th = _binned.binned_roc(state, thr, average == "micro")
    th = _negate(th) if lower_is_positive else th
    return RocCurve(*_squeeze(task, average, fpr, tpr, th, jnp.ones(fpr.shape, bool)))


def binned_pr_result(state: _binned.BinnedState, thr: jax.Array, *, task: str, average: Any = None,
                     lower_is_positive: bool = False) -> PrecisionRecallCurve:
    """:class:`PrecisionRecallCurve` of a binned state (as :func:`binned_roc_result`)."""
    pr, rc, th = _binned.binned_pr_curve(state, thr, average == "micro")
    th = _negate(th) if lower_is_positive else th
    return PrecisionRecallCurve(*_squeeze(task, average, pr, rc, th, jnp.ones(pr.shape, bool)))


def _call(spec: CurveSpec, preds, targets, *, task, num_classes, thresholds, average, from_logits, lower_is_positive, mask,
          sample_weight, ignore_index, axis=None):
    task = _format.check_task(task)
    if spec.is_curve:
        average = _curve_average(average, task)
    else:
        average = _format.check_curve_average(average) if task != "binary" else "macro"
    from_logits = _format.check_from_logits(from_logits)
    lower_is_positive = _checks.check_bool(lower_is_positive, "lower_is_positive")
    ignore_index = _checks.check_ignore_index(ignore_index)
    if num_classes is not None:
        num_classes = _checks.check_static_int(num_classes, "num_classes", minimum=1)
    thr = None if thresholds is None else _binned.binned_thresholds(thresholds)
    evenly = isinstance(thresholds, (int, np.integer))
    preds = _checks.as_array(preds, "preds")
    targets = _checks.as_array(targets, "targets")
    mask = _checks.as_optional_array(mask, "mask")
    sample_weight = _checks.as_optional_array(sample_weight, "sample_weight")
    preds, targets, mask, sample_weight = _format.class_axis_last(    # axis=: class axis to the end
        preds, targets, task=task, num_classes=num_classes, axis=_format.check_axis(axis), mask=mask,
        sample_weight=sample_weight)
    _invalid.check_weights(sample_weight)       # NaN / negative weights: ValueError when concrete
    bad = _invalid.any_invalid(preds, targets, mask=mask, sample_weight=sample_weight, ignore_index=ignore_index)
    if thr is not None and thr.shape[0] > 1:   # traced thresholds (checked eagerly when concrete): NaN if unordered
        bad = bad + jnp.any(~(jnp.diff(thr) > 0)).astype(jnp.int32)
    return _invalid.poison(_run(preds, targets, mask, sample_weight, thr, spec=spec, task=task, num_classes=num_classes,
                                average=average, from_logits=from_logits, lower_is_positive=lower_is_positive,
                                ignore_index=ignore_index, evenly=evenly), bad)


def _curve_average(average, task):
    if task == "binary":
        return None
    average = _format.check_curve_average(average, (None, "micro"))
    return average


def _squeeze(task, average, *arrays):
    if task == "binary" or average == "micro":
        return tuple(a[0] for a in arrays)
    return arrays


@merged_not_summed  # a multiset of scores: psum_state / HostAccumulator refuse it
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
    axis: int | None = None

    _average_default: ClassVar[Any] = "macro"

    def __post_init__(self) -> None:
        _format.check_task(self.task)
        _format.check_from_logits(self.from_logits)
        _checks.check_bool(self.lower_is_positive, "lower_is_positive")
        object.__setattr__(self, "axis", _format.check_axis(self.axis))
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
        return _format.check_curve_average(average) if self.task != "binary" else average

    def _check_config(self) -> None:
        """Subclass hook."""

    @property
    def _k(self) -> int:
        return 1 if self.task == "binary" else self.num_classes

    @property
    def _float(self) -> str:
        return self.dtype or "float32"

    def state_key(self) -> Hashable:
        return ("curve buffer" if self.thresholds is None else "curve histogram", self.task, self.num_classes, self.thresholds, self.capacity, self.from_logits,
                self.lower_is_positive, self.ignore_index, self._float, self.axis)

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
                  sample_weight=sample_weight, ignore_index=self.ignore_index, axis=self.axis)
        p = _format.format_problems(preds, targets, **kw)
        if self.thresholds is not None:
            if self.lower_is_positive:
                p = p._replace(scores=-p.scores)
            inc = _binned.histogram(p, self._thr(), isinstance(self.thresholds, int), self._float)
            return add_into(state, inc, type(self).__name__)
        return _append(state, p.scores, p.labels, p.weights)     # exact: raw scores, flag used at compute

    def _wide(self) -> bool:
        return self.dtype is None and self.thresholds is not None   # a buffer holds elements, not sums

    def merge(self, a: State, b: State) -> State:
        if self.thresholds is not None:
            return super().merge(a, b)
        a, b = self._open(a, "merge"), self._open(b, "merge")
        out = _append(a, b.scores, b.labels, b.weights)
        # Elements b lost to its own overflow stay counted, so the result reports overflow too.
        lost_b = b.count - jnp.sum(b.weights != 0, axis=-1, dtype=jnp.int32)
        return self._seal(out._replace(count=out.count + lost_b))

    def all_reduce(self, state: State, axis_name: Any) -> State:
        if self.thresholds is not None:
            return super().all_reduce(state, axis_name)
        state = self._open(state, "all_reduce")
        # An all-gather written as a psum of zero-padded slots: exact (x + 0 = x) and typed as
        # replicated inside shard_map (lax.all_gather's result is not, under check_vma).
        size = jax.lax.psum(1, axis_name)
        offset = jax.lax.axis_index(axis_name) * self.capacity

        def gather(x):  # [K, cap] -> [K, D·cap]
            slots = jnp.zeros((x.shape[0], size * self.capacity), x.dtype)
            return jax.lax.psum(jax.lax.dynamic_update_slice(slots, x, (0, offset)), axis_name)

        out = _append(self._open(self.init(), "init"), gather(state.scores), gather(state.labels),
                      gather(state.weights))
        total = jax.lax.psum(state.count, axis_name)
        return self._seal(out._replace(count=total))

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


def object_curve_average(self, average):
    return None if self.task == "binary" else _format.check_curve_average(average, (None, "micro"))
