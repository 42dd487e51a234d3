"""Keras backend dispatch, Keras masks and Keras layouts (shapes / dtypes only; no maths)."""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import keras


def backend() -> str:
    """The active Keras backend name."""
    return keras.backend.backend()


def keras_mask(x: Any) -> Any:
    """The Keras mask of ``x`` (an attribute, or Keras' id-keyed table for JAX arrays)."""
    try:  # not in the public API of Keras 3.15; JAX arrays cannot carry the attribute
        from keras.src.backend import get_keras_mask
    except ImportError:  # pragma: no cover
        get_keras_mask = None
    get = getattr(keras.backend, "get_keras_mask", get_keras_mask)
    return get(x) if get is not None else getattr(x, "_keras_mask", None)


def scale_loss_for_distribution(loss: Any) -> Any:
    """Keras' own rule: a mean loss divided by the replicas of a TF distribution strategy.

    Keras sums the per-replica losses (and gradients); its built-in losses
    divide each replica's mean by the number of replicas in sync, so the sum
    is the global mean. A no-op outside a multi-replica strategy and on other
    backends.
    """
    if backend() != "tensorflow":
        return loss
    import tensorflow as tf

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas > 1:
        loss = loss * keras.ops.cast(1.0 / replicas, loss.dtype)
    return loss


@functools.lru_cache(maxsize=None)
def front(fn: Callable, kind: str) -> Callable:
    """The JAX function ``fn`` for the active Keras backend (``kind``: "loss" or "metric").

    JAX: ``fn`` itself. TensorFlow: :mod:`maskjax.tf` (jax2tf inside Keras'
    ``tf.function``). torch: :mod:`maskjax.torch` (its public ``wrap_loss``,
    which keeps the core's layout, for losses; ``to_jax`` / ``from_jax`` for
    metrics).
    """
    name = backend()
    if name == "jax":
        return fn
    if name == "tensorflow":
        import maskjax.tf as mtf
        return (mtf.wrap_loss if kind == "loss" else mtf.wrap_metric)(fn)
    if name == "torch":
        return _torch_front(fn, kind)
    raise NotImplementedError(f"maskjax.keras supports the jax, tensorflow and torch backends, "
                              f"not {name!r}.")


def _torch_front(fn: Callable, kind: str) -> Callable:
    import maskjax.torch as mt

    if kind == "loss":
        # maskjax.torch.wrap_loss keeps the core's layout (maskjax.torch.losses follow torch's:
        # class axis 1, logits); the Keras layouts were already applied by this front.
        wrap = getattr(mt, "wrap_loss", None)
        if wrap is None:  # pragma: no cover - depends on maskjax.torch's public API
            raise NotImplementedError("the Keras torch backend needs maskjax.torch.wrap_loss")
        return wrap(fn)

    def is_tensor(x: Any) -> bool:
        return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, jax.Array)

    def metric(*args: Any, **kwargs: Any) -> Any:  # no gradient: convert, call, convert back
        args = [mt.to_jax(a) if is_tensor(a) else a for a in args]
        kwargs = {k: mt.to_jax(v) if is_tensor(v) else v for k, v in kwargs.items()}
        out = fn(*args, **kwargs)
        return jax.tree_util.tree_map(lambda x: mt.from_jax(x) if isinstance(x, jax.Array) else x, out)

    return metric


def _rank(x: Any) -> int:
    return len(x.shape)


def _is_float(x: Any) -> bool:
    return "float" in str(keras.backend.standardize_dtype(x.dtype))


def align(y_true: Any, y_pred: Any, *, class_ids: bool) -> tuple[Any, Any]:
    """Keras' layout rules for ``(y_true, y_pred)`` (shapes and dtypes only).

    * ``[..., 1]`` predictions against labels one rank lower: the labels get
      the trailing axis; ``[..., 1]`` labels against predictions one rank
      lower are squeezed (Keras' ``squeeze_or_expand_to_same_rank``).
    * ``class_ids`` (sparse classification: labels are class ids against
      ``[..., C]`` scores): ``[..., 1]`` labels of the predictions' rank are
      squeezed, and float labels one rank lower are cast to int32.
    * otherwise integer / bool labels are cast to the predictions' float dtype.

    Example:
      >>> import numpy as np
      >>> from maskjax.keras._backend import align
      >>> t, p = align(np.array([1, 0]), np.zeros((2, 1), np.float32), class_ids=False)
      >>> t.shape, str(t.dtype)
      ((2, 1), 'float32')
      >>> t, p = align(np.array([[2.0], [0.0]], np.float32), np.zeros((2, 3), np.float32), class_ids=True)
      >>> t.shape, str(t.dtype)
      ((2,), 'int32')
    """
    ops = keras.ops
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    rt, rp = _rank(y_true), _rank(y_pred)
    if rt == rp + 1 and y_true.shape[-1] == 1:  # [B, 1] labels against [B] predictions: squeezed
        y_true = ops.squeeze(y_true, axis=-1)
        rt -= 1
    if class_ids and rt == rp and rp >= 1 and y_true.shape[-1] == 1 and y_pred.shape[-1] != 1:
        y_true = ops.squeeze(y_true, axis=-1)
        rt -= 1
    if class_ids and rt == rp - 1 and y_pred.shape[-1] != 1:
        if _is_float(y_true):
            y_true = ops.cast(y_true, "int32")
        return y_true, y_pred
    if rt == rp - 1 and y_pred.shape[-1] == 1:
        y_true = ops.expand_dims(y_true, -1)
    if not _is_float(y_true) and _is_float(y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
    return y_true, y_pred


def align_metric(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """Keras metrics' layout: ``[B]`` labels against ``[B, 1]`` scores get the trailing
    axis; ``[B, 1]`` labels against ``[B, C]`` or ``[B]`` scores are squeezed; float labels
    (hard 0/1 or class ids, as Keras hands them over) are cast to int32. Float
    targets of the scores' own shape ``[..., C]`` (C > 1: one-hot, label-smoothed
    or mixup rows) stay float, so the core reads them as rows (multiclass: their
    argmax, as Keras' ``CategoricalAccuracy``) instead of truncating 0.8 to 0.

    Example:
      >>> import numpy as np
      >>> from maskjax.keras._backend import align_metric
      >>> t, p = align_metric(np.array([1.0, 0.0], np.float32), np.zeros((2, 1), np.float32))
      >>> t.shape, str(t.dtype)
      ((2, 1), 'int32')
    """
    ops = keras.ops
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    rt, rp = _rank(y_true), _rank(y_pred)
    if rt == rp + 1 and y_true.shape[-1] == 1:  # [B, 1] labels against [B] scores: squeezed
        y_true = ops.squeeze(y_true, axis=-1)
    elif rt == rp and rp >= 1 and y_true.shape[-1] == 1 and y_pred.shape[-1] not in (1, None):
        y_true = ops.squeeze(y_true, axis=-1)
    elif rt == rp - 1 and y_pred.shape[-1] == 1:
        y_true = ops.expand_dims(y_true, -1)
    rows = _rank(y_true) == rp and rp >= 1 and y_pred.shape[-1] not in (1, None) and \
        tuple(y_true.shape) == tuple(y_pred.shape)
    if _is_float(y_true) and not rows:
        y_true = ops.cast(y_true, "int32")
    return y_true, y_pred
