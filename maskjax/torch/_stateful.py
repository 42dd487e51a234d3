"""A torchmetrics-style stateful wrapper over a core streaming metric definition."""

from __future__ import annotations

import functools
from typing import Any

import jax
import torch

from maskjax import _interop
from maskjax.torch._convert import from_jax, to_jax
from maskjax.torch._wrap import _first_tensor, _is_data, tree_from_jax

_PROTOCOL = ("init", "update", "merge", "compute")


def check_protocol(metric: Any) -> None:
    """Raise ``TypeError`` unless ``metric`` has ``init/update/merge/compute``."""
    missing = [m for m in _PROTOCOL if not callable(getattr(metric, m, None))]
    if missing or isinstance(metric, type):
        raise TypeError(
            f"expected a maskjax streaming metric object with init(), update(state, preds, "
            f"targets, **kw), merge(a, b) and compute(state) (e.g. "
            f"maskjax.metrics.F1Score(...)), got {metric!r} (missing: {missing or 'an instance'}).")


class Metric(torch.nn.Module):
    """torchmetrics-style ``update`` / ``compute`` / ``reset`` over a maskjax metric.

    Wraps any object with the maskjax streaming protocol — ``init()``,
    ``update(state, preds, targets, **kw)``, ``merge(a, b)``,
    ``compute(state)`` — keeping its state (a pytree of additive JAX arrays)
    between calls. ``update`` runs under one ``jax.jit`` per set of static
    options (no retracing across batches). Use it as in a Lightning loop:
    ``update`` per step, ``compute`` at epoch end, ``reset`` after;
    ``metric(preds, targets)`` (``forward``) returns the batch's value and
    accumulates, as in torchmetrics.

    It is an ``nn.Module`` so it can live on a ``LightningModule``; the state
    follows the inputs' device. Across processes, :meth:`sync` all-reduces the
    state by summation (states are additive, so this is exact).

    Args:
      metric: the core metric object (e.g. ``maskjax.metrics.F1Score(...)``).

    Example:
      >>> import dataclasses, torch, maskjax, maskjax.torch as mt
      >>> @dataclasses.dataclass(frozen=True)
      ... class MeanValue:                      # a tiny object with the protocol
      ...     def init(self): return (jnp.zeros(()), jnp.zeros(()))
      ...     def update(self, s, v, _t=None, *, mask=None):
      ...         return (s[0] + maskjax.reduce(v, mask=mask, reduction="sum"),
      ...                 s[1] + maskjax.reduce(jnp.ones_like(v), mask=mask, reduction="sum"))
      ...     def merge(self, a, b): return (a[0] + b[0], a[1] + b[1])
      ...     def compute(self, s): return s[0] / s[1]
      >>> import jax.numpy as jnp
      >>> m = mt.Metric(MeanValue())
      >>> m.update(torch.tensor([1.0, 2.0]))
      >>> m(torch.tensor([6.0, 9.0]), mask=torch.tensor([True, False]))   # batch value
      tensor(6.)
      >>> m.compute()
      tensor(3.)
      >>> m.reset(); m.update(torch.tensor([4.0])); m.compute()
      tensor(4.)
    """

    def __init__(self, metric: Any):
        super().__init__()
        check_protocol(metric)
        self.metric = metric
        self._like: torch.Tensor | None = None
        self._updates = 0
        self.state = metric.init()

    # -- the torchmetrics surface -------------------------------------------------------
    def reset(self) -> None:
        """Back to the empty state."""
        self.state = self.metric.init()
        self._updates = 0

    def _batch(self, state: Any, args: tuple, kwargs: dict) -> Any:
        call = _interop.Call(self.metric.update, args, kwargs, _is_data)
        leaves = [to_jax(x, name=n) for x, n in zip(call.leaves, call.names)]
        like = _first_tensor(call.leaves)
        if like is not None:
            self._like = torch.empty(0, device=like.device)
        return run_update(call, state, leaves)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Accumulate a batch: the core ``update``'s arguments minus the state.

        Tensors (positional or keyword), NumPy and JAX arrays are data;
        other values are static options.
        """
        self.state = self._batch(self.state, args, kwargs)
        self._updates += 1

    def compute(self) -> Any:
        """The metric over everything accumulated since the last reset, as tensors."""
        return tree_from_jax(self.metric.compute(self.state), self._like)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Accumulate the batch and return the metric of this batch alone."""
        batch = self._batch(self.metric.init(), args, kwargs)
        self.state = self.metric.merge(self.state, batch)
        self._updates += 1
        return tree_from_jax(self.metric.compute(batch), self._like)

    # -- extras ----------------------------------------------------------------------------
    def merge_state(self, other: "Metric | Any") -> None:
        """Add another wrapper's (or a raw) state into this one."""
        state = other.state if isinstance(other, Metric) else other
        self.state = self.metric.merge(self.state, state)

    def sync(self, group: Any = None) -> None:
        """All-reduce the state across ``torch.distributed`` processes (sum: exact)."""
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return
        def reduce_leaf(x):
            t = from_jax(x, self._like, copy=True)
            dist.all_reduce(t, op=dist.ReduceOp.SUM, group=group)
            return to_jax(t)
        self.state = jax.tree_util.tree_map(reduce_leaf, self.state)

    @property
    def update_count(self) -> int:
        return self._updates

    def extra_repr(self) -> str:
        return repr(self.metric)


def run_update(call: _interop.Call, state: Any, leaves: list) -> Any:
    """``metric.update(state, *args, **kwargs)`` under a jit cached per static options."""
    key = (call.fn, call.args_t, call.kwargs_t, len(leaves))
    try:
        program = _update_program(*key) if call.hashable else None
    except TypeError:  # an unhashable metric object
        program = None
    if program is not None and key not in _interop._EAGER_ONLY:
        try:
            return program(state, *leaves)
        except _interop._TRACING_ERRORS:
            _interop._EAGER_ONLY.add(key)
    args, kwargs = call.bind(leaves)
    return call.fn(state, *args, **kwargs)


@functools.lru_cache(maxsize=256)
def _update_program(fn, args_t, kwargs_t, n):
    del n

    def run(state, *leaves):
        args = tuple(_interop._fill(a, leaves) for a in args_t)
        kwargs = {k: _interop._fill(v, leaves) for k, v in kwargs_t}
        return fn(state, *args, **kwargs)
    return jax.jit(run)


def stateful_class(cls: type, public: str) -> type:
    """``maskjax.torch.metrics.X(**config)`` = ``Metric(maskjax.metrics.X(**config))``."""
    def __init__(self, *args, **kwargs):
        Metric.__init__(self, cls(*args, **kwargs))

    doc = (f"Stateful PyTorch front of :class:`{public}`: ``{cls.__name__}(**config)`` builds\n"
           f"the core metric and wraps it in :class:`maskjax.torch.Metric` (update / compute /\n"
           f"reset / forward). No maths here.\n")
    return type(cls.__name__, (Metric,), {"__init__": __init__, "__doc__": doc})

