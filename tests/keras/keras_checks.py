"""The Keras front's "must show" checks, runnable on any Keras backend.

Imported by ``test_keras_front.py`` (JAX backend, in process, one test per
check) and run as a script with ``KERAS_BACKEND=tensorflow`` in a subprocess
(Keras picks its backend at import): the script prints one JSON line
``{check: "ok" | traceback}``. Every check compares against a real oracle
(Keras' own losses / metrics, scikit-learn) computed in the same process.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback

import numpy as np


class NotOnThisBackend(Exception):
    """A check that does not apply to the active Keras backend (reported as "skip")."""


def _data(n=96, d=8, c=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = rng.integers(0, c, size=n)
    sw = rng.uniform(0.2, 2.0, size=n).astype(np.float32)
    return x, y, sw


def _compile_kw():
    import keras
    return {"jit_compile": True} if keras.backend.backend() == "tensorflow" else {}


def _softmax_model(d=8, c=5, seed=0):
    import keras
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((d,)), keras.layers.Dense(c, activation="softmax")])


def check_softmax_head_loss_equals_keras():
    import keras
    import maskjax.keras as mk
    x, y, sw = _data()
    model = _softmax_model()
    probs = model.predict(x, verbose=0)
    for kw in ({}, {"sample_weight": sw}):
        want = float(keras.losses.SparseCategoricalCrossentropy()(y, probs, **kw))
        got = float(mk.Loss("cross_entropy")(y, probs, **kw))
        np.testing.assert_allclose(got, want, rtol=1e-5)
        got_float_labels = float(mk.Loss("cross_entropy")(y.astype(np.float32), probs, **kw))
        np.testing.assert_allclose(got_float_labels, want, rtol=1e-5)
        got_column = float(mk.Loss("cross_entropy")(y[:, None], probs, **kw))  # [B, 1] labels
        np.testing.assert_allclose(got_column, want, rtol=1e-5)
    # through compile/evaluate, as a user meets it
    model.compile(loss=mk.Loss("cross_entropy"), **_compile_kw())
    got = model.evaluate(x, y, batch_size=32, verbose=0)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(), **_compile_kw())
    want = model.evaluate(x, y, batch_size=32, verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def check_binary_labels_of_shape_b():
    import keras
    import maskjax
    import maskjax.keras as mk
    x, y, sw = _data(c=2)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss=mk.Loss("binary_cross_entropy"),
                  metrics=[mk.Metric(maskjax.metrics.Accuracy(task="binary"), name="acc")],
                  **_compile_kw())
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # y is [B]: used to raise
    got = model.evaluate(x, y, sample_weight=sw, batch_size=32, verbose=0, return_dict=True)
    model.compile(loss=keras.losses.BinaryCrossentropy(),
                  metrics=[keras.metrics.BinaryAccuracy(name="acc")], **_compile_kw())
    want = model.evaluate(x, y, sample_weight=sw, batch_size=32, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-5)
    np.testing.assert_allclose(got["acc"], want["acc"], rtol=1e-6)
    # Keras' per-sample rule for element-wise losses: mean over the last axis, then reduce
    rng = np.random.default_rng(3)
    p, t = rng.normal(size=(6, 4)).astype(np.float32), rng.normal(size=(6, 4)).astype(np.float32)
    w = rng.uniform(size=6).astype(np.float32)
    for red in ("sum", "sum_over_batch_size"):
        for name, ref in (("mean_squared_error", keras.losses.MeanSquaredError),
                          ("mean_absolute_error", keras.losses.MeanAbsoluteError),
                          ("log_cosh", keras.losses.LogCosh)):
            want = float(ref(reduction=red)(t, p, sample_weight=w))
            got = float(mk.Loss(name, reduction=red)(t, p, sample_weight=w))
            np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=f"{name} {red}")
    want = np.asarray(keras.losses.MeanSquaredError(reduction="none")(t, p))
    np.testing.assert_allclose(np.asarray(mk.Loss("mean_squared_error", reduction="none")(t, p)),
                               want, rtol=1e-5)


def check_weighted_metrics_on_default_objects():
    import keras
    from sklearn.metrics import accuracy_score, f1_score
    import maskjax
    import maskjax.keras as mk
    M = maskjax.metrics
    x, y, sw = _data()
    model = _softmax_model()
    model.compile(optimizer="sgd", loss=mk.Loss("cross_entropy"),
                  weighted_metrics=[mk.Metric(M.Accuracy(task="multiclass", num_classes=5), name="acc"),
                                    mk.Metric(M.F1Score(task="multiclass", num_classes=5), name="f1")],
                  **_compile_kw())
    model.fit(x, y, sample_weight=sw, batch_size=32, epochs=1, verbose=0)  # used to raise
    got = model.evaluate(x, y, sample_weight=sw, batch_size=32, verbose=0, return_dict=True)
    pred = np.argmax(model.predict(x, verbose=0), -1)
    np.testing.assert_allclose(got["acc"], accuracy_score(y, pred, sample_weight=sw), rtol=1e-5)
    np.testing.assert_allclose(got["f1"], f1_score(y, pred, sample_weight=sw, average="macro"), rtol=1e-5)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(),
                  weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")], **_compile_kw())
    want = model.evaluate(x, y, sample_weight=sw, batch_size=32, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["acc"], want["acc"], rtol=1e-5)


def check_overlap_losses_weight_samples_as_keras():
    """Keras weights each sample's dice / Tversky loss by ``sample_weight`` [B] (and broadcasts a
    batch-wide ``axis=None`` loss to the weights); the core's sample_weight weights elements inside
    the overlap, which the front once passed through: [1, 3] gave the unweighted 0.5321, not 1.1122."""
    import keras
    import maskjax.keras as mk
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, (3, 4, 4, 2)).astype("float32")
    p = rng.random((3, 4, 4, 2)).astype("float32")
    for sw in (np.array([1.0, 3.0, 0.5], "float32"), np.array([0.0, 1.0, 0.0], "float32")):
        for per_sample, axis in ((True, (1, 2, 3)), (False, None)):
            opts = dict(smooth=0.0, per_sample=per_sample, pool_classes=True)
            for red in ("sum_over_batch_size", "sum"):
                want = float(keras.losses.Dice(axis=axis, reduction=red)(y, p, sample_weight=sw))
                got = float(mk.Loss("dice_loss", reduction=red, **opts)(y, p, sample_weight=sw))
                np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=f"dice {axis} {red} {sw}")
            # α = β: Keras' Tversky swapped them up to 3.15 (README), equal weights read the same
            want = float(keras.losses.Tversky(alpha=0.4, beta=0.4, axis=axis)(y, p, sample_weight=sw))
            got = float(mk.Loss("tversky_loss", alpha=0.4, beta=0.4, **opts)(y, p, sample_weight=sw))
            np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=f"tversky {axis} {sw}")


def check_soft_target_rows_equal_categorical_accuracy():
    """Label-smoothed or mixup rows stay rows: the front once cast them to int32 ([.1, .8, .1] ->
    class 0), giving 0.33 where Keras' CategoricalAccuracy gives 0.67."""
    import keras
    import maskjax
    import maskjax.keras as mk
    rng = np.random.default_rng(4)
    p = rng.random((4, 8, 3)).astype("float32")
    y = rng.dirichlet(np.ones(3) * 0.7, size=(4, 8)).astype("float32")
    ours = mk.Metric(maskjax.metrics.Accuracy(task="multiclass", num_classes=3))
    keras_acc = keras.metrics.CategoricalAccuracy()
    for b in range(4):
        ours.update_state(y[b], p[b])
        keras_acc.update_state(y[b], p[b])
    np.testing.assert_allclose(float(ours.result()), float(keras_acc.result()), rtol=1e-6)
    assert float(ours.result()) not in (0.0, 1.0)


def check_class_id_equals_sklearn():
    from sklearn.metrics import precision_score, recall_score
    import maskjax
    import maskjax.keras as mk
    M = maskjax.metrics
    x, y, sw = _data()
    model = _softmax_model()
    metrics = [mk.Metric(M.Precision(task="multiclass", num_classes=5), class_id=k) for k in range(5)]
    metrics.append(mk.Metric(M.Recall(task="multiclass", num_classes=5), class_id=3))
    model.compile(loss=mk.Loss("cross_entropy"), metrics=metrics, **_compile_kw())
    # batches of 40, 40, 16: the last one retraces with an unknown batch size on TF (symbolic dims)
    got = model.evaluate(x, y, batch_size=40, verbose=0, return_dict=True)
    pred = np.argmax(model.predict(x, verbose=0), -1)
    for k in range(5):
        want = precision_score(y, pred, labels=[k], average=None, zero_division=0)[0]
        assert np.ndim(got[f"precision_{k}"]) == 0, got  # one scalar in the progress bar / logs
        np.testing.assert_allclose(got[f"precision_{k}"], want, rtol=1e-5, err_msg=str(k))
    np.testing.assert_allclose(got["recall_3"], recall_score(y, pred, labels=[3], average=None)[0],
                               rtol=1e-5)


def check_save_load_round_trip():
    import keras
    import maskjax
    import maskjax.keras as mk
    M = maskjax.metrics
    x, y, sw = _data()
    model = _softmax_model()
    model.compile(optimizer="sgd", loss=mk.Loss("cross_entropy", label_smoothing=0.1),
                  metrics=[mk.Metric(M.F1Score(task="multiclass", num_classes=5), name="f1"),
                           mk.Metric(M.Precision(task="multiclass", num_classes=5), class_id=2),
                           mk.Metric(M.CohenKappa(task="multiclass", num_classes=5), name="kappa")],
                  weighted_metrics=[mk.Metric(M.Accuracy(task="multiclass", num_classes=5), name="acc")],
                  **_compile_kw())
    model.fit(x, y, sample_weight=sw, batch_size=32, epochs=1, verbose=0)
    before = model.evaluate(x, y, sample_weight=sw, batch_size=32, verbose=0, return_dict=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
    after = loaded.evaluate(x, y, sample_weight=sw, batch_size=32, verbose=0, return_dict=True)
    assert set(after) == set(before), (before, after)
    for key in before:
        np.testing.assert_allclose(after[key], before[key], rtol=1e-6, err_msg=key)
    assert isinstance(loaded.loss, mk.Loss) and loaded.loss.options == {"label_smoothing": 0.1}


def check_fit_with_jit_compile():
    """The masked sequence model of keras_fit_check, compiled with jit_compile=True on TF."""
    from tests.interop import keras_fit_check
    result = keras_fit_check.run()
    keras_fit_check.check(result)


def check_tf_gradient_equals_keras_gradient_tape():
    import keras
    if keras.backend.backend() != "tensorflow":
        raise NotOnThisBackend("tf.GradientTape needs the TensorFlow backend")
    import tensorflow as tf
    import maskjax.keras as mk
    import maskjax.tf as mtf
    rng = np.random.default_rng(4)
    logits = tf.Variable(rng.normal(size=(16, 5)).astype(np.float32))
    y = tf.constant(rng.integers(0, 5, size=16))
    sw = tf.constant(rng.uniform(0.5, 2.0, size=16).astype(np.float32))

    def grads(loss_fn, jit):
        @tf.function(jit_compile=jit)
        def step():
            with tf.GradientTape() as tape:
                loss = loss_fn()
            return loss, tape.gradient(loss, logits)
        return step()

    keras_ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    want = grads(lambda: keras_ce(y, logits, sample_weight=sw), False)
    for jit in (False, True):
        got = grads(lambda: mtf.losses.cross_entropy(logits, y, sample_weight=sw,
                                                     reduction="sum_over_batch_size"), jit)
        np.testing.assert_allclose(got[0].numpy(), want[0].numpy(), rtol=1e-5)
        np.testing.assert_allclose(got[1].numpy(), want[1].numpy(), rtol=1e-5, atol=1e-7)
        got = grads(lambda: mk.Loss("cross_entropy", from_logits=True)(y, logits, sample_weight=sw), jit)
        np.testing.assert_allclose(got[1].numpy(), want[1].numpy(), rtol=1e-5, atol=1e-7)
    # probabilities (Keras' default), through the softmax
    keras_probs = keras.losses.SparseCategoricalCrossentropy()
    want = grads(lambda: keras_probs(y, tf.nn.softmax(logits)), False)
    got = grads(lambda: mk.Loss("cross_entropy")(y, tf.nn.softmax(logits)), True)
    np.testing.assert_allclose(got[1].numpy(), want[1].numpy(), rtol=1e-4, atol=1e-6)


def check_tf_distribution_strategy():
    """MirroredStrategy over two logical CPUs: the loss is scaled per replica as Keras' own losses."""
    import keras
    if keras.backend.backend() != "tensorflow":
        raise NotOnThisBackend("tf.distribute needs the TensorFlow backend")
    import tensorflow as tf
    from sklearn.metrics import accuracy_score, f1_score
    import maskjax
    import maskjax.keras as mk
    M = maskjax.metrics
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) < 2:
        raise NotOnThisBackend("needs two logical CPU devices (set up by main() before TF starts)")
    x, y, sw = _data()
    strategy = tf.distribute.MirroredStrategy([d.name for d in cpus[:2]])
    runs = {}
    for which in ("maskjax", "keras"):
        with strategy.scope():
            model = _softmax_model()
            if which == "maskjax":
                loss, metrics = mk.Loss("cross_entropy"), [
                    mk.Metric(M.F1Score(task="multiclass", num_classes=5), name="f1"),
                    mk.Metric(M.Accuracy(task="multiclass", num_classes=5), name="acc")]
            else:
                loss, metrics = keras.losses.SparseCategoricalCrossentropy(), [
                    keras.metrics.SparseCategoricalAccuracy(name="acc")]
            # XLA cannot place mirrored variables of logical CPUs: jit off (a TF limitation)
            model.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss, weighted_metrics=metrics,
                          jit_compile=False)
        model.fit(x, y, sample_weight=sw, batch_size=32, epochs=1, verbose=0, shuffle=False)
        logs = model.evaluate(x, y, sample_weight=sw, batch_size=32, verbose=0, return_dict=True)
        runs[which] = (logs, model.get_weights(), np.argmax(model.predict(x, verbose=0), -1))
    (got, w_got, pred), (want, w_want, _) = runs["maskjax"], runs["keras"]
    for a, b in zip(w_got, w_want):  # same training steps: gradients summed over replicas alike
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-5)
    np.testing.assert_allclose(got["acc"], want["acc"], rtol=1e-5)
    np.testing.assert_allclose(got["acc"], accuracy_score(y, pred, sample_weight=sw), rtol=1e-5)
    np.testing.assert_allclose(got["f1"], f1_score(y, pred, sample_weight=sw, average="macro"), rtol=1e-5)
    # replicas' states are added: an exact curve's score buffer (or samplewise rows) cannot be, and
    # once gave exact AUROC 0.333 for sklearn's 0.082 over 2 replicas; now it refuses, binned works
    for make in (lambda: M.AUROC(task="binary", capacity=64),
                 lambda: M.F1Score(task="binary", multidim_average="samplewise", capacity=8)):
        with strategy.scope():
            try:
                mk.Metric(make())
            except ValueError as err:
                assert "replicas cannot add" in str(err), err
            else:
                raise AssertionError("an exact-curve / samplewise mk.Metric accepted 2 replicas")
    yb = (y % 2).astype(np.float32)
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(loss="binary_crossentropy", jit_compile=False,
                      metrics=[mk.Metric(M.AUROC(task="binary", thresholds=1000), name="auc"),
                               keras.metrics.AUC(num_thresholds=1000, name="keras_auc")])
    logs = model.evaluate(x, yb, batch_size=32, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["auc"], logs["keras_auc"], atol=2e-3)


CHECKS = {name[len("check_"):]: fn for name, fn in sorted(globals().items()) if name.startswith("check_")}
# Checks of TensorFlow machinery (tf.GradientTape, tf.distribute): they run on the TF backend only.
TF_ONLY = {"tf_gradient_equals_keras_gradient_tape", "tf_distribution_strategy"}


def main() -> None:
    if os.environ.get("KERAS_BACKEND") == "tensorflow":  # two logical CPUs for tf.distribute
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    results = {}
    for name, fn in CHECKS.items():
        try:
            fn()
            results[name] = "ok"
        except NotOnThisBackend as why:
            results[name] = f"skip: {why}"
        except Exception:  # noqa: BLE001 - reported per check to the parent test
            results[name] = traceback.format_exc()[-3000:]
    import keras
    print("RESULTS " + json.dumps({"backend": keras.backend.backend(), "checks": results}))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
    main()
