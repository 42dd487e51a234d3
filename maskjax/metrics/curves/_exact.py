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

That is the GPU/TPU (and multi-device) route. XLA:CPU's sort is 5–10× slower than
NumPy's, so on a single-device CPU runtime the sort and the reductions run in NumPy
on XLA's own buffers (:mod:`maskjax._kernels.host_call`): AUROC / AP reduce to
scalars in one host kernel (unweighted: one uint32 sort, then a Mann–Whitney
count or the runs of equal-score positives), and the per-element fields are
filled by a second kernel that ``jit`` drops when only the scalars are used.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from maskjax._kernels import exact_host


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
    ``host``: ``None``, or (NumPy backend) the unsorted ``(key, score, label, weight)``
    ``[K, M]`` arrays and the static ``unit_weights`` flag, so that AUROC / AP can be
    reduced to ``[K]`` scalars in one host kernel; the per-element fields are then
    filled by a second kernel that ``jit`` removes when only the scalars are used.
    On the NumPy backend ``pos``, ``neg``, ``tps_before`` and ``fps_before`` are
    ``None``: only the AUROC / AP formulas need them, and those run on the host.
    """

    scores: jax.Array
    pos: jax.Array | None
    neg: jax.Array | None
    tps: jax.Array
    fps: jax.Array
    tps_before: jax.Array | None
    fps_before: jax.Array | None
    last: jax.Array
    n_pos: jax.Array
    n_neg: jax.Array
    host: tuple | None = None


SORT_BACKENDS = ("auto", "xla", "numpy")

_BIG = np.iinfo(np.int32).max


def _sortable_int(x: jax.Array) -> jax.Array:
    """Monotone map float → signed int of the same width (total order; +0 and −0 merged).

    Zero is found from the bits, not ``x == 0``: XLA:CPU compares denormals as zero.
    """
    itype = jnp.int32 if x.dtype == jnp.float32 else jnp.int64
    i = jax.lax.bitcast_convert_type(x, itype)
    i = jnp.where((i & jnp.iinfo(itype).max) == 0, jnp.zeros((), itype), i)
    bits = jnp.iinfo(itype).bits
    return i ^ ((i >> (bits - 1)) & jnp.iinfo(itype).max)


def _from_sortable_int(k: jax.Array, dtype) -> jax.Array:
    bits = jnp.iinfo(k.dtype).bits
    i = k ^ ((k >> (bits - 1)) & jnp.iinfo(k.dtype).max)
    return jax.lax.bitcast_convert_type(i, dtype)


def _xla_co_sort(key, payload):
    return jax.lax.sort((key, payload), dimension=-1, num_keys=1, is_stable=False)


def sorted_counts(scores: jax.Array, labels: jax.Array, weights: jax.Array,
                  sort_backend: str = "auto", unit_weights: bool = False) -> SortedCounts:
    r"""Co-sort ``[K, M]`` problems by descending score and accumulate (see module doc).

    The sort key is the score mapped to a sortable int and bit-inverted (so an
    ascending sort is descending in score); dropped elements get the largest
    key. The payload is one float per element, ``−w`` for positives and ``+w``
    for negatives (weights are non-negative, so the sign carries the label).
    ``sort_backend``: ``"xla"`` (``lax.sort``), ``"numpy"`` (host ``pure_callback``\ s,
    float32 only) or ``"auto"`` (NumPy on a single-device CPU runtime, XLA elsewhere,
    including multi-device CPU meshes, where the callback does not lower).
    ``unit_weights``: every weight is known (statically) to be 0 or 1, e.g. no
    ``sample_weight`` was given; the host AUROC / AP then take a faster uint32 route.
    """
    if scores.shape[-1] == 0:     # an empty problem behaves as one fully masked element
        scores, labels, weights = (jnp.zeros(x.shape[:-1] + (1,), x.dtype) for x in (scores, labels, weights))
    # Not differentiable on any route (the NumPy one cannot be): gradients are zero, as torchmetrics'.
    scores, weights = jax.lax.stop_gradient(scores), jax.lax.stop_gradient(weights)
    dtype = weights.dtype
    kept = weights != 0
    sdtype = jnp.promote_types(scores.dtype, dtype)
    ikey = ~_sortable_int(scores.astype(sdtype))
    big = jnp.iinfo(ikey.dtype).max
    ikey = jnp.where(kept, jnp.minimum(ikey, big - 1), big)   # the all-ones NaN would read as dropped
    payload = jnp.where(labels != 0, -weights, weights)
    if exact_host.use_numpy(sort_backend, ikey, payload):
        ikey, payload = jax.lax.stop_gradient(ikey), jax.lax.stop_gradient(payload)
        skey, tps_end, fps_end, last, n_pos, n_neg = exact_host.host_sorted_fields(ikey, payload)
        sorted_scores = jnp.where(skey != big, _from_sortable_int(~skey, sdtype), jnp.nan)
        host = (ikey, jax.lax.stop_gradient(scores.astype(sdtype)), labels != 0,
                jax.lax.stop_gradient(weights), unit_weights)
        return SortedCounts(sorted_scores, None, None, tps_end, fps_end, None, None, last, n_pos, n_neg, host)
    skey, payload = _xla_co_sort(ikey, payload)
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
