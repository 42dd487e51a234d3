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
    ``host``: ``None``, or (NumPy backend) the unsorted packed ``[K, M, 2]`` int32
    key/payload pairs, so that AUROC / AP can be reduced to ``[K]`` scalars in one
    host callback; the per-element fields above are then computed by a second
    callback that ``jit`` removes when only the scalars are used.
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
    host: jax.Array | None = None


SORT_BACKENDS = ("auto", "xla", "numpy")

_BIG = np.iinfo(np.int32).max


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


# --------------------------------------------------------------------- host (NumPy) backend
# The packed operand is built by XLA as int32 pairs ``[..., M, 2]`` = (payload bits, key),
# which on a little-endian host *is* the int64 ``key << 32 | uint32(payload bits)``: a
# zero-copy view, no host packing pass. After one int64 sort everything is reduced per tie
# group (``np.add.reduceat``, float64 accumulation), so nothing per element is scanned twice.
# Measured (N=5M, 3-decimal ties, 2-core EPYC, same run): AUROC 223 → 104 ms, weighted 273 → 142 ms
# (np.sort f32 17 ms; the int64 sort dominates; uint64 keys sort the same, kind="stable" is 5× slower).


def _host_sort(packed):
    """``[..., M, 2]`` int32 pairs → sorted int64 ``[R, M]`` (rows flattened) and the leading shape."""
    packed = np.ascontiguousarray(packed, dtype=np.int32)
    lead, m = packed.shape[:-2], packed.shape[-2]
    if np.little_endian:
        flat = packed.reshape(-1, m * 2).view(np.int64)
    else:  # pragma: no cover - big-endian hosts
        flat = (packed[..., 1].astype(np.int64) << 32) | packed[..., 0].view(np.uint32).astype(np.int64)
        flat = flat.reshape(-1, m)
    return np.sort(flat, axis=-1), lead, m


def _split(row):
    """Sorted int64 row → (key int32, payload float32) views."""
    if np.little_endian:
        v = row.view(np.int32).reshape(-1, 2)
        return v[:, 1], v[:, 0].view(np.float32)
    return (row >> 32).astype(np.int32), (row & 0xFFFFFFFF).astype(np.uint32).view(np.float32)  # pragma: no cover


def _groups(key, pw):
    """Per tie group (in sorted order): start index, positive and negative weight sums (float64)."""
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    pos_g = np.add.reduceat(np.maximum(-pw, np.float32(0)), starts, dtype=np.float64)
    neg_g = np.add.reduceat(np.maximum(pw, np.float32(0)), starts, dtype=np.float64)
    return starts, pos_g, neg_g


def _host_scalars(packed, kind):
    """``[..., M, 2]`` → ``[...]`` float32 AUROC (``kind == "auroc"``) or AP, as the XLA path defines them."""
    srt, lead, m = _host_sort(packed)
    out = np.empty(srt.shape[0], np.float32)
    for r in range(srt.shape[0]):
        if m == 0:
            out[r] = np.nan if kind == "auroc" else 0.0
            continue
        _, pos_g, neg_g = _groups(*_split(srt[r]))
        tps = np.cumsum(pos_g)
        n_pos, n_neg = np.float32(tps[-1]), np.float32(neg_g.sum())
        if kind == "auroc":
            tps_before = np.concatenate([[0.0], tps[:-1]])
            den = np.float32(n_pos * n_neg)
            out[r] = np.nan if den <= 0 else np.float32(np.dot(neg_g, tps_before + tps) * 0.5 / float(den))
        else:
            fps = np.cumsum(neg_g)
            tot = tps + fps
            prec = np.divide(tps, tot, out=np.zeros_like(tps), where=tot != 0)
            out[r] = 0.0 if n_pos == 0 else np.float32(np.dot(pos_g, prec) / float(n_pos))
    return out.reshape(lead)


def _host_counts(packed):
    """``[..., M, 2]`` → every per-element :class:`SortedCounts` field (sorted key for the scores)."""
    srt, lead, m = _host_sort(packed)
    rows = srt.shape[0]
    key = np.empty((rows, m), np.int32)
    f = {n: np.empty((rows, m), np.float32) for n in ("pos", "neg", "tps", "fps", "tb", "fb")}
    last = np.zeros((rows, m), bool)
    n_pos, n_neg = np.zeros(rows, np.float32), np.zeros(rows, np.float32)
    for r in range(rows):
        if m == 0:
            continue
        k, pw = _split(srt[r])
        key[r] = k
        f["pos"][r] = np.maximum(-pw, np.float32(0))
        f["neg"][r] = np.maximum(pw, np.float32(0))
        starts, pos_g, neg_g = _groups(k, pw)
        tps, fps = np.cumsum(pos_g), np.cumsum(neg_g)
        sizes = np.diff(np.append(starts, m))
        f["tps"][r] = np.repeat(tps.astype(np.float32), sizes)
        f["fps"][r] = np.repeat(fps.astype(np.float32), sizes)
        f["tb"][r] = np.repeat(np.concatenate([[0.0], tps[:-1]]).astype(np.float32), sizes)
        f["fb"][r] = np.repeat(np.concatenate([[0.0], fps[:-1]]).astype(np.float32), sizes)
        last[r, starts[1:] - 1] = True
        last[r, m - 1] = True
        last[r] &= k != _BIG
        n_pos[r], n_neg[r] = tps[-1], fps[-1]
    sh = lead + (m,)
    return (key.reshape(sh), *(f[n].reshape(sh) for n in ("pos", "neg", "tps", "fps", "tb", "fb")),
            last.reshape(sh), n_pos.reshape(lead), n_neg.reshape(lead))


def _use_numpy(backend: str, key: jax.Array, payload: jax.Array) -> bool:
    """``"auto"``: the host sort on a single-device CPU runtime for float32 problems.

    With more than one device (e.g. inputs replicated over a mesh) ``pure_callback``
    can fail to lower ("Cannot convert GSPMDSharding ... into SdyArray"), so ``auto``
    falls back to ``lax.sort`` there; ``sort_backend="numpy"`` still forces the callback.
    """
    ok = key.dtype == jnp.int32 and payload.dtype == jnp.float32
    if backend == "auto":
        return ok and jax.default_backend() == "cpu" and jax.device_count() == 1
    return backend == "numpy" and ok


def _xla_co_sort(key, payload):
    return jax.lax.sort((key, payload), dimension=-1, num_keys=1, is_stable=False)


def sorted_counts(scores: jax.Array, labels: jax.Array, weights: jax.Array,
                  sort_backend: str = "auto") -> SortedCounts:
    r"""Co-sort ``[K, M]`` problems by descending score and accumulate (see module doc).

    The sort key is the score mapped to a sortable int and bit-inverted (so an
    ascending sort is descending in score); dropped elements get the largest
    key. The payload is one float per element, ``−w`` for positives and ``+w``
    for negatives (weights are non-negative, so the sign carries the label).
    ``sort_backend``: ``"xla"`` (``lax.sort``), ``"numpy"`` (host ``pure_callback``\ s,
    float32 only) or ``"auto"`` (NumPy on a single-device CPU runtime, XLA elsewhere,
    including multi-device CPU meshes, where the callback does not lower).
    """
    dtype = weights.dtype
    kept = weights != 0
    sdtype = jnp.promote_types(scores.dtype, dtype)
    ikey = ~_sortable_int(scores.astype(sdtype))
    big = jnp.iinfo(ikey.dtype).max
    ikey = jnp.where(kept, ikey, big)
    payload = jnp.where(labels != 0, -weights, weights)
    if _use_numpy(sort_backend, ikey, payload):
        ikey, payload = jax.lax.stop_gradient(ikey), jax.lax.stop_gradient(payload)
        packed = jnp.stack([jax.lax.bitcast_convert_type(payload, jnp.int32), ikey], axis=-1)
        shp, lead = ikey.shape, ikey.shape[:-1]
        f32 = lambda s: jax.ShapeDtypeStruct(s, jnp.float32)  # noqa: E731
        out = (jax.ShapeDtypeStruct(shp, jnp.int32), *(f32(shp) for _ in range(6)),
               jax.ShapeDtypeStruct(shp, jnp.bool_), f32(lead), f32(lead))
        skey, pos_w, neg_w, tps_end, fps_end, tps_before, fps_before, last, n_pos, n_neg = jax.pure_callback(
            _host_counts, out, packed, vmap_method="expand_dims")
        sorted_scores = jnp.where(skey != big, _from_sortable_int(~skey, sdtype), jnp.nan)
        return SortedCounts(sorted_scores, pos_w, neg_w, tps_end, fps_end, tps_before, fps_before,
                            last, n_pos, n_neg, packed)
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


def _host_scalar(c: SortedCounts, kind: str) -> jax.Array:
    out = jax.ShapeDtypeStruct(c.host.shape[:-2], jnp.float32)
    return jax.pure_callback(lambda p: _host_scalars(p, kind), out, c.host, vmap_method="expand_dims")


def auroc_from_counts(c: SortedCounts) -> jax.Array:
    """``[K]`` trapezoidal ROC AUC; ``nan`` where a problem lacks positives or negatives.

    AUROC = Σ_j neg_j · (tps_before_j + tps_j) / 2 / (P · N): each negative's
    weight times the mean TPR of its tie group's trapezoid.
    """
    if c.host is not None:
        return _host_scalar(c, "auroc")
    area = jnp.sum(c.neg * (c.tps_before + c.tps), axis=-1) * 0.5
    den = c.n_pos * c.n_neg
    return jnp.where(den > 0, safe_divide(area, den), jnp.nan)


def average_precision_from_counts(c: SortedCounts) -> jax.Array:
    """``[K]`` step-wise AP = Σ_k (R_k − R_{k−1}) · P_k; 0 where there are no positives.

    Per element: Σ_j pos_j · precision(group of j) / P.
    """
    if c.host is not None:
        return _host_scalar(c, "ap")
    precision = safe_divide(c.tps, c.tps + c.fps)
    return safe_divide(jnp.sum(c.pos * precision, axis=-1), c.n_pos)
