"""Per-sample scores averaged with sample weights: the state of multi-label ``average="samples"``,
exact match and ranking @k (``P@k`` / ``R@k``).

A :class:`SamplesState` keeps four sums, so the mean stays additive across batches:
``score_sum`` Σ sᵢ·scoreᵢ, ``weight_sum`` Σ sᵢ, ``plain_sum`` Σ scoreᵢ and ``count`` (samples
kept; NaN scores dropped). The plain sums are scikit-learn's fallback when every sample weight
is 0.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from maskjax import _weighting
from maskjax._safe_divide import safe_divide
from maskjax.metrics._format import Formatted

__all__ = ["SamplesState", "samples_init", "samples_update", "samples_compute"]


class SamplesState(NamedTuple):
    """Sums for a sample-weighted mean of per-sample scores."""

    score_sum: jax.Array
    weight_sum: jax.Array
    plain_sum: jax.Array
    count: jax.Array


def samples_init(dtype: Any = jnp.float32) -> SamplesState:
    return SamplesState(*(jnp.zeros((), dtype) for _ in range(4)))   # distinct buffers (donation)


def _sample_weight(sw: jax.Array | None, sample_shape: tuple[int, ...]) -> jax.Array:
    if sw is None:
        return jnp.ones(sample_shape, jnp.float32)
    return _weighting.broadcast_left(sw.astype(jnp.promote_types(sw.dtype, jnp.float32)),
                                     sample_shape, "sample_weight", target="per-sample")


def _samples_state(score: jax.Array, kept: jax.Array, s: jax.Array) -> SamplesState:
    valid = kept & ~jnp.isnan(score)
    sc = jnp.where(valid, score, 0.0)
    sv = jnp.where(valid, s, 0.0)
    return SamplesState(jnp.sum(sc * sv), jnp.sum(sv), jnp.sum(sc),
                        jnp.sum(valid, dtype=jnp.float32))


def samples_update(fmt: Formatted, formula: Callable, *, zero_division: Any = 0.0,
                   beta: Any = 1.0) -> SamplesState:
    """Multi-label ``average="samples"``: per-sample scores over the label axis.

    Per-sample counts weight each label by ``keep · class_weight`` (the mask and
    ignore_index drop labels); the sample's score is then averaged with its
    ``sample_weight`` (which must broadcast from the left to the sample shape
    ``[*S]``, not include the label axis) — scikit-learn's ``samples`` average.
    Samples with no kept label are skipped.
    """
    ew = fmt.keep.astype(jnp.float32)
    if fmt.class_w is not None:
        ew = ew * fmt.class_w
    p = fmt.preds.astype(jnp.float32)
    t = fmt.targets.astype(jnp.float32)
    tp = jnp.sum(ew * p * t, -1)
    pred = jnp.sum(ew * p, -1)
    target = jnp.sum(ew * t, -1)
    num, den = formula(tp, pred - tp, target - tp, None, jnp.asarray(beta, jnp.float32) ** 2)
    value = safe_divide(num, den, zero_division)
    sample_shape = fmt.preds.shape[:-1]
    return _samples_state(value, jnp.any(fmt.keep, -1), _sample_weight(fmt.sample_weight, sample_shape))


def samples_compute(state: SamplesState, *, zero_division: Any = 0.0) -> jax.Array:
    """Sample-weighted mean; all weights 0 → plain mean (scikit-learn); none → ``zero_division``."""
    return jnp.where(state.weight_sum > 0, safe_divide(state.score_sum, state.weight_sum),
                     safe_divide(state.plain_sum, state.count, zero_division))


# one cached jit (see maskjax.metrics._confusion.jit_compute): states and zero_division traced
samples_compute = jax.jit(samples_compute)
