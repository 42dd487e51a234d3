"""Run a NumPy kernel on XLA:CPU buffers without copies.

``jax.pure_callback`` copies every operand into a fresh ``jax.Array`` before the
Python function sees it (at N=5M, 40 MB of packed keys: about 18 ms of copying and
page faults, as long as the sort it feeds). ``buffer_callback`` (JAX ≥ 0.7) hands
over the XLA buffers themselves, and aliasing the scratch operand to an output lets
the kernel sort it in place: no copy and no allocation. Older JAX falls back to
``pure_callback`` with a writable copy of the scratch operand.
"""

from __future__ import annotations

from typing import Callable

import jax
import numpy as np

try:
    from jax.experimental.buffer_callback import buffer_callback as _buffer_callback
except ImportError:  # pragma: no cover - JAX < 0.7
    _buffer_callback = None


def host_in_place(fn: Callable[..., np.ndarray], result: jax.ShapeDtypeStruct, scratch: jax.Array,
                  *inputs: jax.Array) -> jax.Array:
    """``fn(scratch, *inputs) -> result`` on the host; ``fn`` may overwrite ``scratch``.

    ``scratch`` should be a temporary that nothing else reads (XLA copies it otherwise).
    Batched under ``vmap`` with a leading axis on every operand (``expand_dims``).
    """
    if _buffer_callback is None:  # pragma: no cover - JAX < 0.7
        return jax.pure_callback(lambda s, *a: fn(np.array(s), *map(np.asarray, a)), result, scratch, *inputs,
                                 vmap_method="expand_dims")
    scratch_spec = jax.ShapeDtypeStruct(scratch.shape, scratch.dtype)

    def kernel(ctx, outs, scratch_in, *bufs):
        del ctx, scratch_in               # aliased: the output buffer *is* the scratch operand
        out, scratch_out = outs
        np.asarray(out)[...] = fn(np.asarray(scratch_out), *(np.asarray(b) for b in bufs))

    call = _buffer_callback(kernel, (result, scratch_spec), input_output_aliases={0: 1}, vmap_method="expand_dims")
    return call(scratch, *inputs)[0]
