"""A torchmetrics-style stateful wrapper over a core streaming metric definition."""

from __future__ import annotations

import functools
import threading
from typing import Any

import jax
import numpy as np
import torch

from maskjax import _interop
from maskjax.torch import _front
from maskjax.torch._convert import from_jax, to_jax

_PROTOCOL = ("init", "update", "merge", "compute")
# Streaming classes whose update provably ignores padding (tests/torch/test_buckets.py).
BUCKETED = frozenset({"Accuracy", "Precision", "Recall", "F1Score", "FBetaScore", "Specificity",
                      "JaccardIndex", "DiceScore", "HammingDistance", "StatScores", "BalancedAccuracy",
                      "MatthewsCorrCoef", "CohenKappa", "ConfusionMatrix", "ExactMatch"})
ELEMENTWISE = frozenset({"Mean", "Sum"})
RANKING = frozenset({"PrecisionAtK", "RecallAtK"})


def check_protocol(metric: Any) -> None:
    """Raise ``TypeError`` unless ``metric`` has ``init/update/merge/compute``."""
    missing = [m for m in _PROTOCOL if not callable(getattr(metric, m, None))]
    if missing or isinstance(metric, type):
        raise TypeError(
            f"expected a maskjax streaming metric object with init(), update(state, preds, "
            f"targets, **kw), merge(a, b) and compute(state) (e.g. "
            f"maskjax.metrics.F1Score(...)), got {metric!r} (missing: {missing or 'an instance'}).")


def _spec_of(metric: Any) -> _front.Spec:
    try:
        return _cached_spec(metric)
    except TypeError:  # an unhashable metric object: its own spec
        return _new_spec(metric)


@functools.lru_cache(maxsize=256)
def _cached_spec(metric: Any) -> _front.Spec:
    return _new_spec(metric)


def _new_spec(metric: Any) -> _front.Spec:
    cls = type(metric).__name__
    if cls in ELEMENTWISE:
        layout, bucket = "elementwise", True
    elif cls in RANKING:
        layout, bucket = "metric", False
    elif hasattr(metric, "task"):
        layout, bucket = "metric", cls in BUCKETED
    else:
        layout, bucket = None, False
    return _front.make_spec(metric.update, f"{cls}@{id(metric)}", "metric", layout, bucket,
                            task=getattr(metric, "task", None), ranking=cls in RANKING,
                            samplewise=getattr(metric, "multidim_average", None) == "samplewise")


# Batched updates (CPU). Switching between torch's and JAX's runtimes costs a CPU loop more than a
# small update itself (W9, [64, 10] F1: ~180 µs a step with one update program a step, bench/RESULTS.md,
# "torch front, session 6"), so after BATCH_AFTER updates in a row with the same options, shapes and
# dtypes, batches are copied into the host slots of a _Run and BATCH_SLOTS of them go in one program
# that applies the same updates in the same order. Any read of the state applies what is pending.
BATCH_AFTER = 8
BATCH_SLOTS = 16
BATCH_BYTES = 256 * 1024  # a batch's converted inputs, at most (a run holds BATCH_SLOTS of them)
_NO_BATCH: set = set()


def _host_signature(leaves: list, max_bytes: int) -> tuple | None:
    """``((shape, dtype), ...)`` of converted leaves that are all host arrays of at most
    ``max_bytes`` together, else ``None``."""
    sig = []
    size = 0
    for x in leaves:
        if not isinstance(x, np.ndarray):
            return None
        size += x.nbytes
        sig.append((x.shape, x.dtype.str))
    return tuple(sig) if size <= max_bytes else None


def _groupable(spec: _front.Spec, tmpl: tuple, names: tuple, bucketed: bool, key: tuple) -> bool:
    """Whether these options run the jitted update and ``key`` never failed in one program."""
    try:
        return (spec, tmpl, names, bucketed, True) not in _front._EAGER_ONLY and key not in _NO_BATCH
    except TypeError:  # an unhashable static option: not jitted
        return False


def _batch_key(spec: _front.Spec, tmpl: tuple, names: tuple, bucketed: bool, jleaves: list, private: bool,
               plan: Any, like: torch.Tensor | None) -> tuple | None:
    """What batches must share to go in one program, or ``None`` when this one must run now.

    Only CPU batches whose inputs are host copies made by the front (nothing shares the caller's
    memory), small, and with options the jitted update takes (no eager-only option).
    """
    if not private or (like is not None and like.device.type != "cpu"):
        return None
    sig = _host_signature(jleaves[1 if bucketed else 0:], BATCH_BYTES)
    if sig is None:
        return None
    key = (tmpl, names, bucketed, None if plan is None else plan[2], sig)
    return key if _groupable(spec, tmpl, names, bucketed, key) else None


# Pooled updates (CPU, metrics whose updates commute: exact integer counts, no sample_weight).
# A dynamic-shape loop rarely repeats a shape twice in a row, so the in-order run above never
# starts; but its batches fall in a few shape buckets, and integer counts add up to the same
# state in any order. Each bucket's batches then wait in their own slots (POOL_BYTES of them at
# most, their real sizes with them) and go POOL_SLOTS at a time in one program, which replaces the
# bucket's single-update program (W8 F1: ~335 -> ~265 µs a step, bench/RESULTS.md, "session 8").
POOL_SLOTS = 16
POOL_BYTES = 2 * 1024 * 1024  # the slots of one bucket, at most (fewer slots for larger batches)
POOL_KEYS = 16  # buckets waiting at once; a new one beyond applies the oldest


def _pool_key(spec: _front.Spec, tmpl: tuple, names: tuple, jleaves: list, like: torch.Tensor | None,
              kwargs: dict) -> tuple | None:
    """The key of a bucketed CPU batch's pool, or ``None`` when it must run now (in order)."""
    if like is not None and like.device.type != "cpu" or kwargs.get("sample_weight") is not None:
        return None
    sig = _host_signature(jleaves[1:], POOL_BYTES // 2)  # jleaves[0]: the real sizes
    if sig is None:
        return None
    key = (tmpl, names, sig)
    return key if _groupable(spec, tmpl, names, True, key) else None


def _pooled(metric: Any, spec: _front.Spec) -> bool:
    """Whether a metric's bucketed updates may wait in pools: ``metric.updates_commute()``."""
    commute = getattr(metric, "updates_commute", None)
    return bool(spec.bucket and callable(commute) and commute())


class _Run:
    """Batches of one key waiting to go in one program: ``BATCH_SLOTS`` preallocated host slots.

    ``sig``: for a call ``update(preds, targets)`` with no keyword, the tensors' shapes and dtypes
    (and JAX's x64 mode) that let :meth:`take` copy them straight into the slots (narrowed and
    range-checked as the front does, :func:`maskjax.torch._front.copy_checked`;
    :func:`_fast_signature`); ``None``: only :meth:`add`.
    """

    __slots__ = ("key", "shared", "slots", "views", "sig", "n", "busy")

    def __init__(self, key: tuple, shared: list, batch: list, sig: tuple | None, n_slots: int = BATCH_SLOTS):
        """``shared``: inputs every batch shares (the real sizes); ``batch``: one converted batch."""
        self.key, self.shared, self.sig, self.n = key, shared, sig, 0
        self.slots = [_front.host_array((n_slots, *a.shape), a.dtype) for a in batch]
        self.views = [torch.from_numpy(b) for b in self.slots] if sig is not None else None
        self.busy: Any = None  # a pool: the state of the program that last read its slots

    def fresh(self) -> "_Run":
        """An empty run of the same key in new slots (a program may still read these)."""
        return _Run(self.key, self.shared, [b[0] for b in self.slots], self.sig)

    def add(self, jleaves: list) -> None:
        """Copy a converted batch into the next slot."""
        if self.busy is not None:  # a pool reuses its slots: the program reading them must be done
            jax.block_until_ready(self.busy)
            self.busy = None
        for b, a in zip(self.slots, jleaves[len(self.shared):]):
            b[self.n] = a
        self.n += 1

    def take(self, preds: Any, targets: Any) -> bool:
        """Copy ``update(preds, targets)`` into the next slot, if it has the run's signature."""
        if (preds.__class__ is not torch.Tensor or targets.__class__ is not torch.Tensor or not preds.is_cpu
                or not targets.is_cpu or preds.layout is not torch.strided or targets.layout is not torch.strided
                or (preds.shape, preds.dtype, targets.shape, targets.dtype, _interop.x64_enabled()) != self.sig):
            return False
        i = self.n
        _front.copy_checked(self.views[0][i], preds.detach() if preds.requires_grad else preds, "preds")
        _front.copy_checked(self.views[1][i], targets, "targets")
        self.n = i + 1
        return True


def _fast_signature(args: tuple, kwargs: dict, jleaves: list, plan: Any) -> tuple | None:
    """The signature :meth:`_Run.take` checks, or ``None`` when a call must go the general way.

    Only ``update(preds, targets)`` (no keyword) with CPU tensors that were converted without
    padding into the run's two slots.
    """
    if len(args) != 2 or kwargs or (plan is not None and plan[0]):
        return None
    p, t = args
    if not all(isinstance(x, torch.Tensor) and x.is_cpu and x.layout is torch.strided for x in (p, t)):
        return None
    off = 1 if plan is not None else 0
    if len(jleaves) != off + 2 or tuple(jleaves[off].shape) != tuple(p.shape) \
            or tuple(jleaves[off + 1].shape) != tuple(t.shape):
        return None
    return (p.shape, p.dtype, t.shape, t.dtype, _interop.x64_enabled())


def _init_state(metric: Any) -> Any:
    """``metric.init()``; on a CPU backend committed to the CPU device, as every update's output is.

    jit keys its cache on whether an input is committed: an uncommitted first state made every
    new metric compile its update program twice (first call, then with the committed state).
    Elsewhere the state stays uncommitted and follows the inputs' device.
    """
    state = metric.init()
    if jax.default_backend() == "cpu":
        state = jax.device_put(state, jax.devices("cpu")[0])
    return state


@functools.lru_cache(maxsize=256)
def _jitted(fn):
    return jax.jit(fn)


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

    torch conventions: scores ``[N, C, d...]`` have their class axis at
    ``axis=1`` (moved last for the core, a layout change); int64 labels are
    range-checked and narrowed. Shape buckets (:mod:`maskjax._buckets`) pad
    the non-class axes of confusion metrics and ``Mean`` / ``Sum`` so
    dynamic shapes compile a handful of programs; results are unchanged.

    Safe to share between threads: updates of one wrapper are serialised by a
    lock (no count is lost). ``update`` returns once the batch has been read:
    writing into the input tensors afterwards does not change the state (CPU:
    the update has finished, or the batch was copied to wait for a batched
    update — see ``BATCH_AFTER`` and ``POOL_SLOTS``; CUDA: the inputs are copied on
    torch's stream, which orders the copy before any later write, with no host sync).
    Metrics whose updates commute (exact integer counts) keep a dynamic-shape loop's
    batches by shape bucket and apply each bucket's in one program (``POOL_SLOTS``).

    Inside ``torch.compile`` an update is one opaque custom op
    (``maskjax::metric_update_``): no graph break.

    It is an ``nn.Module`` so it can live on a ``LightningModule``; the state
    follows the inputs' device. Across processes, :meth:`sync` all-reduces the
    state by summation (states are additive, so this is exact).

    Args:
      metric: the core metric object (e.g. ``maskjax.metrics.F1Score(...)``).
      axis: the class axis of ``[N, C, d...]`` scores (torch: 1).

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

    def __init__(self, metric: Any, *, axis: int = 1):
        super().__init__()
        check_protocol(metric)
        self.metric = metric
        self.axis = axis
        self._spec = _spec_of(metric)
        self._lock = threading.RLock()
        self._like: torch.Tensor | None = None
        self._updates = 0
        self._init = _init_state(metric)  # forward()'s empty batch state (never handed out)
        self._state = _init_state(metric)  # its own buffers: a caller may donate `.state`
        self._run: _Run | None = None  # batches waiting to be applied together (see BATCH_AFTER)
        self._pools: dict = {}  # pool key -> _Run: batches waiting by shape bucket (see POOL_SLOTS)
        self._commute = _pooled(metric, self._spec)
        self._streak: list = [None, 0]  # [key of the last update, updates in a row with it]
        self._handle = 0
        if _front.HAVE_OPS:
            from maskjax.torch import _ops
            self._handle = _ops.register_handle(self)
        self.register_buffer("_token", torch.zeros((), dtype=torch.int64), persistent=False)

    def __getstate__(self) -> dict:
        """For ``copy.deepcopy`` and ``pickle`` (Lightning clones metrics): pending batches applied
        first, so the copy holds the whole state; no lock or run travels (each copy has its own)."""
        with self._lock:
            self._flush()
            state = self.__dict__.copy()
        state["_lock"] = None
        state["_run"] = None
        state["_pools"] = {}
        state["_streak"] = [None, 0]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__["_lock"] = threading.RLock()
        if "_commute" not in state:  # pickled by maskjax before pooled updates (session 8)
            self.__dict__["_commute"] = _pooled(self.metric, self._spec)
            self.__dict__["_pools"] = {}
        if _front.HAVE_OPS:
            from maskjax.torch import _ops
            self.__dict__["_handle"] = _ops.register_handle(self)

    # -- state -------------------------------------------------------------------------------
    @property
    def state(self) -> Any:
        """The accumulated core state (a pytree of JAX arrays)."""
        with self._lock:
            self._flush()
            return self._state

    @state.setter
    def state(self, value: Any) -> None:
        with self._lock:
            self._drop_pending()
            self._state = value

    def _drop_pending(self) -> None:
        self.__dict__["_run"] = None
        self._pools.clear()
        self._streak[:] = [None, 0]

    # -- the torchmetrics surface -------------------------------------------------------
    def reset(self) -> None:
        """Back to the empty state."""
        with self._lock:
            self._drop_pending()
            self._state = _init_state(self.metric)
            self._updates = 0

    def _prepare(self, args: tuple, kwargs: dict) -> tuple:
        """``(tmpl, names, bucketed, inputs, private, plan)``: a batch converted for the update program."""
        spec = self._spec
        if spec.layout == "metric":
            kwargs = {**kwargs, "axis": self.axis}
        leaves, tmpl, names = _front.split(args, kwargs)
        like = _front.first_tensor(leaves)
        if like is not None and (self._like is None or self._like.device != like.device):
            self._like = torch.empty(0, device=like.device)
        if like is not None and like.device.type == "cuda":
            # a copy on torch's stream: later in-place writes cannot reach what JAX reads
            leaves = [x.detach().clone() if isinstance(x, torch.Tensor) else x for x in leaves]
        jleaves, plan = _front.convert_inputs(spec, leaves, tmpl, names)
        jleaves, private = _front.private_inputs(leaves, jleaves)
        return tmpl, names, plan is not None, jleaves, private, plan

    def _batch(self, state: Any, args: tuple, kwargs: dict) -> tuple[Any, bool]:
        """``(metric.update(state, *args, **kwargs), inputs private)`` on torch inputs (jitted, bucketed)."""
        tmpl, names, bucketed, jleaves, private, _ = self._prepare(args, kwargs)
        return _front.run_program(self._spec, tmpl, names, bucketed, [state, *jleaves], stateful=True), private

    def _accumulate(self, args: tuple, kwargs: dict) -> None:
        _front.check_weights(kwargs)
        with self._lock:
            run = self._run
            if run is not None and run.sig is not None and not kwargs and len(args) == 2 and run.take(*args):
                self.__dict__["_updates"] = self._updates + 1  # the fast path: two torch copies
                if run.n == BATCH_SLOTS:
                    self._flush_run(keep_run=True)
                return
            tmpl, names, bucketed, jleaves, private, plan = self._prepare(args, kwargs)
            if bucketed and self._commute:
                pool_key = _pool_key(self._spec, tmpl, names, jleaves, self._like, kwargs)
                if pool_key is not None:
                    self._pool(pool_key, [np.asarray(plan[2], np.int32), *jleaves[1:]])
                    self.__dict__["_updates"] = self._updates + 1
                    return
            key = _batch_key(self._spec, tmpl, names, bucketed, jleaves, private, plan, self._like)
            streak = self._streak
            if key is not None and key == streak[0]:
                streak[1] += 1
            else:
                streak[:] = [key, 1]
            if key is not None and streak[1] > BATCH_AFTER:
                if run is None or run.key != key:
                    self._flush_run()
                    off = 1 if bucketed else 0
                    run = self.__dict__["_run"] = _Run(key, jleaves[:off], jleaves[off:],
                                                       _fast_signature(args, kwargs, jleaves, plan))
                run.add(jleaves)
                if run.n == BATCH_SLOTS:
                    self._flush_run(keep_run=True)
            else:
                self._flush_run()
                new = _front.run_program(self._spec, tmpl, names, bucketed, [self._state, *jleaves],
                                         stateful=True)
                if not private and (self._like is None or self._like.device.type == "cpu"):
                    # XLA reads host inputs in place and may still be running (a pending input copy,
                    # an earlier program in flight): wait, so in-place writes after update() cannot
                    # reach it
                    jax.block_until_ready(new)
                # plain attributes: skip nn.Module.__setattr__'s parameter/buffer look-ups (~2 µs each)
                self.__dict__["_state"] = new
            self.__dict__["_updates"] = self._updates + 1

    def _pool(self, key: tuple, batch: list) -> None:
        """Add a converted batch (its real sizes first) to its bucket's pool; apply a full pool."""
        pools = self._pools
        pool = pools.get(key)
        if pool is not None:
            pool.add(batch)
            if pool.n == len(pool.slots[0]):
                self._flush_pool(pool)
            return
        if len(pools) >= POOL_KEYS:
            self._flush_pool(pools.pop(next(iter(pools))))  # the oldest
        per = sum(a.nbytes for a in batch)
        pool = _Run(key, [], batch, None, n_slots=max(2, min(POOL_SLOTS, POOL_BYTES // per)))
        pool.add(batch)
        self._flush_pool(pool)  # a new bucket's first batch goes now: a bad input raises here, not later
        if key not in _NO_BATCH:
            pools[key] = pool

    def _flush_pool(self, pool: _Run) -> None:
        """Apply a pool's batches in one program (their order does not matter: the counts commute)."""
        n = pool.n
        if not n:
            return
        pool.n = 0
        tmpl, names = pool.key[0], pool.key[1]
        if pool.key not in _NO_BATCH:
            prog = _front.program(self._spec, tmpl, names, True, "pooled", stateful=True)
            try:
                new = prog(self._state, self._init, np.int32(n), *pool.slots)
            except (TypeError, *_interop._TRACING_ERRORS):  # e.g. an update whose state changes dtype
                _NO_BATCH.add(pool.key)
            else:
                self.__dict__["_state"] = pool.busy = new
                return
        self.__dict__["_state"] = pool.busy = self._one_by_one(pool, n, tmpl, names, True)

    def _flush(self) -> None:
        """Apply every pending batch: the pools (in any order: their updates commute), then the run."""
        for pool in self._pools.values():
            self._flush_pool(pool)
        self._flush_run()

    def _flush_run(self, keep_run: bool = False) -> None:
        """Apply the pending batches (all of one key) to the state, in order, in one program.

        ``keep_run``: a full run continues in fresh slots (the program may still read these).
        """
        run = self._run
        if run is None:
            return
        self.__dict__["_run"] = run.fresh() if keep_run else None
        n = run.n
        if not n:
            return
        tmpl, names, bucketed = run.key[0], run.key[1], run.key[2]
        if n > 1 and run.key not in _NO_BATCH:
            prog = _front.program(self._spec, tmpl, names, bucketed, "batched", stateful=True)
            try:
                self.__dict__["_state"] = prog(self._state, np.int32(n), *run.shared, *run.slots)
                return
            except (TypeError, *_interop._TRACING_ERRORS):  # e.g. an update whose state changes dtype
                _NO_BATCH.add(run.key)
        self.__dict__["_state"] = self._one_by_one(run, n, tmpl, names, bucketed)

    def _one_by_one(self, run: _Run, n: int, tmpl: tuple, names: tuple, bucketed: bool) -> Any:
        """The state after the first ``n`` batches of ``run``, one update program each, in order."""
        state = self._state
        for i in range(n):
            state = _front.run_program(self._spec, tmpl, names, bucketed,
                                       [state, *run.shared, *[b[i] for b in run.slots]], stateful=True)
        return state

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Accumulate a batch: the core ``update``'s arguments minus the state.

        Tensors (positional or keyword), NumPy and JAX arrays are data;
        other values are static options.
        """
        if _front.is_compiling():
            from maskjax.torch import _ops
            return _ops.compiled_update(self, args, kwargs)
        self._accumulate(args, kwargs)
        return None

    @torch.compiler.disable
    def compute(self) -> Any:
        """The metric over everything accumulated since the last reset, as tensors."""
        with self._lock:
            self._flush()
            state = self._state
        return _front.tree_out(self._compute(state), self._like)

    def _compute(self, state: Any) -> Any:
        try:
            return _jitted(self.metric.compute)(state)
        except TypeError:  # unhashable metric
            return self.metric.compute(state)

    def _merge(self, a: Any, b: Any) -> Any:
        try:
            return _jitted(self.metric.merge)(a, b)
        except TypeError:
            return self.metric.merge(a, b)

    @torch.compiler.disable
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Accumulate the batch and return the metric of this batch alone."""
        batch, _ = self._batch(self._init, args, kwargs)  # the result read below waits for it
        with self._lock:
            self._flush()
            self._state = self._merge(self._state, batch)
            self._updates += 1
        return _front.tree_out(self._compute(batch), self._like)

    # -- extras ----------------------------------------------------------------------------
    def merge_state(self, other: "Metric | Any") -> None:
        """Add another wrapper's (or a raw) state into this one."""
        state = other.state if isinstance(other, Metric) else other
        with self._lock:
            self._flush()
            self._state = self._merge(self._state, state)

    def sync(self, group: Any = None) -> None:
        """All-reduce the state across ``torch.distributed`` processes (sum: exact)."""
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return

        def reduce_leaf(x):
            t = from_jax(x, self._like, copy=True)
            dist.all_reduce(t, op=dist.ReduceOp.SUM, group=group)
            return to_jax(t)
        with self._lock:
            self._flush()
            self._state = jax.tree_util.tree_map(reduce_leaf, self._state)

    @property
    def update_count(self) -> int:
        """Number of batches accumulated since the last reset."""
        return self._updates

    def extra_repr(self) -> str:
        return repr(self.metric)


def stateful_class(cls: type, public: str) -> type:
    """``maskjax.torch.metrics.X(**config)`` = ``Metric(maskjax.metrics.X(**config))``."""
    def __init__(self, *args, axis: int = 1, **kwargs):
        Metric.__init__(self, cls(*args, **kwargs), axis=axis)

    doc = (f"Stateful PyTorch front of :class:`{public}`: ``{cls.__name__}(**config)`` builds\n"
           f"the core metric and wraps it in :class:`maskjax.torch.Metric` (update / compute /\n"
           f"reset / forward). No maths here.\n")
    return type(cls.__name__, (Metric,), {"__init__": __init__, "__doc__": doc})
