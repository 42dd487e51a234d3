"""maskjax.keras: compile + fit + evaluate with maskjax losses/metrics (JAX and TF backends)."""

import os
import subprocess
import sys

import numpy as np
import pytest

keras = pytest.importorskip("keras")
import maskjax  # noqa: E402
import maskjax.keras as mk  # noqa: E402

from tests.interop import keras_fit_check  # noqa: E402


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the in-process test runs on Keras' JAX backend")
def test_fit_and_evaluate_on_jax_backend():
    keras_fit_check.check(keras_fit_check.run())


@pytest.mark.slow
def test_fit_and_evaluate_on_tensorflow_backend():
    pytest.importorskip("tensorflow")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.join(root, "tests", "interop", "keras_fit_check.py")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "OK tensorflow" in proc.stdout


def test_keras_sample_weight_and_options_reach_maskjax():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(5, 3)).astype(np.float32)
    y = np.array([0, 2, -100, 1, 1])
    w = np.array([1.0, 2.0, 1.0, 0.0, 0.5], np.float32)
    cw = np.array([1.0, 3.0, 0.5], np.float32)
    for reduction in ("mean", "sum", "sum_over_batch_size"):
        got = mk.Loss("cross_entropy", from_logits=True, reduction=reduction, ignore_index=-100,
                      class_weight=cw)(
            y, logits, sample_weight=w)
        want = maskjax.losses.cross_entropy(logits, y, ignore_index=-100, class_weight=cw,
                                            sample_weight=w, reduction=reduction)
        np.testing.assert_allclose(float(got), float(want), rtol=1e-6)


def test_loss_config_round_trip_and_errors():
    loss = mk.Loss("binary_cross_entropy", pos_weight=np.array([2.0]), reduction="sum")
    clone = mk.Loss.from_config(loss.get_config())
    y, p = np.array([[1.0], [0.0]], np.float32), np.array([[0.3], [-0.2]], np.float32)
    np.testing.assert_allclose(float(clone(y, p)), float(loss(y, p)), rtol=1e-6)
    with pytest.raises(ValueError, match="maskjax.losses name"):
        mk.Loss("no_such_loss")
    with pytest.raises(TypeError, match="streaming metric object"):
        mk.Metric(maskjax.metrics.accuracy)


def test_metric_streams_and_resets():
    m = mk.Metric(maskjax.metrics.Precision(task="binary"))
    p = np.array([0.9, 0.8, 0.1, 0.7], np.float32)
    y = np.array([1, 0, 0, 1])
    m.update_state(y[:2], p[:2])
    m.update_state(y[2:], p[2:])
    np.testing.assert_allclose(float(m.result()), float(maskjax.metrics.precision(p, y, task="binary")))
    m.reset_state()
    assert float(m.result()) == 0.0
