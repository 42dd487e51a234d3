"""W6 / W7 (PERF.md): streaming update of a metric collection, and its first-call compile time.

W6: per-step update µs of a Collection of accuracy + precision + recall + F1
(one shared counting state) + mean loss, at batch 32, C = 10, against a
torchmetrics ``MetricCollection`` of the same five metrics (accuracy,
precision, recall, F1 share torchmetrics' compute groups; loss is a
``MeanMetric``) — measured in the same run, medians of repeated blocks.
maskjax is timed two ways: *dispatched* (the jitted update returns a future;
the steady state of a training loop) and *blocking* (``block_until_ready``
after every step). The state stays on the device between steps, as in a
training loop; inputs are device arrays (the model's outputs).

W7: wall time of the first call of the jitted update (trace + compile),
in a fresh process so no cache is warm.

Run: ``python bench/streaming_w6.py`` (``--steps N`` to change the block length).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

B, C = 32, 10


def make_collection():
    from maskjax import metrics as M

    conf = dict(task="multiclass", num_classes=C)
    return M.Collection(accuracy=M.Accuracy(**conf, average="micro"), precision=M.Precision(**conf),
                        recall=M.Recall(**conf), f1=M.F1Score(**conf), loss=M.Mean())


def compile_time() -> float:
    """W7 in this (fresh) process: first call of the jitted collection update."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    coll = make_collection()
    rng = np.random.default_rng(0)
    logits = jnp.asarray(rng.normal(size=(B, C)).astype(np.float32))
    labels = jnp.asarray(rng.integers(0, C, B).astype(np.int32))
    loss = jnp.asarray(rng.random(B).astype(np.float32))
    state = coll.init()
    jax.block_until_ready(state)
    t0 = time.perf_counter()
    update = jax.jit(coll.update)
    jax.block_until_ready(update(state, logits, labels, loss=loss))
    return time.perf_counter() - t0


def _median_us(fn, steps: int, repeats: int) -> float:
    per_step = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(steps)
        per_step.append((time.perf_counter() - t0) / steps * 1e6)
    return statistics.median(per_step)


def w6(steps: int, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np
    import torch
    import torchmetrics
    from torchmetrics.classification import (MulticlassAccuracy, MulticlassF1Score, MulticlassPrecision,
                                             MulticlassRecall)

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    logits_np = rng.normal(size=(B, C)).astype(np.float32)
    labels_np = rng.integers(0, C, B).astype(np.int64)
    loss_np = rng.random(B).astype(np.float32)

    coll = make_collection()
    update = jax.jit(coll.update)
    logits, labels, loss = jnp.asarray(logits_np), jnp.asarray(labels_np.astype(np.int32)), jnp.asarray(loss_np)
    box = {"state": coll.init()}
    jax.block_until_ready(update(box["state"], logits, labels, loss=loss))  # compile

    def mj_dispatched(n):
        s = box["state"]
        for _ in range(n):
            s = update(s, logits, labels, loss=loss)
        jax.block_until_ready(s)
        box["state"] = s

    def mj_blocking(n):
        s = box["state"]
        for _ in range(n):
            s = jax.block_until_ready(update(s, logits, labels, loss=loss))
        box["state"] = s

    tm = torchmetrics.MetricCollection({
        "accuracy": MulticlassAccuracy(num_classes=C, average="micro"),
        "precision": MulticlassPrecision(num_classes=C, average="macro"),
        "recall": MulticlassRecall(num_classes=C, average="macro"),
        "f1": MulticlassF1Score(num_classes=C, average="macro"),
    })
    tm_loss = torchmetrics.MeanMetric()
    t_logits, t_labels, t_loss = torch.from_numpy(logits_np), torch.from_numpy(labels_np), torch.from_numpy(loss_np)
    tm.update(t_logits, t_labels)
    tm_loss.update(t_loss)

    def torchmetrics_steps(n):
        for _ in range(n):
            tm.update(t_logits, t_labels)
            tm_loss.update(t_loss)

    out = {}
    for name, fn in (("maskjax_dispatched", mj_dispatched), ("maskjax_blocking", mj_blocking),
                     ("torchmetrics", torchmetrics_steps)):
        fn(steps)  # warm-up
    # Interleave the peers so machine noise hits them alike.
    samples = {k: [] for k in ("maskjax_dispatched", "maskjax_blocking", "torchmetrics")}
    for _ in range(repeats):
        samples["maskjax_dispatched"].append(_median_us(mj_dispatched, steps, 1))
        samples["maskjax_blocking"].append(_median_us(mj_blocking, steps, 1))
        samples["torchmetrics"].append(_median_us(torchmetrics_steps, steps, 1))
    for k, v in samples.items():
        out[k] = statistics.median(v)
    # Sanity: both computed the same metrics on the same data.
    mj = {k: float(v) for k, v in coll.compute(box["state"]).items()}
    tv = {k: float(v) for k, v in tm.compute().items()}
    tv["loss"] = float(tm_loss.compute())
    # (the float32 running loss sums of both libraries round differently over ~10^5 steps)
    out["max_abs_diff"] = max(abs(mj[k] - tv[k]) for k in tv)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--w7-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.w7_only:
        print(json.dumps({"compile_s": compile_time()}))
        return 0
    w7 = json.loads(subprocess.run([sys.executable, __file__, "--w7-only"], capture_output=True, text=True,
                                   check=True).stdout.strip().splitlines()[-1])["compile_s"]
    r = w6(args.steps, args.repeats)
    ratio_d = r["torchmetrics"] / r["maskjax_dispatched"]
    ratio_b = r["torchmetrics"] / r["maskjax_blocking"]
    print(f"W6  batch {B}, C={C}: accuracy+precision+recall+F1+mean loss, µs per update step (median)")
    print(f"    maskjax Collection, dispatched : {r['maskjax_dispatched']:8.1f} µs   ({ratio_d:.1f}x fewer than torchmetrics)")
    print(f"    maskjax Collection, blocking   : {r['maskjax_blocking']:8.1f} µs   ({ratio_b:.1f}x)")
    print(f"    torchmetrics MetricCollection  : {r['torchmetrics']:8.1f} µs")
    print(f"    max |maskjax - torchmetrics| of the 5 values: {r['max_abs_diff']:.2e}")
    print(f"W7  first-call compile of the collection update: {w7:.2f} s (target < 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
