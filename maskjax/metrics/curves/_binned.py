"""Binned (fixed-threshold) ROC / PR statistics: an additive, streamable state.

Streaming API (the metric objects wrap exactly these; everything is pure and
jit-able, the state is a pytree of weighted sums, so merging is ``+`` and a
``psum`` across devices gives the one-shot answer)::

    thr   = binned_thresholds(200)                       # or any increasing [T] array
    state = binned_init(num_thresholds=200, num_outputs=K)   # K = 1 binary, C or L otherwise
    state = binned_update(state, preds, targets, thr, task="multiclass", num_classes=C,
                          from_logits=True, mask=m, sample_weight=w, ignore_index=-100)
    state = binned_merge(state, other)                    # == jax.tree.map(jnp.add, ...)
    auroc = binned_auroc(state, average="macro")          # or binned_average_precision,
    fpr, tpr, t = binned_roc(state, thr)                  #    binned_pr_curve

State (:class:`BinnedState`): ``neg`` and ``pos``, both ``[K, T + 1]``: the
weighted number of negatives / positives whose score falls in bucket ``b``,
where bucket ``b`` = the number of thresholds ``<= score`` (``0 … T``). The
counts at threshold ``k`` (predict positive iff ``score >= t_k``, the
torchmetrics binned convention) are suffix sums: ``tp_k = Σ_{b > k} pos[b]``,
``fp_k = Σ_{b > k} neg[b]``.

Update cost is O(N + T): one bucket index per score (floor arithmetic plus a
one-step exact correction for ``thresholds=int``; a binary search over the T
thresholds otherwise) and one ``segment_sum``; never an N×T comparison.
Threshold *values* are traced data: new values never recompile.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks
from maskjax._safe_divide import safe_divide
from maskjax.metrics import _format


class BinnedState(NamedTuple):
    """Per-bucket weighted histograms of negatives and positives, ``[K, T + 1]`` each."""

    neg: jax.Array
    pos: jax.Array


def binned_thresholds(thresholds: Any, dtype: Any = jnp.float32) -> jax.Array:
    """``int n`` → ``torch.linspace(0, 1, n)`` bit for bit; an array → itself (increasing).

    Example:
      >>> from maskjax.metrics.curves._binned import binned_thresholds
      >>> binned_thresholds(5).tolist()
      [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if isinstance(thresholds, (int, np.integer)) and not isinstance(thresholds, bool):
        n = _checks.check_static_int(thresholds, "thresholds", minimum=2)
        return jnp.asarray(_format.torch_linspace(n, np.dtype(dtype)))
    thr = _checks.as_array(thresholds, "thresholds")
    if thr.ndim != 1 or thr.shape[0] < 1:
        raise ValueError(f"`thresholds` must be an int >= 2 or a 1-D array, got shape {tuple(thr.shape)}.")
    _checks.check_numeric(thr, "thresholds")
    if not isinstance(thr, jax.core.Tracer):   # concrete: checked as the streaming objects check them
        host = np.asarray(thr, np.float64)
        if np.isnan(host).any() or np.any(np.diff(host) <= 0):
            raise ValueError(f"`thresholds` must be an int >= 2 or a strictly increasing 1-D array without NaN, "
                             f"got {host.tolist()[:8]}.")
    return thr.astype(jnp.promote_types(thr.dtype, jnp.float32)) if not _checks.is_floating(thr) else thr


def binned_init(num_thresholds: int, num_outputs: int = 1, dtype: Any = jnp.float32) -> BinnedState:
    """Zero state for ``num_thresholds`` thresholds and ``num_outputs`` binary problems."""
    t = _checks.check_static_int(num_thresholds, "num_thresholds", minimum=1)
    k = _checks.check_static_int(num_outputs, "num_outputs", minimum=1)
    z = jnp.zeros((k, t + 1), dtype)
    return BinnedState(z, z)


def binned_merge(a: BinnedState, b: BinnedState) -> BinnedState:
    """Merge two states (addition)."""
    return BinnedState(a.neg + b.neg, a.pos + b.pos)


def _buckets(scores: jax.Array, thr: jax.Array, evenly_spaced: bool) -> jax.Array:
    """Bucket = #thresholds ``<= score`` (int32, in ``[0, T]``), exact w.r.t. ``thr``'s values."""
    t = thr.shape[0]
    s = scores.astype(jnp.promote_types(scores.dtype, thr.dtype))
    if evenly_spaced and t >= 2:
        # Guess with floor arithmetic, then fix the guess against the actual values
        # (the guess is at most one off): O(1) per score, two tiny-table lookups.
        lo, hi = thr[0], thr[-1]
        guess = jnp.floor((s - lo) / (hi - lo) * (t - 1)).astype(jnp.int32) + 1
        guess = jnp.clip(jnp.where(jnp.isnan(s), 0, guess), 0, t)
        below = jnp.take(thr, jnp.clip(guess - 1, 0, t - 1))          # thr[guess - 1] should be <= s
        above = jnp.take(thr, jnp.clip(guess, 0, t - 1))              # thr[guess] should be > s
        guess = jnp.where((guess >= 1) & (s < below), guess - 1, guess)
        return jnp.where((guess < t) & (s >= above), guess + 1, guess)
    return jnp.searchsorted(thr, s, side="right").astype(jnp.int32)


def binned_update(state: BinnedState, preds: Any, targets: Any, thresholds: Any, *, task: str,
                  num_classes: int | None = None, from_logits: bool = False, mask: Any = None,
                  sample_weight: Any = None, ignore_index: int | None = None,
                  evenly_spaced: bool = False) -> BinnedState:
    """Add a batch to the state. ``thresholds``: the ``[T]`` increasing array.

    ``evenly_spaced=True`` promises ``thresholds`` is evenly spaced (as from
    :func:`binned_thresholds` with an int) and enables the O(1) bucket
    arithmetic; the result is exact either way.
    """
    thr = binned_thresholds(thresholds)
    p = _format.format_problems(preds, targets, task=task, num_classes=num_classes, from_logits=from_logits,
                           mask=mask, sample_weight=sample_weight, ignore_index=ignore_index)
    k, t = state.pos.shape[0], state.pos.shape[1] - 1
    if p.scores.shape[0] != k or thr.shape[0] != t:
        raise ValueError(
            f"state has {k} outputs and {t} thresholds, but the batch has {p.scores.shape[0]} outputs "
            f"and {thr.shape[0]} thresholds.")
    return binned_merge(state, histogram(p, thr, evenly_spaced, state.pos.dtype))


def histogram(p: _format.Problems, thr: jax.Array, evenly_spaced: bool, dtype: Any = None) -> BinnedState:
    """The state of one batch of ``[K, M]`` problems: one bucket pass + one ``segment_sum``."""
    k, t = p.scores.shape[0], thr.shape[0]
    b = _buckets(p.scores, thr, evenly_spaced)                          # [K, M]
    seg = ((jnp.arange(k, dtype=jnp.int32)[:, None] * (t + 1) + b) * 2 + (p.labels != 0)).reshape(-1)
    w = p.weights.reshape(-1)
    hist = jax.ops.segment_sum(w if dtype is None else w.astype(dtype), seg,
                               num_segments=k * (t + 1) * 2).reshape(k, t + 1, 2)
    return BinnedState(hist[..., 0], hist[..., 1])


class BinnedCounts(NamedTuple):
    """``[K, T]`` weighted tp/fp/tn/fn at each threshold (positive iff score >= t)."""

    tp: jax.Array
    fp: jax.Array
    tn: jax.Array
    fn: jax.Array


def binned_counts(state: BinnedState, micro: bool = False) -> BinnedCounts:
    """Confusion counts per threshold from the histograms (suffix sums)."""
    neg, pos = state
    if micro:
        neg, pos = neg.sum(0, keepdims=True), pos.sum(0, keepdims=True)
    tp = jnp.cumsum(pos[:, ::-1], axis=-1)[:, ::-1][:, 1:]
    fp = jnp.cumsum(neg[:, ::-1], axis=-1)[:, ::-1][:, 1:]
    return BinnedCounts(tp, fp, neg.sum(-1, keepdims=True) - fp, pos.sum(-1, keepdims=True) - tp)


def binned_roc(state: BinnedState, thresholds: Any, micro: bool = False):
    """``(fpr, tpr, thresholds)``, each ``[K, T]``, thresholds *decreasing* (torchmetrics).

    fpr = fp / (fp + tn), tpr = tp / (tp + fn); 0 where a denominator is 0.
    """
    c = binned_counts(state, micro)
    thr = binned_thresholds(thresholds)
    fpr = safe_divide(c.fp, c.fp + c.tn)[:, ::-1]
    tpr = safe_divide(c.tp, c.tp + c.fn)[:, ::-1]
    return fpr, tpr, jnp.broadcast_to(thr[::-1], fpr.shape)


def binned_pr_curve(state: BinnedState, thresholds: Any, micro: bool = False):
    """``(precision [K, T+1], recall [K, T+1], thresholds [K, T])``, thresholds increasing.

    precision = tp / (tp + fp), recall = tp / (tp + fn), ``nan`` where a
    denominator is 0 (torchmetrics); a final point (1, 0) is appended.
    """
    c = binned_counts(state, micro)
    thr = binned_thresholds(thresholds)
    precision = safe_divide(c.tp, c.tp + c.fp, jnp.nan)
    recall = safe_divide(c.tp, c.tp + c.fn, jnp.nan)
    k = precision.shape[0]
    one = jnp.ones((k, 1), precision.dtype)
    precision = jnp.concatenate([precision, one], axis=-1)
    recall = jnp.concatenate([recall, jnp.zeros_like(one)], axis=-1)
    return precision, recall, jnp.broadcast_to(thr, (k, thr.shape[0]))


def _average(values, state, average, task):
    support = state.pos.sum(-1)
    return _format.reduce_classes(values, support, average, task)


@functools.partial(jax.jit, static_argnames=("average", "task"))
def binned_auroc(state: BinnedState, average: Any = "macro", task: str = "binary") -> jax.Array:
    """Trapezoidal area under the binned ROC (torchmetrics ``thresholds=...``).

    ``nan`` for a problem without positives or without negatives (torchmetrics
    returns 0 there; maskjax keeps exact and binned modes consistent with
    scikit-learn's ``nan``). Averages as :func:`maskjax.metrics.auroc`.
    """
    average = _format.check_curve_average(average)
    micro = average == "micro"
    fpr, tpr, _ = binned_roc(state, jnp.zeros(state.pos.shape[1] - 1), micro)
    area = jnp.sum((fpr[:, 1:] - fpr[:, :-1]) * (tpr[:, 1:] + tpr[:, :-1]), axis=-1) * 0.5
    neg, pos = state
    if micro:
        neg, pos = neg.sum(0, keepdims=True), pos.sum(0, keepdims=True)
    defined = (neg.sum(-1) > 0) & (pos.sum(-1) > 0)
    return _average(jnp.where(defined, area, jnp.nan), state, average, task)


@functools.partial(jax.jit, static_argnames=("average", "task"))
def binned_average_precision(state: BinnedState, average: Any = "macro", task: str = "binary") -> jax.Array:
    """AP = −Σ_k (R_{k+1} − R_k) · P_k over the binned PR curve (``nan`` → 0), torchmetrics.

    0 for a problem without positives.
    """
    average = _format.check_curve_average(average)
    micro = average == "micro"
    precision, recall, _ = binned_pr_curve(state, jnp.zeros(state.pos.shape[1] - 1), micro)
    precision = jnp.nan_to_num(precision, nan=0.0)
    recall = jnp.nan_to_num(recall, nan=0.0)
    ap = -jnp.sum((recall[:, 1:] - recall[:, :-1]) * precision[:, :-1], axis=-1)
    return _average(ap + 0.0, state, average, task)
