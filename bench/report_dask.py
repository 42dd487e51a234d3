"""W11: ``maskjax report`` over a partitioned Parquet dataset, 2 local Dask workers vs one process.

    python -m bench.report_dask [--rows 10000000] [--parts 8] [--repeats 3] [--dir /tmp/w11]

Writes the dataset once (binary scores, 0/1 labels, a 5-value ``site`` column; ``--parts``
Parquet files), then times the same command line end to end (a fresh process each time:
start-up, reading, per-group metrics, the merge, the JSON) with ``--engine local`` and with
``--engine dask --workers 2`` (a LocalCluster of 2 worker processes), alternating the two, one
warm-up run of each first (it fills the JAX compile cache that both reuse). The JSON outputs
must be identical apart from the engine line; the ratio local / dask is printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_dataset(path: str, rows: int, parts: int, seed: int = 0) -> None:
    import pandas as pd

    os.makedirs(path, exist_ok=True)
    rng = np.random.default_rng(seed)
    sites = np.array(["north", "south", "east", "west", "mid"])
    bounds = np.linspace(0, rows, parts + 1).astype(np.int64)
    for i in range(parts):
        n = int(bounds[i + 1] - bounds[i])
        y = rng.integers(0, 2, n).astype(np.int8)
        score = np.clip(0.15 * (2 * y - 1) + rng.uniform(0.1, 0.9, n), 0, 1).astype(np.float32)
        pd.DataFrame({"score": score, "label": y, "site": sites[rng.integers(0, 5, n)]}).to_parquet(
            os.path.join(path, f"part-{i:03d}.parquet"), row_group_size=1 << 20)


def run(data: str, engine: list[str], extra: list[str]) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "maskjax", "report", "--preds", data, "--targets", data, "--column",
           "preds=score", "targets=label", "--task", "binary", "--group-column", "site", "--binned",
           "--chunk-size", "262144", "--json", "--no-plots", "--no-progress", *engine, *extra]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), JAX_PLATFORMS="cpu")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    dt = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return dt, json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--parts", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dir", default="/tmp/maskjax-w11")
    ap.add_argument("--ci", action="store_true", help="also --ci 0.95 --replicates 20")
    args = ap.parse_args()
    data = os.path.join(args.dir, f"rows{args.rows}-parts{args.parts}")
    if not os.path.isdir(data):
        t0 = time.perf_counter()
        write_dataset(data, args.rows, args.parts)
        print(f"wrote {args.rows:,} rows in {args.parts} parts to {data} ({time.perf_counter() - t0:.1f} s)")
    extra = ["--ci", "0.95", "--replicates", "20"] if args.ci else []
    engines = {"local (1 process)": ["--engine", "local"], "dask (2 local worker processes)":
               ["--engine", "dask", "--workers", "2"]}
    times: dict[str, list[float]] = {k: [] for k in engines}
    outputs = {}
    for name, eng in engines.items():   # warm-up: compile cache
        run(data, eng, extra)
    for _ in range(args.repeats):
        for name, eng in engines.items():
            dt, out = run(data, eng, extra)
            times[name].append(dt)
            out.pop("engine")
            outputs[name] = out
    same = len({json.dumps(o, sort_keys=True) for o in outputs.values()}) == 1
    med = {k: statistics.median(v) for k, v in times.items()}
    local, dask = med["local (1 process)"], med["dask (2 local worker processes)"]
    print(f"| engine | median wall (s) | runs (s) |\n|---|---:|---|")
    for k, v in times.items():
        print(f"| {k} | {med[k]:.1f} | {', '.join(f'{x:.1f}' for x in v)} |")
    print(f"\nlocal / dask = {local / dask:.2f}x; outputs identical apart from the engine: {same}; "
          f"{os.cpu_count()} CPUs; groups: {len(outputs['local (1 process)']['groups'])}"
          + ("; --ci 0.95 --replicates 20" if args.ci else ""))


if __name__ == "__main__":
    main()
