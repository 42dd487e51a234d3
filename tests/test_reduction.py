"""maskjax.reduce: the one reduction. Oracles: Keras 3 and TF1 (real calls) and hand-derived values."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import maskjax
from tests.oracles import reference

V = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
M = np.array([[1, 1, 0], [1, 0, 0]], np.float32)
W = np.array([2.0, 0.5], np.float32)


@pytest.mark.parametrize(
    "reduction,mask,weight,expected",
    [
        # SEMANTICS.md worked example (Keras 3): sum = Σ v·w·m.
        ("sum", M, None, 7.0),  # 1 + 2 + 4
        ("sum", None, W, 19.5),  # 2·(1+2+3) + .5·(4+5+6)
        ("sum", M, W, 8.0),  # 2·(1+2) + .5·4
        # sum_over_batch_size = Σ v·w·m / Σ m
        ("sum_over_batch_size", M, None, 7 / 3),
        ("sum_over_batch_size", None, W, 19.5 / 6),
        ("sum_over_batch_size", M, W, 8 / 3),
        # mean = Σ v·w·m / Σ w·m  (w broadcast to the elements: 2,2,2,.5,.5,.5)
        ("mean", M, None, 7 / 3),
        ("mean", None, W, 19.5 / 7.5),
        ("mean", M, W, 8 / 4.5),
        # sum_by_nonzero_weights = Σ v·w·m / #(w·m ≠ 0)
        ("sum_by_nonzero_weights", M, W, 8 / 3),
        ("sum_by_nonzero_weights", None, np.array([2.0, 0.0], np.float32), 12 / 3),
    ],
)
def test_hand_derived_values(reduction, mask, weight, expected):
    got = maskjax.reduce(V, mask=mask, sample_weight=weight, reduction=reduction)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("reduction", ["sum", "sum_over_batch_size"])
@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("use_weight", [False, True])
def test_matches_keras3_reduction(reduction, use_mask, use_weight):
    mask = M if use_mask else None
    weight = W[:, None] if use_weight else None
    expected = reference.keras_reduce(V, mask=mask, sample_weight=weight, reduction=reduction)
    got = maskjax.reduce(V, mask=mask, sample_weight=weight, reduction=reduction)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_mean_matches_keras3_mean_with_sample_weight_on_full_shape_weights():
    weight = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 1.0]], np.float32)
    expected = reference.keras_reduce(V, mask=None, sample_weight=weight, reduction="mean_with_sample_weight")
    np.testing.assert_allclose(maskjax.reduce(V, sample_weight=weight, reduction="mean"), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "reduction", ["sum", "mean", "sum_over_batch_size", "sum_by_nonzero_weights", "none"]
)
def test_matches_tf1_compute_weighted_loss(reduction):
    weight = np.array([[2.0, 0.0, 1.0], [0.5, 3.0, 0.0]], np.float32)
    expected = reference.tf1_compute_weighted_loss(V, weight, reduction)
    got = maskjax.reduce(V, sample_weight=weight, reduction=reduction)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("reduction", ["sum", "mean", "sum_over_batch_size", "sum_by_nonzero_weights"])
def test_all_masked_is_zero_with_zero_finite_gradient(reduction):
    def f(v):
        return maskjax.reduce(v, mask=jnp.zeros(v.shape, bool), reduction=reduction)

    value, grad = jax.value_and_grad(f)(jnp.asarray(V))
    assert float(value) == 0.0
    assert np.all(np.isfinite(grad)) and np.all(np.asarray(grad) == 0)


def test_masked_inf_does_not_leak():
    v = jnp.array([1.0, jnp.inf, jnp.nan])
    m = jnp.array([True, False, False])
    assert float(maskjax.reduce(v, mask=m)) == 1.0
    g = jax.grad(lambda x: maskjax.reduce(x, mask=m))(v)
    assert np.asarray(g).tolist() == [1.0, 0.0, 0.0]


def test_axis_gives_per_sample_result():
    got = maskjax.reduce(V, mask=M, reduction="mean", axis=1)
    np.testing.assert_allclose(got, [1.5, 4.0])  # (1+2)/2, 4/1
    got = maskjax.reduce(V, mask=M, reduction="sum", axis=(0,))
    np.testing.assert_allclose(got, [5.0, 2.0, 0.0])


def test_none_returns_weighted_elements():
    got = maskjax.reduce(V, mask=M, sample_weight=W, reduction="none")
    np.testing.assert_allclose(got, [[2, 4, 0], [2, 0, 0]])


@given(
    values=hnp.arrays(np.float32, (4, 6), elements=st.floats(-10, 10, width=32)),
    keep=hnp.arrays(bool, (4, 6)),
    weight=hnp.arrays(np.float32, (4,), elements=st.floats(0, 5, width=32)),
)
def test_mask_equals_slicing(values, keep, weight):
    w_full = np.broadcast_to(weight[:, None], values.shape)
    got = maskjax.reduce(values, mask=keep, sample_weight=weight, reduction="mean")
    kept_v, kept_w = values[keep], w_full[keep]
    expected = (kept_v * kept_w).sum() / kept_w.sum() if kept_w.sum() > 0 else 0.0
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-5)


def test_jit_equals_eager_and_no_retrace():
    @jax.jit
    @chex.assert_max_traces(n=1)
    def step(v, m, w):
        return maskjax.reduce(v, mask=m, sample_weight=w, reduction="sum_over_batch_size")

    rng = np.random.default_rng(0)
    for _ in range(3):
        v = rng.normal(size=(2, 3)).astype(np.float32)
        m = rng.random((2, 3)) > 0.5
        w = rng.random(2).astype(np.float32)
        eager = maskjax.reduce(v, mask=m, sample_weight=w, reduction="sum_over_batch_size")
        np.testing.assert_allclose(step(v, m, w), eager, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs,err,match",
    [
        (dict(reduction="avg"), ValueError, "reduction"),
        (dict(axis=5), ValueError, "axis"),
        (dict(mask=np.ones((3,), bool)), ValueError, "mask"),
        (dict(sample_weight=np.ones((2, 4))), ValueError, "sample_weight"),
        (dict(sample_weight=np.array(["a", "b"])), TypeError, "sample_weight"),
    ],
)
def test_bad_input_names_the_argument(kwargs, err, match):
    with pytest.raises(err, match=match):
        maskjax.reduce(V, **kwargs)


# ------------------------------------------------------------------ issue 14 / 13: Keras channel, weight policy
@pytest.mark.parametrize("reduction", ["sum", "sum_over_batch_size", "none"])
def test_keras_trailing_size1_mask_and_weight(reduction):
    """A Keras [B, T, 1] weight / mask against [B, T] values: accepted, = Keras' own reduction."""
    full_w = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 1.0]], np.float32)
    expected = reference.keras_reduce(V, mask=M, sample_weight=full_w[..., None], reduction=reduction)
    got = maskjax.reduce(V, mask=M[..., None], sample_weight=full_w[..., None], reduction=reduction)
    np.testing.assert_allclose(np.sum(got), np.sum(expected), rtol=1e-6)
    np.testing.assert_allclose(got, maskjax.reduce(V, mask=M, sample_weight=full_w, reduction=reduction))


@pytest.mark.parametrize("bad", [-2.0, np.nan])
def test_bad_weight_raises_eagerly_nan_under_jit(bad):
    w = np.array([1.0, bad], np.float32)
    with pytest.raises(ValueError, match=r"`sample_weight` must be >= 0 and not NaN"):
        maskjax.reduce(V, sample_weight=w)
    for red in ("mean", "sum", "sum_over_batch_size", "sum_by_nonzero_weights"):
        assert np.isnan(float(jax.jit(lambda ww: maskjax.reduce(V, sample_weight=ww, reduction=red))(w)))
