"""Behaviour of every loss: mask ≡ slicing, all-masked → 0 with zero finite grads,
jit ≡ eager, no retracing, left-broadcast of weights, int labels ≡ one-hot."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskjax import losses

from _loss_cases import B, CASES, POOLED, inputs_for

IDS = [c[0] for c in CASES]
RED_ALL = ["mean", "sum", "sum_over_batch_size", "sum_by_nonzero_weights"]


def _row_mask(keep_rows):
    m = np.zeros(B, bool)
    m[list(keep_rows)] = True
    return m


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_mask_equals_slicing(case):
    name, fn, opts = case
    x, y = inputs_for(name)
    keep = [0, 2, 3]
    m = _row_mask(keep)
    run = jax.jit(lambda p, t, m: [fn(p, t, mask=m, reduction=r, **opts)
                                   for r in ("mean", "sum", "sum_over_batch_size")])
    for masked, sliced in zip(run(x, y, m), run(x[keep], y[keep], None)):
        np.testing.assert_allclose(masked, sliced, rtol=2e-5, atol=1e-6)


_TRACES: dict[str, int] = {}
_JITTED: dict[str, object] = {}


def _jitted(case):
    """One compiled program per case: value and gradient for every reduction."""
    name, fn, opts = case
    if name not in _JITTED:
        def all_reductions(p, t, m, w):
            _TRACES[name] = _TRACES.get(name, 0) + 1          # runs once per trace
            return {r: jax.value_and_grad(lambda q: fn(q, t, mask=m, sample_weight=w,
                                                       reduction=r, **opts))(p)
                    for r in RED_ALL}
        _JITTED[name] = jax.jit(all_reductions)
    return _JITTED[name]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_all_masked_is_zero_with_zero_finite_grads(case):
    x, y = inputs_for(case[0])
    ones = np.ones(B, np.float32)
    for m, w in [(np.zeros(B, bool), ones), (np.ones(B, bool), np.zeros(B, np.float32))]:
        for red, (value, grad) in _jitted(case)(x, y, m, w).items():
            assert float(value) == 0.0, red
            assert np.all(np.isfinite(grad)) and np.all(np.asarray(grad) == 0.0), red


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jit_equals_eager_and_grads_finite(case):
    name, fn, opts = case
    x, y = inputs_for(name)
    m = _row_mask([0, 1, 3])
    sw = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    jitted = _jitted(case)(x, y, m, sw)
    for red in ("mean", "sum_over_batch_size"):
        eager = fn(x, y, mask=m, sample_weight=sw, reduction=red, **opts)
        assert isinstance(eager, jax.Array)
        value, grad = jitted[red]
        np.testing.assert_allclose(eager, value, rtol=1e-5, atol=1e-6)
        assert np.all(np.isfinite(grad)) and np.any(np.asarray(grad) != 0.0)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_no_retracing_across_batches(case):
    name = case[0]
    step = _jitted(case)
    step(*inputs_for(name), np.ones(B, bool), np.ones(B, np.float32))
    before = _TRACES[name]
    for seed in range(1, 4):
        x, y = inputs_for(name, seed)
        m = np.random.default_rng(seed).random(B) > 0.3
        step(x, y, m, np.full(B, 0.5 + seed, np.float32))
    assert _TRACES[name] == before          # new values, masks and weights: no new trace


def test_no_retracing_with_chex_counter():
    @jax.jit
    @chex.assert_max_traces(n=1)
    def step(p, t, m):
        return losses.cross_entropy(p, t, mask=m, ignore_index=-100, label_smoothing=0.1)

    for seed in range(3):
        x, y = inputs_for("cross_entropy", seed)
        step(x, y, np.random.default_rng(seed).random(B) > 0.5)
    chex.clear_trace_counter()


@pytest.mark.parametrize("case", [c for c in CASES if c[0] not in POOLED], ids=lambda c: c[0])
@pytest.mark.parametrize("reduction", ["mean", "sum_over_batch_size", "none"])
def test_row_weight_broadcasts_from_the_left(case, reduction):
    name, fn, opts = case
    x, y = inputs_for(name)
    sw = np.array([1.0, 2.0, 0.0, 0.5], np.float32)
    per_element = fn(x, y, reduction="none", **opts)
    full = np.broadcast_to(sw.reshape((B,) + (1,) * (per_element.ndim - 1)), per_element.shape)
    a = fn(x, y, sample_weight=sw, reduction=reduction, **opts)
    b = fn(x, y, sample_weight=full, reduction=reduction, **opts)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("opts", [{}, dict(class_weight=[1.0, 2.0, 0.5, 1.0, 3.0]),
                                  dict(label_smoothing=0.2, class_weight=[1.0, 2.0, 0.5, 1.0, 3.0]),
                                  dict(from_logits=False)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "sum_by_nonzero_weights"])
def test_cross_entropy_int_labels_equal_one_hot(opts, reduction):
    x, y = inputs_for("cross_entropy")
    if opts.get("from_logits") is False:
        x = np.asarray(jax.nn.softmax(x))
    onehot = np.eye(5, dtype=np.float32)[y]
    a = losses.cross_entropy(x, y, reduction=reduction, **opts)
    b = losses.cross_entropy(x, onehot, reduction=reduction, **opts)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_cross_entropy_axis_equals_moveaxis():
    x, y = inputs_for("cross_entropy")            # [B, T, C]
    a = losses.cross_entropy(x, y, label_smoothing=0.1, class_weight=np.arange(1, 6.0))
    b = losses.cross_entropy(np.moveaxis(x, -1, 1), y, axis=1, label_smoothing=0.1,
                             class_weight=np.arange(1, 6.0))
    np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("ignore", [-100, 255, 3])
def test_cross_entropy_ignore_index_equals_dropping(ignore):
    x, y = inputs_for("cross_entropy")
    x, y = x.reshape(-1, 5), y.reshape(-1).copy()
    drop = np.array([1, 4, 5, 9])
    y[drop] = ignore
    if ignore == 3:
        drop = np.flatnonzero(y == 3)
    keep = np.setdiff1d(np.arange(len(y)), drop)
    opts = dict(class_weight=np.arange(1, 6.0), label_smoothing=0.1)
    for red in ["mean", "sum", "sum_over_batch_size"]:
        a = losses.cross_entropy(x, y, ignore_index=ignore, reduction=red, **opts)
        b = losses.cross_entropy(x[keep], y[keep], reduction=red, **opts)
        np.testing.assert_allclose(a, b, rtol=1e-6)
    # all ignored → 0 (torch: nan)
    all_ign = np.full_like(y, ignore)
    assert float(losses.cross_entropy(x, all_ign, ignore_index=ignore)) == 0.0


def test_cross_entropy_out_of_range_label_is_nan():
    x, y = inputs_for("cross_entropy")
    y = y.copy()
    y[0, 0] = 7
    assert np.isnan(losses.cross_entropy(x, y))
    y[0, 0] = -1                                  # never wraps around to the last class
    assert np.isnan(losses.cross_entropy(x, y))
    assert np.isnan(jax.jit(losses.cross_entropy)(x, y))
    # ... unless that element is masked out
    m = np.ones(y.shape, bool)
    m[0, 0] = False
    assert np.isfinite(losses.cross_entropy(x, y, mask=m))


def test_dice_int_labels_equal_one_hot_and_ignore_index():
    x, t = inputs_for("dice_loss")
    labels = t.argmax(-1).astype(np.int32)
    for opts in [{}, dict(per_sample=False), dict(class_weight=[1.0, 0.0, 2.0])]:
        np.testing.assert_allclose(losses.dice_loss(x, labels, **opts),
                                   losses.dice_loss(x, t, **opts), rtol=1e-6)
    lab = labels.copy()
    lab[:, 0, :] = 255
    m = np.ones(lab.shape, bool)
    m[:, 0, :] = False
    np.testing.assert_allclose(losses.dice_loss(x, lab, ignore_index=255),
                               losses.dice_loss(x, t, mask=m), rtol=1e-6)


def test_multi_positive_single_class_equals_cross_entropy():
    x, _ = inputs_for("multi_positive_cross_entropy")
    y = np.array([0, 3, 1, 4], np.int32)
    sets = np.eye(5, dtype=bool)[y]
    np.testing.assert_allclose(losses.multi_positive_cross_entropy(x, sets),
                               losses.cross_entropy(x, y), rtol=1e-6)
    # the best acceptable class counts: adding a worse class changes nothing
    sets2 = sets.copy()
    sets2[np.arange(4), np.argmin(x, -1)] = True
    sets2[np.arange(4), y] = True
    best = np.where(sets2, x, -np.inf).argmax(-1)
    np.testing.assert_allclose(losses.multi_positive_cross_entropy(x, sets2),
                               losses.cross_entropy(x, best.astype(np.int32)), rtol=1e-6)


def test_multi_positive_empty_set_counts_nowhere():
    x, t = inputs_for("multi_positive_cross_entropy")
    t = t.copy()
    t[1] = False
    m = np.array([True, False, True, True])
    np.testing.assert_allclose(losses.multi_positive_cross_entropy(x, t),
                               losses.multi_positive_cross_entropy(x, t, mask=m), rtol=1e-6)
    g = jax.grad(lambda p: losses.multi_positive_cross_entropy(p, t))(jnp.asarray(x))
    assert np.all(np.isfinite(g)) and np.all(np.asarray(g)[1] == 0)


def test_extreme_logits_finite():
    x = jnp.array([[-1e4, 1e4, 80.0]], jnp.float32)
    y = np.array([[1.0, 0.0, 1.0]], np.float32)
    label = np.array([0], np.int32)

    @jax.jit
    def values_and_grads(p):
        fns = [lambda q: losses.binary_cross_entropy(q, y),
               lambda q: losses.focal_loss(q, y),
               lambda q: losses.cross_entropy(q, label, label_smoothing=0.1),
               lambda q: losses.log_cosh(q, jnp.zeros_like(q)),
               lambda q: losses.cosine_similarity_loss(q * 0.0, jnp.ones_like(q))]
        return [jax.value_and_grad(f)(p) for f in fns]

    for v, g in values_and_grads(x):
        assert np.isfinite(v) and np.all(np.isfinite(g))


def test_check_grads_cross_entropy_and_dice():
    from jax.test_util import check_grads

    x, y = inputs_for("cross_entropy")
    ce = jax.jit(lambda p: losses.cross_entropy(p, y, label_smoothing=0.1, ignore_index=1))
    check_grads(ce, (jnp.asarray(x),), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)
    x, t = inputs_for("dice_loss")
    dice = jax.jit(lambda p: losses.dice_loss(p, t))
    check_grads(dice, (jnp.asarray(x),), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)


@settings(max_examples=20, deadline=None)
@given(mask_bits=st.lists(st.booleans(), min_size=12, max_size=12),
       weights=st.lists(st.floats(0.0, 3.0, width=32), min_size=12, max_size=12))
def test_mean_is_weighted_average_of_none(mask_bits, weights):
    x, y = inputs_for("cross_entropy")
    m = np.array(mask_bits).reshape(B, 3)
    w = np.array(weights, np.float32).reshape(B, 3)
    cw = np.array([1.0, 2.0, 0.5, 1.0, 3.0], np.float32)
    none = np.asarray(losses.cross_entropy(x, y, class_weight=cw, mask=m, sample_weight=w,
                                           reduction="none"), np.float64)
    den = (m * w * cw[y]).sum()
    expected = none.sum() / den if den else 0.0
    got = losses.cross_entropy(x, y, class_weight=cw, mask=m, sample_weight=w)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("loss_name", ["binary_cross_entropy", "focal_loss"])
@pytest.mark.parametrize("ignore", [-1, 255])
@pytest.mark.parametrize("reduction", ["mean", "sum", "sum_over_batch_size"])
def test_binary_ignore_index_equals_masking(loss_name, ignore, reduction):
    fn = getattr(losses, loss_name)
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(5, 4)).astype(np.float32)
    y = rng.integers(0, 2, (5, 4))
    unknown = rng.random((5, 4)) < 0.3
    y_ignored = np.where(unknown, ignore, y)
    got = fn(logits, y_ignored, ignore_index=ignore, reduction=reduction)
    want = fn(logits, y, mask=~unknown, reduction=reduction)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # All ignored: 0 with a zero, finite gradient.
    g = jax.grad(lambda x: fn(x, np.full((5, 4), ignore), ignore_index=ignore, reduction=reduction))(logits)
    assert np.all(np.asarray(g) == 0)
