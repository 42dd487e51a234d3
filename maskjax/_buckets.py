"""Shape buckets for eager callers: a dynamic-shape loop compiles a handful of programs.

Every new input shape makes ``jax.jit`` compile a new program (about 0.1–0.5 s
each on CPU). A loop with dynamic padding (sequence length drawn per batch)
would compile one program per length. Eager fronts (``maskjax.torch``, NumPy
and notebook one-shot calls) therefore pad the *non-class* axes of their
inputs up to a small set of sizes, and mark the real elements in the mask, so
the core sees only a few shapes. Masked elements count nowhere (the weighting
contract), so the result equals the unpadded one: the same values and, for the
real elements, the same gradients.

Bucket sizes (``policy``):

* ``"1.5x"`` (default): 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, … — powers of
  two and 1.5× powers of two; at most 1.5× the real size (about 1.2× on
  average), two buckets per octave.
* ``"pow2"``: powers of two; fewer programs, up to 2× padding.
* ``None``: buckets off (every shape compiles its own program).

The policy is process-wide (:func:`set_policy`, or the environment variable
``MASKJAX_BUCKETS`` = ``1.5x`` / ``pow2`` / ``off`` read at import) and can be
changed for a block with :func:`policy_scope`.

This module is framework-neutral: it only computes sizes (Python ints) and,
inside a traced program, the mask of real elements.

Example:
  >>> from maskjax import _buckets
  >>> [_buckets.bucket_size(n) for n in (1, 5, 7, 13, 100, 200)]
  [1, 6, 8, 16, 128, 256]
  >>> [_buckets.bucket_size(n, "pow2") for n in (5, 100)]
  [8, 128]
  >>> _buckets.bucket_shape((16, 37, 20), pad_axes=(0, 1))
  (16, 48, 20)
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from typing import Any, Iterator, Sequence

import jax
import jax.numpy as jnp

__all__ = ["POLICIES", "bucket_size", "bucket_shape", "current_policy", "set_policy", "policy_scope",
           "real_mask", "with_real_mask"]

POLICIES = ("1.5x", "pow2", None)
_OFF = ("off", "none", "0", "false", "")


def _check_policy(policy: Any) -> str | None:
    if isinstance(policy, str) and policy.lower() in _OFF:
        return None
    if policy not in POLICIES:
        raise ValueError(f"`policy` must be one of {POLICIES} (or 'off'), got {policy!r}.")
    return policy


_DEFAULT: list[str | None] = [_check_policy(os.environ.get("MASKJAX_BUCKETS", "1.5x"))]
_SCOPED: contextvars.ContextVar[Any] = contextvars.ContextVar("maskjax_buckets", default=_DEFAULT)


def current_policy() -> str | None:
    """The bucket policy in force here (``"1.5x"``, ``"pow2"`` or ``None`` = off)."""
    return _SCOPED.get()[0]


def set_policy(policy: str | None) -> None:
    """Set the process-wide bucket policy: ``"1.5x"`` (default), ``"pow2"``, or ``None``/``"off"``.

    Example:
      >>> from maskjax import _buckets
      >>> _buckets.set_policy("pow2"); _buckets.current_policy()
      'pow2'
      >>> _buckets.set_policy("1.5x")
    """
    _DEFAULT[0] = _check_policy(policy)


@contextlib.contextmanager
def policy_scope(policy: str | None) -> Iterator[None]:
    """Use ``policy`` inside a ``with`` block (this thread / async context only).

    Example:
      >>> from maskjax import _buckets
      >>> with _buckets.policy_scope(None):
      ...     _buckets.current_policy() is None
      True
    """
    token = _SCOPED.set([_check_policy(policy)])
    try:
        yield
    finally:
        _SCOPED.reset(token)


def bucket_size(n: int, policy: str | None = "1.5x") -> int:
    """The smallest bucket size ``>= n`` under ``policy`` (``n`` itself when off).

    Args:
      n: a non-negative axis length.
      policy: ``"1.5x"``, ``"pow2"`` or ``None``.

    Returns:
      The padded length.

    Example:
      >>> from maskjax._buckets import bucket_size
      >>> bucket_size(33), bucket_size(33, "pow2"), bucket_size(33, None)
      (48, 64, 33)
    """
    if policy is None or n <= 2:
        return n
    p = 1 << (n - 1).bit_length()  # the power of two >= n
    if policy == "1.5x" and (3 * p) // 4 >= n:
        return (3 * p) // 4
    return p


def bucket_shape(shape: Sequence[int], pad_axes: Sequence[int], policy: str | None = "1.5x") -> tuple:
    """``shape`` with the axes in ``pad_axes`` rounded up to their bucket size.

    Example:
      >>> from maskjax._buckets import bucket_shape
      >>> bucket_shape((5, 10, 7), pad_axes=(0, 2))
      (6, 10, 8)
    """
    out = list(shape)
    for a in pad_axes:
        out[a] = bucket_size(out[a], policy)
    return tuple(out)


def real_mask(sizes: jax.Array, shape: Sequence[int]) -> jax.Array:
    """Inside a program: ``True`` where every index is below its axis' real size.

    Args:
      sizes: ``[len(shape)]`` int array, the real (unpadded) length of each axis.
      shape: the padded shape (static).

    Returns:
      A ``bool`` array of ``shape``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax._buckets import real_mask
      >>> real_mask(jnp.array([2, 3]), (3, 4)).astype(int).tolist()
      [[1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]]
    """
    keep = jnp.ones(tuple(shape), bool)
    for a, n in enumerate(shape):
        keep = keep & (jax.lax.broadcasted_iota(jnp.int32, tuple(shape), a) < sizes[a])
    return keep


def with_real_mask(sizes: jax.Array, shape: Sequence[int], mask: Any = None) -> jax.Array:
    """The real-element mask of ``shape``, AND the caller's (padded) ``mask`` broadcast from the left.

    The caller's mask follows the weighting contract (broadcast from the
    **left**: a ``[B]`` mask against ``[B, T]`` elements masks rows).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax._buckets import with_real_mask
      >>> with_real_mask(jnp.array([2, 2]), (3, 3), jnp.array([True, False, True])).astype(int).tolist()
      [[1, 1, 0], [0, 0, 0], [0, 0, 0]]
    """
    keep = real_mask(sizes, shape)
    if mask is None:
        return keep
    mask = jnp.asarray(mask)
    if mask.ndim > len(shape):
        raise ValueError(f"`mask` must have at most {len(shape)} dims (the element shape {tuple(shape)}), "
                         f"got shape {mask.shape}.")
    mask = mask.reshape(mask.shape + (1,) * (len(shape) - mask.ndim))
    return keep & (mask != 0)
