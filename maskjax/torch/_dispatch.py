"""The torch front's one JAX setting: CPU programs run in the calling thread (no async dispatch).

JAX's CPU client runs each program on a worker thread by default, so a call returns before its
result exists. A torch loop reads every result at once (a loss value, a gradient, a metric
state), so the hand-over only adds two thread wake-ups per call: measured on the 2-core dev
machine (``bench/RESULTS.md``, "torch front"), a ``[64, 10]`` cross-entropy value-and-gradient
on fresh torch inputs took 91 µs with async dispatch and 36 µs without, and W9 went from 1.8× to
1.6× native. The option is read once, when JAX starts its CPU client, so it is set at
``import maskjax.torch`` and only if:

* no JAX backend has started yet (a program that already ran JAX keeps what it has), and
* ``MASKJAX_CPU_ASYNC_DISPATCH`` is not ``1`` (set it to keep JAX's default).

It changes no value, only when a CPU call returns; GPU/TPU dispatch is untouched.
"""

from __future__ import annotations

import os

import jax

__all__ = ["ENV", "prefer_sync_cpu_dispatch"]

ENV = "MASKJAX_CPU_ASYNC_DISPATCH"


def prefer_sync_cpu_dispatch() -> bool:
    """Turn JAX's CPU async dispatch off when nothing has started JAX yet; ``True`` if it did.

    Example:
      >>> import os
      >>> from maskjax.torch._dispatch import ENV, prefer_sync_cpu_dispatch
      >>> os.environ[ENV] = "1"          # the opt-out: JAX's default stays
      >>> prefer_sync_cpu_dispatch()
      False
      >>> del os.environ[ENV]
    """
    if os.environ.get(ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    try:
        from jax._src import xla_bridge
        started = xla_bridge.backends_are_initialized()
    except (ImportError, AttributeError):  # pragma: no cover - a JAX without the query: leave it
        return False
    if started:
        return False
    jax.config.update("jax_cpu_enable_async_dispatch", False)
    return True
