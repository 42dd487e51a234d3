"""The confusion state every counting metric shares, its update, and the metric base class.

A confusion metric is one small class (its configuration) plus one function that builds it::

    f1_score(preds, targets, **options)  ==  F1Score(**options).evaluate(preds, targets, ...)

Both read the metric's spec, written once in the metric's own module:

* :meth:`ConfusionMetric.state_spec` — which additive state it keeps (a :class:`StateSpec`:
  :class:`CountsState` for most metrics; :class:`ConfmatState`, :class:`SamplesScoreState`,
  and the top-k / exact-match / ranking states in their metrics' modules);
* :meth:`ConfusionMetric.compute` — the formula over that state.

``update`` (streaming) and ``evaluate`` (one-shot) both run ``state_spec().update`` — format the
inputs (:func:`maskjax.metrics._format.format_inputs`) and count — so a streaming metric and its
one-shot function run the same code. The one-shot data pass runs under one module-level
``jax.jit`` keyed by the (hashable) state spec, with the data, threshold values included, traced:
changing a threshold never recompiles, and precision, recall, F1, ... of one task share one
compiled program.

States (all leaves are arrays; ``merge(a, b) = tree_map(add, a, b)``):

=================  =======================================================  ==========================
state              leaves                                                    update
=================  =======================================================  ==========================
``Counts``         ``tp[K]``, ``pred[K]`` (tp+fp), ``target[K]`` (tp+fn,    :func:`counts_update`,
                   support), ``total`` (``[]`` multiclass, ``[K]`` binary /  ``topk_update``
                   multi-label: Σ weight), ``seen[K]`` (unweighted number of
                   kept elements labelled or predicted k: class presence)
confusion matrix   ``[C, C]`` array, ``C[i, j] = Σ w`` over (true i, pred j)   :func:`confmat_update`
``SamplesState``   ``score_sum`` Σ sᵢ·scoreᵢ, ``weight_sum`` Σ sᵢ,            :func:`samples_update`,
                   ``plain_sum`` Σ scoreᵢ, ``count`` (samples kept, NaN      ``exact_match_update``,
                   scores dropped; the plain sums are scikit-learn's         ``ranking_update``
                   fallback when every sample weight is 0)
=================  =======================================================  ==========================

``K`` is ``num_classes`` (multiclass), ``L`` (multi-label) or 1 (binary: the positive class).
Counts are int32 when the inputs carry no ``sample_weight`` / ``class_weight`` and float32
otherwise. Everything here is trace-safe and does one pass over the data; the per-class counts are
O(N + C) (``segment_sum`` on class ids, masked/ignored elements routed to weight 0 at a safe index,
never to index −1); only the multiclass confusion matrix is C×C.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, Callable, ClassVar, Hashable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks
from maskjax._safe_divide import safe_divide
from maskjax.metrics import _format, _invalid
from maskjax.metrics._format import Formatted, format_inputs, include_classes
from maskjax._kernels.multilabel_counts import multilabel_counts_blocked
from maskjax.metrics._config import check_labels, select_labels, static_tuple, static_zero_division
from maskjax.metrics._samplewise import SampleRows, append_rows, samplewise_increment
from maskjax.metrics._samples_state import SamplesState, samples_compute, samples_init, samples_update
from maskjax.metrics._streaming import Metric, State, add_into, check_accumulator_dtype


class Counts(NamedTuple):
    """Per-class weighted counts (see the module docstring)."""

    tp: jax.Array
    pred: jax.Array
    target: jax.Array
    total: jax.Array
    seen: jax.Array


# --------------------------------------------------------------------------- #
# init / update
# --------------------------------------------------------------------------- #
def counts_init(task: str, num_classes: int | None, dtype: Any = jnp.float32) -> Counts:
    """Zero :class:`Counts` for ``task`` (``num_classes`` = L for multi-label)."""
    k = 1 if task == "binary" else num_classes
    z = lambda: jnp.zeros((k,), dtype)  # noqa: E731  (distinct buffers: a state can be donated)
    total = jnp.zeros((), dtype) if task == "multiclass" else z()
    return Counts(z(), z(), z(), total, z())


_JOINT_MAX_BINS = 1 << 20  # unweighted multiclass counts via a C x C bincount up to C = 1024


def counts_update(fmt: Formatted, *, task: str, num_classes: int | None) -> Counts:
    """Per-class counts of one batch.

    Multiclass: unweighted (int32) with C <= 1024, one int32 ``bincount`` of the
    flat key ``t·C + p`` (C×C bins, the arg-max is consumed once); otherwise two
    ``segment_sum`` passes keyed by target and by predicted class id (O(N + C),
    no one-hot). Binary / multi-label: dense sums over the
    sample axes; for a multi-label ``fmt`` straight from ``format_inputs`` (it
    carries the raw inputs) a loop over blocks of rows that formats and sums
    each block, so no ``[N, L]`` temporary is materialised.
    """
    w = fmt.weight
    keep = fmt.keep.astype(w.dtype)
    if task == "multiclass":
        c = num_classes
        t = fmt.targets.reshape(-1)
        p = fmt.preds.reshape(-1)
        w = w.reshape(-1)
        keep = keep.reshape(-1)
        if w.dtype == jnp.int32 and c * c <= _JOINT_MAX_BINS:
            # Unweighted (weight == keep): ONE int32 bincount of the flat key t*C + p. Each extra
            # consumer of p makes XLA:CPU re-run the fused arg-max (measured N=1M C=100: 133 ms with
            # two segment_sums / bincounts vs 69 ms with one; an optimization_barrier is stripped).
            kept = fmt.keep.reshape(-1)
            cm = jnp.bincount(jnp.where(kept, t * c + p, c * c), length=c * c + 1)[: c * c]
            cm = cm.reshape(c, c).astype(jnp.int32)
            target = jnp.sum(cm, 1)
            pred = jnp.sum(cm, 0)
            return Counts(jnp.diagonal(cm), pred, target, jnp.sum(target), target + pred)
        hit = (t == p).astype(w.dtype)
        by_t = jax.ops.segment_sum(jnp.stack([w * hit, w, keep], axis=-1), t, num_segments=c)
        by_p = jax.ops.segment_sum(jnp.stack([w, keep], axis=-1), p, num_segments=c)
        # total = Σ_k target_k (not Σ w): rounding consistent with the per-class sums, so a
        # class holding every element gets tn = 0 exactly (0/0 decisions stay exact).
        return Counts(by_t[:, 0], by_p[:, 0], by_t[:, 1], jnp.sum(by_t[:, 1]), by_t[:, 2] + by_p[:, 1])
    if task == "multilabel":
        raw = getattr(fmt, "_raw", None)
        blocked = None if raw is None else multilabel_counts_blocked(
            raw, num_classes, format_inputs=format_inputs, dense_counts=_dense_counts, counts_type=Counts,
            merge=partial(jax.tree_util.tree_map, jnp.add))
        if blocked is not None:
            return blocked
    return _dense_counts(fmt, task)


def _dense_counts(fmt: Formatted, task: str) -> Counts:
    """Binary / multi-label counts as dense sums over the sample axes."""
    w = fmt.weight
    keep = fmt.keep.astype(w.dtype)
    k = fmt.preds.shape[-1] if task == "multilabel" else 1
    p = fmt.preds.reshape(-1, k).astype(w.dtype)
    t = fmt.targets.reshape(-1, k).astype(w.dtype)
    w = w.reshape(-1, k)
    keep = keep.reshape(-1, k)
    wp = w * p
    target = jnp.sum(w * t, 0)
    # total = target + Σ w·(1 − t), not Σ w: total − target is then exactly 0 when every kept
    # element is positive, so float32 rounding never turns tn / (tn + fp) = 0/0 into 1.
    return Counts(jnp.sum(wp * t, 0), jnp.sum(wp, 0), target, target + jnp.sum(w * (1 - t), 0),
                  jnp.sum(keep * jnp.maximum(p, t), 0))


def confmat_init(num_classes: int, dtype: Any = jnp.float32) -> jax.Array:
    return jnp.zeros((num_classes, num_classes), dtype)


def confmat_update(fmt: Formatted, *, num_classes: int) -> jax.Array:
    """Multiclass ``[C, C]`` confusion matrix: one ``segment_sum`` on the flat key ``t·C + p``.

    Dropped elements sit at key 0 with weight 0 (never index −1).
    """
    c = num_classes
    key = fmt.targets.reshape(-1) * c + fmt.preds.reshape(-1)
    return jax.ops.segment_sum(fmt.weight.reshape(-1), key, num_segments=c * c).reshape(c, c)


# --------------------------------------------------------------------------- #
# compute
# --------------------------------------------------------------------------- #
def _cells(c: Counts):
    """tp, fp, fn, tn per class (tn from the total, broadcast for multiclass).

    ``tn = (total − target) − fp``: exactly 0 when every kept element is a
    target of the class, so float32 rounding never turns a 0/0 into 1.
    """
    fp = c.pred - c.tp
    fn = c.target - c.tp
    tn = (c.total - c.target) - fp
    return c.tp, fp, fn, tn


def average_scores(scores: jax.Array, include: jax.Array, support: jax.Array, average: str,
                   zero_division: Any) -> jax.Array:
    """Macro / weighted mean of per-class ``scores`` over ``include``, NaN entries dropped.

    ``weighted`` uses the support (weighted target count); if the included,
    non-NaN classes have zero total support it falls back to the plain mean
    (scikit-learn's ``_nanaverage``). Nothing to average → ``zero_division``.
    """
    valid = include & ~jnp.isnan(scores)
    w = valid.astype(jnp.float32)
    if average == "weighted":
        sup = jnp.where(valid, support, 0).astype(jnp.float32)
        w = jnp.where(jnp.sum(sup) > 0, sup, w)
    return safe_divide(jnp.sum(jnp.where(valid, scores, 0.0) * w), jnp.sum(w), zero_division)


def ratio_compute(counts: Counts, formula: Callable, *, task: str, average: Any = "macro",
                  zero_division: Any = 0.0, absent_classes: str = "auto",
                  ignore_index: int | None = None, beta: Any = 1.0) -> jax.Array:
    """A ratio metric from counts: ``formula`` per class, then ``average``.

    ``formula(tp, fp, fn, tn, beta²) -> (numerator, denominator)``. Binary returns the
    positive-class scalar (``average`` ignored); ``"micro"`` sums the cells over classes first.
    """
    b2 = jnp.asarray(beta, jnp.float32) ** 2
    tp, fp, fn, tn = _cells(counts)
    if task == "binary":
        num, den = formula(tp[0], fp[0], fn[0], tn[0], b2)
        return safe_divide(num, den, zero_division)
    if average == "micro":
        num, den = formula(jnp.sum(tp), jnp.sum(fp), jnp.sum(fn), jnp.sum(tn), b2)
        return safe_divide(num, den, zero_division)
    num, den = formula(tp, fp, fn, tn, b2)
    scores = safe_divide(num, den, zero_division)
    if average is None:
        return scores
    include = include_classes(counts.seen, task=task, absent_classes=absent_classes,
                              ignore_index=ignore_index)
    return average_scores(scores, include, counts.target, average, zero_division)


# Run eagerly, a compute is ~30 tiny ops, each dispatched (and compiled on first use) on its own;
# one cached jit per static configuration makes a one-shot metric two dispatches (update, compute).
# Config (formula, task, average, ...) is static; states, zero_division and beta are traced, so a
# changed zero_division never recompiles. Inside a caller's jit these inline as usual.
def jit_compute(fn: Callable, static: tuple[str, ...]) -> Callable:
    jitted = jax.jit(fn, static_argnames=static)
    jitted.__doc__ = fn.__doc__
    return jitted


ratio_compute = jit_compute(ratio_compute, ("formula", "task", "average", "absent_classes", "ignore_index"))


# --------------------------------------------------------------------------- #
# State specs: which state a metric keeps and how a batch updates it
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class StateSpec:
    """Hashable description of an additive state: the jit key of the one-shot data pass.

    ``update`` formats one batch and returns its increment (the state of that batch alone);
    subclasses define ``init`` and ``increment``.
    """

    task: str
    num_classes: int | None
    ignore_index: int | None = None
    from_logits: bool = False
    lower_is_positive: bool = False
    axis: int | None = None
    pos_label: int | None = None
    samplewise: bool = False
    integer_counts: ClassVar[bool] = False  # increments are unweighted integer counts (they commute)

    def init(self, dtype: str) -> State:  # pragma: no cover - abstract
        raise NotImplementedError

    def increment(self, fmt: Formatted) -> State:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, preds: Any, targets: Any, mask: Any, sample_weight: Any, class_weight: Any,
               threshold: Any) -> State:
        fmt = format_inputs(preds, targets, task=self.task, num_classes=self.num_classes,
                            threshold=threshold, from_logits=self.from_logits,
                            lower_is_positive=self.lower_is_positive, mask=mask,
                            sample_weight=sample_weight, class_weight=class_weight,
                            ignore_index=self.ignore_index, axis=self.axis, pos_label=self.pos_label)
        if self.samplewise:
            return samplewise_increment(self, fmt)
        return self.increment(fmt)


@dataclasses.dataclass(frozen=True)
class CountsState(StateSpec):
    """Per-class :class:`Counts` (every ratio metric, MCC, kappa, binary/multi-label matrices)."""

    integer_counts: ClassVar[bool] = True

    def init(self, dtype: str) -> State:
        return counts_init(self.task, self.num_classes, dtype)

    def increment(self, fmt: Formatted) -> State:
        return counts_update(fmt, task=self.task, num_classes=self.num_classes)


@dataclasses.dataclass(frozen=True)
class ConfmatState(StateSpec):
    """Multiclass ``[C, C]`` confusion matrix."""

    integer_counts: ClassVar[bool] = True

    def init(self, dtype: str) -> State:
        return confmat_init(self.num_classes, dtype)

    def increment(self, fmt: Formatted) -> State:
        return confmat_update(fmt, num_classes=self.num_classes)


@dataclasses.dataclass(frozen=True)
class SamplesScoreState(StateSpec):
    """Per-sample scores of a ratio ``formula`` (multi-label ``average="samples"``)."""

    formula: Callable | None = None
    zero_division: Any = 0.0
    beta: Any = 1.0

    def init(self, dtype: str) -> State:
        return samples_init(dtype if dtype.startswith("float") else "float32")

    def increment(self, fmt: Formatted) -> State:
        return samples_update(fmt, self.formula, zero_division=self.zero_division, beta=self.beta)


@partial(jax.jit, static_argnames=("spec",))
def _data_pass(preds, targets, mask, sample_weight, class_weight, threshold, *, spec):
    """One-shot format → update under one module-level jit, keyed by the state spec only."""
    return spec.update(preds, targets, mask, sample_weight, class_weight, threshold)


def run_data_pass(spec: StateSpec, *data: Any) -> State:
    """:func:`_data_pass` (jitted per spec); eager for a spec holding traced options (e.g. ``beta``)."""
    try:
        hash(spec)
    except TypeError:
        return spec.update(*data)
    return _data_pass(*data, spec=spec)


# --------------------------------------------------------------------------- #
# The metric base class
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfusionMetric(Metric):
    """Configuration, state and update shared by every counting metric.

    Subclasses set :meth:`state_spec` (default :class:`CountsState`) and :meth:`compute`.
    """

    task: str
    num_classes: int | None = None
    threshold: Any = 0.5
    from_logits: bool = False
    lower_is_positive: bool = False
    ignore_index: int | None = None
    class_weight: Any = None
    dtype: str | None = None
    validate: bool = False
    axis: int | None = None
    pos_label: int | None = None
    multidim_average: str = "global"
    capacity: int | None = None

    _averages: ClassVar[tuple[Any, ...]] = _format.AVERAGES
    _samplewise_ok: ClassVar[bool] = False

    def __post_init__(self) -> None:
        checked = _format.check_args(self.task, num_classes=self.num_classes,
                                     ignore_index=self.ignore_index)
        object.__setattr__(self, "num_classes", checked["num_classes"])
        object.__setattr__(self, "ignore_index", checked["ignore_index"])
        object.__setattr__(self, "threshold", static_tuple(self.threshold, "threshold"))
        object.__setattr__(self, "class_weight", static_tuple(self.class_weight, "class_weight"))
        for flag in ("from_logits", "lower_is_positive", "validate"):
            _checks.check_bool(getattr(self, flag), flag)
        dt = check_accumulator_dtype(self.dtype)
        if self.class_weight is not None and dt is not None and dt.startswith("int"):
            raise ValueError(f"`class_weight` makes the counts weighted, but dtype={dt!r} keeps integer "
                             "counts: use dtype=None (the default) or 'float32'.")
        object.__setattr__(self, "dtype", dt)
        names = {f.name for f in dataclasses.fields(self)}
        if "average" in names:
            object.__setattr__(self, "average", _format.check_average(self.average, self.task, self._averages))
        if "zero_division" in names:
            object.__setattr__(self, "zero_division", static_zero_division(self.zero_division))
        if "absent_classes" in names:
            _format.check_absent_classes(self.absent_classes)
        object.__setattr__(self, "axis", _format.check_axis(self.axis))
        if self.pos_label is not None:
            if self.task != "binary":
                raise ValueError(f"`pos_label` is for task='binary' (hard labels), got task={self.task!r}.")
            object.__setattr__(self, "pos_label", _checks.check_static_int(self.pos_label, "pos_label"))
        _checks.check_choice(self.multidim_average, "multidim_average", ("global", "samplewise"))
        if self.multidim_average == "samplewise" and not self._samplewise_ok:
            raise ValueError(f"{type(self).__name__} does not support multidim_average='samplewise'.")
        if self.multidim_average == "samplewise" and getattr(self, "average", None) == "samples":
            raise ValueError("multidim_average='samplewise' cannot be combined with average='samples'.")
        if self.capacity is not None:
            if self.multidim_average != "samplewise":
                raise ValueError("`capacity` (samples held by a streaming state) needs multidim_average='samplewise'.")
            object.__setattr__(self, "capacity", _checks.check_static_int(self.capacity, "capacity", minimum=1))
        self._check_config()

    def _check_config(self) -> None:
        """Subclass hook for extra checks."""

    # -- the spec -------------------------------------------------------------------------
    def state_spec(self) -> StateSpec:
        """The additive state this metric keeps (overridden by metrics with another state)."""
        return CountsState(*self._spec_args())

    def _spec_args(self) -> tuple:
        extra = (self.axis, self.pos_label, self.multidim_average == "samplewise")
        if self.task == "multiclass":  # arg-max: from_logits and lower_is_positive do not change counts
            return (self.task, self.num_classes, self.ignore_index, False, False) + extra
        return (self.task, self.num_classes, self.ignore_index, self.from_logits, self.lower_is_positive) + extra

    @property
    def _samplewise(self) -> bool:
        return self.multidim_average == "samplewise"

    def updates_commute(self) -> bool:  # exact sums (wide words to 2**47, or int) of integer counts
        return (self.state_spec().integer_counts and not self._samplewise and self.class_weight is None
                and (self.dtype or "int").startswith("int"))

    def _wide(self) -> bool:
        return super()._wide() and not self._samplewise     # a samplewise state holds rows, not sums

    def _samplewise_rows(self, state: Any) -> Any:
        """Per-sample values of a samplewise state: ``[N, ...]`` (one-shot) or a :class:`SampleRows` buffer."""
        if isinstance(state, SampleRows):
            values = jax.vmap(self.compute)(state.rows)
            cap = jax.tree_util.tree_leaves(state.rows)[0].shape[0]
            ok = (jnp.arange(cap) < state.n) & (state.n <= cap)

            def blank(v):
                v = v.astype(jnp.promote_types(v.dtype, jnp.float32))
                return jnp.where(ok.reshape((cap,) + (1,) * (v.ndim - 1)), v, jnp.nan)

            return jax.tree.map(blank, values)
        return jax.vmap(self.compute)(state)

    def _count_dtype(self) -> str:
        return self.dtype or "int32"

    def state_key(self) -> Hashable:
        threshold = None if self.task == "multiclass" else self.threshold
        capacity = self.capacity if self._samplewise else None  # rows kept: part of the state's shape
        return (self.state_spec(), threshold, self.class_weight, self._count_dtype(), capacity)

    # -- streaming ------------------------------------------------------------------------
    def init(self) -> State:
        if self.task == "multilabel" and self.num_classes is None:
            raise ValueError("task='multilabel' needs `num_classes` (the number of labels L) to "
                             "fix the state shape before any data is seen.")
        if self._samplewise:
            if self.capacity is None:
                raise ValueError("a streaming multidim_average='samplewise' metric keeps one row per sample: "
                                 "pass `capacity=` (the most samples it will see).")
            one = self.state_spec().init(self._count_dtype())
            rows = jax.tree.map(lambda z: jnp.zeros((self.capacity,) + z.shape, z.dtype), one)
            return SampleRows(rows, jnp.zeros((), jnp.int32))
        return self.state_spec().init(self._count_dtype())

    def _config_arrays(self) -> tuple[Any, Any]:
        thr = self.threshold if not isinstance(self.threshold, tuple) else np.asarray(self.threshold, np.float32)
        cw = None if self.class_weight is None else np.asarray(self.class_weight, np.float32)
        return thr, cw

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
        if self.validate:
            _format.validate_values(preds, targets, task=self.task, num_classes=self.num_classes,
                                    ignore_index=self.ignore_index)
        thr, cw = self._config_arrays()
        inc = self.state_spec().update(preds, targets, mask, sample_weight, cw, thr)
        if self._samplewise:
            return append_rows(state, inc)
        # Unweighted counts of this batch are at most its number of elements (a static bound).
        return add_into(state, inc, type(self).__name__, bound=_checks.static_size(jnp.shape(preds)))

    def merge(self, a: State, b: State) -> State:
        if not self._samplewise:
            return super().merge(a, b)
        a, b = self._open(a, "merge"), self._open(b, "merge")
        cap = jax.tree_util.tree_leaves(b.rows)[0].shape[0]
        valid_b = jax.tree.map(lambda r: r, b.rows)
        out = append_rows(a, valid_b, n_valid=jnp.minimum(b.n, cap))
        return self._seal(out._replace(n=a.n + b.n))   # b's own overflow stays counted

    def all_reduce(self, state: State, axis_name: Any) -> State:
        if self._samplewise:
            raise NotImplementedError("multidim_average='samplewise' states hold rows: gather them with merge, "
                                      "not a psum across devices.")
        return super().all_reduce(state, axis_name)

    # -- one-shot -------------------------------------------------------------------------
    @classmethod
    def one_shot(cls, preds: Any, targets: Any, *, mask: Any = None, sample_weight: Any = None,
                 class_weight: Any = None, threshold: Any = 0.5, **config: Any) -> Any:
        """``cls(**config).evaluate(...)``: what a metric's one-shot function runs."""
        return cls(**config).evaluate(preds, targets, mask=mask, sample_weight=sample_weight,
                                      class_weight=class_weight, threshold=threshold)

    def evaluate(self, preds: Any, targets: Any, *, mask: Any = None, sample_weight: Any = None,
                 class_weight: Any = None, threshold: Any = None) -> Any:
        """The metric of one batch: the data pass (jitted, keyed by :meth:`state_spec`), then compute.

        ``threshold`` and ``class_weight`` are data here (traced: a new value never recompiles);
        ``None`` takes the metric's own. This is what the one-shot functions run.
        """
        preds = _checks.as_array(preds, "preds")
        targets = _checks.as_array(targets, "targets")
        if self.validate:
            _format.validate_values(preds, targets, task=self.task, num_classes=self.num_classes,
                                    ignore_index=self.ignore_index)
        thr, cw = self._config_arrays()
        thr = _checks.as_array(thr if threshold is None else threshold, "threshold")
        cw = _checks.as_optional_array(cw if class_weight is None else class_weight, "class_weight")
        data = (preds, targets, _checks.as_optional_array(mask, "mask"),
                _checks.as_optional_array(sample_weight, "sample_weight"), cw, thr)
        _invalid.check_weights(sample_weight)       # NaN / negative weights: ValueError when concrete
        bad = self._any_invalid(preds, targets, data[2], data[3])
        state = run_data_pass(self.state_spec(), *data)
        if self._samplewise:
            return _invalid.poison(self._samplewise_rows(state), bad)
        return _invalid.poison(self.compute(state), bad)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RatioMetric(ConfusionMetric):
    """A per-class ratio ``formula(tp, fp, fn, tn, beta²) -> (num, den)``, then averaged."""

    average: Any = "macro"
    zero_division: Any = 0.0
    absent_classes: str = "auto"
    labels: Any = None
    class_id: int | None = None

    formula: ClassVar[Callable]
    multiclass_formula: ClassVar[Callable | None] = None   # e.g. accuracy = recall for multiclass
    _samplewise_ok: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", check_labels(self.labels, self.task))
        if self.class_id is not None:
            if self.task == "binary":
                raise ValueError("`class_id` picks one class of task='multiclass' or one label of "
                                 "task='multilabel'; task='binary' has only the positive class.")
            if self.labels is not None:
                raise ValueError("pass `class_id` or `labels`, not both.")
            k = _checks.check_static_int(self.class_id, "class_id", minimum=0)
            if self.num_classes is not None and k >= self.num_classes:
                raise ValueError(f"`class_id` must be in [0, num_classes={self.num_classes}), got {k}.")
            object.__setattr__(self, "class_id", k)
        super().__post_init__()

    def _beta(self) -> Any:
        return getattr(self, "beta", 1.0)

    def _formula(self) -> Callable:
        if self.task == "multiclass" and self.multiclass_formula is not None:
            return self.multiclass_formula
        return type(self).formula

    def state_spec(self) -> StateSpec:
        if self.task == "multilabel" and self.average == "samples":
            return SamplesScoreState(*self._spec_args(), formula=self._formula(),
                                     zero_division=self.zero_division, beta=self._beta())
        return CountsState(*self._spec_args())

    def compute(self, state: State) -> jax.Array:
        """The metric from the accumulated state (``[]``, or ``[K]`` for ``average=None``)."""
        if isinstance(state, SampleRows):
            return self._samplewise_rows(state)
        if isinstance(self.state_spec(), SamplesScoreState):
            return samples_compute(state, zero_division=self.zero_division)
        counts = self._adjust_counts(state)
        average, absent, ignore = self.average, self.absent_classes, self.ignore_index
        if self.labels is not None:
            counts, absent, ignore = select_labels(counts, self.labels, self.task), "include", None
        if self.class_id is not None:
            average = None
        out = self._ratio(counts, average=average, absent_classes=absent, ignore_index=ignore)
        return out[self.class_id] if self.class_id is not None else out

    def _adjust_counts(self, counts: Counts) -> Counts:
        """Hook: change the counts before the formula (Jaccard micro drops an ignored class)."""
        return counts

    def _ratio(self, counts: Counts, *, average: Any, absent_classes: str, ignore_index: Any) -> jax.Array:
        return ratio_compute(counts, self._formula(), task=self.task, average=average,
                             zero_division=self.zero_division, absent_classes=absent_classes,
                             ignore_index=ignore_index, beta=self._beta())
