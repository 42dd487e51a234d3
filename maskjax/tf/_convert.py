"""tf.Tensor <-> jax.Array through DLPack (zero-copy where TensorFlow allows)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import tensorflow as tf

from maskjax import _interop


class _Capsule:
    """Hands JAX a TF DLPack capsule; TF takes no stream, so GPU work is synced first."""

    def __init__(self, tensor: tf.Tensor):
        self.tensor = tensor

    def __dlpack__(self, stream: Any = None, **_: Any):
        return tf.experimental.dlpack.to_dlpack(self.tensor)

    def __dlpack_device__(self):
        return (2, _device_index(self.tensor.device)) if _on_gpu(self.tensor) else (1, 0)


def _on_gpu(tensor: Any) -> bool:
    return "GPU" in (tensor.device or "").upper()


def _device_index(device: str) -> int:
    try:
        return int(device.rsplit(":", 1)[-1])
    except ValueError:
        return 0


def _sync_gpu() -> None:
    """TF passes no stream through DLPack: wait for its queued GPU work."""
    tf.test.experimental.sync_devices()


def to_jax(tensor: Any, *, copy: bool | None = None, name: str = "tensor") -> jax.Array:
    """A ``tf.Tensor`` (or ``tf.Variable``) as a ``jax.Array``, zero-copy where possible.

    TF tensors are always compact, so f32/f16/bf16/int8–int32/uint8/bool CPU
    tensors are shared through DLPack. Copies:

    * **int64** (``tf.data`` / NumPy label default) with ``jax_enable_x64``
      off: range-checked and cast to int32 in TF (values outside int32 raise
      ``ValueError``); float64 → float32;
    * GPU tensors: TF passes no stream through DLPack, so TF's GPU work is
      synchronised (``tf.test.experimental.sync_devices``) before sharing;
      **int32 GPU tensors live in host memory** in TF, so they are copied to
      the GPU through the host instead of being mislabelled.

    Only eager tensors can be converted; inside ``tf.function`` use the
    :mod:`maskjax.tf.losses` / :mod:`maskjax.tf.metrics` fronts, which run
    the core as native TF ops there (jax2tf).

    Args:
      tensor: a ``tf.Tensor`` / ``tf.Variable`` (anything else goes to
        :func:`maskjax._interop.to_jax`).
      copy: ``None`` copy only if needed; ``False`` raise ``ValueError``
        instead; ``True`` always copy.
      name: argument name for error messages.

    Returns:
      A ``jax.Array``.

    Raises:
      TypeError: a symbolic (graph) tensor.
      ValueError: ``copy=False`` but a copy is needed; int64 out of int32 range.

    Example:
      >>> import tensorflow as tf, maskjax.tf as mtf
      >>> mtf.to_jax(tf.constant([[1.0, 2.0], [3.0, 4.0]])).sum().item()
      10.0
      >>> mtf.to_jax(tf.constant([0, 3, -100], tf.int64)).dtype
      dtype('int32')
    """
    if isinstance(tensor, tf.Variable):
        tensor = tensor.read_value()
    if not isinstance(tensor, tf.Tensor):
        return _interop.to_jax(tensor, copy=copy, name=name)
    if not hasattr(tensor, "numpy") or not tf.executing_eagerly():
        raise TypeError(
            f"`{name}` is a symbolic TensorFlow tensor (inside tf.function); it cannot be "
            f"converted eagerly. Use maskjax.tf.losses / maskjax.tf.metrics (they run the core "
            f"as native TF ops through jax2tf) or call the function outside tf.function.")
    np_dtype = np.dtype(tensor.dtype.as_numpy_dtype) if tensor.dtype != tf.bfloat16 else None
    narrow = _interop.narrow_dtype(np_dtype) if np_dtype is not None else None
    if narrow is not None:
        if copy is False:
            raise _interop.refuse_copy(name, f"{tensor.dtype.name} becomes {narrow} while "
                                             f"jax_enable_x64 is off")
        if np_dtype.kind in "iu" and tf.size(tensor) > 0:
            _interop.check_int32_range(int(tf.reduce_min(tensor)), int(tf.reduce_max(tensor)), name, narrow)
        _interop.report_copy(name, f"{tensor.dtype.name} cast to {narrow}")
        tensor = tf.cast(tensor, tf.as_dtype(narrow))
    gpu = _on_gpu(tensor)
    if gpu and tensor.dtype == tf.int32:
        if copy is False:
            raise _interop.refuse_copy(name, "TF keeps int32 GPU tensors in host memory")
        devices = jax.devices("gpu")
        return jax.device_put(tensor.numpy(), devices[_device_index(tensor.device)])
    if tf.size(tensor) == 0:
        dtype = jnp.bfloat16 if tensor.dtype == tf.bfloat16 else tensor.dtype.as_numpy_dtype
        return jnp.zeros(tuple(tensor.shape), dtype)
    if gpu:
        _sync_gpu()
    out = _interop.import_dlpack(_Capsule(tensor), copy=False if copy is False else None,
                                 expected_ptr=None, name=name)
    return jnp.array(out, copy=True) if copy else out


def from_jax(array: Any, like: Any = None) -> tf.Tensor:
    """A ``jax.Array`` as an eager ``tf.Tensor`` (zero-copy through DLPack).

    On GPU the JAX computation is awaited first (TF passes no stream).

    Args:
      array: a ``jax.Array`` (NumPy arrays and numbers accepted).
      like: a tensor (or device string) whose device the result is placed on.

    Returns:
      A ``tf.Tensor`` of the same shape and dtype.

    Example:
      >>> import jax.numpy as jnp, maskjax.tf as mtf
      >>> mtf.from_jax(jnp.arange(3.0)).numpy().tolist()
      [0.0, 1.0, 2.0]
    """
    if not isinstance(array, jax.Array):
        array = jnp.asarray(array)
    if len(array.devices()) > 1:
        array = jax.device_put(array, next(iter(array.devices())))
    if array.size == 0:
        out = tf.zeros(array.shape, tf.as_dtype(array.dtype.name))
    else:
        if next(iter(array.devices())).platform != "cpu":
            array.block_until_ready()
        out = tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    device = like if isinstance(like, str) else getattr(like, "device", None)
    if device and out.device != device:
        with tf.device(device):
            out = tf.identity(out)
    return out


def _accepts(x: Any) -> bool:
    # tf.Tensor, and Keras variables backed by TF (not Keras' other objects)
    return hasattr(x, "dtype") and hasattr(x, "shape") and (
        type(x).__module__.startswith("tensorflow") or "Variable" in type(x).__name__)


_interop.register_converter("tensorflow", to_jax, _accepts)
_interop.register_converter("keras", to_jax, _accepts)
