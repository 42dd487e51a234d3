"""calibration_error / reliability_diagram against torchmetrics."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from maskjax import metrics as M
from oracles import curves as oc


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
@pytest.mark.parametrize("n_bins", [15, 7])
def test_binary_matches_torchmetrics(norm, n_bins):
    rng = np.random.default_rng(n_bins)
    p = rng.random(500).astype(np.float32)
    p[:6] = [0.0, 1.0, 1.0, 0.5, 1 / 15, 2 / 15]            # edges, incl. confidence exactly 1
    y = (rng.random(500) < p ** 1.3).astype(np.int32)
    np.testing.assert_allclose(float(M.calibration_error(p, y, n_bins=n_bins, norm=norm)),
                               oc.tm_calibration_error("binary", y, p, n_bins, norm), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_multiclass_matches_torchmetrics(norm):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(400, 5)).astype(np.float32) * 2
    p = np.asarray(jax.nn.softmax(jnp.asarray(logits), -1))
    y = rng.integers(0, 5, 400)
    ref = oc.tm_calibration_error("multiclass", y, p, 15, norm, 5)
    np.testing.assert_allclose(float(M.calibration_error(p, y, task="multiclass", norm=norm)), ref, rtol=1e-5)
    np.testing.assert_allclose(float(M.calibration_error(logits, y, task="multiclass", norm=norm, from_logits=True)),
                               ref, rtol=1e-4)


def test_masked_weighted_ignore_index():
    rng = np.random.default_rng(2)
    p = rng.random((8, 30)).astype(np.float32)
    y = (rng.random((8, 30)) < p).astype(np.int32)
    lengths = rng.integers(1, 31, 8)
    m = np.arange(30)[None] < lengths[:, None]
    got = M.calibration_error(p, y, mask=m)
    np.testing.assert_allclose(float(got), oc.tm_calibration_error("binary", y[m], p[m]), rtol=1e-5)
    np.testing.assert_allclose(float(M.calibration_error(p, np.where(m, y, -100), ignore_index=-100)), float(got),
                               rtol=1e-6)
    # integer sample weights ≡ repeating elements
    w = rng.integers(0, 3, 8).astype(np.float32)
    rep = np.repeat(np.arange(8), w.astype(int))
    np.testing.assert_allclose(float(M.calibration_error(p, y, sample_weight=w, norm="l2")),
                               oc.tm_calibration_error("binary", y[rep].ravel(), p[rep].ravel(), norm="l2"), rtol=1e-5)
    assert float(M.calibration_error(p, y, mask=np.zeros(8, bool))) == 0.0      # all masked: 0


def test_reliability_diagram_and_jit():
    p = jnp.array([.05, .1, .95, 1.0, .5])
    y = jnp.array([0, 1, 1, 1, 0])
    d = jax.jit(lambda a, b: M.reliability_diagram(a, b, n_bins=10))(p, y)
    assert d.weight.shape == (11,) and float(d.weight.sum()) == 5.0
    assert float(d.weight[-1]) == 1.0 and float(d.accuracy[-1]) == 1.0         # confidence exactly 1.0
    np.testing.assert_allclose(float(d.confidence[0]), 0.05, rtol=1e-6)
    np.testing.assert_allclose(float(d.confidence[1]), 0.1, rtol=1e-6)
    eager = M.calibration_error(p, y, n_bins=10)
    np.testing.assert_allclose(float(jax.jit(lambda a, b: M.calibration_error(a, b, n_bins=10))(p, y)),
                               float(eager), rtol=1e-6)


def test_additive_api_equals_one_shot_and_streams():
    from maskjax.metrics.curves import _calibration as cal

    rng = np.random.default_rng(7)
    logits = rng.normal(size=(300, 5)).astype(np.float32)
    y = rng.integers(0, 5, 300)
    w = rng.random(300).astype(np.float32)
    kw = dict(task="multiclass", n_bins=10, from_logits=True)
    s = cal.calibration_update(logits, y, sample_weight=w, **kw)
    assert set(s) == {"weight", "confidence", "accuracy"} and s["weight"].shape == (11,)
    for norm in ("l1", "l2", "max"):   # one-shot functions are built on the split: bit-identical
        assert float(cal.calibration_compute(s, norm)) == float(M.calibration_error(logits, y, sample_weight=w,
                                                                                    norm=norm, **kw))
    d, d1 = cal.reliability_from_state(s), M.reliability_diagram(logits, y, sample_weight=w, **kw)
    for a, b in zip(d, d1):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # Streaming: the sum of per-batch states gives the one-shot value (up to addition order).
    acc = cal.calibration_init(10)
    for i in range(0, 300, 70):
        inc = jax.jit(lambda a, b, c: cal.calibration_update(a, b, sample_weight=c, **kw))(
            logits[i:i + 70], y[i:i + 70], w[i:i + 70])
        acc = jax.tree.map(jnp.add, acc, inc)
    np.testing.assert_allclose(float(cal.calibration_compute(acc, "l2")),
                               float(M.calibration_error(logits, y, sample_weight=w, norm="l2", **kw)), rtol=1e-5)
    with pytest.raises(TypeError, match="calibration state"):
        cal.calibration_compute({"weight": s["weight"]})
    with pytest.raises(ValueError, match="norm"):
        cal.calibration_compute(s, "l3")
