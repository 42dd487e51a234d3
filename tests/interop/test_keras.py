"""maskjax.keras units: options, configs, layouts and errors (in process, Keras' JAX backend)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
import maskjax  # noqa: E402
import maskjax.keras as mk  # noqa: E402


# The fit/evaluate check (keras_fit_check.py: masked sequence model, streaming == one shot) runs
# on every backend as tests/keras/test_keras_front.py::*[fit_with_jit_compile].


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


def test_unknown_loss_options_raise_when_the_loss_is_built():
    with pytest.raises(TypeError, match=r"focal_loss takes no option\(s\) \['label_smoothing'\].*'gamma'"):
        mk.Loss("focal_loss", label_smoothing=0.1)  # once: only at the first step of fit
    mk.Loss("cross_entropy", label_smoothing=0.1)
    mk.Loss(lambda p, t, **kw: 0.0, anything=1)  # a **kwargs loss takes whatever it is given


@pytest.mark.parametrize("name,keras_cls", [("binary_cross_entropy", "BinaryCrossentropy"),
                                            ("mean_squared_error", "MeanSquaredError")])
def test_b1_labels_against_b_predictions_are_squeezed_as_keras(name, keras_cls):
    """Keras squeezes ``[B, 1]`` labels against ``[B]`` predictions; the front once raised
    "`preds` and `targets` must have the same shape"."""
    rng = np.random.default_rng(5)
    p = rng.uniform(0.05, 0.95, 8).astype(np.float32)
    y = rng.integers(0, 2, (8, 1)).astype(np.float32)
    want = float(getattr(keras.losses, keras_cls)()(y, p))
    np.testing.assert_allclose(float(mk.Loss(name)(y, p)), want, rtol=1e-6)
    m, k = mk.Metric(maskjax.metrics.Accuracy(task="binary")), keras.metrics.BinaryAccuracy()
    m.update_state(y, p), k.update_state(y, p)
    np.testing.assert_allclose(float(m.result()), float(k.result()), rtol=1e-6)


def test_metric_streams_and_resets():
    m = mk.Metric(maskjax.metrics.Precision(task="binary"))
    p = np.array([0.9, 0.8, 0.1, 0.7], np.float32)
    y = np.array([1, 0, 0, 1])
    m.update_state(y[:2], p[:2])
    m.update_state(y[2:], p[2:])
    np.testing.assert_allclose(float(m.result()), float(maskjax.metrics.precision(p, y, task="binary")))
    m.reset_state()
    assert float(m.result()) == 0.0


def test_metric_config_round_trip_carries_the_maskjax_configuration():
    import json
    M = maskjax.metrics
    cases = [
        mk.Metric(M.F1Score(task="multilabel", num_classes=3, threshold=np.array([0.3, 0.5, 0.7]),
                            average="weighted", zero_division=float("nan")), name="f1"),
        mk.Metric(M.Precision(task="multiclass", num_classes=4, class_weight=np.array([1.0, 2.0, 0.5, 1.0]),
                              dtype="float32", ignore_index=-1), class_id=1),
        mk.Metric(M.CohenKappa(task="multiclass", num_classes=4, weights="quadratic")),
    ]
    rng = np.random.default_rng(0)
    for metric in cases:
        config = json.loads(json.dumps(metric.get_config()))  # what a .keras file stores
        clone = mk.Metric.from_config(config)
        assert clone.metric == metric.metric and clone.name == metric.name
        n_out = metric.metric.num_classes
        if metric.metric.task == "multilabel":
            y, p = rng.integers(0, 2, (16, n_out)), rng.uniform(size=(16, n_out)).astype(np.float32)
        else:
            y, p = rng.integers(0, n_out, 16), rng.uniform(size=(16, n_out)).astype(np.float32)
        for m in (metric, clone):
            m.update_state(y, p)
        np.testing.assert_array_equal(np.asarray(clone.result()), np.asarray(metric.result()))


def test_default_metric_objects_take_weights_int32_is_kept_when_asked():
    M = maskjax.metrics
    y, p = np.array([1, 0, 1, 1]), np.array([0.9, 0.8, 0.4, 0.7], np.float32)
    w = np.array([1.0, 3.0, 2.0, 0.5], np.float32)
    acc = mk.Metric(M.Accuracy(task="binary"))
    assert acc.metric.dtype == "float32" and acc.wrapped.dtype is None
    acc.update_state(y, p, sample_weight=w)
    # hand-derived: correct = [1, 0, 0, 1] (0.4 < 0.5, 0.8 > 0.5 against 0) -> (1 + 0.5) / 6.5
    np.testing.assert_allclose(float(acc.result()), 1.5 / 6.5, rtol=1e-6)
    strict = mk.Metric(M.Accuracy(task="binary", dtype="int32"))
    assert strict.metric.dtype == "int32"
    with pytest.raises(TypeError, match="dtype='float32'"):
        strict.update_state(y, p, sample_weight=w)


def test_class_id_errors_name_the_argument():
    M = maskjax.metrics
    with pytest.raises(ValueError, match="class_id"):
        mk.Metric(M.Precision(task="binary"), class_id=0)
    with pytest.raises(ValueError, match=r"class_id.*\[0, 3\)"):
        mk.Metric(M.Precision(task="multiclass", num_classes=3), class_id=3)
    with pytest.raises(TypeError, match="class_id"):
        mk.Metric(M.Precision(task="multiclass", num_classes=3), class_id="2")
    import inspect
    if "class_id" not in inspect.signature(M.MatthewsCorrCoef).parameters:  # no per-class result
        with pytest.raises(ValueError, match="class_id"):
            mk.Metric(M.MatthewsCorrCoef(task="multiclass", num_classes=3), class_id=1)


def test_keras_layouts_and_defaults():
    # a sigmoid head [B, 1] with [B] int labels = Keras BinaryCrossentropy (probabilities by default)
    y = np.array([1, 0, 1, 0])
    p = np.array([[0.9], [0.3], [0.6], [0.1]], np.float32)
    want = float(keras.losses.BinaryCrossentropy()(y, p))
    np.testing.assert_allclose(float(mk.Loss("binary_cross_entropy")(y, p)), want, rtol=1e-5)
    # Keras' "mean_with_sample_weight" is maskjax's "mean"
    w = np.array([1.0, 2.0, 0.0, 1.0], np.float32)
    want = float(keras.losses.BinaryCrossentropy(reduction="mean_with_sample_weight")(y, p, sample_weight=w))
    got = float(mk.Loss("binary_cross_entropy", reduction="mean_with_sample_weight")(y, p, sample_weight=w))
    np.testing.assert_allclose(got, want, rtol=1e-5)
    with pytest.raises(TypeError, match="from_logits"):
        mk.Loss("cross_entropy", from_logits="yes")


def test_focal_losses_on_probability_heads_equal_keras():
    rng = np.random.default_rng(7)
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(rng.normal(size=(8, 4)).astype(np.float32)))
    y = rng.integers(0, 4, size=8)
    onehot = np.eye(4, dtype=np.float32)[y]
    w = rng.uniform(0.5, 2.0, size=8).astype(np.float32)
    want = float(keras.losses.CategoricalFocalCrossentropy()(onehot, probs, sample_weight=w))
    for targets in (onehot, y):  # one-hot as Keras, and class ids
        got = float(mk.Loss("softmax_focal_loss")(targets, probs, sample_weight=w))
        np.testing.assert_allclose(got, want, rtol=1e-5)
    sig = rng.uniform(0.05, 0.95, size=(8, 3)).astype(np.float32)
    t = rng.integers(0, 2, size=(8, 3)).astype(np.float32)
    for red in ("sum", "sum_over_batch_size"):  # per-sample mean over the last axis, as Keras
        want = float(keras.losses.BinaryFocalCrossentropy(gamma=2.0, reduction=red)(t, sig, sample_weight=w))
        got = float(mk.Loss("focal_loss", reduction=red)(t, sig, sample_weight=w))
        np.testing.assert_allclose(got, want, rtol=1e-5)
