"""Adapter overhead: µs per call via maskjax.torch vs the core directly (small batch).

Run: python bench/adapter_overhead.py  — prints a markdown table (medians of
repeated timings, and the ratio adapter / core measured in the same run).
The core is called on JAX arrays through one module-level ``jax.jit`` (the
fastest way to call it); the adapter takes torch tensors, converts them
(DLPack), runs its cached jit and converts back.
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import maskjax  # noqa: E402
import maskjax.torch as mt  # noqa: E402

B, C = 32, 10


def timeit(fn, repeat=7, number=200) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number * 1e6)
    return statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(0)
    logits_np = rng.normal(size=(B, C)).astype(np.float32)
    labels_np = rng.integers(0, C, size=B).astype(np.int32)
    logits_t, labels_t = torch.from_numpy(logits_np), torch.from_numpy(labels_np)
    labels_t64 = labels_t.long()
    logits_j, labels_j = jnp.asarray(logits_np), jnp.asarray(labels_np)

    ce = jax.jit(lambda p, y: maskjax.losses.cross_entropy(p, y))
    ce_grad = jax.jit(jax.value_and_grad(lambda p, y: maskjax.losses.cross_entropy(p, y)))
    acc = jax.jit(lambda p, y: maskjax.metrics.accuracy(p, y, task="multiclass", num_classes=C))

    def torch_fwd_bwd():
        p = logits_t.clone().requires_grad_(True)
        mt.losses.cross_entropy(p, labels_t).backward()

    def native_fwd_bwd():
        p = logits_t.clone().requires_grad_(True)
        torch.nn.functional.cross_entropy(p, labels_t64).backward()

    rows = [
        ("to_jax (f32 [32,10])", lambda: mt.to_jax(logits_t), lambda: jnp.asarray(logits_j)),
        ("cross_entropy forward", lambda: mt.losses.cross_entropy(logits_t.detach(), labels_t).item(),
         lambda: ce(logits_j, labels_j).block_until_ready()),
        ("cross_entropy fwd+bwd", torch_fwd_bwd,
         lambda: jax.block_until_ready(ce_grad(logits_j, labels_j))),
        ("accuracy (int64 labels)", lambda: mt.metrics.accuracy(logits_t, labels_t64, task="multiclass",
                                                                num_classes=C).item(),
         lambda: acc(logits_j, labels_j).block_until_ready()),
    ]
    print(f"B={B}, C={C}; median µs per call (jax {jax.__version__}, torch {torch.__version__})\n")
    print("| call | maskjax.torch (tensors) | core (jax.jit, jax arrays) | ratio |")
    print("|---|---:|---:|---:|")
    for name, adapter, core in rows:
        a, c = timeit(adapter), timeit(core)
        print(f"| {name} | {a:.1f} | {c:.1f} | {a / c:.2f}× |")
    n = timeit(native_fwd_bwd)
    print(f"\nFor reference, torch-native cross_entropy fwd+bwd: {n:.1f} µs.")


if __name__ == "__main__":
    main()
