"""Streaming metric objects: the base class, ``Mean``, ``Sum`` and ``Collection``.

A metric object is a frozen, hashable dataclass holding *configuration only*
(the Python values that shape the program). Its state is a pytree of additive
arrays, handled through the optax-like quartet::

    state = metric.init()                                  # strongly typed zeros
    state = metric.update(state, preds, targets, mask=m)   # pure, jit-able
    state = metric.merge(state, other)                     # tree addition
    value = metric.compute(state)                          # pure function of state

Because every leaf of a counting state is a sum, ``merge`` is ``+``: a ``lax.scan`` over
batches, ``jax.lax.psum`` over a mesh axis inside ``shard_map``, a tree of
partial results and a reduction across hosts all give the one-shot answer. The rows of
``multidim_average="samplewise"`` and exact curves' score buffers are merged, never added
(:mod:`maskjax.metrics._state_merge`).

Accumulator dtypes and exactness
--------------------------------
By default (``dtype=None``) every additive state keeps its sums as float32 double words
(:class:`maskjax.metrics._wide.Wide`): counts stay exact to 2**47 and weighted sums keep about
44 bits, with 64-bit JAX off, on every device; so a default metric accepts ``sample_weight`` and
``class_weight`` and never wraps. ``dtype="int32"`` / ``"float32"`` keep one narrow word (int32
counts are exact to 2**31 - 1 and reject weights; float32 counts whole numbers exactly only up to
2**24); ``"int64"`` / ``"float64"`` need ``jax_enable_x64``. :class:`HostAccumulator` adds device
states into int64 / float64 on the host.

States are tagged with the metric that built them (:class:`maskjax.metrics._wide.Tagged`):
``update``, ``merge`` and ``compute`` with a state of another metric or configuration raise a
``ValueError`` naming both. Tags are static pytree data: ``jit``, ``scan``, ``psum`` and buffer
donation (``jax.jit(m.update, donate_argnums=0)``) work unchanged.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar, Hashable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks
from maskjax._reduction import reduce
from maskjax._safe_divide import safe_divide
from maskjax.metrics import _format, _invalid
from maskjax.metrics._state_merge import HostAccumulator, merge_across_processes, psum_state
from maskjax.metrics._wide import Tagged, tag, is_wide, narrow, wide_add, wide_merge, widen

__all__ = ["Metric", "Mean", "Sum", "Collection", "HostAccumulator", "psum_state", "merge_across_processes"]

State = Any

_COUNT_DTYPES = ("int32", "int64", "float32", "float64")


def merge_states(a: State, b: State) -> State:
    """Leaf-wise sum of two states of one metric (the merge of every metric; wide sums exactly)."""
    def add(x: Any, y: Any) -> Any:
        if is_wide(x):
            return wide_merge(x, y)
        if jnp.shape(x) != jnp.shape(y):
            raise ValueError(f"cannot merge states with leaves of shapes {jnp.shape(x)} and {jnp.shape(y)}: "
                             "they were built by different metrics or configurations.")
        return jnp.add(x, y)
    return jax.tree.map(add, a, b, is_leaf=is_wide)


def check_accumulator_dtype(dtype: Any, name: str = "dtype") -> str | None:
    """Validate a ``dtype=`` config value; returns its canonical name (or None)."""
    if dtype is None:
        return None
    try:
        canonical = jnp.dtype(dtype).name
    except TypeError:
        canonical = None
    if canonical not in _COUNT_DTYPES:
        raise ValueError(f"`{name}` must be None or one of {list(_COUNT_DTYPES)}, got {dtype!r}.")
    if canonical.endswith("64") and not jax.config.jax_enable_x64:
        raise ValueError(
            f"`{name}={canonical}` needs 64-bit JAX (jax.config.update('jax_enable_x64', True)); "
            "without it, keep a 32-bit device state and flush it into a HostAccumulator."
        )
    return canonical


def add_into(state: State, increment: State, owner: str, bound: int | None = None) -> State:
    """``state + increment`` leaf by leaf, keeping the state's dtypes.

    Raises ``TypeError`` at trace time when a floating (weighted) increment
    would be added into an integer count (it would be truncated silently).
    ``bound``: a static bound of the integer increments (see :func:`maskjax.metrics._wide.wide_add`).
    """
    leaves_s, treedef_s = jax.tree.flatten(state, is_leaf=is_wide)
    leaves_i, treedef_i = jax.tree.flatten(increment)
    if treedef_s != treedef_i:
        raise ValueError(
            f"{owner}: the state passed to update does not have this metric's structure "
            f"(expected {treedef_i}, got {treedef_s}); build it with {owner}.init()."
        )
    out = []
    for s, i in zip(leaves_s, leaves_i):
        if is_wide(s):
            if s.hi.shape != jnp.shape(i):
                raise ValueError(
                    f"{owner}: state leaf of shape {tuple(s.hi.shape)} cannot accumulate an update of "
                    f"shape {tuple(jnp.shape(i))}; build the state with {owner}.init()."
                )
            out.append(wide_add(s, i, bound))
            continue
        s = jnp.asarray(s)
        if jnp.issubdtype(s.dtype, jnp.integer) and jnp.issubdtype(i.dtype, jnp.floating):
            raise TypeError(
                f"{owner} keeps integer counts (dtype {s.dtype}) but this update produced "
                f"weighted (floating) counts, e.g. because `sample_weight` or a class weight was "
                f"given. Build the metric with dtype=None (the default: exact wide counts that "
                f"accept weights) or dtype='float32'."
            )
        if s.shape != i.shape:
            raise ValueError(
                f"{owner}: state leaf of shape {tuple(s.shape)} cannot accumulate an update of "
                f"shape {tuple(i.shape)}; build the state with {owner}.init()."
            )
        out.append(s + i.astype(s.dtype))
    return jax.tree.unflatten(treedef_s, out)


def _invalid_of(state: State) -> jax.Array:
    return state.invalid if isinstance(state, Tagged) else jnp.zeros((), jnp.int32)


def _wrap_init(fn: Any) -> Any:
    @functools.wraps(fn)
    def init(self: "Metric") -> State:
        state = fn(self)
        if isinstance(state, Tagged):
            return state
        # jnp.array copies: leaves an init shares (one zeros array for several fields) get their own
        # buffer, so the state can be donated (jax.jit(m.update, donate_argnums=0)).
        return self._seal(widen(state) if self._wide() else jax.tree.map(jnp.array, state))
    init.__maskjax_wrapped__ = True  # type: ignore[attr-defined]
    return init


def _wrap_update(fn: Any) -> Any:
    @functools.wraps(fn)
    def update(self: "Metric", state: State, *args: Any, **kwargs: Any) -> State:
        inner = self._open(state, "update")
        seen = state.invalid if isinstance(state, Tagged) else jnp.zeros((), jnp.int32)
        _invalid.check_weights(kwargs.get("sample_weight"))
        new = fn(self, inner, *args, **kwargs)
        if isinstance(new, Tagged):          # a subclass's update that called a wrapped one
            return self._seal(new.value, seen + new.invalid)
        preds = args[0] if args else None
        targets = args[1] if len(args) > 1 else None
        bad = self._any_invalid(preds, targets, kwargs.get("mask"), kwargs.get("sample_weight"))
        return self._seal(new, seen + bad)
    update.__maskjax_wrapped__ = True  # type: ignore[attr-defined]
    return update


def _wrap_compute(fn: Any) -> Any:
    @functools.wraps(fn)
    def compute(self: "Metric", state: State) -> Any:
        result = fn(self, narrow(self._open(state, "compute")))
        return _invalid.poison(result, state.invalid) if isinstance(state, Tagged) else result
    compute.__maskjax_wrapped__ = True  # type: ignore[attr-defined]
    return compute


@dataclasses.dataclass(frozen=True)
class Metric:
    """Base class of every streaming metric: static config, additive array state.

    Subclasses are frozen dataclasses (hashable, so they can be closed over or
    passed as static arguments to ``jax.jit``) and implement :meth:`init`,
    :meth:`update` and :meth:`compute`. :meth:`merge` is tree addition.

    ``state_key()`` returns a hashable that is equal for two metrics exactly
    when they build identical states from identical inputs; a
    :class:`Collection` updates one shared state per key. ``None`` (the
    default) means "never shared".

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Mean
      >>> m = Mean()
      >>> s = m.update(m.init(), jnp.array([1., 2., 3.]))
      >>> float(m.compute(m.merge(s, s)))
      2.0
    """

    #: "preds_targets" (update(state, preds, targets, ...)) or "values" (update(state, values, ...)).
    inputs: ClassVar[str] = "preds_targets"
    #: The state is a container of members' own (tagged) states: not tagged or widened itself.
    _container: ClassVar[bool] = False

    # Every subclass's init / update / compute is wrapped once, here, so that each metric's own code
    # sees its plain state: init widens the sums (dtype=None) and tags the state with its builder;
    # update and compute check the tag (a clear error instead of silent broadcasting) and unwrap it;
    # compute reads wide sums as float32. One place for what would otherwise be in every metric.
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("_container", False):
            return
        for name, wrap in (("init", _wrap_init), ("update", _wrap_update), ("compute", _wrap_compute)):
            fn = cls.__dict__.get(name)
            if fn is not None and not getattr(fn, "__maskjax_wrapped__", False):
                setattr(cls, name, wrap(fn))

    def state_key(self) -> Hashable | None:
        return None

    def updates_commute(self) -> bool:
        """Whether unweighted updates add exact integer counts: batches in any order give the same
        state bit for bit (the torch front then groups them by shape bucket). Float sums: no.

        Example:
          >>> from maskjax.metrics import F1Score, Mean
          >>> F1Score(task="multiclass", num_classes=3).updates_commute(), Mean().updates_commute()
          (True, False)
        """
        return False

    def _any_invalid(self, preds: Any, targets: Any, mask: Any, sample_weight: Any) -> jax.Array:
        """:func:`maskjax.metrics._invalid.any_invalid` of a batch, read in the metric's own layout.

        For a metric with an ``axis=`` option (the class / label axis, e.g. ``1`` for torch's
        ``[N, C, T]``) the scores are moved class-last first, so that an element-shaped mask lines
        up with the scores' elements; metrics without a ``task`` (ranking, generalized Dice) move
        ``targets`` of the scores' rank too.
        """
        axis = getattr(self, "axis", None)
        if axis is not None and preds is not None and targets is not None:
            preds, targets, mask, sample_weight = _format.class_axis_last(
                jnp.asarray(preds), jnp.asarray(targets), task=getattr(self, "task", "multilabel"),
                num_classes=None, axis=axis, mask=mask, sample_weight=sample_weight)
        return _invalid.any_invalid(preds, targets, mask=mask, sample_weight=sample_weight,
                                    ignore_index=getattr(self, "ignore_index", None))

    def _wide(self) -> bool:
        """Whether the state's sums are kept as exact double words (``dtype=None``)."""
        return getattr(self, "dtype", "") is None

    def _tag(self) -> tuple[Hashable, str]:
        key = self.state_key()
        return (("state", key) if key is not None else ("metric", self)), repr(self)

    def _seal(self, state: State, invalid: Any = None) -> State:
        if isinstance(state, Tagged):
            state, invalid = state.value, state.invalid if invalid is None else invalid
        key, owner = self._tag()
        return tag(state, key, owner, invalid)

    def _open(self, state: State, what: str) -> State:
        """The plain state inside ``state``, after checking it was built by a compatible metric."""
        if not isinstance(state, Tagged):
            return state
        key, owner = self._tag()
        if state.key != key:
            raise ValueError(
                f"{type(self).__name__}.{what} got a state built by another metric or configuration:\n"
                f"  this metric:   {owner}\n  state built by: {state.owner}\n"
                f"Build the state with this metric's init() (metrics share a state only when their "
                f"state_key() is equal)."
            )
        return state.value

    def init(self) -> State:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, state: State, *args: Any, **kwargs: Any) -> State:  # pragma: no cover
        raise NotImplementedError

    def merge(self, a: State, b: State) -> State:
        """Combine two states (leaf-wise addition; associative and commutative)."""
        return self._seal(merge_states(self._open(a, "merge"), self._open(b, "merge")), _invalid_of(a) + _invalid_of(b))

    def compute(self, state: State) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def all_reduce(self, state: State, axis_name: Any) -> State:
        """Merge the states of every device along a mesh axis (inside ``shard_map``): ``psum``."""
        return psum_state(state, axis_name)

    def reset(self) -> State:
        """Alias of :meth:`init`: a fresh state of the same shapes and dtypes (no retrace)."""
        return self.init()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """One shot: ``compute(update(init(), *args, **kwargs))``."""
        return self.compute(self.update(self.init(), *args, **kwargs))


@dataclasses.dataclass(frozen=True)
class Sum(Metric):
    r"""Streaming masked, weighted sum :math:`\sum_i w_i v_i` of any per-element value.

    The element weight ``w = mask · sample_weight`` follows the one weighting
    contract (``mask`` / ``sample_weight`` broadcast *from the left*, masked
    ``inf``/``nan`` values never leak), exactly as
    ``maskjax.reduce(values, ..., reduction="sum")``.

    Args:
      dtype: ``None`` (default: an exact float32 double-word sum, see the module doc),
        ``"float32"``, or ``"float64"`` with x64.

    State:
      ``{"total": Σ w·v}``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Sum
      >>> s = Sum()
      >>> state = s.update(s.init(), jnp.array([[1., 2.], [3., 4.]]), mask=jnp.array([1, 0]))
      >>> float(s.compute(state))
      3.0
    """

    dtype: str | None = None
    inputs: ClassVar[str] = "values"

    def __post_init__(self) -> None:
        dt = check_accumulator_dtype(self.dtype)
        if dt is not None and not dt.startswith("float"):
            raise ValueError(f"`dtype` of Sum must be None (exact wide sums), 'float32' or 'float64', "
                             f"got {self.dtype!r}.")
        object.__setattr__(self, "dtype", dt)

    def init(self) -> State:
        return {"total": jnp.zeros((), self.dtype or "float32")}

    def update(self, state: State, values: Any, *, mask: Any = None, sample_weight: Any = None) -> State:
        """Add ``Σ w·v`` of this batch (``values`` of any shape ``S``)."""
        total = reduce(values, mask=mask, sample_weight=sample_weight, reduction="sum")
        return add_into(state, {"total": total}, type(self).__name__)

    def compute(self, state: State) -> jax.Array:
        return state["total"]


@dataclasses.dataclass(frozen=True)
class Mean(Metric):
    r"""Streaming masked, weighted mean :math:`\sum_i w_i v_i / \sum_i w_i` of any per-element value.

    Use it for a loss (pass the *unreduced* per-element loss and the same
    ``mask`` / ``sample_weight`` the loss got) or any other per-element value.
    The state is the pair ``(Σ w·v, Σ w)``, so streaming over any split of the
    data gives exactly the global ``maskjax.reduce(values, ..., reduction="mean")``
    — unlike a mean of per-batch means, which over-weights short, padded
    batches. No kept element (Σ w = 0) gives 0, as ``maskjax.reduce`` does.

    Args:
      dtype: ``None`` (default: exact float32 double-word sums, see the module doc),
        ``"float32"``, or ``"float64"`` with x64.

    State:
      ``{"total": Σ w·v, "weight": Σ w}``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Mean
      >>> mean = Mean()
      >>> v = jnp.array([[1., 2., 3.], [4., 5., 6.]])
      >>> state = mean.update(mean.init(), v[:1], mask=jnp.array([[1, 1, 0]]))
      >>> state = mean.update(state, v[1:], mask=jnp.array([[1, 0, 0]]))
      >>> round(float(mean.compute(state)), 4)   # (1 + 2 + 4) / 3
      2.3333
    """

    dtype: str | None = None
    inputs: ClassVar[str] = "values"

    def __post_init__(self) -> None:
        dt = check_accumulator_dtype(self.dtype)
        if dt is not None and not dt.startswith("float"):
            raise ValueError(f"`dtype` of Mean must be None (exact wide sums), 'float32' or 'float64', "
                             f"got {self.dtype!r}.")
        object.__setattr__(self, "dtype", dt)

    def init(self) -> State:
        return {"total": jnp.zeros((), self.dtype or "float32"), "weight": jnp.zeros((), self.dtype or "float32")}

    def update(self, state: State, values: Any, *, mask: Any = None, sample_weight: Any = None) -> State:
        """Add ``Σ w·v`` and ``Σ w`` of this batch (``values`` of any shape ``S``)."""
        values = _checks.as_array(values, "values")
        total = reduce(values, mask=mask, sample_weight=sample_weight, reduction="sum")
        # Σ w through the same reduction (values of 1): the denominator `reduce(..., "mean")` uses.
        weight = reduce(jnp.ones(values.shape, total.dtype), mask=mask, sample_weight=sample_weight,
                        reduction="sum")
        return add_into(state, {"total": total, "weight": weight}, type(self).__name__)

    def compute(self, state: State) -> jax.Array:
        return safe_divide(state["total"], state["weight"])


# --------------------------------------------------------------------------------------------
# Collection
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, init=False)
class Collection(Metric):
    """Several metrics over one pass: members whose statistics coincide share one state.

    Members with equal ``state_key()`` (the config fields that shape the state:
    task, number of classes, threshold, ``top_k``, ``ignore_index``, accumulator
    dtype, number of bins, …) are grouped; each group keeps **one** state,
    updated once per batch by its first member, and every member computes its
    own value from it. Accuracy, precision, recall, F1, IoU and MCC of one task
    thus cost one counting pass, and adding a metric adds no pass over the data.

    Value metrics (:class:`Mean`, :class:`Sum`) read their per-element values
    from the keyword argument named after them in :meth:`update`, with the
    collection's ``mask`` and ``sample_weight``.

    The collection is itself a hashable, static metric (``init`` / ``update`` /
    ``merge`` / ``compute``); its state is a dict ``{group name: group state}``
    (the group name is its first member's name), so ``psum``, ``lax.scan`` and
    :meth:`merge` work on it unchanged.

    Args:
      metrics: a mapping ``{name: metric}`` (or give them as keyword arguments).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Collection, Mean, Sum
      >>> coll = Collection(loss=Mean(), total=Sum())
      >>> state = coll.update(coll.init(), loss=jnp.array([1., 3.]), total=jnp.array([2., 2.]))
      >>> {k: float(v) for k, v in coll.compute(state).items()}
      {'loss': 2.0, 'total': 4.0}
    """

    metrics: tuple[tuple[str, Metric], ...]
    _container: ClassVar[bool] = True

    def __init__(self, metrics: Mapping[str, Metric] | None = None, /, **kwargs: Metric) -> None:
        items = dict(metrics or {})
        for name, m in kwargs.items():
            if name in items:
                raise ValueError(f"Collection: metric name {name!r} given twice.")
            items[name] = m
        if not items:
            raise ValueError("Collection needs at least one metric.")
        for name, m in items.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"Collection: metric names must be identifiers, got {name!r}.")
            if name in ("preds", "targets", "mask", "sample_weight", "state"):
                raise ValueError(f"Collection: {name!r} is reserved (an argument of update).")
            if not isinstance(m, Metric):
                raise TypeError(
                    f"Collection: {name!r} must be a maskjax.metrics streaming metric, got "
                    f"{type(m).__name__}."
                )
        object.__setattr__(self, "metrics", tuple(items.items()))

    # Groups are derived from the (static) members, so this is cached per instance.
    @functools.cached_property
    def groups(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``((group name, (member names ...)), ...)``: members sharing one state."""
        by_key: dict[Any, list[str]] = {}
        order: list[Any] = []
        for name, m in self.metrics:
            key = m.state_key()
            key = ("__unshared__", name) if key is None else ("shared", key)
            if key not in by_key:
                by_key[key] = []
                order.append(key)
            by_key[key].append(name)
        return tuple((by_key[k][0], tuple(by_key[k])) for k in order)

    def __getitem__(self, name: str) -> Metric:
        return dict(self.metrics)[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.metrics)

    def init(self) -> State:
        return {g: self[g].init() for g, _ in self.groups}

    def update(self, state: State, preds: Any = None, targets: Any = None, *, mask: Any = None,
               sample_weight: Any = None, **values: Any) -> State:
        """Update every group's state once.

        Args:
          state: the collection state.
          preds, targets: inputs of the prediction/target metrics.
          mask, sample_weight: passed to every member (the one weighting contract).
          **values: per-element values of the value metrics, by member name
            (e.g. ``loss=per_token_loss`` for a member ``loss=Mean()``).

        Returns:
          The new collection state.
        """
        unknown = set(values) - {n for n, m in self.metrics if m.inputs == "values"}
        if unknown:
            raise ValueError(
                f"Collection.update got values for {sorted(unknown)}, which are not value metrics "
                f"(Mean/Sum) of this collection; its members are {list(self.names)}."
            )
        new = {}
        for group, _ in self.groups:
            m = self[group]
            if m.inputs == "values":
                if group not in values:
                    raise ValueError(f"Collection.update: missing `{group}=` values for the {type(m).__name__} "
                                     f"member {group!r}.")
                new[group] = m.update(state[group], values[group], mask=mask, sample_weight=sample_weight)
            else:
                if preds is None or targets is None:
                    raise ValueError(f"Collection.update: member {group!r} needs `preds` and `targets`.")
                new[group] = m.update(state[group], preds, targets, mask=mask, sample_weight=sample_weight)
        return new

    def merge(self, a: State, b: State) -> State:
        return {g: self[g].merge(a[g], b[g]) for g, _ in self.groups}

    def all_reduce(self, state: State, axis_name: Any) -> State:
        return {g: self[g].all_reduce(state[g], axis_name) for g, _ in self.groups}

    def compute(self, state: State) -> dict[str, Any]:
        """A flat dict ``{member name: value}``."""
        out = {}
        for group, members in self.groups:
            for name in members:
                out[name] = self[name].compute(state[group])
        return out
