"""Exact (sort-based) ROC / PR statistics on ``[K, M]`` binary problems.

One co-sort per problem: ``jax.lax.sort`` orders the (negated) scores and
carries the positive and negative weights as payload operands
(``num_keys=1``), so no ``argsort`` and no gathers (XLA's CPU gathers are
slow). Elements with weight 0 (masked, ignored, zero sample weight — as
scikit-learn drops zero-weight samples) get a ``NaN`` key and sort after every
kept element, so they never create a threshold.

After the sort every element knows its tie group's point: cumulative weighted
``tps`` / ``fps`` at the *end* of its group (a reverse ``cummin`` over the
group ends) and at the end of the previous group (a ``cummax`` over the group
starts). That gives AUROC (trapezoids) and AP (step-wise, no interpolation) as
plain sums, exactly as scikit-learn's ``_binary_clf_curve`` groups ties.
Weights must be non-negative.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from maskjax._safe_divide import safe_divide


class SortedCounts(NamedTuple):
    """Per-element statistics in descending score order, all ``[K, M]``.

    ``scores``: sorted scores (``NaN`` for dropped elements, which come last);
    ``pos`` / ``neg``: the element's weight as a positive / negative;
    ``tps`` / ``fps``: weighted counts at the end of the element's tie group
    (i.e. predicting positive every score ``>=`` the element's score);
    ``tps_before`` / ``fps_before``: the same at the end of the previous group;
    ``last``: ``True`` on the one element per distinct kept score that ends its
    group (these are scikit-learn's ``threshold_idxs``);
    ``n_pos`` / ``n_neg``: ``[K]`` totals.
    """

    scores: jax.Array
    pos: jax.Array
    neg: jax.Array
    tps: jax.Array
    fps: jax.Array
    tps_before: jax.Array
    fps_before: jax.Array
    last: jax.Array
    n_pos: jax.Array
    n_neg: jax.Array


SORT_BACKENDS = ("auto", "xla", "numpy")


def _sortable_int(x: jax.Array) -> jax.Array:
    """Monotone map float → signed int of the same width (total order; +0 and −0 merged)."""
    x = jnp.where(x == 0, jnp.zeros((), x.dtype), x)
    itype = jnp.int32 if x.dtype == jnp.float32 else jnp.int64
    i = jax.lax.bitcast_convert_type(x, itype)
    bits = jnp.iinfo(itype).bits
    return i ^ ((i >> (bits - 1)) & jnp.iinfo(itype).max)


def _from_sortable_int(k: jax.Array, dtype) -> jax.Array:
    bits = jnp.iinfo(k.dtype).bits
    i = k ^ ((k >> (bits - 1)) & jnp.iinfo(k.dtype).max)
    return jax.lax.bitcast_convert_type(i, dtype)


def _numpy_co_sort(key, payload):
    """Host co-sort: pack (int32 key, 32-bit payload) into one int64 and sort that.

    NumPy's SIMD sort of one int64 array is ~20× faster than XLA's CPU sort of
    two operands, and packing makes the payload travel without a gather.
    """
    key = np.asarray(key)
    bits = np.ascontiguousarray(np.asarray(payload)).view(np.uint32).astype(np.int64)
    packed = (key.astype(np.int64) << 32) | bits
    packed.sort(axis=-1)
    hi = (packed >> 32).astype(np.int32)
    lo = (packed & 0xFFFFFFFF).astype(np.uint32).view(np.float32)
    return hi, lo


def _co_sort(key: jax.Array, payload: jax.Array, backend: str):
    if backend == "auto":
        backend = "numpy" if (jax.default_backend() == "cpu" and key.dtype == jnp.int32
                              and payload.dtype == jnp.float32) else "xla"
    if backend == "numpy" and key.dtype == jnp.int32 and payload.dtype == jnp.float32:
        key, payload = jax.lax.stop_gradient(key), jax.lax.stop_gradient(payload)
        out = (jax.ShapeDtypeStruct(key.shape, jnp.int32), jax.ShapeDtypeStruct(key.shape, jnp.float32))
        return jax.pure_callback(_numpy_co_sort, out, key, payload, vmap_method="expand_dims")
    return jax.lax.sort((key, payload), dimension=-1, num_keys=1, is_stable=False)


def sorted_counts(scores: jax.Array, labels: jax.Array, weights: jax.Array,
                  sort_backend: str = "auto") -> SortedCounts:
    """Co-sort ``[K, M]`` problems by descending score and accumulate (see module doc).

    The sort key is the score mapped to a sortable int and bit-inverted (so an
    ascending sort is descending in score); dropped elements get the largest
    key. The payload is one float per element, ``−w`` for positives and ``+w``
    for negatives (weights are non-negative, so the sign carries the label).
    ``sort_backend``: ``"xla"`` (``lax.sort``), ``"numpy"`` (a host
    ``pure_callback``, float32 only) or ``"auto"`` (NumPy on CPU, XLA elsewhere).
    """
    dtype = weights.dtype
    kept = weights != 0
    sdtype = jnp.promote_types(scores.dtype, dtype)
    ikey = ~_sortable_int(scores.astype(sdtype))
    big = jnp.iinfo(ikey.dtype).max
    ikey = jnp.where(kept, ikey, big)
    payload = jnp.where(labels != 0, -weights, weights)
    skey, payload = _co_sort(ikey, payload, sort_backend)
    pos_w = jnp.maximum(-payload, 0)
    neg_w = jnp.maximum(payload, 0)
    tps = jnp.cumsum(pos_w, axis=-1)
    fps = jnp.cumsum(neg_w, axis=-1)
    differs = skey[..., 1:] != skey[..., :-1]
    ones = jnp.ones(skey.shape[:-1] + (1,), bool)
    last = jnp.concatenate([differs, ones], axis=-1)
    first = jnp.concatenate([ones, differs], axis=-1)
    inf = jnp.asarray(jnp.inf, dtype)
    ax = skey.ndim - 1
    # Cumulative sums are non-decreasing, so the latest group end at or after i is a
    # reverse cummin, and the latest group start at or before i is a cummax.
    tps_end = jax.lax.cummin(jnp.where(last, tps, inf), axis=ax, reverse=True)
    fps_end = jax.lax.cummin(jnp.where(last, fps, inf), axis=ax, reverse=True)
    tps_before = jax.lax.cummax(jnp.where(first, tps - pos_w, -inf), axis=ax)
    fps_before = jax.lax.cummax(jnp.where(first, fps - neg_w, -inf), axis=ax)
    is_kept = skey != big
    sorted_scores = jnp.where(is_kept, _from_sortable_int(~skey, sdtype), jnp.nan)
    return SortedCounts(sorted_scores, pos_w, neg_w, tps_end, fps_end, tps_before, fps_before,
                        last & is_kept, tps[..., -1], fps[..., -1])


def auroc_from_counts(c: SortedCounts) -> jax.Array:
    """``[K]`` trapezoidal ROC AUC; ``nan`` where a problem lacks positives or negatives.

    AUROC = Σ_j neg_j · (tps_before_j + tps_j) / 2 / (P · N): each negative's
    weight times the mean TPR of its tie group's trapezoid.
    """
    area = jnp.sum(c.neg * (c.tps_before + c.tps), axis=-1) * 0.5
    den = c.n_pos * c.n_neg
    return jnp.where(den > 0, safe_divide(area, den), jnp.nan)


def average_precision_from_counts(c: SortedCounts) -> jax.Array:
    """``[K]`` step-wise AP = Σ_k (R_k − R_{k−1}) · P_k; 0 where there are no positives.

    Per element: Σ_j pos_j · precision(group of j) / P.
    """
    precision = safe_divide(c.tps, c.tps + c.fps)
    return safe_divide(jnp.sum(c.pos * precision, axis=-1), c.n_pos)
