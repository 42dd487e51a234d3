"""Framework-neutral conversion and delegation used by every adapter.

Adapters (``maskjax.torch``, ``maskjax.tf``, ``maskjax.keras``) hold no
maths: they turn foreign arrays into ``jax.Array`` (zero-copy through DLPack
where the data allows), call the core, and turn the results back. This module
holds the parts they share:

* :func:`to_jax` — NumPy arrays, JAX arrays, Python values and any object with
  ``__dlpack__``; torch / TF tensors are routed to their adapter.
* :func:`import_dlpack` — ``jax.dlpack.from_dlpack`` plus a pointer check that
  *detects* the copies JAX makes silently (misaligned buffers, narrowed
  dtypes) and refuses them under ``copy=False``.
* :func:`narrow_dtype` / :func:`check_int32_range` — the documented 64-bit
  route: with ``jax_enable_x64`` off JAX has no 64-bit types, so int64 labels
  are cast to int32 *after a range check* (a copy), float64 to float32.
* :class:`Call` — splits ``(args, kwargs)`` into array leaves and a hashable
  static template, so a core function runs under one cached ``jax.jit`` per
  configuration (no retracing per call) and its ``jax.vjp`` can be returned to
  a foreign autograd system.

Copies are reported on the ``"maskjax.interop"`` logger at DEBUG level
(``logging.getLogger("maskjax.interop").setLevel("DEBUG")`` to see them), and
refused with ``ValueError`` under ``copy=False``.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["to_jax", "register_converter", "import_dlpack", "narrow_dtype", "check_int32_range", "x64_enabled", "Call"]

log = logging.getLogger("maskjax.interop")

_NARROW = {
    np.dtype(np.int64): np.dtype(np.int32),
    np.dtype(np.uint64): np.dtype(np.uint32),
    np.dtype(np.float64): np.dtype(np.float32),
    np.dtype(np.complex128): np.dtype(np.complex64),
}
_INT32 = np.iinfo(np.int32)
_UINT32 = np.iinfo(np.uint32)


def x64_enabled() -> bool:
    """Whether ``jax_enable_x64`` is on (then 64-bit inputs stay 64-bit)."""
    return bool(jax.config.read("jax_enable_x64"))


def narrow_dtype(dtype: Any) -> np.dtype | None:
    """The dtype JAX will use instead of ``dtype``, or ``None`` if it keeps it.

    Args:
      dtype: a NumPy dtype (or anything ``np.dtype`` accepts).

    Returns:
      ``int32`` for ``int64``, ``float32`` for ``float64`` (etc.) when
      ``jax_enable_x64`` is off; ``None`` when no narrowing happens.

    Example:
      >>> from maskjax._interop import narrow_dtype
      >>> narrow_dtype("int64")
      dtype('int32')
      >>> narrow_dtype("float32") is None
      True
    """
    if x64_enabled():
        return None
    return _NARROW.get(np.dtype(dtype))


def check_int32_range(lo: int, hi: int, name: str, target: Any = np.int32) -> None:
    """Raise ``ValueError`` if ``[lo, hi]`` does not fit ``target`` (int32 or uint32).

    Example:
      >>> from maskjax._interop import check_int32_range
      >>> check_int32_range(-100, 9, "targets")
      >>> check_int32_range(0, 2**40, "targets")
      Traceback (most recent call last):
      ...
      ValueError: `targets` holds 64-bit integers outside the int32 range [-2147483648, 2147483647] (min 0, max 1099511627776); JAX has no int64 while jax_enable_x64 is off. Enable it (jax.config.update('jax_enable_x64', True)) or pass smaller values.
    """
    info = _UINT32 if np.dtype(target) == np.uint32 else _INT32
    if lo < info.min or hi > info.max:
        raise ValueError(
            f"`{name}` holds 64-bit integers outside the {np.dtype(target).name} range "
            f"[{info.min}, {info.max}] (min {lo}, max {hi}); JAX has no int64 while "
            f"jax_enable_x64 is off. Enable it (jax.config.update('jax_enable_x64', True)) "
            f"or pass smaller values."
        )


def refuse_copy(name: str, why: str) -> ValueError:
    """The ``ValueError`` raised when ``copy=False`` but a copy is needed."""
    return ValueError(f"`{name}` cannot be passed to JAX without a copy ({why}); "
                      f"copy=False forbids copying. Pass copy=None to allow the copy.")


def report_copy(name: str, why: str) -> None:
    log.debug("maskjax: copying `%s` on its way to JAX: %s", name, why)


def import_dlpack(obj: Any, *, copy: bool | None, expected_ptr: int | None, name: str = "array",
                  device: Any = None) -> jax.Array:
    """``jax.dlpack.from_dlpack(obj)`` that detects silent copies by pointer.

    JAX copies silently when a buffer is misaligned (an offset slice) or its
    dtype is narrowed; comparing the new array's buffer pointer with the
    producer's (``expected_ptr``) tells. Under ``copy=False`` such a copy raises
    ``ValueError``; otherwise it is reported on the ``maskjax.interop`` logger.

    Args:
      obj: an object with ``__dlpack__`` / ``__dlpack_device__`` (pass the
        object, not a capsule, so JAX can hand over its stream).
      copy: ``None`` (copy only if needed), ``False`` (never; raise) or
        ``True`` (always copy).
      expected_ptr: the producer's data pointer, or ``None`` if unknown.
      name: the argument name used in messages.
      device: optional JAX device to place the result on.

    Returns:
      A ``jax.Array`` sharing memory with ``obj`` when possible.

    Example:
      >>> import numpy as np
      >>> from maskjax._interop import import_dlpack
      >>> import_dlpack(np.arange(3.0), copy=None, expected_ptr=None).tolist()
      [0.0, 1.0, 2.0]
    """
    if copy:
        return jax.dlpack.from_dlpack(obj, device=device, copy=True)
    arr = None
    if device is None:
        lean = _lean_cpu_importer()
        if lean is not None and obj.__dlpack_device__()[0] == _DL_CPU:
            arr = lean(obj.__dlpack__())
            narrow = narrow_dtype(arr.dtype)
            if narrow is not None:  # as jax.dlpack.from_dlpack: canonicalise (a copy)
                arr = jnp.asarray(arr, dtype=narrow)
    if arr is None:
        arr = jax.dlpack.from_dlpack(obj, device=device)
    if expected_ptr is not None and arr.size and arr.unsafe_buffer_pointer() != expected_ptr:
        why = "JAX copied the buffer (misaligned data, e.g. an offset slice)"
        if copy is False:
            raise refuse_copy(name, why)
        report_copy(name, why)
    return arr


_DL_CPU = 1  # DLDeviceType.kDLCPU


@functools.lru_cache(maxsize=1)
def _lean_cpu_importer() -> Callable[[Any], jax.Array] | None:
    """A capsule -> ``jax.Array`` importer for CPU buffers, or ``None``.

    ``jax.dlpack.from_dlpack`` spends most of its ~70-100 µs in Python around
    the actual import (backend look-ups, a stream query that CPU does not
    implement, a ``jnp.asarray`` canonicalisation of an already canonical
    array); the import itself (``dlpack_managed_tensor_to_buffer``) takes a
    few µs. This calls it directly for CPU buffers — same semantics: shared
    memory when aligned, JAX's silent copy otherwise (which
    :func:`import_dlpack` detects by pointer). The private entry point is
    checked once by a self-test; if anything differs (another jaxlib) the
    public ``jax.dlpack.from_dlpack`` is used instead.
    """
    if jax.default_backend() != "cpu":
        # Only when the CPU is JAX's backend: with a GPU backend, CPU results of this private path
        # segfaulted on an H200 (jax 0.11.2); the public path is used there.
        return None
    try:
        from jax._src import dlpack as _jdl

        to_buffer = _jdl._jax.dlpack_managed_tensor_to_buffer
        cpu = jax.devices("cpu")[0]
    except Exception:  # noqa: BLE001 - no such entry point: use the public path
        return None

    def lean5(capsule):  # jaxlib >= 0.8 (extension version >= 467): device type argument
        return to_buffer(capsule, cpu, None, None, _DL_CPU)

    def lean4(capsule):
        return to_buffer(capsule, cpu, None, None)

    for lean in (lean5, lean4):
        try:
            probe = np.arange(7, dtype=np.float32)
            got = lean(probe.__dlpack__())
            if (isinstance(got, jax.Array) and got.dtype == probe.dtype and got.shape == probe.shape
                    and np.array_equal(np.asarray(got), probe)):
                return lean
        except Exception:  # noqa: BLE001 - signature mismatch: try the next / public path
            continue
    log.debug("maskjax: lean DLPack import unavailable; using jax.dlpack.from_dlpack.")
    return None


@functools.lru_cache(maxsize=1)
def _lean_cpu_exporter() -> Callable[[jax.Array], Any] | None:
    """A ``jax.Array`` (one CPU device) -> DLPack capsule exporter, or ``None``.

    ``jax.Array.__dlpack__`` wraps ``buffer_to_dlpack_managed_tensor`` in
    several Python layers (device sets, sharding checks); this calls it
    directly for a single-device CPU array (no stream on CPU). Self-tested once;
    ``None`` (use the public ``__dlpack__``) if the entry point differs.
    """
    if jax.default_backend() != "cpu":  # see _lean_cpu_importer
        return None
    try:
        from jax._src import dlpack as _jdl

        to_capsule = _jdl._jax.buffer_to_dlpack_managed_tensor

        def lean(array):
            return to_capsule(array, stream=None)

        probe = jnp.arange(5, dtype=jnp.float32)
        lean_import = _lean_cpu_importer()
        if lean_import is None:
            return None
        got = lean_import(lean(probe))
        if not (got.unsafe_buffer_pointer() == probe.unsafe_buffer_pointer()
                and np.array_equal(np.asarray(got), np.asarray(probe))):
            return None
        return lean
    except Exception:  # noqa: BLE001 - any mismatch: use the public path
        return None


def export_dlpack(array: jax.Array) -> Any:
    """A DLPack capsule of a single-device ``jax.Array`` (zero-copy; lean on CPU)."""
    devices = array.devices()
    if len(devices) == 1 and next(iter(devices)).platform == "cpu":
        lean = _lean_cpu_exporter()
        if lean is not None:
            return lean(array)
    return array.__dlpack__()


def _numpy_to_jax(x: np.ndarray, copy: bool | None, name: str) -> jax.Array:
    if x.dtype == object:
        raise TypeError(f"`{name}` is a NumPy array of dtype object; expected numbers or bools.")
    narrow = narrow_dtype(x.dtype)
    if narrow is not None:
        if copy is False:
            raise refuse_copy(name, f"{x.dtype} becomes {narrow} while jax_enable_x64 is off")
        if x.dtype.kind in "iu" and x.size:
            check_int32_range(int(x.min()), int(x.max()), name, narrow)
        report_copy(name, f"{x.dtype} cast to {narrow}")
        x = x.astype(narrow)
    if not x.flags.c_contiguous:
        if copy is False:
            raise refuse_copy(name, f"it is not C-contiguous (strides {x.strides})")
        report_copy(name, "not C-contiguous")
        x = np.ascontiguousarray(x)
    if x.size == 0 or x.dtype.kind == "V":
        return jnp.asarray(x)
    try:
        return import_dlpack(x, copy=copy, expected_ptr=x.ctypes.data, name=name)
    except BufferError as err:  # read-only arrays on older NumPy, unsupported dtypes
        if copy is False:
            raise refuse_copy(name, str(err)) from None
        report_copy(name, str(err))
        return jnp.array(x)


def to_jax(x: Any, *, copy: bool | None = None, name: str = "array") -> jax.Array:
    """Convert an array from any framework to a ``jax.Array``, zero-copy if possible.

    Routes ``torch.Tensor`` to :func:`maskjax.torch.to_jax` and ``tf.Tensor``
    to :func:`maskjax.tf.to_jax`; NumPy arrays and other ``__dlpack__``
    producers go through DLPack (NumPy only shares memory with JAX when the
    buffer is 64-byte aligned — JAX's CPU requirement — otherwise JAX copies,
    which is reported); Python numbers and lists through ``jnp.asarray``.

    Args:
      x: the array-like.
      copy: ``None`` copies only when needed (non-contiguous, misaligned,
        64-bit with x64 off), ``False`` raises ``ValueError`` instead of
        copying, ``True`` always copies.
      name: the argument name used in error messages.

    Returns:
      A ``jax.Array``.

    Raises:
      ValueError: ``copy=False`` and a copy is needed; 64-bit integers out of
        the int32 range while x64 is off.

    Example:
      >>> import numpy as np
      >>> from maskjax._interop import to_jax
      >>> to_jax(np.array([1, 2, 3])).dtype         # int64 labels -> int32 (range-checked)
      dtype('int32')
      >>> to_jax(np.ones((2, 3))[:, ::2], copy=False)
      Traceback (most recent call last):
      ...
      ValueError: `array` cannot be passed to JAX without a copy (float64 becomes float32 while jax_enable_x64 is off); copy=False forbids copying. Pass copy=None to allow the copy.
    """
    if isinstance(x, jax.Array):
        return jnp.array(x, copy=True) if copy else x
    converter = _CONVERTERS.get(type(x).__module__.split(".")[0])
    if converter is not None and converter[1](x):
        return converter[0](x, copy=copy, name=name)
    if isinstance(x, (np.ndarray, np.generic)):
        return _numpy_to_jax(np.asarray(x), copy, name)
    if hasattr(x, "__dlpack__") and hasattr(x, "__dlpack_device__"):
        return import_dlpack(x, copy=copy, expected_ptr=None, name=name)
    if hasattr(x, "__array__"):
        return _numpy_to_jax(np.asarray(x), copy, name)
    return jnp.asarray(x)


# --------------------------------------------------------------------------------------------
# Registry: fronts register their framework's converter here (one-way imports: this module
# never imports a front). An unregistered framework's tensors take the generic DLPack route.

_CONVERTERS: dict[str, tuple[Callable[..., jax.Array], Callable[[Any], bool]]] = {}


def register_converter(root_module: str, convert: Callable[..., jax.Array],
                       accepts: Callable[[Any], bool] | None = None) -> None:
    """Route :func:`to_jax` of objects whose type lives in ``root_module`` to ``convert``.

    Called by a front when it is imported (``maskjax.torch`` registers ``"torch"``,
    ``maskjax.tf`` registers ``"tensorflow"``). ``convert(x, copy=, name=)`` returns a
    ``jax.Array``; ``accepts(x)`` (default: always) narrows which objects it takes.

    Example:
      >>> import numpy as np
      >>> from maskjax import _interop
      >>> sorted(k for k in _interop._CONVERTERS if k == "numpy")
      []
    """
    _CONVERTERS[root_module] = (convert, accepts or (lambda x: True))


# --------------------------------------------------------------------------------------------
# Delegation: split a call into array leaves + a hashable static template, run it under a
# cached jit (forward, or forward + vjp), fall back to eager calls for non-traceable options.


class _Slot:
    """Placeholder for the i-th array leaf inside a static call template.

    Interned (one instance per index, see :func:`_slot`), so equality and
    hashing are identity — C-speed in the per-call jit-cache look-ups.
    """

    __slots__ = ("i",)

    def __init__(self, i: int):
        self.i = i

    def __reduce__(self):
        return _slot, (self.i,)

    def __repr__(self):
        return f"<array {self.i}>"


_SLOTS: list[_Slot] = []


def _slot(i: int) -> _Slot:
    while len(_SLOTS) <= i:
        _SLOTS.append(_Slot(len(_SLOTS)))
    return _SLOTS[i]


def _fill(value, leaves):
    return leaves[value.i] if value.__class__ is _Slot else value


class Call:
    """One call ``fn(*args, **kwargs)`` split into array leaves and static options.

    ``is_array(x)`` decides what is data (converted, traced under jit); every
    other argument is a static option (must be hashable for the jit cache;
    lists of numbers are turned into NumPy arrays, i.e. data).

    Example:
      >>> import numpy as np, maskjax
      >>> from maskjax._interop import Call
      >>> c = Call(maskjax.reduce, (np.ones(3),), {"reduction": "sum"},
      ...          is_array=lambda x: isinstance(x, np.ndarray))
      >>> float(c.run([np.ones(3)]))
      3.0
    """

    def __init__(self, fn: Callable, args: Sequence[Any], kwargs: dict, is_array: Callable[[Any], bool]):
        self.fn = fn
        self.leaves: list[Any] = []
        self.names: list[str] = []

        def slot(value, name):
            if isinstance(value, list) and value and all(
                    isinstance(v, (int, float, bool, np.number, list)) for v in value):
                value = np.asarray(value)
            if is_array(value) or isinstance(value, (np.ndarray, jax.Array)):
                self.leaves.append(value)
                self.names.append(name)
                return _slot(len(self.leaves) - 1)
            return value

        arg_names = ("preds", "targets")
        self.args_t = tuple(slot(a, arg_names[i] if i < 2 else f"arg{i}") for i, a in enumerate(args))
        self.kwargs_t = tuple(sorted((k, slot(v, k)) for k, v in kwargs.items()))
        try:
            hash((self.args_t, self.kwargs_t))
            self.hashable = True
        except TypeError:
            self.hashable = False

    def bind(self, leaves: Sequence[Any]) -> tuple[tuple, dict]:
        """The ``(args, kwargs)`` with the array leaves put back in."""
        return (tuple(_fill(a, leaves) for a in self.args_t),
                {k: _fill(v, leaves) for k, v in self.kwargs_t})

    def run(self, leaves: Sequence[Any]) -> Any:
        """Call the function eagerly on converted leaves (the core jits itself)."""
        args, kwargs = self.bind(leaves)
        return self.fn(*args, **kwargs)

    def run_jit(self, leaves: Sequence[Any]) -> Any:
        """Call the function under one ``jax.jit`` cached per static options.

        Falls back to :meth:`run` (eager) when the options do not trace (e.g.
        an eager ``validate=True`` check) or are unhashable.
        """
        key = (self.fn, self.args_t, self.kwargs_t, len(leaves))
        if self.hashable and key not in _EAGER_ONLY:
            try:
                return _forward_program(*key)(*leaves)
            except _TRACING_ERRORS:
                _EAGER_ONLY.add(key)
                log.debug("maskjax: %r does not trace with these options; running eagerly.", self.fn)
        return self.run(leaves)

    # -- forward + vjp under one cached jit -------------------------------------------------
    def vjp(self, leaves: Sequence[jax.Array], diff: tuple[int, ...]):
        """``(out, pullback)``: the output and ``cotangent -> grads of leaves[diff]``.

        Runs forward and ``jax.vjp`` under one jit cached per (function,
        options, differentiated leaves); options that do not trace fall back to
        an eager ``jax.vjp``.
        """
        key = (self.fn, self.args_t, self.kwargs_t, len(leaves), diff)
        if self.hashable and key not in _EAGER_ONLY:
            try:
                out, vjp_fn = _vjp_program(*key)(*leaves)
                return out, functools.partial(apply_vjp, vjp_fn)
            except _TRACING_ERRORS:
                _EAGER_ONLY.add(key)
                log.debug("maskjax: %r does not trace with these options; running eagerly.", self.fn)
        return _vjp_eager(self.fn, self.args_t, self.kwargs_t, diff, leaves)


_TRACING_ERRORS = (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
                   jax.errors.TracerIntegerConversionError, jax.errors.TracerArrayConversionError)
_EAGER_ONLY: set = set()


def _vjp_eager(fn, args_t, kwargs_t, diff, leaves):
    def f(*d):
        full = list(leaves)
        for i, v in zip(diff, d):
            full[i] = v
        args = tuple(_fill(a, full) for a in args_t)
        kwargs = {k: _fill(v, full) for k, v in kwargs_t}
        return fn(*args, **kwargs)

    return jax.vjp(f, *[leaves[i] for i in diff])


@functools.lru_cache(maxsize=512)
def _forward_program(fn, args_t, kwargs_t, n_leaves):
    del n_leaves  # part of the cache key only

    def run(*leaves):
        args = tuple(_fill(a, leaves) for a in args_t)
        kwargs = {k: _fill(v, leaves) for k, v in kwargs_t}
        return fn(*args, **kwargs)
    return jax.jit(run)


@functools.lru_cache(maxsize=512)
def _vjp_program(fn, args_t, kwargs_t, n_leaves, diff):
    del n_leaves  # part of the cache key only
    return jax.jit(lambda *leaves: _vjp_eager(fn, args_t, kwargs_t, diff, leaves))


@jax.jit
def apply_vjp(vjp_fn, cotangent):
    """Run a ``vjp_fn`` returned by :meth:`Call.vjp` (jitted; one trace per program)."""
    return vjp_fn(cotangent)


# --------------------------------------------------------------------------------------------
# Mirrors: maskjax.<adapter>.losses / .metrics generated from the core's __all__.


def mirror(core_module: Any, wrap_function: Callable[[Callable, str], Callable],
           wrap_class: Callable[[type, str], type] | None, module_name: str) -> dict[str, Any]:
    """Adapter versions of every public name of ``core_module`` (from its ``__all__``).

    Functions go through ``wrap_function(fn, public_name)``; classes (streaming
    metric definitions with ``init``/``update``/``merge``/``compute``) through
    ``wrap_class(cls, public_name)``; anything else is re-exported unchanged.
    No maths: the wrappers only convert and delegate.
    """
    out: dict[str, Any] = {}
    for name in getattr(core_module, "__all__", ()):
        obj = getattr(core_module, name)
        public = f"{core_module.__name__}.{name}"
        if isinstance(obj, type):
            wrapped = wrap_class(obj, public) if wrap_class is not None and is_streaming_class(obj) else obj
        elif callable(obj):
            wrapped = wrap_function(obj, public)
        else:
            wrapped = obj
        if wrapped is not obj:
            wrapped.__module__ = module_name
            wrapped.__name__ = wrapped.__qualname__ = name
        out[name] = wrapped
    return out


def is_streaming_class(cls: type) -> bool:
    """A concrete class with ``init/update/merge/compute`` (not the abstract base defining them)."""
    if not all(callable(getattr(cls, m, None)) for m in ("init", "update", "merge", "compute")):
        return False
    root = next(c for c in reversed(cls.__mro__) if "init" in c.__dict__)
    return root is not cls


def wrapper_doc(framework: str, public: str, kind: str) -> str:
    """Docstring of a generated adapter wrapper (points at the core function)."""
    return (f"{framework} front of :func:`{public}` ({kind}).\n\n"
            f"Same arguments as the core function; {framework} tensors (data, and tensor\n"
            f"options such as ``mask``, ``sample_weight``, ``class_weight``) are converted\n"
            f"to JAX (zero-copy where possible), the core runs, and the results come back\n"
            f"as {framework} tensors on the input's device. No maths here.\n")
