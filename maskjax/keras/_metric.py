"""``maskjax.keras.Metric``: a maskjax streaming metric as a ``keras.metrics.Metric``. No maths."""

from __future__ import annotations

import inspect
import math
import re
from typing import Any, Callable

import jax
import keras
import numpy as np

import maskjax.metrics
from maskjax.keras import _backend
from maskjax.metrics import _state_merge


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _ctor_parameters(metric: Any) -> list[str]:
    try:
        params = inspect.signature(type(metric)).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def metric_config(metric: Any) -> dict:
    """The constructor arguments of a maskjax streaming metric (JSON-friendly values).

    Example:
      >>> import maskjax
      >>> from maskjax.keras._metric import metric_config
      >>> metric_config(maskjax.metrics.Precision(task="binary", threshold=0.3))["threshold"]
      0.3
    """
    out = {}
    for name in _ctor_parameters(metric):
        if not hasattr(metric, name):
            continue
        value = getattr(metric, name)
        if hasattr(value, "shape") or isinstance(value, tuple):
            value = np.asarray(value).tolist()
        out[name] = value
    return out


def _rebuild(metric: Any, **changes: Any) -> Any:
    return type(metric)(**{**metric_config(metric), **changes})


def _constant(value: np.ndarray) -> Callable:
    def initializer(shape: Any = None, dtype: Any = None) -> Any:
        return keras.ops.convert_to_tensor(value, dtype=dtype)
    return initializer


@keras.saving.register_keras_serializable(package="maskjax")
class Metric(keras.metrics.Metric):
    """A maskjax streaming metric as a ``keras.metrics.Metric``.

    The core object's state (a pytree of additive counts, from ``init()``) is
    kept as Keras variables; ``update_state(y_true, y_pred, sample_weight)``
    aligns the Keras layouts (``[B]`` labels against ``[B, 1]`` scores, float
    labels cast to int32) and calls ``metric.update(state, y_pred, y_true,
    mask=<Keras mask>, sample_weight=sample_weight, **update_options)``;
    ``result()`` calls ``metric.compute(state)``. Works inside Keras' jitted
    steps on the JAX backend (stateless variable updates) and in
    ``tf.function(jit_compile=True)`` on the TensorFlow backend. Use
    ``weighted_metrics=[...]`` in ``compile`` for Keras to pass
    ``sample_weight``. Metrics whose update takes ``values`` (``Mean``,
    ``Sum``) are given ``y_pred``.

    Front defaults (Keras'): a metric built with ``dtype=None`` (integer
    counts, the core's default) is rebuilt with ``dtype="float32"``, as Keras'
    own metrics accumulate: weights then work on default metric objects
    (counts are exact up to 2^24 per cell). Pass ``dtype="int32"``
    explicitly to keep integer counts (then ``sample_weight`` raises).

    Args:
      metric: a maskjax streaming metric object (``maskjax.metrics.F1Score(task=...,
        num_classes=...)``), or the name of one (then ``config`` builds it).
      class_id: report only class (or label) ``k`` as one scalar, as Keras'
        ``Precision(class_id=k)``: the metric is computed per class
        (``average=None``, or the core's ``class_id`` option when it has one)
        and element ``k`` is shown. Multiclass / multilabel metrics with an
        ``average`` only. (A metric built with ``average=None`` and no
        ``class_id`` returns the ``[C]`` vector; Keras' progress bar prints
        its mean, so prefer one ``class_id`` metric per class to watch.)
      name: the Keras name (default: snake_case of the class name, with
        ``_k`` for ``class_id=k``).
      config: constructor arguments when ``metric`` is a name.
      **update_options: extra keyword arguments for every ``update``.

    Example:
      >>> import numpy as np, maskjax, maskjax.keras as mk
      >>> f1 = mk.Metric("F1Score", config=dict(task="binary"))
      >>> f1.update_state(np.array([1, 0, 1, 1]), np.array([[0.9], [0.2], [0.4], [0.8]], np.float32))
      >>> round(float(f1.result()), 4)
      0.8
      >>> f1.reset_state(); float(f1.result())
      0.0
      >>> p2 = mk.Metric(maskjax.metrics.Precision(task="multiclass", num_classes=3), class_id=2)
      >>> p2.update_state(np.array([2, 2, 0]), np.eye(3, dtype=np.float32)[[2, 0, 2]])
      >>> float(p2.result())                                 # class 2: tp 1, fp 1
      0.5
    """

    def __init__(self, metric: Any, *, class_id: int | None = None, name: str | None = None,
                 config: dict | None = None, **update_options: Any):
        if isinstance(metric, str):
            if not isinstance(getattr(maskjax.metrics, metric, None), type):
                raise ValueError(f"`metric` must be a maskjax.metrics class name (e.g. 'F1Score'), "
                                 f"got {metric!r}.")
            metric = getattr(maskjax.metrics, metric)(**(config or {}))
        missing = [m for m in ("init", "update", "compute") if not callable(getattr(metric, m, None))]
        if missing or isinstance(metric, type):
            raise TypeError(f"`metric` must be a maskjax streaming metric object (with init, update, "
                            f"compute), e.g. maskjax.metrics.F1Score(...); got {metric!r}. One-shot "
                            f"functions cannot be streamed exactly across batches.")
        self.wrapped = metric  # as given: what get_config saves
        self.class_id = class_id
        self._select = None
        params = _ctor_parameters(metric)
        if class_id is not None:
            metric = self._per_class(metric, class_id, params)
        if "dtype" in params and getattr(metric, "dtype", "") is None:
            try:  # Keras' metrics accumulate in float32: weights work on default objects
                metric = _rebuild(metric, dtype="float32")
            except (TypeError, ValueError):  # pragma: no cover - a metric without float state
                pass
        default = _snake(type(metric).__name__) + (f"_{class_id}" if class_id is not None else "")
        super().__init__(name=name or default)
        self.metric = metric
        self.update_options = update_options
        leaves, self._treedef = jax.tree_util.tree_flatten(metric.init())
        self._init = [np.asarray(leaf) for leaf in leaves]
        self._state = [
            self.add_variable(shape=v.shape, dtype=str(v.dtype), name=f"state_{i}",
                              initializer=_constant(v), aggregation="sum")
            for i, v in enumerate(self._init)
        ]
        self._values_only = getattr(metric, "inputs", "preds_targets") == "values"
        self._rows = _state_merge.unsummable_parts(metric.init())
        self._check_replicas()

    def _check_replicas(self) -> None:
        """Replicas' states are added (``aggregation="sum"``): right for counts, wrong for the rows
        of ``multidim_average="samplewise"`` and exact-curve score buffers (2 replicas gave exact
        AUROC 0.333 for sklearn's 0.082), so those refuse a multi-replica strategy."""
        if not self._rows or _backend.backend() != "tensorflow":
            return
        import tensorflow as tf
        replicas = tf.distribute.get_strategy().num_replicas_in_sync if tf.distribute.has_strategy() else 1
        if replicas > 1:
            raise ValueError(
                f"{type(self.metric).__name__} keeps {self._rows[0]} (exact-curve scores or per-sample rows), "
                f"which {replicas} replicas cannot add together: "
                f"under a tf.distribute strategy use a binned curve (thresholds=...) or "
                f"multidim_average='global'.")

    def _per_class(self, metric: Any, class_id: int, params: list[str]) -> Any:
        if isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer)):
            raise TypeError(f"`class_id` must be an int class index, got {class_id!r}.")
        task = getattr(metric, "task", None)
        n = getattr(metric, "num_classes", None)
        if task not in ("multiclass", "multilabel"):
            raise ValueError(f"`class_id` needs a multiclass or multilabel metric, got "
                             f"{type(metric).__name__}(task={task!r}).")
        if n is not None and not 0 <= class_id < n:
            raise ValueError(f"`class_id` must be in [0, {n}), got {class_id}.")
        if "class_id" in params:  # the core's own option
            return _rebuild(metric, class_id=int(class_id))
        if "average" not in params:
            raise ValueError(f"`class_id` needs a metric with an `average` option (per-class "
                             f"results), got {type(metric).__name__}.")
        self._select = int(class_id)
        return _rebuild(metric, average=None)

    # pure functions of (state leaves, data): the core calls, with hashable identity for jit caches
    def _update_leaves(self, *arrays: Any, **kwargs: Any) -> list:
        n = len(self._init)
        state = jax.tree_util.tree_unflatten(self._treedef, list(arrays[:n]))
        return jax.tree_util.tree_leaves(self.metric.update(state, *arrays[n:], **kwargs))

    def _compute_leaves(self, *arrays: Any) -> Any:
        out = self.metric.compute(jax.tree_util.tree_unflatten(self._treedef, list(arrays)))
        return out if self._select is None else out[self._select]

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        self._check_replicas()  # at trace time: a metric built outside the strategy's scope
        kwargs = dict(self.update_options)
        mask = _backend.keras_mask(y_pred)
        if mask is not None:
            kwargs["mask"] = mask
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        if self._values_only:
            data = (y_pred,)
        else:
            y_true, y_pred = _backend.align_metric(y_true, y_pred)
            data = (y_pred, y_true)
        new = _backend.front(self._update_leaves, "metric")(*[v.value for v in self._state], *data,
                                                            **kwargs)
        for var, value in zip(self._state, new):
            var.assign(value)

    def result(self) -> Any:
        return _backend.front(self._compute_leaves, "metric")(*[v.value for v in self._state])

    def reset_state(self) -> None:
        for var, value in zip(self._state, self._init):
            var.assign(value)

    def get_config(self) -> dict:
        return {"name": self.name,
                "metric": {"class_name": type(self.wrapped).__name__,
                           "config": _json_floats(metric_config(self.wrapped))},
                "class_id": self.class_id,
                "update_options": {k: np.asarray(v).tolist() if hasattr(v, "shape") else v
                                   for k, v in self.update_options.items()}}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        config = dict(config)
        spec = config.pop("metric")
        options = config.pop("update_options", None) or {}
        config.pop("dtype", None)
        cls_ = getattr(maskjax.metrics, spec["class_name"])
        return cls(cls_(**_from_json_floats(spec["config"])), **config, **options)


# JSON has no NaN in strict mode: ``zero_division=nan`` travels as the string "nan".
def _json_floats(config: dict) -> dict:
    return {k: "nan" if isinstance(v, float) and math.isnan(v) else v for k, v in config.items()}


def _from_json_floats(config: dict) -> dict:
    return {k: float("nan") if v == "nan" else v for k, v in config.items()}
