"""One of two JAX processes (jax.distributed on 127.0.0.1); see test_multihost.py.

Process ``i`` streams its share of the data (rows i, i+2, ...) in padded
batches through three collections that hold every streaming metric class;
``merge_across_processes`` must give the one-shot state of all the data on
both processes, and a HostAccumulator fed the merged state agrees.
"""

import os
import sys

import jax

jax.config.update("jax_cpu_collectives_implementation", "gloo")


def main(pid: int, port: str) -> None:
    jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=pid,
                               initialization_timeout=60)
    import numpy as np

    from maskjax.metrics import HostAccumulator, merge_across_processes
    from tests.metrics.streaming import _cases

    checked = 0
    # The multiclass collection holds every state kind (counts, confusion matrix, top-k, binned and
    # exact curves, calibration, mean); one collection keeps the two processes' compile time small.
    for case_id, metric, make in _cases.collection_cases()[:1]:
        args, kwargs = make(np.random.default_rng(3), 21)
        update = jax.jit(metric.update)

        def stream(rows_all):  # padded batches of 4 rows (uneven last batch, masked): one compilation
            state = metric.init()
            for start in range(0, len(rows_all), 4):
                rows = rows_all[start:start + 4]
                sel = lambda a: _cases.pad_rows(a[rows], 4)  # noqa: E731
                state = update(state, *map(sel, args), mask=np.arange(4) < len(rows),
                               **{k: sel(v) for k, v in kwargs.items()})
            return state

        want = stream(np.arange(21))
        state = stream(np.arange(pid, 21, 2))  # this process's rows
        got = merge_across_processes(metric, state)
        _cases.assert_states_match(metric, got, want, f"{case_id} on process {pid}")
        acc = HostAccumulator(metric)  # the wide (int64 / float64) host reduction agrees
        acc.add(got)
        jax.tree.map(lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5,
                                                             atol=1e-6, equal_nan=True, err_msg=case_id),
                     acc.compute(), jax.jit(metric.compute)(want))
        checked += 1
    from jax.experimental import multihost_utils

    multihost_utils.sync_global_devices("maskjax-streaming-done")
    print(f"OK process {pid}: {checked} collections", flush=True)
    # jax.distributed.shutdown() can block for minutes on this gloo/CPU setup once collectives
    # have run; every collective is done (barrier above), so leave without it.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
