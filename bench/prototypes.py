"""Standalone jnp prototypes of the hot paths, for the library to adopt.

Every prototype here is plain ``jax.numpy``/``lax`` (no maskjax import), checked
against a reference, and timed side by side (round-robin, same run) against the
obvious formulation, the peers and the read bound. Run::

    python -m bench.prototypes [--size small|full] [--only W1,W3] [--out bench/PROTOTYPES.md]

Findings (medians, 2-core AMD EPYC, shared and noisy; see PROTOTYPES.md for
the latest run) are summarised in bench/README.md.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time

import numpy as np

import jax
import jax.numpy as jnp
from jax import lax

# --------------------------------------------------------------------------- W1
# XLA:CPU's argmax (a variadic reduce) is not vectorised; a column scan that is
# unrolled over a block of <=128 classes is ~2x faster and keeps numpy's
# first-index tie rule. For C > 128 reduce blocks of <=128 columns, then the
# block winners (two levels, compile time stays < 1 s for C=5000).


def _scan_columns(a: jax.Array, nan_aware: bool) -> tuple[jax.Array, jax.Array]:
    best = a[..., 0]
    idx = jnp.zeros(a.shape[:-1], jnp.int32)
    for c in range(1, a.shape[-1]):
        v = a[..., c]
        upd = v > best
        if nan_aware:  # numpy/torch: the first NaN wins
            upd = upd | (jnp.isnan(v) & ~jnp.isnan(best))
        best = jnp.where(upd, v, best)
        idx = jnp.where(upd, jnp.int32(c), idx)
    return best, idx


def argmax_blocked(a: jax.Array, block: int = 128, nan_aware: bool = True) -> jax.Array:
    """First-index argmax over the last axis of ``[N, C]`` (== np.argmax)."""
    n, c = a.shape
    if c <= block:
        return _scan_columns(a, nan_aware)[1]
    nb = -(-c // block)
    kb = -(-c // nb)
    if nb * kb != c:
        a = jnp.pad(a, ((0, 0), (0, nb * kb - c)), constant_values=-jnp.inf)
    best, idx = _scan_columns(a.reshape(n, nb, kb), nan_aware)
    idx = idx + jnp.arange(nb, dtype=jnp.int32) * kb
    j = _scan_columns(best, nan_aware)[1] if nb <= block else jnp.argmax(best, -1)
    return jnp.take_along_axis(idx, j[:, None], 1)[:, 0]


def confusion_counts(preds: jax.Array, target: jax.Array, num_classes: int,
                     mask: jax.Array | None = None) -> jax.Array:
    """int32 ``[C, C]`` counts: one flat key ``t*C+p``; dropped rows go to bin C*C."""
    c = num_classes
    key = target.astype(jnp.int32) * c + preds.astype(jnp.int32)
    ok = (target >= 0) & (target < c) & (preds >= 0) & (preds < c)
    if mask is not None:
        ok = ok & mask
    key = jnp.where(ok, key, c * c)
    return jnp.bincount(key, length=c * c + 1)[: c * c].reshape(c, c)


def f1_macro_from_confmat(cm: jax.Array) -> jax.Array:
    tp = jnp.diag(cm).astype(jnp.float32)
    fp = cm.sum(0).astype(jnp.float32) - tp
    fn = cm.sum(1).astype(jnp.float32) - tp
    den = 2 * tp + fp + fn
    return jnp.mean(jnp.where(den > 0, 2 * tp / jnp.where(den > 0, den, 1), 0.0))


@functools.partial(jax.jit, static_argnames=("num_classes",))
def w1_fast(logits, target, num_classes):
    cm = confusion_counts(argmax_blocked(logits), target, num_classes)
    return cm, f1_macro_from_confmat(cm)


@functools.partial(jax.jit, static_argnames=("num_classes",))
def w1_plain(logits, target, num_classes):
    p = jnp.argmax(logits, -1)
    cm = jnp.bincount(target * num_classes + p, length=num_classes * num_classes).reshape(num_classes, num_classes)
    return cm, f1_macro_from_confmat(cm)


# --------------------------------------------------------------------------- W2


def _ce_parts(x, y, m):
    mx = lax.stop_gradient(x.max(-1, keepdims=True))
    lse = jnp.log(jnp.sum(jnp.exp(x - mx), -1)) + mx[..., 0]
    picked = jnp.take_along_axis(x, jnp.clip(y, 0, x.shape[-1] - 1)[..., None], -1)[..., 0]
    w = m.astype(x.dtype)
    den = jnp.sum(w)
    return lse, picked, w, den


def ce_lse_take(x, y, m):
    """mean_w(logsumexp(x) - x[y]): the plain formulation (autodiff bwd)."""
    lse, picked, w, den = _ce_parts(x, y, m)
    return jnp.sum((lse - picked) * w) / jnp.maximum(den, 1)


@jax.custom_vjp
def ce_saved_exp(x, y, m):
    """Same value; custom VJP that keeps e = exp(x - max) as the residual.

    bwd = e * (g w / (Σw · Σe)) - onehot(y) * (g w / Σw): one read of e and one
    write of the gradient, no second exp.
    """
    return ce_lse_take(x, y, m)


def _ce_fwd(x, y, m):
    mx = x.max(-1, keepdims=True)
    e = jnp.exp(x - mx)
    s = e.sum(-1)
    picked = jnp.take_along_axis(x, jnp.clip(y, 0, x.shape[-1] - 1)[..., None], -1)[..., 0]
    w = m.astype(x.dtype)
    den = jnp.maximum(jnp.sum(w), 1)
    lse = jnp.log(s) + mx[..., 0]
    return jnp.sum((lse - picked) * w) / den, (e, y, w / den, s)


def _ce_bwd(res, g):
    e, y, wn, s = res
    iota = lax.broadcasted_iota(jnp.int32, e.shape, e.ndim - 1)
    gx = e * (g * wn / s)[..., None] - jnp.where(iota == y[..., None], (g * wn)[..., None], 0.0)
    return gx, None, None


ce_saved_exp.defvjp(_ce_fwd, _ce_bwd)


def ce_optax_mask(x, y, m):
    import optax

    loss = optax.softmax_cross_entropy_with_integer_labels(x, y)
    w = m.astype(x.dtype)
    return jnp.sum(loss * w) / jnp.maximum(jnp.sum(w), 1)


# --------------------------------------------------------------------------- W3
# XLA:CPU sorts float32 with a slow total-order comparator; a *single* int32
# operand sorts ~6x faster; any multi-operand sort (co-sort) is slow again.


def order_key(s: jax.Array) -> jax.Array:
    """Order-preserving int32 key of float32 scores (−0 and +0 differ; no NaN)."""
    b = lax.bitcast_convert_type(s.astype(jnp.float32), jnp.int32)
    return jnp.where(b < 0, b ^ jnp.int32(0x7FFFFFFF), b)


def _auroc_from_sorted_desc(ks, pos, neg):
    tps = jnp.cumsum(pos)
    last = jnp.concatenate([ks[1:] != ks[:-1], jnp.ones((1,), bool)])
    tp_end = lax.cummin(jnp.where(last, tps, jnp.inf), reverse=True)
    tp_prev = jnp.concatenate([jnp.zeros((1,), tps.dtype), lax.cummax(jnp.where(last, tps, 0.0))[:-1]])
    return jnp.sum(neg * (tp_end + tp_prev)) * 0.5 / (tps[-1] * jnp.sum(neg))


@jax.jit
def auroc_argsort(s, y, w):
    """Baseline: argsort + gathers (PERF.md: slow on XLA:CPU)."""
    o = jnp.argsort(-s)
    pos = (y.astype(jnp.float32) * w)[o]
    return _auroc_from_sorted_desc(-s[o], pos, w[o] - pos)


@jax.jit
def auroc_cosort_f32(s, y, w):
    """lax.sort((−s, pos_w, neg_w), num_keys=1): no gathers, f32 comparator."""
    pos = y.astype(jnp.float32) * w
    ks, pos, neg = lax.sort((-s, pos, w - pos), num_keys=1)
    return _auroc_from_sorted_desc(ks, pos, neg)


@jax.jit
def auroc_cosort_int(s, y, w):
    """Co-sort with an int32 order key (still multi-operand: slow path)."""
    pos = y.astype(jnp.float32) * w
    ks, pos, neg = lax.sort((~order_key(s), pos, w - pos), num_keys=1)
    return _auroc_from_sorted_desc(ks, pos, neg)


@jax.jit
def auroc_packed_u32(s, y):
    """Unweighted, scores >= 0: sort ONE uint32 (float bits << 1 | label).

    Valid when every score is >= +0.0 (probabilities); the sign bit is then 0
    and the float bits order like the floats. Labels ride in the low bit, so the
    single-operand fast sort path is used and no gather is needed.
    """
    k = lax.bitcast_convert_type(s.astype(jnp.float32), jnp.uint32)
    ps = lax.sort((k << 1) | y.astype(jnp.uint32))[::-1]
    pos = (ps & 1).astype(jnp.float32)
    return _auroc_from_sorted_desc(ps >> 1, pos, 1.0 - pos)


@jax.jit
def auroc_sorted_keys_rank(s, y, w):
    """Weighted + ties without a co-sort: sort the int keys alone (fast path),
    rank every element with searchsorted, histogram pos/neg weight by rank
    (segment_sum), then one cumsum over the ranks."""
    k = order_key(s)
    ks = lax.sort(k)
    r = jnp.searchsorted(ks, k, side="left", method="sort")
    pos = y.astype(jnp.float32) * w
    n = s.shape[0]
    hp = jax.ops.segment_sum(pos, r, num_segments=n)
    hn = jax.ops.segment_sum(w - pos, r, num_segments=n)
    # ascending ranks; a negative at rank b beats the positives below it, ties half
    below = jnp.cumsum(hp) - hp
    return jnp.sum(hn * (below + 0.5 * hp)) / (jnp.sum(hp) * jnp.sum(hn))
    # note: this is AUROC computed as P(s_pos > s_neg): the rank formula below fixes orientation


@jax.jit
def auroc_sorted_keys_rank_fixed(s, y, w):
    k = order_key(s)
    ks = lax.sort(k)
    r = jnp.searchsorted(ks, k, side="left", method="sort")
    pos = y.astype(jnp.float32) * w
    n = s.shape[0]
    hp = jax.ops.segment_sum(pos, r, num_segments=n)
    hn = jax.ops.segment_sum(w - pos, r, num_segments=n)
    neg_below = jnp.cumsum(hn) - hn  # negatives with a strictly lower score
    return jnp.sum(hp * (neg_below + 0.5 * hn)) / (jnp.sum(hp) * jnp.sum(hn))


# --------------------------------------------------------------------------- W4


@functools.partial(jax.jit, static_argnames=("num_thresholds",))
def binned_curve(s, y, w, num_thresholds=200):
    """Evenly spaced thresholds t_k = k/(T-1): count score >= t_k in O(N + T).

    bucket b(s) = #{k : t_k <= s} computed as floor(s·(T−1)) + 1, then fixed up
    by one compare against the exact threshold table (so float rounding at a
    bin edge never moves an element), segment_sum of pos/neg weight into T+1
    buckets, reverse cumsum → TP/FP at every threshold.
    """
    t = num_thresholds
    thr = jnp.linspace(0.0, 1.0, t, dtype=jnp.float32)
    b = jnp.clip(jnp.floor(s * (t - 1)).astype(jnp.int32), -1, t - 1)  # candidate k with t_k <= s
    b = jnp.where((b >= 0) & (s < thr[jnp.clip(b, 0, t - 1)]), b - 1, b)
    b = jnp.where((b + 1 < t) & (s >= thr[jnp.clip(b + 1, 0, t - 1)]), b + 1, b)
    bucket = b + 1  # 0 .. T ; bucket j means s >= t_k for all k < j
    pos = y.astype(jnp.float32) * w
    hp = jax.ops.segment_sum(pos, bucket, num_segments=t + 1)
    hn = jax.ops.segment_sum(w - pos, bucket, num_segments=t + 1)
    tp = jnp.cumsum(hp[::-1])[::-1][1:]  # tp[k] = Σ_{j>k} hp[j] = weight with s >= t_k
    fp = jnp.cumsum(hn[::-1])[::-1][1:]
    P, Nn = hp.sum(), hn.sum()
    tpr = tp / P
    fpr = fp / Nn
    auroc = -jnp.trapezoid(tpr, fpr)
    prec = jnp.where(tp + fp > 0, tp / jnp.where(tp + fp > 0, tp + fp, 1), 1.0)
    return prec, tpr, thr, auroc


@functools.partial(jax.jit, static_argnames=("num_thresholds",))
def binned_curve_bincount(s, y, num_thresholds=200):
    """Unweighted variant: int32 bincount on key = bucket*2 + label."""
    t = num_thresholds
    thr = jnp.linspace(0.0, 1.0, t, dtype=jnp.float32)
    b = jnp.clip(jnp.floor(s * (t - 1)).astype(jnp.int32), -1, t - 1)
    b = jnp.where((b >= 0) & (s < thr[jnp.clip(b, 0, t - 1)]), b - 1, b)
    b = jnp.where((b + 1 < t) & (s >= thr[jnp.clip(b + 1, 0, t - 1)]), b + 1, b)
    h = jnp.bincount((b + 1) * 2 + y.astype(jnp.int32), length=2 * (t + 1)).reshape(t + 1, 2)
    c = jnp.cumsum(h[::-1], 0)[::-1][1:]
    tp, fp = c[:, 1], c[:, 0]
    tpr = tp / c[0, 1]
    fpr = fp / c[0, 0]
    return thr, tp, fp, -jnp.trapezoid(tpr, fpr)


@functools.partial(jax.jit, static_argnames=("num_thresholds",))
def binned_curve_broadcast(s, y, num_thresholds=200):
    """The O(N·T) broadcast formulation (what not to do), for the record."""
    thr = jnp.linspace(0.0, 1.0, num_thresholds, dtype=jnp.float32)
    ge = s[:, None] >= thr[None, :]
    tp = jnp.sum(ge & (y[:, None] == 1), 0)
    fp = jnp.sum(ge & (y[:, None] == 0), 0)
    return thr, tp, fp


# --------------------------------------------------------------------------- W5


@jax.jit
def multilabel_f1_three_sums(p, t):
    pred = p > 0.5
    tt = t.astype(bool)
    tp = jnp.sum(pred & tt, 0, dtype=jnp.int32)
    fp = jnp.sum(pred & ~tt, 0, dtype=jnp.int32)
    fn = jnp.sum(~pred & tt, 0, dtype=jnp.int32)
    den = 2 * tp + fp + fn
    return jnp.mean(jnp.where(den > 0, 2 * tp / jnp.where(den > 0, den, 1), 0.0))


@jax.jit
def multilabel_f1_tp_sums(p, t):
    """tp = Σ pred·t, then fp = Σ pred − tp, fn = Σ t − tp (3 reductions, 1 compare)."""
    pred = (p > 0.5).astype(jnp.int32)
    ti = t.astype(jnp.int32)
    tp = jnp.sum(pred * ti, 0)
    ps = jnp.sum(pred, 0)
    ts = jnp.sum(ti, 0)
    den = ps + ts
    return jnp.mean(jnp.where(den > 0, 2 * tp / jnp.where(den > 0, den, 1), 0.0))


@jax.jit
def multilabel_f1_f32_sums(p, t):
    pred = (p > 0.5).astype(jnp.float32)
    tf = t.astype(jnp.float32)
    tp = jnp.sum(pred * tf, 0)
    den = jnp.sum(pred, 0) + jnp.sum(tf, 0)
    return jnp.mean(jnp.where(den > 0, 2 * tp / jnp.where(den > 0, den, 1), 0.0))


@jax.jit
def multilabel_f1_gemv(p, t):
    """Column sums as a GEMV: ones[N] @ [pred·t | pred + t] (f32, exact < 2^24).

    XLA:CPU column reductions (axis 0 of a row-major [N, L]) are slow; a dot
    with a ones vector goes to the Eigen/oneDNN GEMV, which streams rows.
    """
    pred = (p > 0.5).astype(jnp.float32)
    tf = t.astype(jnp.float32)
    ones = jnp.ones((p.shape[0],), jnp.float32)
    tp = ones @ (pred * tf)
    den = ones @ (pred + tf)
    return jnp.mean(jnp.where(den > 0, 2 * tp / jnp.where(den > 0, den, 1), 0.0))


def multilabel_counts_scan(p, t, threshold=0.5, k=8):
    """int32 per-label (tp, Σpred + Σt) with a lax.scan over blocks of k rows.

    XLA:CPU turns a column reduction of a fused expression into reduce-window
    passes over *materialised* [N, L] int32 intermediates (one per sum). A scan
    whose body reduces k rows keeps the intermediates in cache: ~7x faster.
    The N % k remainder rows are summed directly (no padding copy).
    """
    n, l = p.shape
    nb = n // k

    def part(pb, tb):
        pred = (pb > threshold).astype(jnp.int32)
        ti = tb.astype(jnp.int32)
        return jnp.sum(pred * ti, 0), jnp.sum(pred + ti, 0)

    def body(acc, xs):
        a, b = part(*xs)
        return (acc[0] + a, acc[1] + b), None

    init = (jnp.zeros((l,), jnp.int32), jnp.zeros((l,), jnp.int32))
    (tp, den), _ = lax.scan(body, init, (p[: nb * k].reshape(nb, k, l), t[: nb * k].reshape(nb, k, l)))
    if nb * k != n:
        a, b = part(p[nb * k:], t[nb * k:])
        tp, den = tp + a, den + b
    return tp, den


@jax.jit
def multilabel_f1_scan(p, t):
    tp, den = multilabel_counts_scan(p, t)
    return jnp.mean(jnp.where(den > 0, 2 * tp / jnp.where(den > 0, den, 1), 0.0))


@jax.jit
def multilabel_f1_rowblock(p, t):
    """Column sums in two stages: reshape [N, L] -> [N/k, k, L], sum k (rows of
    the same block are contiguous), then sum the blocks."""
    n, l = p.shape
    k = 8 if n % 8 == 0 else 1
    pred = (p > 0.5).astype(jnp.int32)
    ti = t.astype(jnp.int32)
    tp = (pred * ti).reshape(n // k, k, l).sum(1).sum(0)
    den = (pred + ti).reshape(n // k, k, l).sum(1).sum(0)
    return jnp.mean(jnp.where(den > 0, 2 * tp / jnp.where(den > 0, den, 1), 0.0))


# --------------------------------------------------------------------------- W6


def make_streaming(num_classes: int):
    """A jitted collection update: one int32 [C,C] confusion + loss sums."""
    c = num_classes

    @jax.jit
    def update(state, logits, target):
        cm, loss_sum, n = state
        p = argmax_blocked(logits)
        cm = cm + confusion_counts(p, target, c)
        lse = jax.nn.logsumexp(logits, -1)
        picked = jnp.take_along_axis(logits, target[:, None], -1)[:, 0]
        return cm, loss_sum + jnp.sum(lse - picked), n + target.shape[0]

    @jax.jit
    def compute(state):
        cm, loss_sum, n = state
        tp = jnp.diag(cm).astype(jnp.float32)
        prec = tp / jnp.maximum(cm.sum(0), 1)
        rec = tp / jnp.maximum(cm.sum(1), 1)
        f1 = jnp.where(prec + rec > 0, 2 * prec * rec / jnp.where(prec + rec > 0, prec + rec, 1), 0.0)
        return {"accuracy": tp.sum() / jnp.maximum(cm.sum(), 1), "precision": prec.mean(),
                "recall": rec.mean(), "f1": f1.mean(), "loss": loss_sum / jnp.maximum(n, 1)}

    def init():
        return (jnp.zeros((c, c), jnp.int32), jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    return init, update, compute


# --------------------------------------------------------------------------- driver

SIZES = {
    "small": dict(w1=(100_000, 100), w2=(16, 128, 1000), w3=500_000, w4=500_000, w5=(4_000, 1000)),
    "full": dict(w1=(1_000_000, 100), w2=(64, 256, 1000), w3=5_000_000, w4=5_000_000, w5=(20_000, 1000)),
}


def run(size: str = "small", only: set[str] | None = None, repeats: int = 7) -> list[tuple[str, list]]:
    from bench._timing import Candidate, print_stats, run_round_robin

    sz = SIZES[size]
    rng = np.random.default_rng(0)
    sections = []

    def want(w):
        return only is None or w in only

    if want("W1"):
        n, c = sz["w1"]
        x = rng.standard_normal((n, c), dtype=np.float32)
        y = rng.integers(0, c, n).astype(np.int32)
        X, Y = jnp.asarray(x), jnp.asarray(y)
        ref = x.argmax(-1)
        assert (np.asarray(jax.jit(argmax_blocked)(X)) == ref).all()
        ref_cm = np.bincount(y * c + ref, minlength=c * c).reshape(c, c)
        assert (np.asarray(w1_fast(X, Y, c)[0]) == ref_cm).all()
        am = jax.jit(lambda a: jnp.argmax(a, -1))
        mx = jax.jit(lambda a: jnp.max(a, -1))
        ab = jax.jit(argmax_blocked)
        ab_nonan = jax.jit(functools.partial(argmax_blocked, nan_aware=False))
        P = jnp.asarray(ref.astype(np.int32))
        M = jnp.asarray(rng.random(n) < 0.9)
        bc = jax.jit(lambda p, t, m: confusion_counts(p, t, c, m))
        ss_i = jax.jit(lambda p, t, m: jax.ops.segment_sum(m.astype(jnp.int32), t * c + p, num_segments=c * c))
        ss_f = jax.jit(lambda p, t, m: jax.ops.segment_sum(m.astype(jnp.float32), t * c + p, num_segments=c * c))
        at_add = jax.jit(lambda p, t, m: jnp.zeros(c * c, jnp.int32).at[jnp.where(m, t * c + p, c * c)].add(1, mode="drop"))
        cands = [
            Candidate("W1 fast: argmax_blocked + bincount + F1", lambda: w1_fast(X, Y, c), "proto"),
            Candidate("W1 plain: jnp.argmax + bincount + F1", lambda: w1_plain(X, Y, c), "proto"),
            Candidate("argmax: jnp.argmax", lambda: am(X), "proto"),
            Candidate("argmax: blocked column scan (NaN-aware)", lambda: ab(X), "proto"),
            Candidate("argmax: blocked column scan (no NaN rule)", lambda: ab_nonan(X), "proto"),
            Candidate("jnp.max (lower bound for any argmax)", lambda: mx(X), "proto"),
            Candidate("counts: bincount int32 + drop bin", lambda: bc(P, Y, M), "proto"),
            Candidate("counts: segment_sum int32 weights", lambda: ss_i(P, Y, M), "proto"),
            Candidate("counts: segment_sum f32 weights", lambda: ss_f(P, Y, M), "proto"),
            Candidate("counts: .at[].add(mode=drop) int32", lambda: at_add(P, Y, M), "proto"),
            Candidate("read bound: numpy logits.sum()", lambda: x.sum(), "bound"),
        ]
        try:
            import torch
            import torchmetrics.functional as tmf

            tx, ty = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
            cands.append(Candidate("peer: torchmetrics f1 macro", lambda: tmf.f1_score(
                tx, ty, task="multiclass", num_classes=c, average="macro"), "peer"))
        except Exception:
            pass
        st = run_round_robin(cands, repeats)
        print_stats(f"W1 prototypes N={n} C={c}", st, ref="read bound: numpy logits.sum()")
        sections.append((f"W1 N={n} C={c}", st, "read bound: numpy logits.sum()"))
        # C scaling of the argmax
        for n2, c2 in ((n // 10, 1000), (n // 50, 5000)):
            x2 = rng.standard_normal((n2, c2), dtype=np.float32)
            X2 = jnp.asarray(x2)
            t0 = time.perf_counter()
            assert (np.asarray(ab(X2)) == x2.argmax(-1)).all()
            comp = time.perf_counter() - t0
            st = run_round_robin([
                Candidate("argmax: jnp.argmax", lambda: am(X2), "proto"),
                Candidate(f"argmax: blocked (first call {comp:.2f}s)", lambda: ab(X2), "proto"),
                Candidate("jnp.max", lambda: mx(X2), "proto"),
                Candidate("read bound: numpy sum", lambda: x2.sum(), "bound"),
            ], repeats)
            print_stats(f"argmax N={n2} C={c2}", st, ref="read bound: numpy sum")
            sections.append((f"argmax N={n2} C={c2}", st, "read bound: numpy sum"))
            del x2, X2

    if want("W2"):
        b, t, v = sz["w2"]
        x = rng.standard_normal((b, t, v), dtype=np.float32)
        y = rng.integers(0, v, (b, t)).astype(np.int32)
        lens = rng.integers(t // 2, t + 1, b)
        m = np.arange(t)[None] < lens[:, None]
        X, Y, M = map(jnp.asarray, (x, y, m))
        ref = float(ce_optax_mask(X, Y, M))
        gref = np.asarray(jax.grad(ce_optax_mask)(X, Y, M))
        fwd, bwd = [], []
        for name, f in (("lse - take_along_axis", ce_lse_take), ("custom_vjp saved exp", ce_saved_exp),
                        ("optax + mask", ce_optax_mask)):
            jf, jg = jax.jit(f), jax.jit(jax.value_and_grad(f))
            assert abs(float(jf(X, Y, M)) - ref) < 1e-4 * max(1, abs(ref)), name
            assert np.allclose(np.asarray(jg(X, Y, M)[1]), gref, atol=1e-6), name
            kind = "peer" if "optax" in name else "proto"
            fwd.append(Candidate(name, (lambda jf=jf: jf(X, Y, M)), kind))
            bwd.append(Candidate(name + " fwd+bwd", (lambda jg=jg: jg(X, Y, M)), kind))
        try:
            import torch

            tx = torch.from_numpy(x).reshape(-1, v)
            ty = torch.from_numpy(np.where(m, y, -100).astype(np.int64)).reshape(-1)
            txg = tx.clone().requires_grad_(True)
            fwd.append(Candidate("torch CE(ignore_index)", lambda: torch.nn.functional.cross_entropy(tx, ty, ignore_index=-100)))

            def tb():
                txg.grad = None
                loss = torch.nn.functional.cross_entropy(txg, ty, ignore_index=-100)
                loss.backward()
                return loss

            bwd.append(Candidate("torch CE(ignore_index) fwd+bwd", tb))
        except Exception:
            pass
        xx = jax.jit(lambda a: a * 2.0)
        for lst in (fwd, bwd):
            lst.append(Candidate("read bound: numpy logits.sum()", lambda: x.sum(), "bound"))
        bwd.append(Candidate("write bound: jnp x*2 (fresh output buffer)", lambda: xx(X), "bound"))
        bwd.append(Candidate("write bound: numpy x*2", lambda: x * 2, "bound"))
        for title, lst in ((f"W2 fwd B={b} T={t} V={v}", fwd), (f"W2 fwd+bwd B={b} T={t} V={v}", bwd)):
            st = run_round_robin(lst, repeats)
            print_stats(title, st, ref="read bound: numpy logits.sum()")
            sections.append((title, st, "read bound: numpy logits.sum()"))

    if want("W3"):
        n = sz["w3"]
        s = np.round(rng.random(n), 4).astype(np.float32)  # ties
        y = (rng.random(n) < s).astype(np.int32)
        w = rng.random(n).astype(np.float32)
        S, Y, W = map(jnp.asarray, (s, y, w))
        from sklearn.metrics import roc_auc_score

        rw, ru = roc_auc_score(y, s, sample_weight=w), roc_auc_score(y, s)
        for f, args, r in ((auroc_cosort_f32, (S, Y, W), rw), (auroc_cosort_int, (S, Y, W), rw),
                           (auroc_packed_u32, (S, Y), ru), (auroc_sorted_keys_rank_fixed, (S, Y, W), rw),
                           (auroc_argsort, (S, Y, W), rw)):
            got = float(f(*args))
            assert abs(got - r) < 2e-5, (f.__name__, got, r)
        sort_i = jax.jit(lambda k: lax.sort(k))
        sort_f = jax.jit(lambda k: lax.sort(k))
        K = order_key(S)
        cands = [
            Candidate("auroc: argsort + gathers", lambda: auroc_argsort(S, Y, W), "proto", repeats=3),
            Candidate("auroc: co-sort f32 (num_keys=1)", lambda: auroc_cosort_f32(S, Y, W), "proto", repeats=3),
            Candidate("auroc: co-sort int32 key", lambda: auroc_cosort_int(S, Y, W), "proto", repeats=3),
            Candidate("auroc: sort int keys + searchsorted rank (weighted)", lambda: auroc_sorted_keys_rank_fixed(S, Y, W), "proto"),
            Candidate("auroc: packed uint32 single sort (unweighted)", lambda: auroc_packed_u32(S, Y), "proto"),
            Candidate("lax.sort f32 alone", lambda: sort_f(S), "proto", repeats=3),
            Candidate("lax.sort int32 alone", lambda: sort_i(K), "proto"),
            Candidate("read bound: np.sort(scores)", lambda: np.sort(s), "bound"),
        ]
        try:
            import torch
            import torchmetrics.functional as tmf

            ts, ty, tw = torch.from_numpy(s), torch.from_numpy(y.astype(np.int64)), None
            cands.append(Candidate("peer: torchmetrics binary_auroc exact (unweighted)",
                                   lambda: tmf.classification.binary_auroc(ts, ty), "peer", repeats=3))
        except Exception:
            pass
        st = run_round_robin(cands, max(3, repeats // 2))
        print_stats(f"W3 prototypes N={n}", st, ref="read bound: np.sort(scores)")
        sections.append((f"W3 N={n}", st, "read bound: np.sort(scores)"))

    if want("W4"):
        n = sz["w4"]
        s = rng.random(n).astype(np.float32)
        s[:1000] = np.linspace(0, 1, 200, dtype=np.float32)[rng.integers(0, 200, 1000)]  # exact edges
        y = (rng.random(n) < s).astype(np.int32)
        w = np.ones(n, np.float32)
        S, Y, W = map(jnp.asarray, (s, y, w))
        thr = np.linspace(0, 1, 200, dtype=np.float32)
        ge = s[:, None] >= thr[None, :] if n <= 1_000_000 else None
        thr_j, tp, fp, _ = binned_curve_bincount(S, Y)
        if ge is not None:
            assert (np.asarray(tp) == (ge & (y[:, None] == 1)).sum(0)).all()
            assert (np.asarray(fp) == (ge & (y[:, None] == 0)).sum(0)).all()
        cands = [
            Candidate("binned: bucket + segment_sum f32 + rev cumsum", lambda: binned_curve(S, Y, W), "proto"),
            Candidate("binned: bucket + bincount int32 (unweighted)", lambda: binned_curve_bincount(S, Y), "proto"),
            Candidate("binned: O(N·T) broadcast", lambda: binned_curve_broadcast(S, Y), "proto", repeats=3),
            Candidate("read bound: numpy scores.sum()", lambda: s.sum(), "bound"),
        ]
        st = run_round_robin(cands, repeats)
        print_stats(f"W4 prototypes N={n}", st, ref="read bound: numpy scores.sum()")
        sections.append((f"W4 N={n}", st, "read bound: numpy scores.sum()"))

    if want("W5"):
        n, l = sz["w5"]
        p = rng.random((n, l), dtype=np.float32)
        t = (rng.random((n, l)) < 0.1).astype(np.int32)
        P, T = jnp.asarray(p), jnp.asarray(t)
        from sklearn.metrics import f1_score

        r = f1_score(t, p > 0.5, average="macro", zero_division=0)
        for f in (multilabel_f1_three_sums, multilabel_f1_tp_sums, multilabel_f1_f32_sums,
                  multilabel_f1_gemv, multilabel_f1_rowblock, multilabel_f1_scan):
            assert abs(float(f(P, T)) - r) < 1e-5, f.__name__
        Tb = jnp.asarray(t.astype(bool))
        cands = [
            Candidate("ml f1: 3 bool-and sums int32", lambda: multilabel_f1_three_sums(P, T), "proto"),
            Candidate("ml f1: tp + Σpred + Σt int32", lambda: multilabel_f1_tp_sums(P, T), "proto"),
            Candidate("ml f1: tp + Σpred + Σt int32, bool targets", lambda: multilabel_f1_tp_sums(P, Tb), "proto"),
            Candidate("ml f1: f32 sums", lambda: multilabel_f1_f32_sums(P, T), "proto"),
            Candidate("ml f1: GEMV ones @ [pred·t, pred+t]", lambda: multilabel_f1_gemv(P, T), "proto"),
            Candidate("ml f1: row-block two-stage sums", lambda: multilabel_f1_rowblock(P, T), "proto"),
            Candidate("ml f1: lax.scan over 8-row blocks", lambda: multilabel_f1_scan(P, T), "proto"),
            Candidate("read bound: numpy probs.sum()", lambda: p.sum(), "bound"),
            Candidate("read bound: numpy probs+targets sum", lambda: (p.sum(), t.sum()), "bound"),
        ]
        st = run_round_robin(cands, repeats)
        print_stats(f"W5 prototypes N={n} L={l}", st, ref="read bound: numpy probs.sum()")
        sections.append((f"W5 N={n} L={l}", st, "read bound: numpy probs.sum()"))
    return sections


def write_md(path: str, sections, size: str) -> None:
    from bench._timing import fmt_time
    from bench.machine import machine_info

    lines = ["# Prototype timings (generated by `python -m bench.prototypes`)", "",
             machine_info(markdown=True), "", f"size: `{size}`; medians of round-robin repeats, ratio vs the row marked ref.", ""]
    for title, st, ref in sections:
        r = next((s for s in st if s.name == ref and s.ok), None)
        lines += [f"## {title}", "", "| formulation | median | min–max | × ref |", "|---|---:|---:|---:|"]
        for s in st:
            if not s.ok:
                lines.append(f"| {s.name} | n/a | {s.note} | |")
                continue
            ratio = f"{s.median / r.median:.2f}" if r else ""
            lines.append(f"| {s.name}{' (ref)' if s.name == ref else ''} | {fmt_time(s.median)} | {fmt_time(s.lo)}–{fmt_time(s.hi)} | {ratio} |")
        lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="small", choices=list(SIZES))
    ap.add_argument("--only", default=None, help="comma list, e.g. W1,W3")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", default=None, help="write a markdown table here")
    a = ap.parse_args(argv)
    only = set(a.only.upper().split(",")) if a.only else None
    sections = run(a.size, only, a.repeats)
    if a.out:
        write_md(a.out, sections, a.size)
        print("wrote", a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
