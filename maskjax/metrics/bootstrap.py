r"""Streaming bootstrap confidence intervals: :class:`Bootstrap`.

``Bootstrap(metric, num_replicates=1000, confidence=0.95, seed=0)`` wraps any
streaming metric (or :class:`~maskjax.metrics.Collection`, or
:class:`~maskjax.metrics.Grouped`) and keeps ``num_replicates`` copies of its
state, each updated with a **Poisson(1) weight** per row (the streaming
"Poisson bootstrap" of Hanley & MacGibbon 2006 / Chamandy et al. 2012: a row
appears ``k ~ Poisson(1)`` times in a replicate, which approximates the
multinomial resample of the classical bootstrap without knowing ``N``).

Counter-based weights
---------------------
The weight of row ``i`` in replicate ``r`` is a pure function of
``(seed, r, id_i)``: one Threefry-2x32 block of the words ``(id_i, r)`` under
the key ``PRNGKey(seed)``, mapped to Poisson(1) by inverting its CDF. Nothing is
stored, and the weights do not depend on how the data are batched or where
they are processed. ``id_i`` is the row's position in the stream: by default
the state carries the number of rows seen so far (``offset``) and row ``j`` of
a batch gets ``offset + j``, so streaming batch after batch equals one pass.
When parts of the data are processed independently (devices, processes, Dask
partitions), pass ``ids=`` (e.g. the global row index) to ``update``: states
built from disjoint ids then ``merge`` into exactly the one-pass state.

``compute`` returns ``{"value", "lower", "upper", "std"}``: the metric on the
data (weight 1, not a replicate mean), the ``(1 - confidence) / 2`` and
``(1 + confidence) / 2`` percentiles of the replicate values, and their
standard deviation (``ddof=1``); ``nan`` replicates (e.g. AUROC of a resample
without positives) are ignored.

Weights and dtypes
------------------
Replicates pass the Poisson weights as ``sample_weight`` (multiplied into the
caller's own ``sample_weight``), so the wrapped metric must accept weights:
the default ``dtype=None`` (exact wide sums) or ``"float32"`` / ``"float64"``.
A metric built with integer counts (``dtype="int32"``) is rejected with a
``ValueError`` at construction. A row is the leading axis of the inputs
(``preds`` / ``values``): ``[B, T]`` elements of one row share its weight.

Merge states with :meth:`Bootstrap.merge` / :meth:`Bootstrap.all_reduce` (the wrapped metric's
merge per replicate, and the row offsets added).

Cost: ``num_replicates`` weighted updates per batch (vectorised in blocks of
replicates, so memory stays bounded), and ``num_replicates ×`` the state.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from typing import Any, ClassVar, Hashable

import jax
import jax.numpy as jnp
import numpy as np

from maskjax.metrics import Collection, Metric

__all__ = ["Bootstrap"]

State = Any

# P(K <= k) for K ~ Poisson(1), as uint32 thresholds: K = #{k : bits >= T_k}.
_POISSON_MAX = 12


def _poisson_thresholds() -> np.ndarray:
    cdf = np.cumsum([math.exp(-1.0) / math.factorial(k) for k in range(_POISSON_MAX)])
    return np.minimum(np.ceil(cdf * 2.0 ** 32), 2.0 ** 32 - 1).astype(np.uint32)


_THRESHOLDS = _poisson_thresholds()


def poisson_weights(seed: int, replicate: Any, ids: Any) -> jax.Array:
    """Poisson(1) weights of rows ``ids`` in replicate ``replicate`` (counter-based, float32).

    One Threefry-2x32 block per ``(id, replicate)`` pair under ``PRNGKey(seed)``; its first
    word ``u`` (uniform on ``[0, 2**32)``) becomes ``K = #{k : u >= 2**32 · P(Poisson(1) <= k)}``
    (inverse CDF; ``K <= 12``, the truncation drops a mass below ``1e-9``).

    Args:
      seed: the bootstrap's seed (a Python int).
      replicate: replicate index (int scalar, may be traced).
      ids: ``[N]`` integer row ids.

    Returns:
      ``[N]`` float32 weights, each a whole number with mean 1 and variance 1.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics.bootstrap import poisson_weights
      >>> w = poisson_weights(0, 3, jnp.arange(100_000))
      >>> round(float(w.mean()), 1), round(float(w.var()), 1)
      (1.0, 1.0)
    """
    from jax.extend.random import threefry_2x32

    key = jax.random.key_data(jax.random.PRNGKey(seed))
    ids = jnp.asarray(ids).astype(jnp.uint32).reshape(-1)
    rep = jnp.broadcast_to(jnp.asarray(replicate).astype(jnp.uint32), ids.shape)
    # threefry_2x32 pairs the first and second halves of its input as the two words of each block,
    # so [ids, rep] gives block_i = (id_i, r): bits of row i depend on (seed, r, id_i) only.
    bits = threefry_2x32(key, jnp.concatenate([ids, rep]))[: ids.shape[0]]
    k = jnp.sum(bits[:, None] >= jnp.asarray(_THRESHOLDS)[None, :], axis=1)
    return k.astype(jnp.float32)


def _integer_counts(metric: Metric) -> list[str]:
    """Names of (nested) members that keep integer counts (they cannot take weights)."""
    if isinstance(metric, Collection):
        return [f"{name}: {bad}" for name, m in metric.metrics for bad in _integer_counts(m)]
    inner = getattr(metric, "metric", None)
    if isinstance(inner, Metric):
        return _integer_counts(inner)
    dtype = getattr(metric, "dtype", None)
    if isinstance(dtype, str) and dtype.startswith("int"):
        return [f"{type(metric).__name__}(dtype={dtype!r})"]
    return []


def _times_left(w: jax.Array, sample_weight: Any) -> jax.Array:
    """Row weights ``[B]`` times ``sample_weight`` (broadcast from the left); ``[B]`` if none."""
    if sample_weight is None:
        return w
    sw = jnp.asarray(sample_weight, jnp.float32)
    if sw.ndim == 0:
        return w * sw
    return w.reshape(w.shape + (1,) * (sw.ndim - 1)) * sw


@dataclasses.dataclass(frozen=True)
class Bootstrap(Metric):
    """Percentile bootstrap intervals of any streaming metric, in one pass (Poisson bootstrap).

    Args:
      metric: a maskjax streaming metric, ``Collection`` or ``Grouped``; it must accept
        ``sample_weight`` (default ``dtype=None`` or a float dtype; integer counts are rejected).
      num_replicates: ``R``, the number of bootstrap replicates (default 1000).
      confidence: the interval's coverage, in ``(0, 1)`` (default 0.95).
      seed: seed of the counter-based Poisson weights (a Python int).

    State:
      ``{"value": metric state, "replicates": metric state with a leading [R] axis,
      "offset": rows seen (int32; default row ids)}``.

    ``update(state, *inputs, mask=None, sample_weight=None, ids=None, **options)``: the wrapped
    metric's inputs and options; ``ids`` (``[B]`` ints, optional) are the rows' global ids, needed
    only when parts of the data are updated independently and merged (see the module doc).

    ``compute(state)``: ``{"value", "lower", "upper", "std"}``, each shaped like the wrapped
    metric's value (dicts for a ``Collection``); ``lower`` / ``upper`` are the percentile
    interval ``q = (1 ∓ confidence) / 2`` of the replicate values.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import Accuracy, Bootstrap
      >>> boot = Bootstrap(Accuracy(task="binary"), num_replicates=200, seed=0)
      >>> preds = (jnp.arange(1000) % 10 < 8).astype(jnp.float32)   # 80% right
      >>> targets = jnp.ones(1000, jnp.int32)
      >>> out = boot.compute(boot.update(boot.init(), preds, targets))
      >>> round(float(out["value"]), 2), bool(out["lower"] < 0.8 < out["upper"])
      (0.8, True)
    """

    metric: Metric
    num_replicates: int = 1000
    confidence: float = 0.95
    seed: int = 0
    _container: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not isinstance(self.metric, Metric):
            raise TypeError(f"Bootstrap: `metric` must be a maskjax.metrics streaming metric or Collection, "
                            f"got {type(self.metric).__name__}.")
        try:
            r = operator.index(self.num_replicates)
            seed = operator.index(self.seed)
        except TypeError:
            raise TypeError(f"Bootstrap: `num_replicates` and `seed` must be ints, got "
                            f"{self.num_replicates!r} and {self.seed!r}.") from None
        if r < 2:
            raise ValueError(f"Bootstrap: `num_replicates` must be at least 2, got {r}.")
        conf = float(self.confidence)
        if not 0.0 < conf < 1.0:
            raise ValueError(f"Bootstrap: `confidence` must be in (0, 1), got {self.confidence!r}.")
        bad = _integer_counts(self.metric)
        if bad:
            raise ValueError(
                "Bootstrap: the wrapped metric must accept sample_weight (Poisson weights), but "
                f"{', '.join(bad)} keeps integer counts; build it with dtype=None (the default) or "
                "dtype='float32'.")
        object.__setattr__(self, "num_replicates", r)
        object.__setattr__(self, "seed", seed)
        object.__setattr__(self, "confidence", conf)

    @property
    def inputs(self) -> str:  # type: ignore[override]
        """The wrapped metric's input kind (``"preds_targets"`` or ``"values"``)."""
        return self.metric.inputs

    def state_key(self) -> Hashable | None:
        inner = self.metric.state_key()
        return None if inner is None else ("bootstrap", self.num_replicates, self.seed, inner)

    def init(self) -> State:
        """The wrapped state, ``R`` stacked copies of it, and a zero row offset."""
        value = self.metric.init()
        r = self.num_replicates
        reps = jax.tree.map(lambda x: jnp.zeros((r,) + jnp.shape(x), jnp.result_type(x)) + x, value)
        return {"value": value, "replicates": reps, "offset": jnp.zeros((), jnp.int32)}

    def _block(self, elements: int) -> int:
        """Replicates updated together: about 2**22 weighted elements per block (bounded memory)."""
        return max(1, min(self.num_replicates, (1 << 22) // max(1, elements)))

    def update(self, state: State, *inputs: Any, mask: Any = None, sample_weight: Any = None, ids: Any = None,
               **options: Any) -> State:
        """Add one batch to the point state and to every replicate (Poisson row weights)."""
        first = next((x for x in (*inputs, *options.values()) if x is not None), None)
        if first is None or jnp.ndim(first) == 0:
            raise ValueError("Bootstrap.update: the inputs need a leading row axis (the bootstrap resamples rows).")
        rows = jnp.shape(first)[0]
        if ids is None:
            ids = state["offset"].astype(jnp.uint32) + jnp.arange(rows, dtype=jnp.uint32)
        else:
            ids = jnp.asarray(ids)
            if not jnp.issubdtype(ids.dtype, jnp.integer) or ids.shape != (rows,):
                raise ValueError(f"Bootstrap.update: `ids` must be [{rows}] integers (one per row), got "
                                 f"shape {ids.shape} and dtype {ids.dtype}.")
        metric, seed = self.metric, self.seed
        value = metric.update(state["value"], *inputs, mask=mask, sample_weight=sample_weight, **options)

        def one(s: State, r: jax.Array) -> State:
            w = _times_left(poisson_weights(seed, r, ids), sample_weight)
            return metric.update(s, *inputs, mask=mask, sample_weight=w, **options)

        size = int(np.prod(jnp.shape(first)))
        reps = jax.lax.map(lambda sr: one(*sr), (state["replicates"], jnp.arange(self.num_replicates)),
                           batch_size=self._block(size))
        return {"value": value, "replicates": reps, "offset": state["offset"] + jnp.int32(rows)}

    def merge(self, a: State, b: State) -> State:
        """Merge two states (of disjoint row ids): equals the state of one pass over both."""
        return {"value": self.metric.merge(a["value"], b["value"]),
                "replicates": jax.vmap(self.metric.merge)(a["replicates"], b["replicates"]),
                "offset": a["offset"] + b["offset"]}

    def all_reduce(self, state: State, axis_name: Any) -> State:
        """Merge over a mesh axis inside ``shard_map`` (pass global ``ids=`` to ``update``)."""
        return {"value": self.metric.all_reduce(state["value"], axis_name),
                "replicates": jax.vmap(lambda s: self.metric.all_reduce(s, axis_name))(state["replicates"]),
                "offset": jax.lax.psum(state["offset"], axis_name)}

    def replicate_values(self, state: State) -> Any:
        """The wrapped metric's value on every replicate: a leading ``[R]`` axis."""
        return jax.vmap(self.metric.compute)(state["replicates"])

    def compute(self, state: State) -> dict[str, Any]:
        """``{"value", "lower", "upper", "std"}`` (see the class docstring)."""
        value = self.metric.compute(state["value"])
        reps = self.replicate_values(state)
        q = jnp.asarray([(1.0 - self.confidence) / 2.0, (1.0 + self.confidence) / 2.0], jnp.float32)

        def as_float(x: Any) -> jax.Array:
            x = jnp.asarray(x)
            return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.float32)

        bounds = jax.tree.map(lambda x: jnp.nanquantile(as_float(x), q, axis=0), reps)   # leaves [2, ...]
        std = jax.tree.map(lambda x: jnp.nanstd(as_float(x), axis=0, ddof=1), reps)
        lower = jax.tree.map(lambda t: t[0], bounds)
        upper = jax.tree.map(lambda t: t[1], bounds)
        return {"value": value, "lower": lower, "upper": upper, "std": std}
