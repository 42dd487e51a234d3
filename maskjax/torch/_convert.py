"""torch.Tensor <-> jax.Array through DLPack (zero-copy where the data allows)."""

from __future__ import annotations

import contextlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import torch

from maskjax import _interop

_TORCH_TO_NP = {
    torch.float64: np.float64, torch.int64: np.int64, torch.complex128: np.complex128,
    torch.uint64: np.uint64,
}
# dtypes JAX imports unchanged whatever jax_enable_x64 says (the fast path of to_jax)
_KEPT_DTYPES = frozenset({torch.float32, torch.float16, torch.bfloat16, torch.int32, torch.int16,
                          torch.int8, torch.uint8, torch.bool, torch.complex64})
_NP_TO_TORCH = {np.dtype(np.int32): torch.int32, np.dtype(np.uint32): torch.uint32,
                np.dtype(np.float32): torch.float32, np.dtype(np.complex64): torch.complex64}


def _cuda_device(device: torch.device):
    """Make ``device`` current so torch syncs *its* stream with JAX's (non-current GPUs)."""
    if device.type == "cuda":
        return torch.cuda.device(device)
    return contextlib.nullcontext()


def jax_device(device: torch.device) -> jax.Device:
    """The JAX device holding the same memory as a torch device (cpu / cuda:k)."""
    if device.type == "cpu":
        return jax.devices("cpu")[0]
    if device.type == "cuda":
        return jax.devices("gpu")[device.index if device.index is not None else torch.cuda.current_device()]
    raise ValueError(f"maskjax.torch supports cpu and cuda tensors, got a tensor on {device}.")


def copy_reason(tensor: torch.Tensor) -> str | None:
    """Why :func:`to_jax` would copy ``tensor`` (``None``: it would share memory).

    Misaligned offset slices are only detected during the conversion itself
    (JAX copies them silently; :func:`to_jax` compares pointers).

    Args:
      tensor: a ``torch.Tensor``.

    Returns:
      A short reason string, or ``None``.

    Example:
      >>> import torch, maskjax.torch as mt
      >>> mt.copy_reason(torch.ones(3, 4)) is None
      True
      >>> mt.copy_reason(torch.ones(3, 4).T)
      'non-contiguous strides (1, 4)'
      >>> mt.copy_reason(torch.arange(3))
      'torch.int64 becomes int32 while jax_enable_x64 is off'
    """
    reasons = []
    if tensor.layout != torch.strided:
        reasons.append(f"{tensor.layout} layout")
    if tensor.is_conj():
        reasons.append("an unresolved conjugate view")
    if tensor.is_neg():
        reasons.append("an unresolved negative view")
    if tensor.dtype in _TORCH_TO_NP:
        narrow = _interop.narrow_dtype(_TORCH_TO_NP[tensor.dtype])
        if narrow is not None:
            reasons.append(f"{tensor.dtype} becomes {narrow} while jax_enable_x64 is off")
    if tensor.layout == torch.strided and not tensor.is_contiguous():
        reasons.append(f"non-contiguous strides {tuple(tensor.stride())}")
    return "; ".join(reasons) or None


def to_jax(tensor: Any, *, copy: bool | None = None, name: str = "tensor") -> jax.Array:
    """A ``torch.Tensor`` as a ``jax.Array`` on the same device, zero-copy when possible.

    The tensor is detached (a tensor that requires grad shares its memory;
    metrics need no graph). Memory is shared through DLPack when the tensor
    is contiguous, 64-byte aligned, and of a dtype JAX keeps (f32, f16, bf16,
    int8–int32, uint8, bool, …). Otherwise a copy is made (reported on the
    ``maskjax.interop`` logger) or, under ``copy=False``, refused:

    * non-contiguous tensors (a transpose, a column slice): made contiguous in
      torch on their device (JAX would import a transpose with a non-default
      layout and compile separately for it);
    * **int64** (torch's default integer, i.e. most label tensors) with
      ``jax_enable_x64`` off: range-checked (``torch.aminmax``, one device
      sync) and cast to int32 in torch on the tensor's device; values outside
      int32 raise ``ValueError`` rather than wrap. With x64 on, int64 is
      shared as is. float64 likewise becomes float32 (as ``jnp.asarray``
      would);
    * misaligned offset slices (``t[1:]``): JAX copies silently; detected by
      comparing buffer pointers.

    Size-0 tensors give an empty array on the right device. For CUDA tensors
    the tensor's device is made current during the exchange so torch's stream
    on *that* device is synchronised with JAX's (also for a non-current GPU).

    Note: a shared buffer aliases the tensor — mutating the tensor in place
    while JAX still reads it (JAX dispatch is asynchronous) is unsafe. The
    ``maskjax.torch`` losses and metrics convert their results back before
    returning, which waits for the computation.

    Args:
      tensor: a ``torch.Tensor`` (anything else goes to
        :func:`maskjax._interop.to_jax`).
      copy: ``None`` copy only if needed; ``False`` raise ``ValueError``
        instead of copying; ``True`` always copy (the result never aliases).
      name: argument name for error messages.

    Returns:
      A ``jax.Array`` of the same shape.

    Raises:
      ValueError: ``copy=False`` but a copy is needed; int64 values outside
        int32 while x64 is off.

    Example:
      >>> import torch, maskjax.torch as mt
      >>> t = torch.arange(6, dtype=torch.float32).reshape(2, 3)
      >>> a = mt.to_jax(t)
      >>> a.unsafe_buffer_pointer() == t.data_ptr()       # shared, no copy
      True
      >>> mt.to_jax(torch.tensor([0, 2, 1])).dtype        # int64 labels -> int32
      dtype('int32')
      >>> mt.to_jax(t.T, copy=False)
      Traceback (most recent call last):
      ...
      ValueError: `tensor` cannot be passed to JAX without a copy (non-contiguous strides (1, 3)); copy=False forbids copying. Pass copy=None to allow the copy.
    """
    if not isinstance(tensor, torch.Tensor):
        return _interop.to_jax(tensor, copy=copy, name=name)
    t = tensor.detach()
    if (copy is None and t.device.type == "cpu" and t.dtype in _KEPT_DTYPES
            and t.layout == torch.strided and t.is_contiguous() and not t.is_conj()
            and not t.is_neg() and t.numel()):
        # The common case (a contiguous CPU tensor JAX keeps as is): straight to DLPack.
        return _interop.import_dlpack(t, copy=None, expected_ptr=t.data_ptr(), name=name)
    if copy is False:
        why = copy_reason(t)
        if why is not None:
            raise _interop.refuse_copy(name, why)
    if t.layout != torch.strided:
        _interop.report_copy(name, f"{t.layout} layout made dense")
        t = t.to_dense()
    if t.is_conj():
        t = t.resolve_conj()
    if t.is_neg():
        t = t.resolve_neg()
    if t.dtype in _TORCH_TO_NP:
        narrow = _interop.narrow_dtype(_TORCH_TO_NP[t.dtype])
        if narrow is not None:
            if not (t.is_floating_point() or t.is_complex()) and t.numel():
                lo, hi = torch.aminmax(t)
                _interop.check_int32_range(int(lo), int(hi), name, narrow)
            _interop.report_copy(name, f"{t.dtype} cast to {narrow}")
            t = t.to(_NP_TO_TORCH[narrow])
    if not t.is_contiguous():
        _interop.report_copy(name, f"non-contiguous strides {tuple(t.stride())} made contiguous")
        t = t.contiguous()
    if copy:
        t = t.clone()
    device = jax_device(t.device)
    if t.numel() == 0:
        return jax.device_put(jnp.zeros(tuple(t.shape), _jax_dtype(t.dtype)), device)
    with _cuda_device(t.device):
        return _interop.import_dlpack(t, copy=False if copy is False else None, expected_ptr=t.data_ptr(), name=name)


def _jax_dtype(dtype: torch.dtype):
    return jnp.dtype(str(dtype).removeprefix("torch."))


def from_jax(array: Any, like: torch.Tensor | torch.device | str | None = None, *,
             copy: bool | None = None) -> torch.Tensor:
    """A ``jax.Array`` as a ``torch.Tensor``, zero-copy through DLPack.

    Args:
      array: a ``jax.Array`` (NumPy arrays and Python numbers are accepted).
      like: a tensor (or device) whose device the result is put on; ``None``
        keeps the array's own device.
      copy: ``True`` returns a tensor that owns its memory (torch may then
        mutate it freely); ``None``/``False`` share the buffer.

    Returns:
      A ``torch.Tensor`` of the same shape and dtype.

    Note:
      The shared tensor aliases an immutable JAX buffer: don't modify it in
      place (use ``copy=True`` if you need to).

    Example:
      >>> import jax.numpy as jnp, maskjax.torch as mt
      >>> a = jnp.arange(4.0)
      >>> t = mt.from_jax(a)
      >>> t.data_ptr() == a.unsafe_buffer_pointer()
      True
      >>> t
      tensor([0., 1., 2., 3.])
    """
    if not isinstance(array, jax.Array):
        array = jnp.asarray(array)
    like_device = like.device if isinstance(like, torch.Tensor) else like
    if not copy and array.size and (like_device is None or (isinstance(like_device, torch.device)
                                                            and like_device.type == "cpu")):
        devices = array.devices()
        if len(devices) == 1 and next(iter(devices)).platform == "cpu":
            # The common case (a CPU result back to CPU torch): one DLPack hop, no device logic.
            return torch.from_dlpack(_interop.export_dlpack(array))
    device = None
    if like is not None:
        device = like.device if isinstance(like, torch.Tensor) else torch.device(like)
        jdev = jax_device(device)
        if array.devices() != {jdev}:
            array = jax.device_put(array, jdev)
    elif len(array.devices()) > 1:
        array = jax.device_put(array, next(iter(array.devices())))
    if array.size == 0:
        dev = device if device is not None else _torch_device(next(iter(array.devices())))
        return torch.empty(array.shape, dtype=getattr(torch, array.dtype.name), device=dev)
    dev = device if device is not None else _torch_device(next(iter(array.devices())))
    with _cuda_device(dev):
        t = torch.from_dlpack(_interop.export_dlpack(array) if dev.type == "cpu" else array)
    return t.clone() if copy else t


def _torch_device(d: jax.Device) -> torch.device:
    return torch.device("cpu") if d.platform == "cpu" else torch.device("cuda", d.id)


_interop.register_converter("torch", to_jax)
