"""Timing helpers shared by the benchmark harness.

The machines are shared and noisy, so every comparison is made *in the same
run*, with candidates timed **round-robin** (repeat 1 of every candidate, then
repeat 2 of every candidate, ...) so that a burst of load from another process
hits all candidates alike. We report the median and the min–max.
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


def block(x: Any) -> Any:
    """Wait for any JAX / torch / TF / numpy result (pytrees included)."""
    try:
        import jax

        leaves = jax.tree_util.tree_leaves(x)
    except Exception:  # pragma: no cover - jax is a hard dependency
        leaves = [x]
    for leaf in leaves:
        if hasattr(leaf, "block_until_ready"):
            leaf.block_until_ready()
        elif type(leaf).__module__.startswith("torch"):
            try:
                import torch

                if leaf.is_cuda:
                    torch.cuda.synchronize(leaf.device)
            except Exception:
                pass
        elif hasattr(leaf, "numpy") and type(leaf).__module__.startswith("tensorflow"):
            leaf.numpy()  # forces TF eager completion
    return x


@dataclass
class Stat:
    name: str
    kind: str  # "maskjax" | "peer" | "bound" | "proto" | "n/a"
    times: list[float] = field(default_factory=list)  # seconds
    note: str = ""
    warmup_s: float | None = None  # first call (compile for jitted code)

    @property
    def ok(self) -> bool:
        return bool(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def lo(self) -> float:
        return min(self.times) if self.times else float("nan")

    @property
    def hi(self) -> float:
        return max(self.times) if self.times else float("nan")


@dataclass
class Candidate:
    name: str
    fn: Callable[[], Any] | None  # None: not available (note says why)
    kind: str = "peer"
    note: str = ""
    repeats: int | None = None  # override (slow peers get fewer repeats)


def run_round_robin(cands: list[Candidate], repeats: int, *, time_budget_s: float | None = None,
                    verbose: bool = True) -> list[Stat]:
    """Warm each candidate up once (compile excluded), then time round-robin.

    A candidate whose warm-up raises becomes a row with the error as its note
    (so a half-written library function never kills the whole run).
    """
    stats = [Stat(c.name, c.kind if c.fn is not None else "n/a", note=c.note) for c in cands]
    live = []
    for c, s in zip(cands, stats):
        if c.fn is None:
            continue
        try:
            t0 = time.perf_counter()
            block(c.fn())
            s.warmup_s = time.perf_counter() - t0
            live.append((c, s))
        except Exception as e:  # keep the harness alive, report the failure
            s.kind = "n/a"
            s.note = f"error: {type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"
            if verbose:
                print(f"    [{c.name}] {s.note}")
    t_start = time.perf_counter()
    for r in range(repeats):
        for c, s in live:
            if c.repeats is not None and len(s.times) >= c.repeats:
                continue
            gc.collect()
            t0 = time.perf_counter()
            block(c.fn())
            s.times.append(time.perf_counter() - t0)
        if time_budget_s is not None and r >= 2 and time.perf_counter() - t_start > time_budget_s:
            break
    return stats


def fmt_time(sec: float) -> str:
    if sec != sec:
        return "—"
    if sec < 1e-3:
        return f"{sec * 1e6:.1f} µs"
    if sec < 1:
        return f"{sec * 1e3:.1f} ms"
    return f"{sec:.2f} s"


def print_stats(title: str, stats: list[Stat], ref: str | None = None) -> None:
    print(f"  {title}")
    ref_s = next((s for s in stats if s.name == ref and s.ok), None)
    for s in stats:
        if not s.ok:
            print(f"    {s.name:<44} {'n/a':>10}   {s.note}")
            continue
        ratio = f"{s.median / ref_s.median:7.2f}x" if ref_s else ""
        print(f"    {s.name:<44} {fmt_time(s.median):>10}  [{fmt_time(s.lo)} – {fmt_time(s.hi)}] {ratio} {s.note}")


def as_np(x: Any) -> np.ndarray:
    return np.asarray(x)
