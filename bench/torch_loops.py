"""W8 and W9 (PERF.md): a torch user's whole loop, maskjax.torch against torch + torchmetrics.

Run: ``PYTHONPATH=. python bench/torch_loops.py [--steps 200] [--threads]`` — prints markdown.

* **W8, dynamic padding**: B=16, T drawn from 8..256 at every step, C=20, class
  axis 1 (``[B, C, T]`` logits from a per-token linear layer), padded labels
  marked -100; masked cross entropy forward+backward, SGD, and a streaming
  macro F1 update. The first ``--steps`` steps are the "compile" phase:
  the XLA programs compiled over them are *counted* (JAX's
  ``backend_compile`` events) and the phase's wall time reported; then
  ``--steps`` more batches (new draws) are run once untimed by both loops, so that
  every length in them has been seen once, as in any second epoch (maskjax caches a
  bucket geometry and a small device array per new length, about 60 µs once), and
  timed per step on the second pass (steady state; any program compiled after
  the first phase is reported).
* **W9, fixed MLP step**: B=64, 32→64→10, cross entropy forward+backward,
  SGD, streaming macro F1.

Peers, in the same run and on the same pre-generated batches:
``F.cross_entropy(ignore_index=-100)`` + torchmetrics ``MulticlassF1Score``.
Steady steps alternate maskjax / native in blocks so machine load hits both;
the figure is the median µs per step and the ratio maskjax / native.

``--threads`` adds the thread-pool interplay check: torch matmuls timed alone
and right after maskjax calls, with JAX/XLA and torch at their default
thread counts (the numbers behind the defaults documented in README).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import maskjax.torch as mt  # noqa: E402

_COMPILES = [0]


def _listener(event, duration, **kwargs):
    if event == "/jax/core/compile/backend_compile_duration":
        _COMPILES[0] += 1


jax.monitoring.register_event_duration_secs_listener(_listener)


# ----------------------------------------------------------------------------------------- W8

B8, C8, D8 = 16, 20, 32


def w8_batches(n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        t = int(rng.integers(8, 257))
        x = torch.from_numpy(rng.normal(size=(B8, t, D8)).astype(np.float32))
        y = torch.from_numpy(rng.integers(0, C8, size=(B8, t)))
        lengths = rng.integers(1, t + 1, size=B8)
        y[torch.from_numpy(np.arange(t)[None, :] >= lengths[:, None])] = -100
        out.append((x, y))
    return out


class W8Loop:
    def __init__(self, native: bool):
        torch.manual_seed(0)
        self.native = native
        self.layer = torch.nn.Linear(D8, C8)
        self.opt = torch.optim.SGD(self.layer.parameters(), lr=0.1)
        if native:
            import torchmetrics
            self.f1 = torchmetrics.classification.MulticlassF1Score(num_classes=C8, average="macro",
                                                                    ignore_index=-100)
        else:
            self.f1 = mt.metrics.F1Score(task="multiclass", num_classes=C8, average="macro", ignore_index=-100)

    def step(self, x, y):
        self.opt.zero_grad(set_to_none=True)
        logits = self.layer(x).transpose(1, 2)  # [B, C, T]: the class axis at 1, as torch
        if self.native:
            loss = F.cross_entropy(logits, y, ignore_index=-100)
        else:
            loss = mt.losses.cross_entropy(logits, y)  # ignore_index=-100 and axis=1 by default
        loss.backward()
        self.opt.step()
        self.f1.update(logits.detach(), y)
        return loss

    def result(self):
        return float(self.f1.compute())


# ----------------------------------------------------------------------------------------- W9

B9, D9, H9, C9 = 64, 32, 64, 10


def w9_batches(n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [(torch.from_numpy(rng.normal(size=(B9, D9)).astype(np.float32)),
             torch.from_numpy(rng.integers(0, C9, size=B9))) for _ in range(n)]


class W9Loop:
    def __init__(self, native: bool):
        torch.manual_seed(0)
        self.native = native
        self.model = torch.nn.Sequential(torch.nn.Linear(D9, H9), torch.nn.ReLU(), torch.nn.Linear(H9, C9))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.05)
        if native:
            import torchmetrics
            self.f1 = torchmetrics.classification.MulticlassF1Score(num_classes=C9, average="macro")
        else:
            self.f1 = mt.metrics.F1Score(task="multiclass", num_classes=C9, average="macro")

    def step(self, x, y):
        self.opt.zero_grad(set_to_none=True)
        logits = self.model(x)
        loss = F.cross_entropy(logits, y) if self.native else mt.losses.cross_entropy(logits, y)
        loss.backward()
        self.opt.step()
        self.f1.update(logits.detach(), y)
        return loss

    def result(self):
        return float(self.f1.compute())


# ------------------------------------------------------------------------------------- timing


def steady(loops: dict, batches: list, block: int = 10) -> dict:
    """Median µs per step, alternating the loops in blocks of ``block`` steps."""
    per = {k: [] for k in loops}
    for start in range(0, len(batches), block):
        chunk = batches[start:start + block]
        for name, loop in loops.items():
            t0 = time.perf_counter()
            for x, y in chunk:
                loop.step(x, y)
            per[name].append((time.perf_counter() - t0) / len(chunk) * 1e6)
    return {k: statistics.median(v) for k, v in per.items()}


def run_w8(steps: int) -> dict:
    first, more = w8_batches(steps, 1), w8_batches(steps, 2)
    ours, native = W8Loop(False), W8Loop(True)
    c0 = _COMPILES[0]
    t0 = time.perf_counter()
    for x, y in first:
        ours.step(x, y)
    ours_first = time.perf_counter() - t0
    programs = _COMPILES[0] - c0
    t0 = time.perf_counter()
    for x, y in first:
        native.step(x, y)
    native_first = time.perf_counter() - t0
    c1 = _COMPILES[0]
    for x, y in more:  # every length seen once (untimed): the steady state of a second epoch
        ours.step(x, y)
        native.step(x, y)
    med = steady({"maskjax": ours, "native": native}, more)
    return dict(programs=programs, later_programs=_COMPILES[0] - c1, ours_first=ours_first,
                native_first=native_first, ours=med["maskjax"], native=med["native"],
                f1=(ours.result(), native.result()))


def run_w9(steps: int) -> dict:
    warm, more = w9_batches(20, 3), w9_batches(steps, 4)
    ours, native = W9Loop(False), W9Loop(True)
    for x, y in warm:
        ours.step(x, y)
        native.step(x, y)
    med = steady({"maskjax": ours, "native": native}, more)
    return dict(ours=med["maskjax"], native=med["native"], f1=(ours.result(), native.result()))


def run_threads(rounds: int = 40) -> dict:
    """torch matmul + maskjax CE, alone and interleaved (µs per pair; min and median of rounds)."""
    a = torch.randn(256, 256)
    logits, labels = torch.randn(512, 20), torch.randint(0, 20, (512,))

    def torch_op():
        return a @ a

    def maskjax_op():
        return mt.losses.cross_entropy(logits, labels)

    def both():
        maskjax_op()
        torch_op()

    def timed(fn, k=10):
        t0 = time.perf_counter()
        for _ in range(k):
            fn()
        return (time.perf_counter() - t0) / k * 1e6

    maskjax_op(), torch_op()
    res: dict = {"torch": [], "maskjax": [], "both": []}
    for _ in range(rounds):  # interleaved rounds: load changes hit all three
        res["torch"].append(timed(torch_op))
        res["maskjax"].append(timed(maskjax_op))
        res["both"].append(timed(both))
    out = {k: (min(v), statistics.median(v)) for k, v in res.items()}
    out["torch_threads"] = torch.get_num_threads()
    out["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY", "default")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", action="store_true")
    ap.add_argument("--torch-threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    ap.add_argument("--only-threads", action="store_true", help="only the thread-pool check")
    args = ap.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    print(f"jax {jax.__version__}, torch {torch.__version__}, cpu_count {os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.2f}, torch threads {torch.get_num_threads()}, "
          f"buckets {mt.bucket_policy()!r}\n")
    if args.only_threads:
        args.threads = True
    w8 = None if args.only_threads else run_w8(args.steps)
    w9 = None if args.only_threads else run_w9(args.steps * 2)
    if w8 is not None:
        print_loops(args, w8, w9)
    if args.threads:
        th = run_threads()
        pair = th["torch"][0] + th["maskjax"][0]
        print(f"\nthreads (torch {th['torch_threads']}, OMP_WAIT_POLICY {th['omp_wait_policy']}), µs min / median: "
              f"torch 256² matmul {th['torch'][0]:.0f} / {th['torch'][1]:.0f}; maskjax CE [512,20] "
              f"{th['maskjax'][0]:.0f} / {th['maskjax'][1]:.0f}; both interleaved {th['both'][0]:.0f} / "
              f"{th['both'][1]:.0f} (sum of the two alone: {pair:.0f}; interplay {th['both'][0] / pair:.2f}×)")


def print_loops(args, w8, w9) -> None:
    print("| row | maskjax.torch | native (F.cross_entropy + torchmetrics) | ratio | target |")
    print("|---|---:|---:|---:|---|")
    print(f"| W8 programs compiled over the first {args.steps} steps | {w8['programs']} | — | — | ≤ 24 |")
    print(f"| W8 wall time of the first {args.steps} steps | {w8['ours_first']:.1f} s | "
          f"{w8['native_first']:.1f} s | {w8['ours_first'] / w8['native_first']:.1f}× | — |")
    print(f"| W8 steady step ({args.steps} new batches, second pass, median µs; {w8['later_programs']} more programs) | "
          f"{w8['ours']:.0f} | {w8['native']:.0f} | {w8['ours'] / w8['native']:.2f}× | ≤ 1.5× |")
    print(f"| W9 steady step (median µs) | {w9['ours']:.0f} | {w9['native']:.0f} | "
          f"{w9['ours'] / w9['native']:.2f}× | ≤ 1.5× |")
    print(f"\nF1 at the end (maskjax, torchmetrics): W8 {w8['f1'][0]:.4f} / {w8['f1'][1]:.4f}; "
          f"W9 {w9['f1'][0]:.4f} / {w9['f1'][1]:.4f} (same model, same batches)")


if __name__ == "__main__":
    main()
