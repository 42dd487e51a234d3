"""Keras 3 adapter: maskjax losses and metrics in ``model.compile``. No maths.

* :class:`Loss` — a ``keras.losses.Loss`` calling a maskjax loss with Keras'
  ``sample_weight`` **and** the Keras mask (``y_pred._keras_mask`` from
  ``Masking`` / ``Embedding(mask_zero=True)``) passed to maskjax's own
  ``mask=`` / ``sample_weight=`` (Keras would otherwise merge the mask into
  the weight and reduce itself). ``fit(class_weight=...)`` reaches it as
  Keras' per-sample ``sample_weight``; for per-class weights of any target
  rank pass ``class_weight=`` to the loss instead.
* :class:`Metric` — a ``keras.metrics.Metric`` keeping a maskjax streaming
  metric's state (additive counts) as Keras variables and computing through
  the core.

Backends: JAX (the core runs inside Keras' jitted train step), TensorFlow
(through :mod:`maskjax.tf`: ``tf.py_function``, so compile with
``jit_compile=False``), torch (through :mod:`maskjax.torch`).

Reduction: Keras' default ``"sum_over_batch_size"`` (Σ w·v·m / Σ m) is the
default here too; ``reduction="mean"`` gives maskjax's Σ w·v / Σ w.

Example:
  >>> import numpy as np, keras, maskjax, maskjax.keras as mk
  >>> loss = mk.Loss("cross_entropy", ignore_index=-100)
  >>> y_true = np.array([0, 2, -100])
  >>> y_pred = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, 1.0, 1.0]], np.float32)
  >>> round(float(loss(y_true, y_pred)), 4)
  0.1755
  >>> acc = mk.Metric(maskjax.metrics.Accuracy(task="multiclass", num_classes=3))
  >>> acc.update_state(y_true, y_pred)
  >>> round(float(acc.result()), 4)
  1.0
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable

import jax
import numpy as np

import keras

import maskjax.losses
import maskjax.metrics

__all__ = ["Loss", "Metric"]


def _backend() -> str:
    return keras.backend.backend()


def _keras_mask(x: Any) -> Any:
    """The Keras mask of ``x`` (an attribute, or Keras' id-keyed table for JAX arrays)."""
    try:  # not in the public API of Keras 3.15; JAX arrays cannot carry the attribute
        from keras.src.backend import get_keras_mask
    except ImportError:  # pragma: no cover
        get_keras_mask = None
    get = getattr(keras.backend, "get_keras_mask", get_keras_mask)
    return get(x) if get is not None else getattr(x, "_keras_mask", None)


@functools.lru_cache(maxsize=None)
def _front(fn: Callable, kind: str) -> Callable:
    """The core ``fn`` for the active Keras backend (direct on JAX)."""
    backend = _backend()
    if backend == "jax":
        return fn
    if backend == "tensorflow":
        import maskjax.tf as mtf
        return (mtf.wrap_loss if kind == "loss" else mtf.wrap_metric)(fn)
    if backend == "torch":
        import maskjax.torch as mt
        return (mt.wrap_loss if kind == "loss" else mt.wrap_metric)(fn)
    raise NotImplementedError(f"maskjax.keras supports the jax, tensorflow and torch backends, "
                              f"not {backend!r}.")


def _resolve_loss(fn: str | Callable) -> Callable:
    if isinstance(fn, str):
        if fn not in maskjax.losses.__all__:
            raise ValueError(f"`fn` must be a maskjax.losses name {maskjax.losses.__all__} or a "
                             f"callable, got {fn!r}.")
        return getattr(maskjax.losses, fn)
    if not callable(fn):
        raise TypeError(f"`fn` must be a maskjax loss name or a callable, got {fn!r}.")
    return fn


def _config_value(v: Any) -> Any:
    return np.asarray(v).tolist() if hasattr(v, "shape") else v


class Loss(keras.losses.Loss):
    """A maskjax loss as a ``keras.losses.Loss`` (for ``model.compile(loss=...)``).

    ``loss(y_true, y_pred, sample_weight)`` calls
    ``fn(y_pred, y_true, mask=<Keras mask of y_pred>, sample_weight=sample_weight,
    reduction=reduction, **options)``: the Keras mask and weight reach
    maskjax's weighting contract unchanged (a ``[B]`` weight against ``[B, T]``
    elements broadcasts from the left).

    Args:
      fn: a ``maskjax.losses`` name (``"cross_entropy"``) or any loss with the
        maskjax signature ``fn(preds, targets, *, mask, sample_weight,
        reduction, ...)``.
      reduction: a maskjax reduction; default ``"sum_over_batch_size"``
        (Keras 3's rule: Σ w·v over kept elements / number kept).
      name: the Keras name (default: the loss name).
      **options: passed to ``fn`` (``from_logits``, ``class_weight``,
        ``ignore_index``, ``label_smoothing``, …).

    Example:
      >>> import numpy as np, maskjax.keras as mk
      >>> mse = mk.Loss("mean_squared_error")
      >>> float(mse(np.zeros((2, 2)), np.ones((2, 2), np.float32), sample_weight=np.array([1.0, 0.0])))
      0.5
    """

    def __init__(self, fn: str | Callable = "cross_entropy", *, reduction: str = "sum_over_batch_size",
                 name: str | None = None, **options: Any):
        self.fn = _resolve_loss(fn)
        self._fn_id = fn if isinstance(fn, str) else None
        super().__init__(name=name or getattr(self.fn, "__name__", "maskjax_loss"), reduction="none")
        self.maskjax_reduction = reduction
        self.options = options

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        kwargs = dict(self.options, reduction=self.maskjax_reduction)
        mask = _keras_mask(y_pred)
        if mask is not None:
            kwargs["mask"] = mask
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return _front(self.fn, "loss")(y_pred, y_true, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return _front(self.fn, "loss")(y_pred, y_true, **dict(self.options, reduction="none"))

    def get_config(self) -> dict:
        if self._fn_id is None:
            raise NotImplementedError("only losses given by name can be serialised")
        return {"fn": self._fn_id, "reduction": self.maskjax_reduction, "name": self.name,
                **{k: _config_value(v) for k, v in self.options.items()}}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Metric(keras.metrics.Metric):
    """A maskjax streaming metric as a ``keras.metrics.Metric``.

    The core object's state (a pytree of additive counts, from ``init()``) is
    kept as Keras variables; ``update_state(y_true, y_pred, sample_weight)``
    calls ``metric.update(state, y_pred, y_true, mask=<Keras mask>,
    sample_weight=sample_weight, **update_options)`` and ``result()`` calls
    ``metric.compute(state)``. Works inside Keras' jitted steps on the JAX
    backend (stateless variable updates) and in ``tf.function`` on the
    TensorFlow backend. Use ``weighted_metrics=[...]`` in ``compile`` for
    Keras to pass ``sample_weight``. Metrics whose update takes ``values``
    (``Mean``, ``Sum``) are given ``y_pred``.

    Args:
      metric: a maskjax streaming metric object (``maskjax.metrics.F1Score(task=...,
        num_classes=...)``), or the name of one (then ``config`` builds it).
      name: the Keras name (default: snake_case of the class name).
      config: constructor arguments when ``metric`` is a name.
      **update_options: extra keyword arguments for every ``update``.

    Example:
      >>> import numpy as np, maskjax.keras as mk
      >>> f1 = mk.Metric("F1Score", config=dict(task="binary"))
      >>> f1.update_state(np.array([1, 0, 1, 1]), np.array([0.9, 0.2, 0.4, 0.8], np.float32))
      >>> round(float(f1.result()), 4)
      0.8
      >>> f1.reset_state(); float(f1.result())
      0.0
    """

    def __init__(self, metric: Any, *, name: str | None = None, config: dict | None = None,
                 **update_options: Any):
        if isinstance(metric, str):
            metric = getattr(maskjax.metrics, metric)(**(config or {}))
        missing = [m for m in ("init", "update", "compute") if not callable(getattr(metric, m, None))]
        if missing or isinstance(metric, type):
            raise TypeError(f"`metric` must be a maskjax streaming metric object (with init, update, "
                            f"compute), e.g. maskjax.metrics.F1Score(...); got {metric!r}. One-shot "
                            f"functions cannot be streamed exactly across batches.")
        super().__init__(name=name or _snake(type(metric).__name__))
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

    # pure functions of (state leaves, data): the core calls, with hashable identity for jit caches
    def _update_leaves(self, *arrays: Any, **kwargs: Any) -> list:
        n = len(self._init)
        state = jax.tree_util.tree_unflatten(self._treedef, list(arrays[:n]))
        return jax.tree_util.tree_leaves(self.metric.update(state, *arrays[n:], **kwargs))

    def _compute_leaves(self, *arrays: Any) -> Any:
        return self.metric.compute(jax.tree_util.tree_unflatten(self._treedef, list(arrays)))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        kwargs = dict(self.update_options)
        mask = _keras_mask(y_pred)
        if mask is not None:
            kwargs["mask"] = mask
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        data = (y_pred,) if self._values_only else (y_pred, y_true)
        new = _front(self._update_leaves, "metric")(*[v.value for v in self._state], *data, **kwargs)
        for var, value in zip(self._state, new):
            var.assign(value)

    def result(self) -> Any:
        return _front(self._compute_leaves, "metric")(*[v.value for v in self._state])

    def reset_state(self) -> None:
        for var, value in zip(self._state, self._init):
            var.assign(value)

    def get_config(self) -> dict:
        return {"name": self.name}


def _constant(value: np.ndarray) -> Callable:
    def initializer(shape: Any = None, dtype: Any = None) -> Any:
        return keras.ops.convert_to_tensor(value, dtype=dtype)
    return initializer
