"""Exact AUROC / AP and curve fields on the host (NumPy), for a single-device CPU runtime.

XLA:CPU's sort is 5-10x slower than NumPy's, so there the exact curves sort in NumPy on XLA's own
buffers (:mod:`maskjax._kernels.host_call`): AUROC / AP reduce to scalars in one host kernel
(unweighted: one uint32 sort, then a Mann-Whitney count or the runs of equal-score positives), and
the per-element fields are filled by a second kernel that ``jit`` drops when only the scalars are
used. The reference is the ``lax.sort`` route in :mod:`maskjax.metrics.curves._exact`; the
route-agreement tests are in tests/metrics/curves/test_exact.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from maskjax._kernels.host_call import host_in_place, host_kernel

_BIG = np.iinfo(np.int32).max


# --------------------------------------------------------------------- host (NumPy) backend
# The packed operand is built by XLA as int32 pairs ``[..., M, 2]`` = (payload bits, key),
# which on a little-endian host *is* the int64 ``key << 32 | uint32(payload bits)``: a
# zero-copy view, no host packing pass. After one int64 sort, AUROC and AP are one chunked
# pass each (:func:`_weighted_auroc_row`, :func:`_weighted_ap_row`, float64 running sums); the
# curves reduce per tie group (``np.add.reduceat``). Within a tie group negatives (payload sign
# bit 0) sort first. Weighted AP at 5M without ties: 268 → 180 ms.
# Measured (N=5M, 4-decimal ties, 2-core EPYC, full bench): weighted AUROC 273 → 142 → 127 ms
# (the int64 sort ≈ 70 ms, the pass ≈ 35 ms; np.sort f32 24 ms; kind="stable" is 5× slower).


def _host_sort(packed):
    """``[..., M, 2]`` int32 pairs (the writable scratch of :func:`host_kernel`) → the same memory as
    int64 ``[R, M]`` (rows flattened), sorted in place, and the leading shape."""
    lead, m = packed.shape[:-2], packed.shape[-2]
    if np.little_endian:
        flat = packed.reshape(-1, m * 2).view(np.int64)
    else:  # pragma: no cover - big-endian hosts
        flat = (packed[..., 1].astype(np.int64) << 32) | packed[..., 0].view(np.uint32).astype(np.int64)
        flat = flat.reshape(-1, m)
    flat.sort(axis=-1)
    return flat, lead, m


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


_AUROC_CHUNK = 1 << 18     # elements per step: the float64 temporaries stay in cache


def _weighted_auroc_row(row: np.ndarray) -> float:
    r"""One sorted int64 row → weighted AUROC (``nan`` without both labels).

    Ascending order is descending score, negatives first within a tie group, so a
    negative's running positive weight counts exactly the positives scored strictly
    higher: ``A = Σ_neg w_j · Wpos_before(j)``. A mixed tie group shows as one
    same-key boundary where the payload sign flips; it holds ``B_g = Wneg_g · Wpos_g``
    tied weight. AUROC ``= (A + ΣB_g/2) / (Wpos · Wneg)``, scikit-learn's trapezoids.
    """
    row = row[:int(np.searchsorted(row, np.int64(_BIG) << 32))]      # dropped elements sort last
    key, pw = _split(row)
    area = w_pos = w_neg = 0.0
    bounds = []
    for a in range(0, len(row), _AUROC_CHUNK):
        p = np.ascontiguousarray(pw[a:a + _AUROC_CHUNK])
        neg = np.maximum(p, np.float32(0))
        cum_pos = np.cumsum(neg - p, dtype=np.float64)      # neg − p = max(−p, 0), exactly
        neg_sum = float(neg.sum(dtype=np.float64))
        area += float(np.dot(neg, cum_pos)) + w_pos * neg_sum
        w_pos, w_neg = w_pos + float(cum_pos[-1]), w_neg + neg_sum
        r = row[a:a + _AUROC_CHUNK + 1]                  # one element of overlap for the boundary test
        bounds.append(np.flatnonzero(((r[1:] ^ r[:-1]) >> 31) == 1) + a)   # same key, sign 0 → 1
    b = np.concatenate(bounds) if bounds else np.zeros(0, np.int64)
    if len(b):
        k = key[b].astype(np.int64)
        start = np.searchsorted(row, k << 32)
        end = np.searchsorted(row, (k + 1) << 32)
        idx = np.stack([start, b + 1, end], 1).ravel()
        sums = np.add.reduceat(pw, idx[:-1] if idx[-1] == len(row) else idx, dtype=np.float64)
        area -= 0.5 * float(np.dot(sums[0::3], sums[1::3]))     # Wneg_g · (−Wpos_g)
    den = w_pos * w_neg
    return area / den if den > 0 else float("nan")


def _weighted_ap_row(row: np.ndarray) -> float:
    r"""One sorted int64 row → weighted step-wise AP (0 without positives).

    Running sums ``TP`` (positive weight) and ``T`` (all weight) at each tie group's
    last element ``e`` give the group's point; AP ``= Σ_e (TP_e − TP_{e'}) · TP_e / T_e / Wpos``
    with ``e'`` the previous group end (scikit-learn's ``Σ (R_k − R_{k−1}) P_k``).
    Chunked like :func:`_weighted_auroc_row`.
    """
    row = row[:int(np.searchsorted(row, np.int64(_BIG) << 32))]      # dropped elements sort last
    _, pw = _split(row)
    total = tp_carry = all_carry = tp_last_end = 0.0
    for a in range(0, len(row), _AUROC_CHUNK):
        p = np.ascontiguousarray(pw[a:a + _AUROC_CHUNK])
        pos = np.maximum(-p, np.float32(0))
        tp = np.cumsum(pos, dtype=np.float64)
        tp += tp_carry
        seen = np.cumsum(np.abs(p), dtype=np.float64)
        seen += all_carry
        r = row[a:a + _AUROC_CHUNK + 1]                  # one element of overlap for the group-end test
        ends = np.flatnonzero((r[1:] >> 32) != (r[:-1] >> 32))
        if a + _AUROC_CHUNK >= len(row):
            ends = np.append(ends, len(p) - 1)           # the row's last element ends its group
        if len(ends):
            tp_end = tp[ends]
            gain = np.diff(tp_end, prepend=tp_last_end)
            total += float(np.dot(gain, np.divide(tp_end, seen[ends], out=np.zeros_like(tp_end),
                                                  where=seen[ends] > 0)))
            tp_last_end = float(tp_end[-1])
        tp_carry, all_carry = float(tp[-1]), float(seen[-1])
    return total / tp_carry if tp_carry > 0 else 0.0


def _host_scalars(packed, kind):
    """``[..., M, 2]`` → ``[...]`` float32 AUROC (``kind == "auroc"``) or AP, as the XLA path defines them."""
    srt, lead, _ = _host_sort(packed)
    reduce_row = _weighted_auroc_row if kind == "auroc" else _weighted_ap_row
    return np.array([reduce_row(row) for row in srt], np.float32).reshape(lead)


def _host_counts(outs, packed):
    """``[..., M, 2]`` → fills ``outs`` = (sorted key, ``tps``, ``fps``, ``last``, ``n_pos``, ``n_neg``);
    ``packed`` (the scratch) is sorted in place. The curves need no more, so no more is written."""
    srt, lead, m = _host_sort(packed)
    rows = srt.shape[0]
    key, tps_end, fps_end, last, n_pos, n_neg = outs
    key, tps_end, fps_end, last = (x.reshape(rows, m) for x in (key, tps_end, fps_end, last))
    n_pos, n_neg = n_pos.reshape(rows), n_neg.reshape(rows)
    for r in range(rows):
        k, pw = _split(srt[r])
        key[r] = k
        starts, pos_g, neg_g = _groups(k, pw)
        tps, fps = np.cumsum(pos_g), np.cumsum(neg_g)
        sizes = np.diff(np.append(starts, m))
        tps_end[r] = np.repeat(tps.astype(np.float32), sizes)
        fps_end[r] = np.repeat(fps.astype(np.float32), sizes)
        last[r] = False
        last[r, starts[1:] - 1] = True
        last[r, m - 1] = True
        last[r] &= k != _BIG
        n_pos[r], n_neg[r] = tps[-1], fps[-1]


# Unweighted AUROC / AP on the host (no ``sample_weight``: every weight is 0 or 1). A float32 score of known
# sign needs 31 bits, so ``order << 1 | label`` fits a uint32 and one uint32 sort (as fast as ``np.sort``
# of the scores) replaces the int64 co-sort. XLA packs the non-negative scores (probabilities) into one
# array; kept negative scores become a sentinel that carries the label, and the host packs and sorts
# those from the scores only when there are any. The Mann–Whitney count then needs only the positives'
# positions and the few mixed tie groups; AP only the positives' positions and runs of equal scores. One packed operand, not two: XLA:CPU allocating a second
# 20 MB output made glibc trim and re-fault the heap on every call (1.3 → 16 ms at N=5M).
# Measured (N=5M, 4-decimal ties, full bench): AUROC 164 ms (int64 route) → 38 ms; np.sort f32 24 ms.
# AP (same data, one run): 105 → 41 ms.
_NEG0 = np.uint32(0xFFFFFFFC)        # kept, negative score; + label (bit 0)
_DROPPED31 = np.uint32(0xFFFFFFFF)   # masked / ignored
_MAG_MAX = np.uint32(0x7FFFFFFD)     # |bits| above it are NaN payloads; they merge, so keys stay < _NEG0


def _pack_unit31(scores: jax.Array, labels: jax.Array, kept: jax.Array) -> jax.Array:
    """``[..., M]`` float32 → uint32 keys that sort ascending in descending score.

    A non-negative score packs as ``(0x7FFFFFFD − |bits|) << 1 | label``; a negative one
    as ``0xFFFFFFFC | label``; a dropped one as ``0xFFFFFFFF``. ``−0`` counts as
    ``+0``. Within a tie group the negative label (bit 0) sorts first.
    """
    bits = jax.lax.bitcast_convert_type(scores, jnp.uint32)
    bits = jnp.where((bits & np.uint32(0x7FFFFFFF)) == 0, np.uint32(0), bits)   # ±0 by bits (denormals ≠ 0)
    lab = (labels != 0).astype(jnp.uint32)
    key = ((_MAG_MAX - jnp.minimum(bits, _MAG_MAX)) << 1) | lab
    return jnp.where(kept, jnp.where((bits >> 31) == 1, _NEG0 + lab, key), _DROPPED31)


def _pack_negatives(packed: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """One row's kept negative-score elements as ``(|bits| − 1) << 1 | label`` (ascending = descending score)."""
    idx = np.flatnonzero((packed - _NEG0) <= np.uint32(1))
    out = np.take(scores.view(np.uint32), idx)
    out &= np.uint32(0x7FFFFFFF)
    out -= np.uint32(1)
    out <<= np.uint32(1)
    out |= np.take(packed, idx) & np.uint32(1)
    return out


def _low_bits(q: np.ndarray) -> np.ndarray:
    """Bool view of the lowest bit of a uint32 array (the strided low byte: 2.5× faster than ``q & 1``)."""
    if np.little_endian:
        return (q.view(np.uint8)[0::4] & np.uint8(1)).view(bool)
    return (q & np.uint32(1)).astype(bool)  # pragma: no cover - big-endian hosts


# Σ of the set-bit positions as a blocked float32 matmul with ``[1, j]`` columns (exact: a block's
# sums stay below 2**24): 2 ms at N=5M, where ``np.flatnonzero`` of random bits took 19 ms (branch
# mispredictions). The Mann–Whitney pass runs in chunks so that its temporaries stay in cache.
_BLOCK = 1024
_BLOCK_COLUMNS = np.stack([np.ones(_BLOCK, np.float32), np.arange(_BLOCK, dtype=np.float32)], axis=1)
_CHUNK = 256 * _BLOCK


def _count_and_position_sum(bits: np.ndarray) -> tuple[int, int]:
    """``bits`` bool ``[M]`` → (number set, Σ of their positions), exactly."""
    rows = len(bits) // _BLOCK
    per_row = (bits[:rows * _BLOCK].view(np.uint8).reshape(rows, _BLOCK).astype(np.float32)
               @ _BLOCK_COLUMNS).astype(np.int64)
    tail = np.flatnonzero(bits[rows * _BLOCK:]) + rows * _BLOCK
    row_start = np.arange(rows, dtype=np.int64) * _BLOCK
    count = int(per_row[:, 0].sum()) + len(tail)
    return count, int(per_row[:, 0] @ row_start + per_row[:, 1].sum() + tail.sum())


def _mann_whitney(q: np.ndarray, offset: int):
    """Sorted packed keys (kept only) → (positives, Σ of their positions + offset, tied pos·neg pairs)."""
    n_pos = pos_sum = 0
    bounds = []
    for start in range(0, len(q), _CHUNK):
        chunk = q[start:start + _CHUNK + 1]           # one element of overlap for the boundary test
        n, total = _count_and_position_sum(_low_bits(chunk[:_CHUNK]))
        n_pos, pos_sum = n_pos + n, pos_sum + total + (start + offset) * n
        bounds.append(np.flatnonzero((chunk[1:] ^ chunk[:-1]) == np.uint32(1)) + start)
    b = np.concatenate(bounds) if bounds else np.zeros(0, np.int64)   # neg → pos inside a tie group
    ties = 0
    if len(b):
        start = np.searchsorted(q, q[b], "left")
        end = np.searchsorted(q, q[b + 1], "right")
        ties = int(np.dot(b + 1 - start, end - b - 1))
    return n_pos, pos_sum, ties


def _sorted_unit_parts(q: np.ndarray, scores: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Sort one packed row in place → its kept keys in descending score as ``(keys, position offset)``
    parts: the non-negative scores, then (when there are any) the negative ones, packed from the
    unsorted row. No tie group spans the two parts."""
    # The test reads sign bits: kernels run with XLA's denormals-are-zero flag set, under which a
    # float compare calls -1e-40 zero.
    has_sign = scores.view(np.int32).min(initial=0) < 0
    negatives = np.sort(_pack_negatives(q, scores)) if has_sign else None
    q.sort()
    n_first = int(np.searchsorted(q, _NEG0))
    parts = [(q[:n_first], 0)]
    if negatives is not None and len(negatives):
        parts.append((negatives, n_first))
    return parts


def _auroc_of_parts(parts: list[tuple[np.ndarray, int]]) -> float:
    r"""Mann–Whitney AUROC of sorted unit parts (``nan`` without both labels).

    ``P`` positives at positions ``i`` of ``M`` give ``A = Σ_pos #neg after i =
    P(M−1) − Σ_pos i − P(P−1)/2`` pairs ranked strictly right (negatives sort first
    within a tie group); a mixed tie group shows as one boundary ``b`` with
    ``q[b] ^ q[b+1] == 1`` and holds ``(b+1−start)·(end−b−1)`` tied pairs ``B``.
    AUROC ``= (A + B/2) / (P·N)``: half credit for ties = scikit-learn's trapezoids.
    """
    kept = sum(len(q) for q, _ in parts)
    n_pos, pos_sum, ties = (sum(v) for v in zip(*(_mann_whitney(*p) for p in parts)))
    n_neg = kept - n_pos
    if not (n_pos and n_neg):
        return float("nan")
    right = n_pos * (kept - 1) - pos_sum - n_pos * (n_pos - 1) // 2
    return (right + 0.5 * ties) / (n_pos * n_neg)


def _average_precision_of_parts(parts: list[tuple[np.ndarray, int]]) -> float:
    r"""Step-wise AP of sorted unit parts (0 without positives).

    Positives sort last within their tie group, so a run of equal-score positives ends
    its group: with ``k`` the 0-based index of the run's last positive and ``e`` its
    position + 1, the group's point is ``precision = (k+1)/e`` and the run adds
    ``len · (k+1)/e``; AP ``= Σ_runs len·(k+1)/e / P`` (scikit-learn's
    ``Σ (R_k − R_{k−1}) P_k``).
    """
    total, n_pos = 0.0, 0
    for q, offset in parts:
        pos = np.flatnonzero(_low_bits(q))
        if len(pos) == 0:
            continue
        value = q[pos] >> np.uint32(1)
        run_end = np.empty(len(pos), bool)
        run_end[-1] = True
        np.not_equal(value[1:], value[:-1], out=run_end[:-1])
        k = np.flatnonzero(run_end)
        length = np.diff(k, prepend=-1)
        total += float(np.sum(length * ((k + 1 + n_pos) / (pos[k] + 1 + offset))))
        n_pos += len(pos)
    return total / n_pos if n_pos else 0.0


def _host_unit(packed, scores, kind):
    """``[..., M]`` packed uint32 keys (:func:`_pack_unit31`; the scratch, sorted in place) and
    float32 scores → ``[...]`` float32 AUROC (``kind == "auroc"``) or AP."""
    scores = np.broadcast_to(scores, packed.shape)       # under vmap an unbatched operand has a 1 axis
    lead, m = packed.shape[:-1], packed.shape[-1]
    packed, scores = packed.reshape(-1, m), scores.reshape(-1, m)
    reduce_parts = _auroc_of_parts if kind == "auroc" else _average_precision_of_parts
    out = [reduce_parts(_sorted_unit_parts(q, s)) for q, s in zip(packed, scores)]
    return np.array(out, np.float32).reshape(lead)


def use_numpy(backend: str, key: jax.Array, payload: jax.Array) -> bool:
    """``"auto"``: the host sort on a single-device CPU runtime for float32 problems.

    With more than one device (e.g. inputs replicated over a mesh) ``pure_callback``
    can fail to lower ("Cannot convert GSPMDSharding ... into SdyArray"), so ``auto``
    falls back to ``lax.sort`` there; ``sort_backend="numpy"`` still forces the callback.
    """
    ok = key.dtype == jnp.int32 and payload.dtype == jnp.float32
    if backend == "auto":
        return ok and jax.default_backend() == "cpu" and jax.device_count() == 1
    return backend == "numpy" and ok


def pack64(ikey: jax.Array, payload: jax.Array) -> jax.Array:
    """``[..., M]`` → ``[..., M, 2]`` int32 (payload bits, key): the host's int64 ``key << 32 | payload``."""
    return jnp.stack([jax.lax.bitcast_convert_type(payload, jnp.int32), ikey], axis=-1)


def host_scalar(host: tuple, kind: str) -> jax.Array:
    """``[K]`` AUROC (``kind == "auroc"``) or AP from the unsorted ``host`` operands of a NumPy-route sort."""
    ikey, scores, labels, weights, unit_weights = host
    out = jax.ShapeDtypeStruct(ikey.shape[:-1], jnp.float32)

    if not unit_weights:
        packed = pack64(ikey, jnp.where(labels, -weights, weights))
        return host_in_place(lambda p: _host_scalars(p, kind), out, packed)
    packed = _pack_unit31(scores, labels, weights != 0)
    return host_in_place(lambda p, s: _host_unit(p, s, kind), out, packed, scores)


def host_sorted_fields(ikey: jax.Array, payload: jax.Array) -> tuple:
    """The NumPy route of the co-sort: (sorted key, ``tps``, ``fps``, ``last``, ``n_pos``, ``n_neg``)."""
    packed = pack64(ikey, payload)
    shp, lead = ikey.shape, ikey.shape[:-1]
    f32 = lambda s: jax.ShapeDtypeStruct(s, jnp.float32)  # noqa: E731
    out = (jax.ShapeDtypeStruct(shp, jnp.int32), f32(shp), f32(shp), jax.ShapeDtypeStruct(shp, jnp.bool_),
           f32(lead), f32(lead))
    return host_kernel(_host_counts, out, packed)
