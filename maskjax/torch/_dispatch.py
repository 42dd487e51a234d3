"""The torch front's JAX CPU defaults: programs run in the calling thread, on one XLA thread.

A torch loop calls maskjax on small arrays and reads every result at once (a loss value, a
gradient, a metric state), while torch's own thread pool runs the model. JAX's CPU client
is built for the opposite (big programs, results read later), and two of its defaults cost a
torch loop more than the programs themselves (2-core dev machine, ``bench/RESULTS.md``,
"torch front"):

* **async dispatch**: each program runs on a worker thread and the caller waits for it, two
  thread wake-ups per call. A ``[64, 10]`` cross-entropy value-and-gradient on fresh torch
  inputs took 91 µs with it and 36 µs without (W9: 1.8× → 1.56× native).
* **intra-op threads**: programs above ~32K elements are split over XLA's thread pool, which
  competes with torch's. A ``[16, 20, 128]`` value-and-gradient took 105 µs on the default pool
  and 48 µs on one thread (W8: 1.9× → 1.6× native).

Both are read once, when JAX starts its CPU client, so ``import maskjax.torch`` sets them only if
no JAX backend has started yet (a program that already ran JAX keeps what it has):

* ``jax_cpu_enable_async_dispatch=False``, unless ``MASKJAX_CPU_ASYNC_DISPATCH=1``;
* ``PJRT_NPROC=1`` (XLA's CPU thread-pool size; child processes inherit it), unless
  ``PJRT_NPROC`` is already set (``PJRT_NPROC=16`` gives big CPU programs their threads
  back) or a GPU/TPU plugin of JAX is installed (its client reads the same variable).

Neither changes a value, only when and on how many threads a CPU program runs; GPU/TPU are
untouched. Neither makes every program synchronous either: XLA still runs a program on a worker
thread when an input is not ready (it copies a misaligned host array of 100 KiB or more
asynchronously) or an earlier program is in flight. A caller that returns before reading a
result therefore waits whenever XLA reads the caller's memory in place
(:func:`maskjax.torch._front.private_inputs`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil

import jax

__all__ = ["ASYNC_ENV", "THREADS_ENV", "configure_cpu_client"]

ASYNC_ENV = "MASKJAX_CPU_ASYNC_DISPATCH"
THREADS_ENV = "PJRT_NPROC"


def configure_cpu_client() -> dict:
    """Set the torch front's CPU defaults if JAX has not started; returns what it set.

    Example:
      >>> import os
      >>> from maskjax.torch._dispatch import ASYNC_ENV, THREADS_ENV, configure_cpu_client
      >>> saved = {k: os.environ.get(k) for k in (ASYNC_ENV, THREADS_ENV)}
      >>> os.environ.update({ASYNC_ENV: "1", THREADS_ENV: "4"})   # the user's own choices
      >>> configure_cpu_client()                                  # theirs win: nothing changes
      {}
      >>> for k, v in saved.items():
      ...     _ = os.environ.pop(k) if v is None else os.environ.update({k: v})
    """
    keep_async = os.environ.get(ASYNC_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    if keep_async and THREADS_ENV in os.environ:
        return {}
    try:
        from jax._src import xla_bridge
        started = xla_bridge.backends_are_initialized()
    except (ImportError, AttributeError):  # pragma: no cover - a JAX without the query: leave it
        return {}
    if started:
        return {}
    done: dict = {}
    if not keep_async:
        jax.config.update("jax_cpu_enable_async_dispatch", False)
        done["jax_cpu_enable_async_dispatch"] = False
    if THREADS_ENV not in os.environ and not _accelerator_plugin():
        os.environ[THREADS_ENV] = "1"
        done[THREADS_ENV] = "1"
    return done


def _accelerator_plugin() -> bool:
    """Whether a JAX GPU/TPU plugin is installed (then XLA's thread settings are left alone)."""
    try:
        plugins = importlib.import_module("jax_plugins")  # a namespace package, absent without plugins
        if any(True for _ in pkgutil.iter_modules(plugins.__path__)):
            return True
    except ImportError:
        pass
    return importlib.util.find_spec("libtpu") is not None
