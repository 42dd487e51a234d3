"""Combining metric states across devices, processes and the host.

* :func:`psum_state`: the cross-device merge of a counting state (inside ``shard_map`` / ``pmap``).
* :class:`HostAccumulator`: exact int64 / float64 sums of device states on the host.
* :func:`merge_across_processes`: every JAX process's state, folded with ``metric.merge``.

Counting states add; two kinds of state do not: the rows of ``multidim_average="samplewise"``
(one row per sample, in order) and the score buffers of exact curves (a multiset). Their types
are marked with :func:`merged_not_summed`, and the additions here refuse them (``TypeError``)
rather than mix different samples' rows: ``metric.merge`` combines them.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from maskjax.metrics._wide import is_wide, wide_psum

__all__ = ["HostAccumulator", "psum_state", "merge_across_processes", "merged_not_summed", "unsummable_parts"]

State = Any
_UNSUMMABLE: list[type] = []


def merged_not_summed(cls: type) -> type:
    """Class decorator: states of this type are merged (``metric.merge``), never added."""
    _UNSUMMABLE.append(cls)
    return cls


def _unsummable(x: Any) -> bool:
    return isinstance(x, tuple(_UNSUMMABLE))


def unsummable_parts(state: State) -> list[str]:
    """Type names of the parts of ``state`` that are merged, not added (samplewise rows, curve buffers)."""
    return [type(x).__name__ for x in jax.tree.leaves(state, is_leaf=_unsummable) if _unsummable(x)]


def refuse_unsummable(state: State, where: str) -> None:
    """Raise ``TypeError`` when ``state`` holds rows or score buffers, which only ``merge`` combines."""
    found = unsummable_parts(state)
    if found:
        raise TypeError(
            f"{where}: the state holds {found[0]} (per-sample rows of multidim_average='samplewise', or the "
            f"score buffer of an exact curve), which are merged, not added: adding them would mix "
            f"different samples' rows. Combine such states with metric.merge (across devices: gather "
            f"them, or use thresholds= for a binned curve).")


def _widen(x: Any) -> np.ndarray:
    if is_wide(x):   # both words, summed in float64: exact for the integers a Wide holds exactly
        words = np.asarray(x.words, np.float64)
        return words[..., 0] + words[..., 1]
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_:
        return x.astype(np.int64)
    return x.astype(np.float64)


class HostAccumulator:
    """Exact accumulation past 2**31 (int32) / 2**24 (float32) counts: int64/float64 on the host.

    Keep the device state narrow and fast; every ``k`` steps (before any cell
    can reach 2**31 unweighted, or 2**24 weighted) hand it to :meth:`add`,
    which adds it into an int64 / float64 NumPy copy, and continue from
    ``metric.init()`` (same shapes and dtypes: no retrace). :meth:`compute`
    evaluates the metric on the wide state with 64-bit JAX enabled locally.

    It is also the multi-host reduction when states are gathered on one host:
    :meth:`add` states from every process (see :func:`merge_across_processes`).

    Args:
      metric: the streaming metric (or :class:`Collection`) whose states are added.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import HostAccumulator, Mean
      >>> mean = Mean()
      >>> acc = HostAccumulator(mean)
      >>> for _ in range(3):
      ...     state = acc.add(mean.update(mean.init(), jnp.array([1., 2.])))
      >>> acc.state["weight"].dtype, float(acc.compute())
      (dtype('float64'), 1.5)
    """

    def __init__(self, metric: Any) -> None:
        self.metric = metric
        self.state = jax.tree.map(_widen, metric.init(), is_leaf=is_wide)
        self._added = False

    def add(self, state: State) -> State:
        """Add a device state (fetched to host) and return a fresh ``metric.init()``.

        Raises:
          TypeError: the state keeps rows or score buffers (``multidim_average="samplewise"``,
            exact curves), which ``metric.merge`` combines and an addition would corrupt: such a
            state can be added once (to the empty accumulator, e.g. an already merged state), a
            second time raises.
        """
        if self._added:
            refuse_unsummable(state, "HostAccumulator.add (a second state)")
        self._added = True
        host = jax.tree.map(_widen, jax.device_get(state), is_leaf=is_wide)
        self.state = jax.tree.map(lambda a, b: a + b, self.state, host)
        return self.metric.init()

    def compute(self) -> Any:
        """The metric of the wide state, computed with 64-bit JAX (results come back as NumPy)."""
        with jax.enable_x64(True):
            wide = jax.tree.map(jnp.asarray, self.state)
            return jax.tree.map(np.asarray, jax.jit(self.metric.compute)(wide))


def psum_state(state: State, axis_name: Any) -> State:
    """``jax.lax.psum`` of a metric state over a mesh axis (use inside ``shard_map`` / ``pmap``).

    Every leaf of a counting state is a sum, so this is the cross-device merge. Integer counts
    stay integer (exact); float counts are summed in the state's dtype. States of rows or
    score buffers (``multidim_average="samplewise"``, exact curves) raise ``TypeError``: they
    are merged, not summed.

    Args:
      state: a metric or collection state.
      axis_name: the mesh axis name(s) to reduce over.

    Returns:
      The state summed over ``axis_name`` (identical on every device).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from maskjax.metrics import Mean, psum_state
      >>> mean = Mean()
      >>> def per_device(v):
      ...     return psum_state(mean.update(mean.init(), v), "d")
      >>> out = jax.vmap(per_device, axis_name="d")(jnp.array([[1., 2.], [3., 6.]]))
      >>> float(mean.compute(jax.tree.map(lambda x: x[0], out)))
      3.0
    """
    refuse_unsummable(state, "psum_state")
    return jax.tree.map(lambda x: wide_psum(x, axis_name) if is_wide(x) else jax.lax.psum(x, axis_name),
                        state, is_leaf=is_wide)


def merge_across_processes(metric: Any, state: State) -> State:
    """Merge a metric state over every JAX process (multi-host); the result is on every host.

    Gathers each process's host-local (e.g. already ``psum``-ed, replicated)
    state with ``jax.experimental.multihost_utils.process_allgather`` and
    folds the copies with ``metric.merge`` (addition, in the state's own
    dtype). With a single process it returns the state unchanged (as NumPy).
    For counts that may exceed 32-bit exactness, :meth:`HostAccumulator.add`
    the gathered states instead. On CPU, multi-process collectives need
    ``jax.config.update("jax_cpu_collectives_implementation", "gloo")``
    before ``jax.distributed.initialize``.

    Args:
      metric: the metric or :class:`Collection` that built ``state``.
      state: this process's state.

    Returns:
      The merged state, as NumPy arrays (same structure and dtypes).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Sum, merge_across_processes
      >>> s = Sum()
      >>> float(s.compute(merge_across_processes(s, s.update(s.init(), jnp.array([1., 2.])))))
      3.0
    """
    if jax.process_count() == 1:
        return jax.device_get(state)
    from jax.experimental import multihost_utils

    gathered = jax.device_get(multihost_utils.process_allgather(state, tiled=False))
    total = jax.tree.map(lambda g: g[0], gathered)
    for i in range(1, jax.process_count()):
        total = metric.merge(total, jax.tree.map(lambda g, i=i: g[i], gathered))
    return jax.device_get(total)
