"""Run a NumPy kernel on XLA:CPU buffers without copies.

``jax.pure_callback`` copies every operand into a fresh ``jax.Array`` before the
Python function sees it, and copies what it returns into XLA's output buffers (at
N=5M, 40 MB of packed keys: about 18 ms of copying and page faults, as long as the
sort it feeds). ``buffer_callback`` (JAX ≥ 0.7) hands over the XLA buffers
themselves: the kernel writes its results into the output buffers, and the scratch
operand is aliased to an extra output so the kernel may sort it in place — no copy
and no allocation. Older JAX falls back to ``pure_callback`` (with copies).
"""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import numpy as np

try:
    from jax.experimental.buffer_callback import buffer_callback as _buffer_callback
except ImportError:  # pragma: no cover - JAX < 0.7
    _buffer_callback = None


def host_kernel(fn: Callable[..., None], results: Sequence[jax.ShapeDtypeStruct], scratch: jax.Array,
                *inputs: jax.Array) -> tuple[jax.Array, ...]:
    """``fn(outs, scratch, *inputs)`` on the host: ``fn`` fills the NumPy arrays ``outs``
    (shaped as ``results``) and may overwrite ``scratch`` (always a writable, C-contiguous
    array of ``scratch``'s dtype); returns the filled ``outs``.

    ``scratch`` should be a temporary that nothing else reads (XLA copies it otherwise).
    Batched under ``vmap`` with a leading axis on every operand (``expand_dims``).
    """
    results = tuple(results)
    if _buffer_callback is None:   # JAX < 0.7
        def copy_in_out(s, *a):
            outs = tuple(np.empty(r.shape, r.dtype) for r in results)
            fn(outs, np.array(s), *map(np.asarray, a))
            return outs
        return tuple(jax.pure_callback(copy_in_out, results, scratch, *inputs, vmap_method="expand_dims"))

    def kernel(ctx, outs, scratch_in, *bufs):
        del ctx, scratch_in               # aliased: the last output buffer *is* the scratch operand
        *outs, scratch_out = (np.asarray(o) for o in outs)
        fn(tuple(outs), scratch_out, *(np.asarray(b) for b in bufs))

    specs = results + (jax.ShapeDtypeStruct(scratch.shape, scratch.dtype),)
    call = _buffer_callback(kernel, specs, input_output_aliases={0: len(results)}, vmap_method="expand_dims")
    return tuple(call(scratch, *inputs)[:-1])


def host_in_place(fn: Callable[..., np.ndarray], result: jax.ShapeDtypeStruct, scratch: jax.Array,
                  *inputs: jax.Array) -> jax.Array:
    """``fn(scratch, *inputs) -> array`` on the host (``fn`` may overwrite ``scratch``): one result."""
    def fill(outs, s, *a):
        outs[0][...] = fn(s, *a)
    return host_kernel(fill, (result,), scratch, *inputs)[0]
