"""Run in a subprocess with 4 virtual CPU devices (see test_multidevice.py).

For meshes of 1, 2 and 4 devices and three collections that hold every
streaming metric class and state kind: ``shard_map`` +
``metric.all_reduce`` (``psum``) and a batch-sharded ``jax.jit`` update give
exactly the single-device state, with uneven data padded to the mesh and
masked (so some shards hold padding only partly, the last one mostly).
"""

import os
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

import jax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P  # noqa: E402

from tests.metrics.streaming import _cases  # noqa: E402

N = 21  # uneven: 21 rows over 2 or 4 devices
PADDED = 24


def main():
    assert jax.device_count() == 4, jax.devices()
    cases = _cases.collection_cases()
    checked = 0
    for case_id, metric, make in cases:
        t0 = time.perf_counter()
        args, kwargs = make(np.random.default_rng(7), N)
        reference = jax.jit(metric.update)(metric.init(), *args, **kwargs)
        pad_args = tuple(_cases.pad_rows(a, PADDED) for a in args)
        pad_kw = {k: _cases.pad_rows(v, PADDED) for k, v in kwargs.items()}
        mask = np.arange(PADDED) < N
        names = list(pad_kw)

        def local(mask, *arrays, metric=metric, names=names, nargs=len(pad_args)):
            a, kw = arrays[:nargs], dict(zip(names, arrays[nargs:]))
            state = metric.update(metric.init(), *a, mask=mask, **kw)
            return metric.all_reduce(state, "d")

        for n in (1, 2, 4):
            mesh = Mesh(np.array(jax.devices()[:n]), ("d",))
            arrays = (mask, *pad_args, *pad_kw.values())
            specs = tuple(P("d") for _ in arrays)
            sm = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=specs, out_specs=P()))
            _cases.assert_states_match(metric, sm(*arrays), reference, f"{case_id}: shard_map on {n} devices")
            if n == 1:  # a batch-sharded jit over one device is the reference program itself
                checked += 1
                continue
            sharding = NamedSharding(mesh, P("d"))
            placed = [jax.device_put(x, sharding) for x in arrays]
            m_, rest = placed[0], placed[1:]
            a, kw = rest[: len(pad_args)], dict(zip(names, rest[len(pad_args):]))
            state = jax.jit(metric.update)(metric.init(), *a, mask=m_, **kw)
            _cases.assert_states_match(metric, state, reference, f"{case_id}: sharded jit on {n} devices")
            checked += 1
        print(f"{case_id}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(f"OK {checked} (case, device count) pairs")


if __name__ == "__main__":
    sys.exit(main())
