"""Flax NNX front: maskjax metrics as ``nnx.Metric`` objects (``reset`` / ``update`` / ``compute``).

:class:`Metric` wraps any streaming metric of :mod:`maskjax.metrics` — one
metric, a :class:`maskjax.metrics.Collection`, or a value metric
(:class:`~maskjax.metrics.Mean`, :class:`~maskjax.metrics.Sum`) — as a Flax NNX
metric. Its state is the core metric's pytree of sums, held in one
``nnx.metrics.MetricState`` variable; the wrapped metric is a static,
hashable configuration. So it:

* sits in an ``nnx.MultiMetric`` next to ``nnx.metrics.Average`` and friends,
  taking the same keyword arguments (``logits=``, ``labels=``, ``mask=``, and
  ignoring the ones it does not use);
* updates in place inside ``nnx.jit`` (one compilation per input shape; a
  ``reset()`` keeps shapes and dtypes, so it never retraces);
* takes batch-sharded inputs under ``nnx.jit`` / ``jax.jit`` over a device
  mesh: the update is a sum over the batch, so XLA adds the cross-device
  reduction and the state stays replicated.

There is no maths here: ``update`` is the core metric's ``update`` and
``compute`` its ``compute``, so the value equals the one-shot
``maskjax.metrics`` function on the same data (mask, weights and all).

Install: ``pip install "maskjax[flax]"``.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

try:
    from flax import nnx
except ImportError as _err:  # the hint is tested with sys.modules["flax"] = None
    raise ImportError('maskjax.flax needs Flax (NNX): pip install "maskjax[flax]" (or pip install flax)') from _err

from maskjax import metrics as _metrics

__all__ = ["Metric"]


def _get(var: Any) -> Any:
    return var.get_value() if hasattr(var, "get_value") else var.value


def _set(var: Any, value: Any) -> None:
    if hasattr(var, "set_value"):
        var.set_value(value)
    else:  # flax < 0.11
        var.value = value


_INPUTS = frozenset({"self", "state", "preds", "targets", "values", "inputs", "mask", "sample_weight"})


@functools.lru_cache(maxsize=256)
def _update_keywords(metric: Any) -> frozenset:
    """Keywords ``metric.update`` takes besides its inputs and weighting (``Bootstrap``'s ``ids``,
    ``Grouped``'s ``groups``), through wrappers (``Bootstrap(Grouped(...))``)."""
    out: set = set()
    while metric is not None:
        try:
            params = inspect.signature(type(metric).update).parameters.values()
        except (TypeError, ValueError):
            break
        out |= {p.name for p in params if p.name not in _INPUTS
                and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
        metric = getattr(metric, "metric", None)
    return frozenset(out)


class Metric(nnx.Metric):
    """An ``nnx.Metric`` around a maskjax streaming metric or ``Collection``.

    ``update`` reads its inputs from keyword arguments, as NNX metrics do
    (``metric.update(logits=..., labels=..., mask=...)``), or positionally
    (``metric.update(logits, labels, mask=...)``). Value metrics read
    ``values=`` (or the ``values`` name given here); a ``Collection``'s value
    members (``loss=Mean()``) read the keyword named after them; keywords the
    metric's ``update`` takes (``ids=`` of a ``Bootstrap``, ``groups=`` of a
    ``Grouped``) are passed on. Keywords a metric does not use are ignored, so
    one ``nnx.MultiMetric.update(**batch)`` feeds every member.

    Args:
        metric: a streaming metric from :mod:`maskjax.metrics` (``Accuracy(...)``,
            ``F1Score(...)``, ``AUROC(..., thresholds=200)``, ``Mean()``, a ``Collection``, …).
        preds: the keyword that carries predictions (default ``"logits"``, as ``nnx.metrics.Accuracy``).
        targets: the keyword that carries targets (default ``"labels"``).
        values: the keyword that a lone ``Mean`` / ``Sum`` reads (default ``"values"``, as
            ``nnx.metrics.Average``).

    Attributes:
        metric: the wrapped (static) metric.
        state: an ``nnx.metrics.MetricState`` holding ``metric``'s state pytree.

    Raises:
        TypeError: ``metric`` is not a maskjax streaming metric; an ``update`` lacks an input.

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> import maskjax.flax
        >>> from maskjax import metrics as M
        >>> metrics = nnx.MultiMetric(
        ...     f1=maskjax.flax.Metric(M.F1Score(task="multiclass", num_classes=3, from_logits=True)),
        ...     loss=nnx.metrics.Average("loss"))
        >>> logits = jnp.array([[2.0, 0.1, 0.0], [0.0, 1.0, 0.2], [0.3, 0.2, 1.0], [1.0, 0.0, 0.0]])
        >>> labels = jnp.array([0, 1, 2, 2])
        >>> metrics.update(logits=logits, labels=labels, mask=jnp.array([1, 1, 1, 0]), loss=jnp.array(0.5))
        >>> round(float(metrics.compute()["f1"]), 4)   # the last row is masked: all three kept rows are right
        1.0
        >>> metrics.reset(); float(metrics.compute()["f1"])
        0.0
    """

    def __init__(self, metric: Any, *, preds: str = "logits", targets: str = "labels",
                 values: str = "values") -> None:
        if not isinstance(metric, _metrics.Metric):
            raise TypeError("maskjax.flax.Metric: metric must be a maskjax.metrics streaming metric "
                            f"(e.g. maskjax.metrics.F1Score(...)); received {type(metric).__name__}")
        for name, value in (("preds", preds), ("targets", targets), ("values", values)):
            if not isinstance(value, str) or not value.isidentifier():
                raise TypeError(f"maskjax.flax.Metric: {name} must be a keyword name (str); received {value!r}")
        self.metric = metric
        self.preds_name, self.targets_name, self.values_name = preds, targets, values
        self.state = nnx.metrics.MetricState(metric.init())

    def reset(self) -> None:
        """Reset in place to the metric's initial state (same shapes and dtypes: no retrace)."""
        _set(self.state, self.metric.init())

    def _value_members(self) -> tuple[str, ...]:
        if isinstance(self.metric, _metrics.Collection):
            return tuple(n for n in self.metric.names if self.metric[n].inputs == "values")
        return ()

    def update(self, *args: Any, mask: Any = None, sample_weight: Any = None, **kwargs: Any) -> None:
        """Add a batch in place.

        Args:
            *args: ``(preds, targets)`` (or ``(values,)`` for a lone ``Mean`` / ``Sum``), instead
                of the keywords.
            mask: bool / 0-1 array, ``True`` keeps an element (broadcast from the left).
            sample_weight: per-element weights (the metric needs ``dtype="float32"``).
            **kwargs: ``logits=`` / ``labels=`` (the names given at construction), values of a
                collection's value members by member name, keywords the metric's ``update``
                takes (``ids=``, ``groups=``); other keywords are ignored.

        Raises:
            TypeError: an input the metric needs is missing.
        """
        state = _get(self.state)
        weighting = dict(mask=mask, sample_weight=sample_weight)
        # ids= (Bootstrap), groups= (Grouped): dropping them once gave merged bootstrap intervals
        # of reused row ids and made Grouped unusable ("missing ... 'groups'")
        weighting.update((k, kwargs[k]) for k in _update_keywords(self.metric) if k in kwargs)
        if self.metric.inputs == "values":
            if args:
                vals = args[0]
            elif self.values_name in kwargs:
                vals = kwargs[self.values_name]
            else:
                raise TypeError(f"maskjax.flax.Metric({type(self.metric).__name__}).update: expected the "
                                f"values as `{self.values_name}=` or positionally; received keywords "
                                f"{sorted(kwargs)}")
            _set(self.state, self.metric.update(state, vals, **weighting))
            return
        if len(args) == 2:
            preds, targets = args
        elif not args and self.preds_name in kwargs and self.targets_name in kwargs:
            preds, targets = kwargs[self.preds_name], kwargs[self.targets_name]
        else:
            raise TypeError(f"maskjax.flax.Metric({type(self.metric).__name__}).update: expected "
                            f"`{self.preds_name}=` and `{self.targets_name}=` (or two positional arrays); "
                            f"received {len(args)} positional and keywords {sorted(kwargs)}")
        members = {n: kwargs[n] for n in self._value_members() if n in kwargs}
        missing = set(self._value_members()) - set(members)
        if missing:
            raise TypeError(f"maskjax.flax.Metric(Collection).update: missing values for the value "
                            f"members {sorted(missing)} (pass them as keywords, e.g. loss=per_example_loss)")
        _set(self.state, self.metric.update(state, preds, targets, **weighting, **members))

    def compute(self) -> Any:
        """The metric's value (a ``dict`` for a ``Collection``): ``metric.compute(state)``."""
        return self.metric.compute(_get(self.state))

    def merge(self, other: Metric) -> None:
        """Add another wrapper's state of the same metric into this one, in place (state addition)."""
        if not isinstance(other, Metric) or other.metric != self.metric:
            raise TypeError("maskjax.flax.Metric.merge: other must wrap the same metric; received "
                            f"{getattr(other, 'metric', other)!r}")
        _set(self.state, self.metric.merge(_get(self.state), _get(other.state)))
