"""Stat-scores engine: additive states (update) and pure reductions (compute).

Every confusion-matrix metric is ``compute(update(format_inputs(...)))``.
The states are small additive pytrees, so a streaming metric is::

    fmt   = _format.format_inputs(preds, targets, task=..., num_classes=..., threshold=...,
                                  from_logits=..., lower_is_positive=..., mask=..., sample_weight=...,
                                  class_weight=..., ignore_index=...)
    state = merge(state, counts_update(fmt, task=task, num_classes=C))   # merge = tree add
    value = score_compute(state, "f1", task=task, average="macro", zero_division=0.0, ...)

States (all leaves are arrays; ``merge(a, b) = tree_map(add, a, b)``; ``*_init``
gives the zero state):

=================  =======================================================  ==========================
state              leaves                                                    update
=================  =======================================================  ==========================
``Counts``         ``tp[K]``, ``pred[K]`` (tp+fp), ``target[K]`` (tp+fn,    :func:`counts_update`,
                   support), ``total`` (``[]`` multiclass, ``[K]`` binary /  :func:`topk_update`
                   multi-label: Σ weight), ``seen[K]`` (unweighted number of
                   kept elements labelled or predicted k: class presence)
confusion matrix   ``[C, C]`` array, ``C[i, j] = Σ w`` over (true i, pred j)   :func:`confmat_update`
``SamplesState``   ``score_sum`` Σ sᵢ·scoreᵢ, ``weight_sum`` Σ sᵢ,            :func:`samples_update`,
                   ``plain_sum`` Σ scoreᵢ, ``count`` (samples kept, NaN      :func:`exact_match_update`,
                   scores dropped; the plain sums are scikit-learn's         :func:`ranking_update`
                   fallback when every sample weight is 0)
=================  =======================================================  ==========================

``K`` is ``num_classes`` (multiclass), ``L`` (multi-label) or 1 (binary: the
positive class). Counts are int32 when the inputs carry no ``sample_weight`` /
``class_weight`` and float32 otherwise (float32 counts are exact up to 2**24 of
total weight per entry); an int32 state merged with a float32 one promotes to
float32, so a streaming state may simply start as float32 zeros.

Metric → (update, compute):

====================================================  ===========================  ==============================
metric                                                update                       compute
====================================================  ===========================  ==============================
precision, recall, f-beta/F1, dice, specificity,      ``counts_update``            ``score_compute(state, name)``
jaccard, accuracy, hamming                            (``samples_update`` for
                                                      ``average="samples"``)
stat_scores                                           ``counts_update``            ``stat_scores_compute``
balanced_accuracy                                     ``counts_update``            ``balanced_accuracy_compute``
matthews_corrcoef                                     ``counts_update``            ``mcc_compute``
cohen_kappa (unweighted)                              ``counts_update``            ``kappa_compute``
cohen_kappa (linear / quadratic), confusion_matrix    ``confmat_update``           ``kappa_confmat_compute``,
                                                      (multiclass; binary and      ``confmat_compute``
                                                      multi-label use Counts)
top_k_accuracy (k > 1)                                ``topk_update``              ``score_compute(state, "recall")``
exact_match                                           ``exact_match_update``       ``samples_compute``
precision_at_k, recall_at_k                           ``ranking_update``           ``samples_compute``
====================================================  ===========================  ==============================

Everything here is trace-safe and does one pass over the data; the per-class
counts are O(N + C) (``segment_sum`` on class ids, masked/ignored elements
routed to weight 0 at a safe index, never to index −1); only the multiclass
confusion matrix is C×C.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from maskjax import _weighting
from maskjax._safe_divide import safe_divide
from maskjax.metrics._format import Formatted, format_inputs, include_classes

__all__ = [
    "Counts",
    "SamplesState",
    "merge",
    "counts_init",
    "counts_update",
    "topk_update",
    "confmat_init",
    "confmat_update",
    "samples_init",
    "samples_update",
    "exact_match_update",
    "ranking_update",
    "average_scores",
    "score_compute",
    "stat_scores_compute",
    "balanced_accuracy_compute",
    "mcc_compute",
    "kappa_compute",
    "kappa_confmat_compute",
    "confmat_compute",
    "counts_confmat",
    "samples_compute",
    "SCORES",
    "SAMPLE_SCORES",
]

# Metric name → (numerator, denominator) from per-class tp, fp, fn, tn (and beta).
SCORES = {
    "precision": lambda tp, fp, fn, tn, b2: (tp, tp + fp),
    "recall": lambda tp, fp, fn, tn, b2: (tp, tp + fn),
    "fbeta": lambda tp, fp, fn, tn, b2: ((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp),
    "dice": lambda tp, fp, fn, tn, b2: (2 * tp, 2 * tp + fp + fn),
    "specificity": lambda tp, fp, fn, tn, b2: (tn, tn + fp),
    "jaccard": lambda tp, fp, fn, tn, b2: (tp, tp + fp + fn),
    "accuracy": lambda tp, fp, fn, tn, b2: (tp + tn, tp + fp + fn + tn),
    "hamming": lambda tp, fp, fn, tn, b2: (fp + fn, tp + fp + fn + tn),
    "miss_rate": lambda tp, fp, fn, tn, b2: (fn, tp + fn),
}
# Scores defined per sample for average="samples" (scikit-learn's set).
SAMPLE_SCORES = ("precision", "recall", "fbeta", "dice", "jaccard")


class Counts(NamedTuple):
    """Per-class weighted counts (see the module docstring)."""

    tp: jax.Array
    pred: jax.Array
    target: jax.Array
    total: jax.Array
    seen: jax.Array


class SamplesState(NamedTuple):
    """Sums for a sample-weighted mean of per-sample scores."""

    score_sum: jax.Array
    weight_sum: jax.Array
    plain_sum: jax.Array
    count: jax.Array


def merge(a: Any, b: Any) -> Any:
    """Merge two states of the same kind: element-wise addition of the leaves."""
    return jax.tree_util.tree_map(jnp.add, a, b)


# --------------------------------------------------------------------------- #
# init / update
# --------------------------------------------------------------------------- #
def counts_init(task: str, num_classes: int | None, dtype: Any = jnp.float32) -> Counts:
    """Zero :class:`Counts` for ``task`` (``num_classes`` = L for multi-label)."""
    k = 1 if task == "binary" else num_classes
    z = jnp.zeros((k,), dtype)
    total = jnp.zeros((), dtype) if task == "multiclass" else z
    return Counts(z, z, z, total, z)


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
        blocked = None if raw is None else _multilabel_counts_blocked(raw, num_classes)
        if blocked is not None:
            return blocked
    return _dense_counts(fmt, task)


# Multi-label counts: rows per loop step. XLA:CPU lowers a column sum of a fused [N, L] expression
# to passes over materialised N x L temporaries (344 ms = 25x the read bound at N=20k L=1000); a loop
# whose body formats and sums 32 rows keeps everything in cache: 24-28 ms (bench/README.md, W5).
_ROW_BLOCK = 32


def _rows_of(x: Any, lead: tuple[int, ...], num_labels: int):
    """``mask`` / ``sample_weight`` as ``[N]`` or ``[N, L]`` rows; ``False`` if not row-sliceable."""
    if x is None:
        return None
    x = jnp.asarray(x)
    n = 1
    for d in lead:
        n *= d
    if x.ndim <= len(lead) and tuple(x.shape) == tuple(lead[: x.ndim]):
        return _weighting.broadcast_left(x, lead, "mask").reshape(n)
    if tuple(x.shape) == tuple(lead) + (num_labels,):
        return x.reshape(n, num_labels)
    return False


def _multilabel_counts_blocked(raw: dict, num_classes: int | None) -> Counts | None:
    """Multi-label :class:`Counts` from the raw inputs, formatted and summed per block of rows.

    Exactly the formatting and sums of the dense path (each block is passed through
    ``format_inputs`` and :func:`_dense_counts`); int32 counts are identical, float32 ones
    differ only by summation order. ``None`` when the inputs do not split into rows.
    """
    if jax.default_backend() != "cpu":
        # The row loop is a CPU cache trick; on an H200 it is sequential and slow (W5: 10.1 ms vs
        # 0.74 ms for the dense column sums, bench/RESULTS_gpu.md), so GPUs/TPUs take the dense path.
        return None
    preds, targets = raw["preds"], raw["targets"]
    lead, num_labels = tuple(preds.shape[:-1]), preds.shape[-1]
    n = 1
    for d in lead:
        n *= d
    k = _ROW_BLOCK
    if n < 2 * k or targets.shape != preds.shape:
        return None
    mask = _rows_of(raw["mask"], lead, num_labels)
    sw = _rows_of(raw["sample_weight"], lead, num_labels)
    if mask is False or sw is False:
        return None
    p2 = preds.reshape(n, num_labels)
    t2 = targets.reshape(n, num_labels)
    opts = dict(task="multilabel", num_classes=num_classes, threshold=raw["threshold"],
                from_logits=raw["from_logits"], lower_is_positive=raw["lower_is_positive"],
                class_weight=raw["class_weight"], ignore_index=raw["ignore_index"])

    def counts_of(take):
        m = None if mask is None else take(mask)
        s = None if sw is None else take(sw)
        fmt = format_inputs(take(p2), take(t2), mask=m, sample_weight=s, **opts)
        if fmt.weight.dtype != jnp.int32 or fmt.preds.shape[0] > 127:
            return _dense_counts(fmt, "multilabel")
        # Unweighted (weight == keep, p and t already 0 where dropped): one column sum of the four
        # 0/1 fields packed 8 bits apart (each block sum <= 127), seen = pred + target - tp.
        p, t, keep = fmt.preds, fmt.targets, fmt.keep.astype(jnp.int32)
        packed = jnp.sum((p * t) | (p << 8) | (t << 16) | (keep << 24), axis=0)
        tp, pred, target, total = ((packed >> s) & 0xFF for s in (0, 8, 16, 24))
        return Counts(tp, pred, target, total, pred + target - tp)

    nb = n // k

    def body(i, acc):
        blk = counts_of(lambda x: lax.dynamic_slice_in_dim(x, i * k, k, 0))
        return merge(acc, blk)

    shapes = jax.eval_shape(lambda: counts_of(lambda x: x[:k]))
    init = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
    acc = lax.fori_loop(0, nb, body, init)
    if nb * k != n:
        acc = merge(acc, counts_of(lambda x: x[nb * k:]))
    return acc


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


def topk_update(fmt: Formatted, *, num_classes: int, top_k: int) -> Counts:
    """Top-k hit counts (multiclass float scores): ``tp[c]`` = Σ w where class c is a target in the top k.

    The target is in the top k iff fewer than ``k`` classes beat it, a class
    beating it when its score is higher, or equal with a lower index (ties
    broken towards the lowest index, consistent with :func:`first_argmax`;
    scikit-learn breaks ties the other way). A fused compare-and-count over
    ``[N, C]``, never materialised. ``pred`` repeats ``tp`` (no predicted-
    class count exists for k > 1) and ``seen`` counts kept targets, so only
    recall-type computes (``score_compute(state, "recall")``) are meaningful.
    """
    if fmt.scores is None:
        raise ValueError("top_k > 1 needs float scores [..., C] as `preds`, got integer class ids.")
    c = num_classes
    s = fmt.scores.reshape(-1, c)
    t = fmt.targets.reshape(-1)
    w = fmt.weight.reshape(-1)
    keep = fmt.keep.reshape(-1).astype(w.dtype)
    st = jnp.take_along_axis(s, t[:, None], axis=1)
    iota = lax.broadcasted_iota(jnp.int32, s.shape, 1)
    beats = (s > st) | ((s == st) & (iota < t[:, None]))
    hit = (jnp.sum(beats, axis=1, dtype=jnp.int32) < top_k).astype(w.dtype)
    by_t = jax.ops.segment_sum(jnp.stack([w * hit, w, keep], axis=-1), t, num_segments=c)
    return Counts(by_t[:, 0], by_t[:, 0], by_t[:, 1], jnp.sum(by_t[:, 1]), by_t[:, 2])


def confmat_init(num_classes: int, dtype: Any = jnp.float32) -> jax.Array:
    return jnp.zeros((num_classes, num_classes), dtype)


def confmat_update(fmt: Formatted, *, num_classes: int) -> jax.Array:
    """Multiclass ``[C, C]`` confusion matrix: one ``segment_sum`` on the flat key ``t·C + p``.

    Dropped elements sit at key 0 with weight 0 (never index −1).
    """
    c = num_classes
    key = fmt.targets.reshape(-1) * c + fmt.preds.reshape(-1)
    return jax.ops.segment_sum(fmt.weight.reshape(-1), key, num_segments=c * c).reshape(c, c)


def samples_init(dtype: Any = jnp.float32) -> SamplesState:
    z = jnp.zeros((), dtype)
    return SamplesState(z, z, z, z)


def _sample_weight(sw: jax.Array | None, sample_shape: tuple[int, ...]) -> jax.Array:
    if sw is None:
        return jnp.ones(sample_shape, jnp.float32)
    return _weighting.broadcast_left(sw.astype(jnp.promote_types(sw.dtype, jnp.float32)),
                                     sample_shape, "sample_weight", target="per-sample")


def _samples_state(score: jax.Array, kept: jax.Array, s: jax.Array) -> SamplesState:
    valid = kept & ~jnp.isnan(score)
    sc = jnp.where(valid, score, 0.0)
    sv = jnp.where(valid, s, 0.0)
    return SamplesState(jnp.sum(sc * sv), jnp.sum(sv), jnp.sum(sc),
                        jnp.sum(valid, dtype=jnp.float32))


def samples_update(fmt: Formatted, score: str, *, zero_division: Any = 0.0,
                   beta: Any = 1.0) -> SamplesState:
    """Multi-label ``average="samples"``: per-sample scores over the label axis.

    Per-sample counts weight each label by ``keep · class_weight`` (the mask and
    ignore_index drop labels); the sample's score is then averaged with its
    ``sample_weight`` (which must broadcast from the left to the sample shape
    ``[*S]``, not include the label axis) — scikit-learn's ``samples`` average.
    Samples with no kept label are skipped.
    """
    ew = fmt.keep.astype(jnp.float32)
    if fmt.class_w is not None:
        ew = ew * fmt.class_w
    p = fmt.preds.astype(jnp.float32)
    t = fmt.targets.astype(jnp.float32)
    tp = jnp.sum(ew * p * t, -1)
    pred = jnp.sum(ew * p, -1)
    target = jnp.sum(ew * t, -1)
    num, den = SCORES[score](tp, pred - tp, target - tp, None, jnp.asarray(beta, jnp.float32) ** 2)
    value = safe_divide(num, den, zero_division)
    sample_shape = fmt.preds.shape[:-1]
    return _samples_state(value, jnp.any(fmt.keep, -1), _sample_weight(fmt.sample_weight, sample_shape))


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


def ranking_update(preds: jax.Array, targets: jax.Array, *, k: int, which: str,
                   mask: Any = None, sample_weight: Any = None, ignore_index: int | None = None,
                   zero_division: Any = 0.0) -> SamplesState:
    """Multi-label precision@k / recall@k per sample (``which`` = "precision" | "recall").

    ``preds`` ``[*S, L]`` float scores, ``targets`` ``[*S, L]`` 0/1. Masked or
    ignored labels leave the ranking (score −inf) and are never relevant. The
    top k come from ``lax.top_k`` (ties to the lower index). P@k = hits / k;
    R@k = hits / #relevant (``zero_division`` when a sample has none).
    """
    preds = jnp.asarray(preds)
    if not jnp.issubdtype(preds.dtype, jnp.floating):
        raise TypeError(f"ranking metrics need float scores as `preds`, got dtype {preds.dtype}.")
    if not 1 <= k <= preds.shape[-1]:
        raise ValueError(f"`k` must be in [1, {preds.shape[-1]}] (the number of labels), got {k}.")
    fmt = format_inputs(preds, targets, task="multilabel", threshold=0.0, mask=mask,
                                sample_weight=None, ignore_index=ignore_index)
    scores = jnp.where(fmt.keep, preds, -jnp.inf)
    _, idx = lax.top_k(scores, k)
    relevant = (fmt.keep & (fmt.targets == 1)).astype(jnp.float32)
    hits = jnp.sum(jnp.take_along_axis(relevant, idx, axis=-1), -1)
    den = jnp.full(hits.shape, float(k)) if which == "precision" else jnp.sum(relevant, -1)
    value = safe_divide(hits, den, zero_division)
    sw = None if sample_weight is None else jnp.asarray(sample_weight)
    return _samples_state(value, jnp.any(fmt.keep, -1), _sample_weight(sw, preds.shape[:-1]))


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


def score_compute(counts: Counts, metric: str, *, task: str, average: Any = "macro",
                  zero_division: Any = 0.0, absent_classes: str = "auto",
                  ignore_index: int | None = None, beta: Any = 1.0) -> jax.Array:
    """A ratio metric from counts: ``SCORES[metric]`` per class, then ``average``.

    Binary returns the positive-class scalar (``average`` ignored). Multiclass
    ``accuracy`` is recall (micro: Σtp / Σweight = scikit-learn
    ``accuracy_score``; macro: mean per-class recall, torchmetrics) and
    multiclass ``hamming`` is ``1 - accuracy`` (``miss_rate``); for multi-label
    both are element-wise per label.
    """
    if task == "multiclass" and metric == "accuracy":
        metric = "recall"
    if task == "multiclass" and metric == "hamming":
        metric = "miss_rate"
    formula = SCORES[metric]
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


def balanced_accuracy_compute(counts: Counts, *, task: str, average: Any = "macro",
                              zero_division: Any = 0.0, absent_classes: str = "auto",
                              ignore_index: int | None = None) -> jax.Array:
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
        return average_scores(rec, include, counts.target, "macro", zero_division)
    tpr = safe_divide(tp, tp + fn, nan)
    tnr = safe_divide(tn, tn + fp, nan)
    both = jnp.stack([tpr, tnr])
    ok = ~jnp.isnan(both)
    per_label = safe_divide(jnp.sum(jnp.where(ok, both, 0.0), 0), jnp.sum(ok, 0), nan)
    if task == "binary":
        return jnp.where(jnp.isnan(per_label[0]), jnp.asarray(zero_division, jnp.float32), per_label[0])
    if average is None:
        return jnp.where(jnp.isnan(per_label), jnp.asarray(zero_division, jnp.float32), per_label)
    if average == "micro":
        tp, fp, fn, tn = (jnp.sum(x)[None] for x in (tp, fp, fn, tn))
        return balanced_accuracy_compute(Counts(tp, tp + fp, tp + fn, tp + fp + fn + tn, tp),
                                         task="binary", zero_division=zero_division)
    include = include_classes(counts.seen, task=task, absent_classes=absent_classes, ignore_index=None)
    return average_scores(per_label, include, counts.target, average, zero_division)


def _pooled_binary(counts: Counts):
    tp, fp, fn, tn = (jnp.sum(x) for x in _cells(counts))
    t_sum = jnp.stack([tn + fp, tp + fn])
    p_sum = jnp.stack([tn + fn, tp + fp])
    return t_sum, p_sum, tp + tn, tp + fp + fn + tn


def _class_sums(counts: Counts, task: str):
    """Float32 true / predicted class sums, correct count and total."""
    if task == "multiclass":
        t, p, c = counts.target, counts.pred, jnp.sum(counts.tp)
    else:
        t, p, c, _ = _pooled_binary(counts)
    t, p, c = (x.astype(jnp.float32) for x in (t, p, c))
    return t, p, c, jnp.sum(t)


def _occupied(x: jax.Array, s: jax.Array) -> jax.Array:
    """Classes with a non-zero sum (relative 1e-6: float32 cells are differences of sums)."""
    return x > 1e-6 * s


def mcc_compute(counts: Counts, *, task: str, zero_division: Any = 0.0) -> jax.Array:
    r"""Matthews correlation from class sums (scikit-learn's multiclass formula).

    :math:`(c s - \sum_k t_k p_k) / \sqrt{(s^2 - \sum p_k^2)(s^2 - \sum t_k^2)}`
    computed on counts normalised by s (float32-safe). Degenerate (all
    targets or all predictions in one class) → 0, as scikit-learn; nothing
    kept → ``zero_division``. Multi-label pools all labels into one binary
    problem (torchmetrics).
    """
    t_sum, p_sum, correct, s = _class_sums(counts, task)
    s_safe = jnp.where(s > 0, s, 1.0)
    t = t_sum / s_safe
    p = p_sum / s_safe
    cov_tp = correct / s_safe - jnp.sum(t * p)
    den = (1.0 - jnp.sum(p * p)) * (1.0 - jnp.sum(t * t))
    ok = ((jnp.sum(_occupied(t_sum, s)) > 1) & (jnp.sum(_occupied(p_sum, s)) > 1) & (den > 0))
    mcc = jnp.where(ok, cov_tp / jnp.sqrt(jnp.where(ok, den, 1.0)), 0.0)
    return jnp.where(s > 0, jnp.clip(mcc, -1.0, 1.0), jnp.asarray(zero_division, jnp.float32))


def _kappa_defined(t_sum, p_sum, s):
    """Chance agreement < 1: not (targets and predictions all in one and the same class)."""
    ot, op = _occupied(t_sum, s), _occupied(p_sum, s)
    single = (jnp.sum(ot) == 1) & (jnp.sum(op) == 1) & (jnp.sum(ot & op) == 1)
    return (s > 0) & ~single


def kappa_compute(counts: Counts, *, task: str, zero_division: Any = jnp.nan) -> jax.Array:
    r"""Unweighted Cohen's kappa from class sums: :math:`1 - (1 - p_o) / (1 - p_e)`.

    :math:`p_o = \sum tp / s`, :math:`p_e = \sum_k t_k p_k / s^2`. Undefined
    (nothing kept, or :math:`p_e = 1`) → ``zero_division`` (scikit-learn's
    ``replace_undefined_by``).
    """
    t_sum, p_sum, correct, s = _class_sums(counts, task)
    s_safe = jnp.where(s > 0, s, 1.0)
    disagree = 1.0 - correct / s_safe
    expected = 1.0 - jnp.sum((t_sum / s_safe) * (p_sum / s_safe))
    ok = _kappa_defined(t_sum, p_sum, s) & (expected > 0)
    return jnp.where(ok, 1.0 - disagree / jnp.where(ok, expected, 1.0),
                     jnp.asarray(zero_division, jnp.float32))


def kappa_confmat_compute(confmat: jax.Array, *, weights: str | None,
                          zero_division: Any = jnp.nan) -> jax.Array:
    r"""Cohen's kappa from a ``[C, C]`` confusion matrix, ``weights`` None/linear/quadratic.

    :math:`\kappa = 1 - \sum W \circ C / \sum W \circ E`, :math:`E = t p^T / s`
    (scikit-learn). The expected term is O(C) (moments / cumulative sums), so
    only the confusion matrix itself is C×C.
    """
    cm = confmat.astype(jnp.float32)
    c = cm.shape[0]
    s = jnp.sum(cm)
    s_safe = jnp.where(s > 0, s, 1.0)
    cm = cm / s_safe
    t = jnp.sum(cm, 1)
    p = jnp.sum(cm, 0)
    i = lax.broadcasted_iota(jnp.float32, (c, c), 0)
    j = lax.broadcasted_iota(jnp.float32, (c, c), 1)
    k = jnp.arange(c, dtype=jnp.float32)
    if weights is None:
        num = 1.0 - jnp.trace(cm)
        den = 1.0 - jnp.sum(t * p)
    elif weights == "quadratic":
        num = jnp.sum((i - j) ** 2 * cm)
        den = (jnp.sum(k * k * t) * jnp.sum(p) + jnp.sum(t) * jnp.sum(k * k * p)
               - 2.0 * jnp.sum(k * t) * jnp.sum(k * p))
    else:  # linear: Σ_i t_i Σ_j |i - j| p_j with cumulative sums
        num = jnp.sum(jnp.abs(i - j) * cm)
        cp = jnp.cumsum(p)
        cm_ = jnp.cumsum(k * p)
        dist = k * cp - cm_ + (cm_[-1] - cm_) - k * (cp[-1] - cp)
        den = jnp.sum(t * dist)
    ok = _kappa_defined(t * s, p * s, s) & (den > 0)
    return jnp.where(ok, 1.0 - num / jnp.where(ok, den, 1.0), jnp.asarray(zero_division, jnp.float32))


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


def samples_compute(state: SamplesState, *, zero_division: Any = 0.0) -> jax.Array:
    """Sample-weighted mean; all weights 0 → plain mean (scikit-learn); none → ``zero_division``."""
    return jnp.where(state.weight_sum > 0, safe_divide(state.score_sum, state.weight_sum),
                     safe_divide(state.plain_sum, state.count, zero_division))


# --------------------------------------------------------------------------- #
# Module-level jit of the compute step
# --------------------------------------------------------------------------- #
# Run eagerly, a compute is ~30 tiny ops, each dispatched (and compiled on first use) on its own;
# one cached jit per static configuration makes a one-shot metric two dispatches (update, compute).
# Config (metric, task, average, ...) is static; states, zero_division and beta are traced, so a
# changed zero_division never recompiles. Inside a caller's jit these inline as usual.
def _jit_compute(fn, static):
    jitted = jax.jit(fn, static_argnames=static)
    jitted.__doc__ = fn.__doc__
    return jitted


score_compute = _jit_compute(score_compute, ("metric", "task", "average", "absent_classes", "ignore_index"))
stat_scores_compute = _jit_compute(stat_scores_compute, ("task", "average", "absent_classes", "ignore_index"))
balanced_accuracy_compute = _jit_compute(balanced_accuracy_compute,
                                         ("task", "average", "absent_classes", "ignore_index"))
mcc_compute = _jit_compute(mcc_compute, ("task",))
kappa_compute = _jit_compute(kappa_compute, ("task",))
kappa_confmat_compute = _jit_compute(kappa_confmat_compute, ("weights",))
confmat_compute = _jit_compute(confmat_compute, ("normalize",))
counts_confmat = jax.jit(counts_confmat)
samples_compute = jax.jit(samples_compute)
