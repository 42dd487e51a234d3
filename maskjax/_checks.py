"""Trace-time argument checks shared by every public function.

Each helper raises ``TypeError`` (wrong kind or dtype) or ``ValueError``
(wrong shape or value) with a message that names the argument, what was
expected and what was received. They only look at static information
(shapes, dtypes, Python values), so they run unchanged under ``jax.jit``.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

REDUCTIONS = ("mean", "sum", "none", "sum_over_batch_size", "sum_by_nonzero_weights")


_INT32 = np.iinfo(np.int32)


def _check_int32_range(x: Any, name: str) -> None:
    """64-bit integers must fit int32 while x64 is off: JAX would wrap them silently (2**32 + 1 -> 1)."""
    if not hasattr(x, "dtype") or jax.config.read("jax_enable_x64"):
        return
    try:
        dtype = np.dtype(x.dtype)
    except TypeError:     # another framework's dtype: its front converts (and range-checks) it
        return
    if dtype.kind not in "iu" or dtype.itemsize < 8:
        return
    arr = np.asarray(x)
    if arr.size and (arr.min() < _INT32.min or arr.max() > _INT32.max):
        bad = arr[(arr < _INT32.min) | (arr > _INT32.max)].ravel()[:3].tolist()
        raise ValueError(
            f"`{name}` has {dtype.name} values outside the int32 range (e.g. {bad}); with jax_enable_x64 "
            f"off JAX would wrap them into other values (2**32 + 1 becomes 1), so they are refused. Use "
            f"values in [{_INT32.min}, {_INT32.max}] or enable x64.")


def as_array(x: Any, name: str) -> jax.Array:
    """``jnp.asarray(x)`` with a ``TypeError`` naming ``name`` on failure."""
    if x is None:
        raise TypeError(f"`{name}` must be an array, got None.")
    if isinstance(x, jax.Array):
        return x
    try:
        if not isinstance(x, jax.core.Tracer):
            _check_int32_range(x, name)
        return jnp.asarray(x)
    except OverflowError as err:
        raise ValueError(f"`{name}` has integers outside the int32 range, which JAX (without "
                         f"jax_enable_x64) cannot hold: {err}") from None
    except (TypeError, ValueError) as err:
        if "int32 range" in str(err):
            raise

        raise TypeError(
            f"`{name}` must be array-like (a jax/numpy array, a Python number or a "
            f"nested list), got {type(x).__name__}: {err}"
        ) from None


def as_optional_array(x: Any, name: str) -> jax.Array | None:
    return None if x is None else as_array(x, name)


def is_floating(x: jax.Array) -> bool:
    return jnp.issubdtype(x.dtype, jnp.floating)


def is_integer(x: jax.Array) -> bool:
    return jnp.issubdtype(x.dtype, jnp.integer)


def check_floating(x: jax.Array, name: str) -> None:
    if not is_floating(x):
        raise TypeError(f"`{name}` must have a floating dtype, got {x.dtype}.")


def check_integer(x: jax.Array, name: str, why: str = "") -> None:
    if not is_integer(x):
        extra = f" ({why})" if why else ""
        raise TypeError(f"`{name}` must have an integer dtype{extra}, got {x.dtype}.")


def check_numeric(x: jax.Array, name: str) -> None:
    if not (is_floating(x) or is_integer(x) or x.dtype == jnp.bool_):
        raise TypeError(f"`{name}` must be numeric or bool, got dtype {x.dtype}.")


def check_same_shape(a: jax.Array, b: jax.Array, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same shape, got "
            f"{name_a}.shape={tuple(a.shape)} and {name_b}.shape={tuple(b.shape)}."
        )


def check_reduction(reduction: str, allowed: Sequence[str] = REDUCTIONS) -> None:
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(
            f"`reduction` must be one of {list(allowed)}, got {reduction!r}."
        )


def check_choice(value: Any, name: str, allowed: Iterable[Any]) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {allowed}, got {value!r}.")


def check_bool(value: Any, name: str) -> bool:
    """A static Python bool (``np.bool_`` accepted), else ``TypeError`` naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be a Python bool, got {type(value).__name__} {value!r}.")
    return bool(value)


def check_ignore_index(ignore_index: Any) -> int | None:
    """``ignore_index``: a static int (any value, e.g. -100 or 255) or None."""
    if ignore_index is None:
        return None
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"`ignore_index` must be an int or None, got {ignore_index!r}.")
    return int(ignore_index)


def check_static_int(value: Any, name: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be a Python int, got {type(value).__name__} {value!r}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}.")
    return value


def check_static_float(value: Any, name: str, low: float | None = None,
                       high: float | None = None, *, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{name}` must be a Python float, got {type(value).__name__} {value!r}.")
    value = float(value)
    if low is not None and value < low:
        raise ValueError(f"`{name}` must be >= {low}, got {value}.")
    if high is not None and (value > high or (high_open and value == high)):
        bound = "<" if high_open else "<="
        raise ValueError(f"`{name}` must be {bound} {high}, got {value}.")
    return value


def normalize_axis(axis: int, ndim: int, name: str = "axis") -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"`{name}` must be an int, got {type(axis).__name__} {axis!r}.")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"`{name}`={axis} is out of range for an array of rank {ndim} "
            f"(expected {-ndim} <= {name} < {ndim})."
        )
    return int(axis) % ndim


def normalize_axes(axis: int | Sequence[int] | None, ndim: int, name: str = "axis") -> tuple[int, ...]:
    """``None`` → all axes; an int or a sequence of ints → sorted positive axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        axes = tuple(sorted({normalize_axis(a, ndim, name) for a in axis}))
        if len(axes) != len(axis):
            raise ValueError(f"`{name}` has repeated axes: {axis!r}.")
        return axes
    return (normalize_axis(axis, ndim, name),)


def check_broadcast_left(x: jax.Array, shape: tuple[int, ...], name: str, target: str) -> None:
    """Check that ``x`` broadcasts *from the left* to ``shape``.

    ``x`` of rank r ≤ len(shape) matches the leading r axes of ``shape``, each
    axis equal or 1 (a ``[B]`` weight against ``[B, T]`` elements weights rows).
    """
    if x.ndim > len(shape) or any(a not in (1, b) for a, b in zip(x.shape, shape)):
        raise ValueError(
            f"`{name}` with shape {tuple(x.shape)} does not broadcast to the {target} "
            f"shape {tuple(shape)}: maskjax broadcasts from the left, so `{name}` must "
            f"match the leading axes of {tuple(shape)} (each axis equal or 1)."
        )


def static_size(*shapes: tuple) -> int | None:
    """The element count of the largest shape when every dimension is a known int, else ``None``.

    Under jax2tf / ``jax.export`` a batch dimension is symbolic: comparing it with a constant
    raises, so static-size shortcuts take their general path instead.

    Example:
      >>> from maskjax._checks import static_size
      >>> static_size((4, 3), (4,)), static_size((2, 5))
      (12, 10)
    """
    if not all(isinstance(d, int) for s in shapes for d in s):
        return None
    return max((math.prod(s) for s in shapes), default=1)
