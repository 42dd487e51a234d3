"""The XLA CPU thread-pool effect behind maskjax.torch's ``PJRT_NPROC=1`` default (issue 15).

Times the core masked cross-entropy value-and-gradient on ``[16, 20, T]`` logits (class axis 1,
W8's shape) for a few T, in the calling thread (synchronous dispatch, as the torch front runs
it). Run it twice, with and without ``PJRT_NPROC=1``, and compare the rows:

    PYTHONPATH=. python bench/xla_cpu_threads.py
    PJRT_NPROC=1 PYTHONPATH=. python bench/xla_cpu_threads.py

Prints ``T  min µs`` per line (min over 7 rounds of 200 calls).
"""

from __future__ import annotations

import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import maskjax


def main(sizes: list[int]) -> None:
    jax.config.update("jax_cpu_enable_async_dispatch", False)
    step = jax.jit(jax.value_and_grad(
        lambda p, t: maskjax.losses.cross_entropy(p, t, axis=1, ignore_index=-100)))
    rng = np.random.default_rng(0)
    print(f"PJRT_NPROC={os.environ.get('PJRT_NPROC', '(unset)')}, cpu_count {os.cpu_count()}")
    for t in sizes:
        x = jnp.asarray(rng.normal(size=(16, 20, t)).astype(np.float32))
        y = jnp.asarray(rng.integers(0, 20, size=(16, t)).astype(np.int32))
        for _ in range(30):
            jax.block_until_ready(step(x, y))
        rounds = []
        for _ in range(7):
            t0 = time.perf_counter()
            for _ in range(200):
                jax.block_until_ready(step(x, y))
            rounds.append((time.perf_counter() - t0) / 200 * 1e6)
        print(f"{t:5d}  {min(rounds):8.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [64, 100, 104, 128, 256])
