"""Per-group metrics in one pass: :class:`Grouped`.

``Grouped(metric, num_groups)`` wraps any streaming metric (or a
:class:`~maskjax.metrics.Collection`) and keeps one copy of its state per
group, stacked on a leading ``[num_groups]`` axis. ``update`` takes an integer
``groups`` array (one group id per element, or per row: it broadcasts from the
left like ``mask``) and updates every group's state at once with the wrapped
metric's own ``update``, ``jax.vmap``-ed over the group axis with the mask
``mask & (groups == g)``. There is no Python loop over groups, and only the
public protocol of the wrapped metric is used (``init`` / ``update`` /
``merge`` / ``compute`` and its state pytree), so every metric works.

Semantics:

* Elements whose group id is outside ``[0, num_groups)`` (e.g. ``-1`` for
  "no group") count in no group: they are dropped, as out-of-range labels are
  dropped by the confusion metrics.
* The state is ``num_groups ×`` the wrapped state, and additive when the
  wrapped state is: ``merge`` is the wrapped ``merge`` per group, so streaming,
  ``lax.scan``, ``psum`` (:meth:`Grouped.all_reduce`) and trees of partial
  results give the one-pass answer.
* ``compute`` returns the wrapped value with a leading ``[num_groups]`` axis
  (a dict of such arrays for a ``Collection``); a group without elements gets
  the wrapped metric's empty-input value (e.g. ``0`` accuracy, ``nan`` AUROC).
* Merge a grouped state with :meth:`Grouped.merge` / :meth:`Grouped.all_reduce` (the wrapped
  metric's merge, per group: right for every wrapped state, additive or buffer). For additive
  states ``psum_state`` and ``HostAccumulator`` work on the stacked state too.
* Cost: each update does ``num_groups`` masked updates (vectorised), i.e.
  ``O(num_groups · N)`` work and a ``[num_groups, N]`` mask in memory.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any, ClassVar, Hashable

import jax
import jax.numpy as jnp

from maskjax.metrics import Metric

__all__ = ["Grouped"]

State = Any


def _left_and(a: jax.Array, b: jax.Array | None) -> jax.Array:
    """``a & b`` with both broadcast from the *left* (``[B]`` against ``[B, T]``)."""
    if b is None:
        return a
    b = jnp.asarray(b).astype(bool)
    n = max(a.ndim, b.ndim)
    a = a.reshape(a.shape + (1,) * (n - a.ndim))
    b = b.reshape(b.shape + (1,) * (n - b.ndim))
    return a & b


@dataclasses.dataclass(frozen=True)
class Grouped(Metric):
    """Compute a metric (or a :class:`~maskjax.metrics.Collection`) per group, in one pass.

    Args:
      metric: any maskjax streaming metric or ``Collection``.
      num_groups: ``G``, the number of groups; group ids are ``0 .. G-1``. Ids outside that
        range are **dropped** (the element counts in no group).

    State:
      the wrapped metric's state with a leading ``[G]`` axis on every leaf.

    ``update(state, *inputs, groups, mask=None, sample_weight=None, **options)``: ``inputs``
    and ``options`` are the wrapped metric's (``preds, targets`` or ``values``, ``Collection``
    value keywords, ...); ``groups`` is an integer array with one group id per element, or
    per row / leading axes (it broadcasts from the left, as ``mask`` does).

    ``compute(state)``: the wrapped value with a leading ``[G]`` axis (a dict of them for
    a ``Collection``). Equals computing the wrapped metric on each group's slice of the data.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Accuracy, Grouped
      >>> acc = Grouped(Accuracy(task="binary"), num_groups=2)
      >>> preds = jnp.array([0.9, 0.2, 0.8, 0.7])
      >>> targets = jnp.array([1, 0, 0, 1])
      >>> groups = jnp.array([0, 0, 1, 1])
      >>> state = acc.update(acc.init(), preds, targets, groups=groups)
      >>> acc.compute(state).tolist()
      [1.0, 0.5]
    """

    metric: Metric
    num_groups: int
    _container: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not isinstance(self.metric, Metric):
            raise TypeError(f"Grouped: `metric` must be a maskjax.metrics streaming metric or Collection, "
                            f"got {type(self.metric).__name__}.")
        try:
            g = operator.index(self.num_groups)
        except TypeError:
            raise TypeError(f"Grouped: `num_groups` must be an int, got {type(self.num_groups).__name__} "
                            f"{self.num_groups!r}.") from None
        if g < 1:
            raise ValueError(f"Grouped: `num_groups` must be at least 1, got {g}.")
        object.__setattr__(self, "num_groups", g)

    @property
    def inputs(self) -> str:  # type: ignore[override]
        """The wrapped metric's input kind (``"preds_targets"`` or ``"values"``)."""
        return self.metric.inputs

    def state_key(self) -> Hashable | None:
        inner = self.metric.state_key()
        return None if inner is None else ("grouped", self.num_groups, inner)

    def init(self) -> State:
        """``G`` copies of the wrapped metric's fresh state, stacked on a leading axis."""
        g = self.num_groups
        return jax.tree.map(lambda x: jnp.zeros((g,) + jnp.shape(x), jnp.result_type(x)) + x, self.metric.init())

    def update(self, state: State, *inputs: Any, groups: Any, mask: Any = None, sample_weight: Any = None,
               **options: Any) -> State:
        """Add one batch to every group's state (see the class docstring)."""
        groups = jnp.asarray(groups)
        if not jnp.issubdtype(groups.dtype, jnp.integer):
            raise TypeError(f"Grouped.update: `groups` must be an integer array of group ids in "
                            f"[0, {self.num_groups}), got dtype {groups.dtype}.")
        metric = self.metric

        def one(s: State, g: jax.Array) -> State:
            keep = _left_and(groups == g, mask)
            return metric.update(s, *inputs, mask=keep, sample_weight=sample_weight, **options)

        return jax.vmap(one)(state, jnp.arange(self.num_groups, dtype=groups.dtype))

    def merge(self, a: State, b: State) -> State:
        """Per-group merge of the wrapped metric (addition for additive states)."""
        return jax.vmap(self.metric.merge)(a, b)

    def all_reduce(self, state: State, axis_name: Any) -> State:
        """Merge over a mesh axis inside ``shard_map`` (the wrapped ``all_reduce``, per group)."""
        return jax.vmap(lambda s: self.metric.all_reduce(s, axis_name))(state)

    def compute(self, state: State) -> Any:
        """The wrapped value per group: a leading ``[G]`` axis (a dict of them for a Collection)."""
        return jax.vmap(self.metric.compute)(state)
