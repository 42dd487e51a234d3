"""Side-by-side benchmark harness (PERF.md W1–W7).

    python -m bench                                  # all workloads, small sizes
    python -m bench --size full --workloads W1,W3    # PERF.md sizes
    python -m bench --scale --scale-gb 1             # C=5000 / L=1000 memory section
    python -m bench --device gpu                     # same workloads on a GPU (exits cleanly without one)

Writes bench/RESULTS.md (machine, versions, command, medians, ratios, targets)
and bench/ratios.png. Timings: warm-up (incl. jit compile) excluded except in
W7; candidates are timed round-robin in the same process; medians [min–max].
"""

from __future__ import annotations

import argparse
import os
import sys
import time

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "4294967296"}


def parse(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default="W1,W2,W3,W4,W5,W6,W7")
    ap.add_argument("--size", default="small", choices=["small", "full"])
    ap.add_argument("--repeats", type=int, default=None, help="default: 3 (small), 7 (full)")
    ap.add_argument("--out", default=None, help="markdown results (default bench/RESULTS.md)")
    ap.add_argument("--plot", default=None, help="PNG of the ratios (default bench/ratios.png)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    ap.add_argument("--scale", action="store_true", help="also run the C=5000 / L=1000 memory section")
    ap.add_argument("--scale-only", action="store_true")
    ap.add_argument("--scale-gb", type=float, default=1.0, help="input size per scale case (GB)")
    ap.add_argument("--tune-malloc", action="store_true",
                    help="re-exec with glibc MALLOC_MMAP/TRIM_THRESHOLD_ raised so freed buffers are reused "
                         "(removes XLA:CPU page-fault cost of fresh outputs; applies to every row alike)")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    a = parse(argv)
    if a.tune_malloc and any(os.environ.get(k) != v for k, v in _MALLOC.items()):
        env = dict(os.environ, **_MALLOC)
        args = [sys.executable, "-m", "bench"] + [x for x in (sys.argv[1:] if argv is None else argv)]
        os.execve(sys.executable, args, env)
    here = os.path.dirname(os.path.abspath(__file__))
    out = a.out or os.path.join(here, "RESULTS.md" if a.device == "cpu" else "RESULTS_gpu.md")
    plot = None if a.no_plot else (a.plot or os.path.join(here, "ratios.png" if a.device == "cpu" else "ratios_gpu.png"))
    if a.device == "gpu":
        os.environ.setdefault("JAX_PLATFORMS", "cuda,cpu")
        import jax

        try:
            gpus = jax.devices("gpu")
        except RuntimeError:
            gpus = []
        if not gpus:
            print("--device gpu: no GPU visible to JAX (jax.devices('gpu') is empty); nothing to run.")
            return 0
        try:
            import torch

            if not torch.cuda.is_available():
                print("note: torch sees no CUDA device; torch/torchmetrics peers will be skipped")
        except Exception:
            pass
    else:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from bench import report
    from bench.machine import machine_info
    from bench.workloads import Ctx, run_workloads

    print(machine_info())
    t0 = time.perf_counter()
    sections = []
    if not a.scale_only:
        ids = [w.strip().upper() for w in a.workloads.split(",") if w.strip()]
        ctx = Ctx(a.device)
        if a.device == "gpu" and ctx.torch is not None and not ctx.torch.cuda.is_available():
            ctx.torch = ctx.tm = None
        repeats = a.repeats or (3 if a.size == "small" else 7)
        sections = run_workloads(ids, ctx, a.size, repeats)
    scale_rows = None
    if a.scale or a.scale_only:
        from bench.scale import run_scale

        scale_rows = run_scale(a.scale_gb, device=a.device)
    elapsed = time.perf_counter() - t0
    report.write_markdown(out, sections, scale_rows, size=a.size, elapsed=elapsed, device=a.device)
    print(f"wrote {out}  ({elapsed:.0f} s)")
    if plot and sections:
        try:
            report.plot_ratios(plot, sections)
            print(f"wrote {plot}")
        except Exception as e:  # matplotlib missing or headless issue: results still written
            print(f"plot skipped: {type(e).__name__}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
