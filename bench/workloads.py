"""W1–W7 (PERF.md): maskjax and its peers, timed side by side in one run.

Every workload returns a ``Section``: the timed rows (round-robin, medians),
the reference rows that the PERF.md targets are ratios against, and the
targets evaluated on this run. A maskjax entry point that does not exist yet
(or raises) becomes an explicit "not available" row; nothing is faked.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import jax
import jax.numpy as jnp

from bench import peers
from bench._timing import Candidate, Stat, block, run_round_robin

SIZES = {
    # small: a quick smoke run (whole run < 2 min, 3 repeats); full: PERF.md sizes
    "small": dict(w1=(100_000, 100), w2=(16, 128, 1000), w3=100_000, w4=20_000, w5=(2_000, 1000),
                  w6=(32, 10, 30)),
    "full": dict(w1=(1_000_000, 100), w2=(64, 256, 1000), w3=5_000_000, w4=5_000_000, w5=(20_000, 1000),
                 w6=(32, 10, 1000)),
}


@dataclass
class Target:
    text: str
    num: str  # row name
    den: str  # row name
    limit: float  # met iff median(num)/median(den) <= limit

    def evaluate(self, stats: dict[str, Stat]) -> tuple[str, str]:
        a, b = stats.get(self.num), stats.get(self.den)
        if not (a and b and a.ok and b.ok):
            return "—", "n/a (row missing)"
        r = a.median / b.median
        return f"{r:.3g}", ("yes" if r <= self.limit else "no")


@dataclass
class Section:
    wid: str
    title: str
    stats: list[Stat]
    ref: str | None  # ratio column is vs this row
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------- context


class Ctx:
    """Device placement and availability of the peers."""

    def __init__(self, device: str = "cpu"):
        self.device = device
        self.jdev = jax.devices("gpu")[0] if device == "gpu" else jax.devices("cpu")[0]
        self.torch = _try_import("torch")
        self.tm = _try_import("torchmetrics")
        self.sk = _try_import("sklearn.metrics")
        self.optax = _try_import("optax")
        self.tdev = "cuda" if device == "gpu" else "cpu"

    def j(self, a: np.ndarray) -> jax.Array:
        return jax.device_put(a, self.jdev)

    def t(self, a: np.ndarray):
        return self.torch.from_numpy(np.ascontiguousarray(a)).to(self.tdev)


def _try_import(name: str):
    try:
        return __import__(name, fromlist=["_"])
    except Exception:
        return None


def mj_fn(module: str, name: str) -> Callable | None:
    """A maskjax public function, or None when it does not exist yet."""
    try:
        mod = __import__(f"maskjax.{module}", fromlist=["_"])
    except Exception:
        return None
    return getattr(mod, name, None)


def na(name: str, why: str = "not available yet in maskjax") -> Candidate:
    return Candidate(name, None, "maskjax", note=why)


def accepts(fn: Callable, kw: str) -> bool:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    return kw in sig.parameters or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


# Nominal HBM bandwidth, for the achieved-GB/s column of the GPU bound (PERF.md).
NOMINAL_HBM_GBPS = {"H100": 3350.0, "H200": 4800.0}


def bound_candidate(ctx: Ctx, name: str, x_np: np.ndarray, x_dev: Any, fn_np: Callable) -> Candidate:
    """The memory-read bound: numpy on CPU; on a GPU, a device-resident read of a warm buffer.

    GPU: ``jnp.sum`` over the buffer already on the device (reads every byte once, writes one
    scalar), timed to ``block_until_ready``; the note gives the achieved GB/s against the
    device's nominal HBM bandwidth. (The earlier bound timed a device *copy*, which allocates
    and writes its output: 856 µs for 400 MB, about 4x below what HBM allows, so it flattered
    every ratio measured against it.)
    """
    if ctx.device == "gpu":
        read = jax.jit(lambda a: jnp.sum(a, dtype=jnp.float32))
        jax.block_until_ready(read(x_dev))
        kind = jax.devices()[0].device_kind
        nominal = next((v for k, v in NOMINAL_HBM_GBPS.items() if k in kind), None)
        note = f"GPU: device-resident read of {x_dev.nbytes / 1e6:.0f} MB"
        if nominal:
            note += f"; nominal HBM {nominal:.0f} GB/s ({kind})"
        return Candidate(name, lambda: read(x_dev), "bound", note=note)
    return Candidate(name, lambda: fn_np(x_np), "bound")


# --------------------------------------------------------------------- W1


def w1(ctx: Ctx, size: str, repeats: int) -> Section:
    n, c = SIZES[size]["w1"]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c), dtype=np.float32)
    y = rng.integers(0, c, n).astype(np.int32)
    X, Y = ctx.j(x), ctx.j(y)
    cands: list[Candidate] = []
    f1 = mj_fn("metrics", "f1_score")
    cm = mj_fn("metrics", "confusion_matrix")
    if f1:
        g = jax.jit(lambda a, b: f1(a, b, task="multiclass", num_classes=c, average="macro"))
        cands.append(Candidate("maskjax f1_score macro (jit)", lambda: g(X, Y), "maskjax"))
    else:
        cands.append(na("maskjax f1_score macro (jit)"))
    if cm:
        h = jax.jit(lambda a, b: cm(a, b, task="multiclass", num_classes=c))
        cands.append(Candidate("maskjax confusion_matrix (jit)", lambda: h(X, Y), "maskjax"))
    else:
        cands.append(na("maskjax confusion_matrix (jit)"))
    cands.append(Candidate("plain jnp: argmax + bincount + F1", lambda: peers.w1_plain(X, Y, c), "peer"))
    if ctx.tm:
        import torchmetrics.functional as tmf

        tx, ty = ctx.t(x), ctx.t(y.astype(np.int64))
        cands.append(Candidate("torchmetrics f1_score macro", lambda: tmf.f1_score(
            tx, ty, task="multiclass", num_classes=c, average="macro"), "peer"))
    if ctx.sk and ctx.device == "cpu":
        from sklearn.metrics import f1_score

        cands.append(Candidate("sklearn f1_score (argmax in numpy)", lambda: f1_score(
            y, x.argmax(-1), average="macro"), "peer", repeats=max(3, repeats // 2)))
    cands.append(bound_candidate(ctx, "read bound: numpy logits.sum()", x, X, lambda a: a.sum()))
    st = run_round_robin(cands, repeats)
    main = "maskjax f1_score macro (jit)"
    return Section("W1", f"W1 multiclass confusion + macro F1 from f32 logits, N={n:,} C={c}", st,
                   "read bound: numpy logits.sum()", [
                       Target("≤ 2× read bound", main, "read bound: numpy logits.sum()", 2.0),
                       Target("≥ 3× faster than torchmetrics", main, "torchmetrics f1_score macro", 1 / 3),
                   ])


# --------------------------------------------------------------------- W2


def w2(ctx: Ctx, size: str, repeats: int) -> list[Section]:
    b, t, v = SIZES[size]["w2"]
    rng = np.random.default_rng(2)
    x = rng.standard_normal((b, t, v), dtype=np.float32)
    y = rng.integers(0, v, (b, t)).astype(np.int32)
    lens = rng.integers(t // 2, t + 1, b).astype(np.int32)
    X, Y, L = ctx.j(x), ctx.j(y), ctx.j(lens)
    m = np.arange(t)[None] < lens[:, None]
    M = ctx.j(m)
    fwd: list[Candidate] = []
    bwd: list[Candidate] = []
    ce = mj_fn("losses", "cross_entropy")
    from_lengths = mj_fn("masks", "from_lengths")
    if ce:
        def loss(a, yy, ll):
            mask = from_lengths(ll, t) if from_lengths else (jnp.arange(t)[None] < ll[:, None])
            return ce(a, yy, mask=mask, reduction="mean")

        mf, mg = jax.jit(loss), jax.jit(jax.value_and_grad(loss))
        fwd.append(Candidate("maskjax cross_entropy (jit)", lambda: mf(X, Y, L), "maskjax"))
        bwd.append(Candidate("maskjax cross_entropy fwd+bwd", lambda: mg(X, Y, L), "maskjax"))
    else:
        fwd.append(na("maskjax cross_entropy (jit)"))
        bwd.append(na("maskjax cross_entropy fwd+bwd"))
    for name, fn, kind in (("optax + mask", peers.ce_optax_mask if ctx.optax else None, "peer"),):
        if fn is None:
            continue
        f, g = jax.jit(fn), jax.jit(jax.value_and_grad(fn))
        fwd.append(Candidate(name, (lambda f=f: f(X, Y, M)), kind))
        bwd.append(Candidate(name + " fwd+bwd", (lambda g=g: g(X, Y, M)), kind))
    if ctx.torch:
        torch = ctx.torch
        tx = ctx.t(x).reshape(-1, v)
        ty = ctx.t(np.where(m, y, -100).astype(np.int64)).reshape(-1)
        txg = tx.clone().requires_grad_(True)
        fwd.append(Candidate("torch cross_entropy(ignore_index)", lambda: torch.nn.functional.cross_entropy(
            tx, ty, ignore_index=-100), "peer"))

        def tb():
            txg.grad = None
            out = torch.nn.functional.cross_entropy(txg, ty, ignore_index=-100)
            out.backward()
            return txg.grad

        bwd.append(Candidate("torch cross_entropy(ignore_index) fwd+bwd", tb, "peer"))
    rb = "read bound: numpy logits.sum()"
    fwd.append(bound_candidate(ctx, rb, x, X, lambda a: a.sum()))
    bwd.append(bound_candidate(ctx, rb, x, X, lambda a: a.sum()))
    s1 = run_round_robin(fwd, repeats)
    s2 = run_round_robin(bwd, repeats)
    shape = f"B={b} T={t} V={v}"
    return [
        Section("W2", f"W2 masked sparse cross-entropy forward, {shape}", s1, rb, [
            Target("fwd ≤ 2× read bound", "maskjax cross_entropy (jit)", rb, 2.0)]),

        Section("W2b", f"W2 masked sparse cross-entropy forward+backward, {shape}", s2, "optax + mask fwd+bwd", [
            Target("fwd+bwd faster than optax+mask", "maskjax cross_entropy fwd+bwd", "optax + mask fwd+bwd", 1.0)],

            notes=["fwd+bwd returns a fresh B·T·V gradient: on XLA:CPU its page faults dominate unless glibc "
                   "keeps freed memory (see `--tune-malloc`)."]),
    ]


# --------------------------------------------------------------------- W3


def _binary_data(n: int, seed: int, ties: bool = True):
    rng = np.random.default_rng(seed)
    s = rng.random(n).astype(np.float32)
    if ties:
        s = np.round(s, 4).astype(np.float32)
    y = (rng.random(n) < s).astype(np.int32)
    w = rng.random(n).astype(np.float32)
    return s, y, w


def w3(ctx: Ctx, size: str, repeats: int) -> Section:
    n = SIZES[size]["w3"]
    s, y, w = _binary_data(n, 3)
    S, Y, W = ctx.j(s), ctx.j(y), ctx.j(w)
    few = max(2, repeats // 3)
    cands: list[Candidate] = []
    au = mj_fn("metrics", "auroc")
    if au:
        g = jax.jit(lambda a, b, c: au(a, b, task="binary", sample_weight=c))
        cands.append(Candidate("maskjax auroc exact, weighted (jit)", lambda: g(S, Y, W), "maskjax"))
        g2 = jax.jit(lambda a, b: au(a, b, task="binary"))
        cands.append(Candidate("maskjax auroc exact (jit)", lambda: g2(S, Y), "maskjax"))
        logits = ctx.j(((s - 0.5) * 20).astype(np.float32))     # mixed signs: the host packs the negatives
        cands.append(Candidate("maskjax auroc exact, logits (jit)", lambda: g2(logits, Y), "maskjax"))
        rc = mj_fn("metrics", "roc_curve")
        g3 = jax.jit(lambda a, b: rc(a, b, task="binary"))
        cands.append(Candidate("maskjax roc_curve exact (jit, fixed length)", lambda: g3(S, Y), "maskjax",
                               repeats=few))
    else:
        cands.append(na("maskjax auroc exact, weighted (jit)"))
        cands.append(na("maskjax auroc exact (jit)"))
        cands.append(na("maskjax auroc exact, logits (jit)"))
    cands.append(Candidate("plain jnp: argsort + gathers (weighted)", lambda: peers.auroc_argsort(S, Y, W), "peer", repeats=few))
    if ctx.tm:
        import torchmetrics.functional.classification as tmc

        ts, ty = ctx.t(s), ctx.t(y.astype(np.int64))
        cands.append(Candidate("torchmetrics binary_auroc exact (no weights)", lambda: tmc.binary_auroc(ts, ty), "peer", repeats=few))
        cands.append(Candidate("torchmetrics binary_roc exact", lambda: tmc.binary_roc(ts, ty), "peer", repeats=few))
    if ctx.sk and ctx.device == "cpu":
        from sklearn.metrics import roc_auc_score

        cands.append(Candidate("sklearn roc_auc_score (weighted)", lambda: roc_auc_score(y, s, sample_weight=w), "peer", repeats=few))
    rb = "read bound: np.sort(scores)"
    if ctx.device == "gpu":
        srt = jax.jit(jnp.sort)
        cands.append(Candidate(rb, lambda: srt(S), "bound", note="GPU: jnp.sort"))
    else:
        cands.append(Candidate(rb, lambda: np.sort(s), "bound"))
    st = run_round_robin(cands, repeats)
    tm = "torchmetrics binary_auroc exact (no weights)"
    return Section("W3", f"W3 exact binary AUROC (ties, weights), N={n:,}", st, rb, [
        Target("≥ 10× faster than torchmetrics exact", "maskjax auroc exact (jit)", tm, 0.1),
        Target("within 4× of numpy sort", "maskjax auroc exact (jit)", rb, 4.0),
        Target("(logits) ≥ 10× faster than torchmetrics exact", "maskjax auroc exact, logits (jit)", tm, 0.1),
        Target("(curve, no PERF target) faster than torchmetrics' exact ROC", "maskjax roc_curve exact (jit, fixed length)",
               "torchmetrics binary_roc exact", 1.0),
        Target("(weighted) within 4× of numpy sort", "maskjax auroc exact, weighted (jit)", rb, 4.0),
    ], notes=["torchmetrics' exact AUROC takes no sample weights; it is timed unweighted.",
              "CPU route: unweighted, one uint32 sort of (score order << 1 | label) and a Mann–Whitney count; "
              "weighted, one int64 sort of (score key, signed weight) and one chunked pass; both sort the "
              "XLA scratch buffer in place through buffer_callback (no copies)."])


# --------------------------------------------------------------------- W4


def w4(ctx: Ctx, size: str, repeats: int) -> Section:
    n = SIZES[size]["w4"]
    s, y, w = _binary_data(n, 4, ties=False)
    S, Y, W = ctx.j(s), ctx.j(y), ctx.j(w)
    T = 200
    cands: list[Candidate] = []
    prc = mj_fn("metrics", "precision_recall_curve")
    au = mj_fn("metrics", "auroc")
    if prc and au:
        g = jax.jit(lambda a, b: (prc(a, b, task="binary", thresholds=T), au(a, b, task="binary", thresholds=T)))
        cands.append(Candidate("maskjax PR curve + auroc, thresholds=200 (jit)", lambda: g(S, Y), "maskjax"))
    else:
        cands.append(na("maskjax PR curve + auroc, thresholds=200 (jit)"))
    c = SIZES[size]["w1"][1]
    P = ctx.j((s * (c - 1)).astype(np.int32))
    cands.append(Candidate("W1-style counting: confusion_counts on N labels", lambda: _cc(P, Y, c), "peer"))
    few = 1
    if ctx.tm:
        import torchmetrics.functional.classification as tmc

        ts, ty = ctx.t(s), ctx.t(y.astype(np.int64))
        cands.append(Candidate("torchmetrics PR curve + auroc, thresholds=200", lambda: (
            tmc.binary_precision_recall_curve(ts, ty, thresholds=T), tmc.binary_auroc(ts, ty, thresholds=T)),
            "peer", repeats=few))
    keras_fn = _keras_auc(s, y, T) if ctx.device == "cpu" else None
    if keras_fn:
        cands.append(Candidate("keras AUC(num_thresholds=200) update+result", keras_fn, "peer", repeats=max(2, few)))
    rb = "read bound: numpy scores.sum()"
    cands.append(bound_candidate(ctx, rb, s, S, lambda a: a.sum()))
    st = run_round_robin(cands, repeats)
    main = "maskjax PR curve + auroc, thresholds=200 (jit)"
    tm = "torchmetrics PR curve + auroc, thresholds=200"
    cc = "W1-style counting: confusion_counts on N labels"
    return Section("W4", f"W4 binned PR curve + AUROC, 200 thresholds, N={n:,}", st, rb, [
        Target("≥ 100× faster than torchmetrics binned", main, tm, 0.01),
        Target("within 3× of W1-style counting", main, cc, 3.0),
    ], notes=["'W1-style counting' = the int32 confusion count of N (label, pred) pairs, C=100, no argmax."])


@jax.jit
def _cc_jit(p, t):
    return peers.confusion_counts(p, t, 100)


def _cc(p, t, c):
    return _cc_jit(p, t) if c == 100 else jax.jit(lambda a, b: peers.confusion_counts(a, b, c))(p, t)


def _keras_auc(s, y, T):
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras
    except Exception:
        return None
    ys, ss = y.astype(np.float32), s

    def run():
        m = keras.metrics.AUC(num_thresholds=T, curve="PR")
        m.update_state(ys, ss)
        return float(m.result())

    return run


# --------------------------------------------------------------------- W5


def w5(ctx: Ctx, size: str, repeats: int) -> Section:
    n, l = SIZES[size]["w5"]
    rng = np.random.default_rng(5)
    p = rng.random((n, l), dtype=np.float32)
    t = (rng.random((n, l)) < 0.1).astype(np.int32)
    P, T = ctx.j(p), ctx.j(t)
    cands: list[Candidate] = []
    f1 = mj_fn("metrics", "f1_score")
    if f1:
        kw = "num_labels" if accepts(f1, "num_labels") else "num_classes"
        g = jax.jit(lambda a, b: f1(a, b, task="multilabel", average="macro", threshold=0.5, **{kw: l}))
        cands.append(Candidate("maskjax f1_score multilabel macro (jit)", lambda: g(P, T), "maskjax", note=f"{kw}={l}"))
    else:
        cands.append(na("maskjax f1_score multilabel macro (jit)"))
    cands.append(Candidate("plain jnp: column sums", lambda: peers.multilabel_f1_three_sums(P, T), "peer"))
    few = max(2, repeats // 3)
    if ctx.tm:
        import torchmetrics.functional as tmf

        tp_, tt_ = ctx.t(p), ctx.t(t)
        cands.append(Candidate("torchmetrics multilabel f1 macro", lambda: tmf.f1_score(
            tp_, tt_, task="multilabel", num_labels=l, average="macro"), "peer", repeats=few))
    if ctx.sk and ctx.device == "cpu":
        from sklearn.metrics import f1_score

        cands.append(Candidate("sklearn f1_score macro (p > 0.5)", lambda: f1_score(
            t, p > 0.5, average="macro", zero_division=0), "peer", repeats=few))
    rb = "read bound: numpy probs.sum()"
    cands.append(bound_candidate(ctx, rb, p, P, lambda a: a.sum()))
    st = run_round_robin(cands, repeats)
    return Section("W5", f"W5 multi-label macro F1 @0.5, N={n:,} L={l}", st, rb, [
        Target("≤ 4× read bound", "maskjax f1_score multilabel macro (jit)", rb, 4.0),
    ], notes=["the read bound reads the f32 probs only; targets (int32 here) are a second array of the same size."])


# --------------------------------------------------------------------- W6 / W7


def _mj_collection(c: int, dtype: str | None = None):
    """A maskjax Collection of accuracy+P+R+F1+loss, if the API exists (best guess
    at the DESIGN.md contract: init/update/compute); else None with a reason."""
    m = __import__("maskjax.metrics", fromlist=["_"])
    Coll = getattr(m, "Collection", None)
    if Coll is None:
        return None, "maskjax.metrics.Collection not available yet"
    try:
        kw = dict(task="multiclass", num_classes=c, dtype=dtype)
        parts = {
            "accuracy": m.Accuracy(**kw),
            "precision": m.Precision(**kw, average="macro"),
            "recall": m.Recall(**kw, average="macro"),
            "f1": m.F1Score(**kw, average="macro"),
        }
        if hasattr(m, "MeanLoss"):
            parts["loss"] = m.MeanLoss()
        coll = Coll(parts)
        return coll, ""
    except Exception as e:
        return None, f"Collection construction failed: {type(e).__name__}: {e}"[:160]


def w6(ctx: Ctx, size: str, repeats: int) -> Section:
    bsz, c, steps = SIZES[size]["w6"]
    rng = np.random.default_rng(6)
    xs = [rng.standard_normal((bsz, c), dtype=np.float32) for _ in range(steps)]
    ys = [rng.integers(0, c, bsz).astype(np.int32) for _ in range(steps)]
    Xs, Ys = [ctx.j(a) for a in xs], [ctx.j(a) for a in ys]
    cands: list[Candidate] = []

    def loop_of(collection):
        upd = jax.jit(collection.update)

        def loop(blocking=False):
            st = collection.init()
            for a, b in zip(Xs, Ys):
                st = upd(st, a, b)
                if blocking:
                    block(st)
            return st
        return loop

    coll, why = _mj_collection(c)
    if coll is not None:
        mj_loop = loop_of(coll)
        cands.append(Candidate("maskjax Collection update (dispatched)", mj_loop, "maskjax"))
        cands.append(Candidate("maskjax Collection update (blocking)", lambda: mj_loop(True), "maskjax"))
        # The narrow int32-count route (dtype="int32": exact to 2**31, no weights), the state before
        # the exact wide-sum default: issue 13 asks the default to cost at most 1.2x it.
        mj32_loop = loop_of(_mj_collection(c, "int32")[0])
        cands.append(Candidate("maskjax Collection update, int32 counts (dispatched)", mj32_loop, "maskjax"))
        cands.append(Candidate("maskjax Collection update, int32 counts (blocking)", lambda: mj32_loop(True),
                               "maskjax"))
    else:
        cands.append(na("maskjax Collection update (dispatched)", why))
    init, update, _compute = peers.make_streaming(c)

    def pr_loop(blocking=False):
        st = init()
        for a, b in zip(Xs, Ys):
            st = update(st, a, b)
            if blocking:
                block(st)
        return st

    cands.append(Candidate("plain jnp: jitted confusion+loss update (dispatched)", pr_loop, "peer"))
    cands.append(Candidate("plain jnp: jitted confusion+loss update (blocking)", lambda: pr_loop(True), "peer"))
    if ctx.tm:
        import torch
        import torchmetrics as tm

        txs, tys = [ctx.t(a) for a in xs], [ctx.t(a.astype(np.int64)) for a in ys]
        mc = tm.MetricCollection({
            "accuracy": tm.classification.MulticlassAccuracy(num_classes=c, average="micro"),
            "precision": tm.classification.MulticlassPrecision(num_classes=c, average="macro"),
            "recall": tm.classification.MulticlassRecall(num_classes=c, average="macro"),
            "f1": tm.classification.MulticlassF1Score(num_classes=c, average="macro"),
        }).to(ctx.tdev)
        loss_m = tm.MeanMetric().to(ctx.tdev)

        def tm_loop():
            # tiny ops: intra-op threads only add spin/contention on a shared box
            nt = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return _tm_loop()
            finally:
                torch.set_num_threads(nt)

        def _tm_loop():
            mc.reset()
            loss_m.reset()
            for a, b in zip(txs, tys):
                mc.update(a, b)
                loss_m.update(torch.nn.functional.cross_entropy(a, b))
            return loss_m.mean_value

        cands.append(Candidate("torchmetrics MetricCollection(4) + MeanMetric", tm_loop, "peer", note="torch threads=1"))
    st = run_round_robin(cands, repeats)
    for s in st:  # report per step
        s.times = [t / steps for t in s.times]
        if s.warmup_s is not None:
            s.warmup_s /= steps
    tmn = "torchmetrics MetricCollection(4) + MeanMetric"
    return Section("W6", f"W6 streaming update, batch {bsz}, C={c} (time per step, {steps} steps/repeat)", st, tmn, [
        Target("≥ 3× fewer µs/step than torchmetrics (dispatched)", "maskjax Collection update (dispatched)", tmn, 1 / 3),
        Target("≥ 3× fewer µs/step than torchmetrics (blocking)", "maskjax Collection update (blocking)", tmn, 1 / 3),
        Target("(issue 13) wide default within 1.2× of int32 counts (dispatched)", "maskjax Collection update (dispatched)",
               "maskjax Collection update, int32 counts (dispatched)", 1.2),
        Target("(issue 13) wide default within 1.2× of int32 counts (blocking)", "maskjax Collection update (blocking)",
               "maskjax Collection update, int32 counts (blocking)", 1.2),
        Target("(plain jnp, reference) ≥ 3× fewer µs/step (dispatched)", "plain jnp: jitted confusion+loss update (dispatched)", tmn, 1 / 3),
        Target("(plain jnp, reference) ≥ 3× fewer µs/step (blocking)", "plain jnp: jitted confusion+loss update (blocking)", tmn, 1 / 3),
    ], notes=["'shares the confusion state, adds no pass' is checked by the library's tests (trace counter), not timed here."])


_W7_CODE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np, jax, jax.numpy as jnp
sys.path.insert(0, {root!r})
which = {which!r}
c = 10
x = jnp.asarray(np.random.default_rng(0).standard_normal((32, c), dtype=np.float32))
y = jnp.asarray(np.random.default_rng(1).integers(0, c, 32).astype(np.int32))
t_import = time.perf_counter() - t0
if which == "maskjax":
    from bench.workloads import _mj_collection
    coll, why = _mj_collection(c)
    if coll is None:
        print(json.dumps({{"error": why}})); sys.exit(0)
    init, update, compute = coll.init, jax.jit(coll.update), jax.jit(coll.compute)
else:
    from bench.peers import make_streaming
    init, update, compute = make_streaming(c)
t1 = time.perf_counter()
st = update(init(), x, y)
jax.block_until_ready(compute(st))
t_first = time.perf_counter() - t1
t2 = time.perf_counter()
jax.block_until_ready(compute(update(st, x, y)))
print(json.dumps({{"first_s": t_first, "second_s": time.perf_counter() - t2, "import_s": t_import}}))
"""


def w7(ctx: Ctx, size: str, repeats: int) -> Section:
    """First-call compile (trace + compile + run) of the W6 collection, in a fresh process."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    stats = []
    nrep = 3 if size == "full" else 1
    for which, name, kind in (("maskjax", "maskjax Collection first update+compute", "maskjax"),
                              ("plain", "plain jnp collection first update+compute", "peer")):
        s = Stat(name, kind)
        for _ in range(nrep):
            env = dict(os.environ, JAX_PLATFORMS="cuda" if ctx.device == "gpu" else "cpu")
            r = subprocess.run([sys.executable, "-c", _W7_CODE.format(root=root, which=which)],
                               capture_output=True, text=True, env=env, timeout=300)
            try:
                out = json.loads(r.stdout.strip().splitlines()[-1])
            except Exception:
                s.kind, s.note = "n/a", f"subprocess failed: {r.stderr.strip().splitlines()[-1:]}"
                break
            if "error" in out:
                s.kind, s.note = "n/a", out["error"]
                break
            s.times.append(out["first_s"])
            s.note = f"2nd call {out['second_s'] * 1e3:.2f} ms"
        stats.append(s)
    return Section("W7", "W7 first-call compile time of the W6 collection (fresh process)", stats, None, [
        Target("under 2 s", "maskjax Collection first update+compute", "__one_second__", 2.0),
        Target("(plain jnp, reference) under 2 s", "plain jnp collection first update+compute", "__one_second__", 2.0),
    ])


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7}


def run_workloads(ids: list[str], ctx: Ctx, size: str, repeats: int, verbose: bool = True) -> list[Section]:
    from bench._timing import print_stats

    out: list[Section] = []
    for wid in ids:
        res = WORKLOADS[wid](ctx, size, repeats)
        secs = res if isinstance(res, list) else [res]
        for sec in secs:
            one = Stat("__one_second__", "bound", times=[1.0])
            d = {s.name: s for s in sec.stats + [one]}
            if verbose:
                print_stats(sec.title, sec.stats, ref=sec.ref)
                for tg in sec.targets:
                    r, ok = tg.evaluate(d)
                    print(f"      target {tg.text}: ratio {r} -> {ok}")
        out.extend(secs)
    return out
