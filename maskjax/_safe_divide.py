"""The one safe-division helper (metrax ``divide_no_nan``, torchmetrics ``_safe_divide``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def safe_divide(numerator: jax.Array, denominator: jax.Array, zero_division: float = 0.0) -> jax.Array:
    """``numerator / denominator``, and ``zero_division`` where the denominator is 0.

    The gradient is finite everywhere: where the denominator is zero the
    division runs on a dummy denominator of 1 and its result is discarded, so
    no ``inf`` or ``nan`` leaks into the backward pass.
    """
    numerator = jnp.asarray(numerator)
    denominator = jnp.asarray(denominator)
    dtype = jnp.result_type(numerator, denominator, jnp.float32)
    nonzero = denominator != 0
    safe_den = jnp.where(nonzero, denominator, jnp.ones_like(denominator))
    quotient = numerator.astype(dtype) / safe_den.astype(dtype)
    return jnp.where(nonzero, quotient, jnp.asarray(zero_division, dtype))
