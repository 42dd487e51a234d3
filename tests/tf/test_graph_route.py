"""maskjax.tf inside tf.function: native TF ops by jax2tf (XLA, GradientTape, SavedModel), and the fallback."""

import logging
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
import maskjax  # noqa: E402
import maskjax.tf as mtf  # noqa: E402


def _case(seed=0, n=12, c=4):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c)).astype(np.float32)
    labels = rng.integers(0, c, size=n)
    labels[1] = -100
    mask = rng.uniform(size=n) > 0.2
    sw = rng.uniform(0.5, 2.0, size=n).astype(np.float32)
    return logits, labels, mask, sw


def _core_value_and_grad(logits, labels, mask, sw, **kw):
    return jax.value_and_grad(lambda p: maskjax.losses.cross_entropy(
        p, jnp.asarray(labels, jnp.int32), mask=jnp.asarray(mask), sample_weight=jnp.asarray(sw),
        ignore_index=-100, **kw))(jnp.asarray(logits))


@pytest.mark.parametrize("jit_compile", [False, True])
def test_loss_and_gradient_in_tf_function_match_core(jit_compile):
    logits, labels, mask, sw = _case()
    var = tf.Variable(logits)

    @tf.function(jit_compile=jit_compile)
    def step(y, m, w):
        with tf.GradientTape() as tape:
            loss = mtf.losses.cross_entropy(var, y, mask=m, sample_weight=w, ignore_index=-100,
                                            label_smoothing=0.1)
        return loss, tape.gradient(loss, var)

    loss, grad = step(tf.constant(labels), tf.constant(mask), tf.constant(sw))
    want, want_grad = _core_value_and_grad(logits, labels, mask, sw, label_smoothing=0.1)
    np.testing.assert_allclose(loss.numpy(), np.asarray(want), rtol=1e-5)
    np.testing.assert_allclose(grad.numpy(), np.asarray(want_grad), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_int64_labels_beyond_int32_never_wrap_in_a_graph(jit_compile):
    """Eagerly 2³² + 1 raises; in a graph there is no eager check, and jax2tf's cast once wrapped
    it to class 1 (a finite loss, accuracy counting it). Saturated, it is out of range: the loss
    is NaN and the metric drops the element (the documented rule)."""
    logits = tf.constant([[2.0, 0.0, -1.0], [0.0, 1.0, 3.0], [1.0, 1.0, 1.0]])
    bad = tf.constant([0, 2**32 + 1, 2], tf.int64)
    loss = tf.function(lambda p, y: mtf.losses.cross_entropy(p, y), jit_compile=jit_compile)
    acc = tf.function(lambda p, y: mtf.metrics.accuracy(p, y, task="multiclass", num_classes=3),
                      jit_compile=jit_compile)
    assert np.isnan(loss(logits, bad).numpy())
    kept = np.array([0, 2])  # accuracy of the two in-range elements, read from sklearn
    from sklearn.metrics import accuracy_score
    want = accuracy_score(bad.numpy()[kept], np.argmax(logits.numpy()[kept], -1))
    np.testing.assert_allclose(acc(logits, bad).numpy(), want)
    with pytest.raises(ValueError, match="int32 range"):
        mtf.losses.cross_entropy(logits, bad)
    good = tf.constant([0, 1, 2], tf.int64)  # in range: unchanged
    np.testing.assert_allclose(loss(logits, good).numpy(), mtf.losses.cross_entropy(logits, good).numpy(),
                               rtol=1e-6)


def test_graph_route_is_native_tf_ops_not_py_function():
    logits, labels, mask, sw = _case()
    fn = tf.function(lambda p, y: mtf.losses.cross_entropy(p, y))
    graph = fn.get_concrete_function(tf.TensorSpec([None, 4]), tf.TensorSpec([None], tf.int64)).graph
    ops = {op.type for op in graph.get_operations()}
    assert "XlaCallModule" in ops, ops
    assert not {"EagerPyFunc", "PyFunc"} & ops, ops


def test_unknown_batch_dimension_is_symbolic():
    logits, labels, mask, sw = _case()

    @tf.function(input_signature=[tf.TensorSpec([None, 4]), tf.TensorSpec([None], tf.int64),
                                  tf.TensorSpec([None], tf.bool), tf.TensorSpec([None])])
    def f(p, y, m, w):
        return (mtf.losses.cross_entropy(p, y, mask=m, sample_weight=w, ignore_index=-100),
                mtf.metrics.f1_score(p, y, task="multiclass", num_classes=4, mask=m, ignore_index=-100))

    for n in (12, 5):  # one trace, two batch sizes
        got_loss, got_f1 = f(logits[:n], labels[:n], mask[:n], sw[:n])
        want, _ = _core_value_and_grad(logits[:n], labels[:n], mask[:n], sw[:n])
        want_f1 = maskjax.metrics.f1_score(logits[:n], labels[:n], task="multiclass", num_classes=4,
                                           mask=mask[:n], ignore_index=-100)
        np.testing.assert_allclose(got_loss.numpy(), np.asarray(want), rtol=1e-5)
        np.testing.assert_allclose(got_f1.numpy(), np.asarray(want_f1), rtol=1e-6)
    assert f.experimental_get_tracing_count() == 1


def test_saved_model_round_trip(tmp_path):
    logits, labels, mask, sw = _case()

    class Scorer(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 4]), tf.TensorSpec([None], tf.int64)])
        def __call__(self, p, y):
            return {"loss": mtf.losses.cross_entropy(p, y, ignore_index=-100),
                    "acc": mtf.metrics.accuracy(p, y, task="multiclass", num_classes=4, ignore_index=-100)}

    tf.saved_model.save(Scorer(), str(tmp_path))
    loaded = tf.saved_model.load(str(tmp_path))
    got = loaded(tf.constant(logits), tf.constant(labels))
    want_loss = maskjax.losses.cross_entropy(logits, labels, ignore_index=-100)
    want_acc = maskjax.metrics.accuracy(logits, labels, task="multiclass", num_classes=4, ignore_index=-100)
    np.testing.assert_allclose(got["loss"].numpy(), np.asarray(want_loss), rtol=1e-5)
    np.testing.assert_allclose(got["acc"].numpy(), np.asarray(want_acc), rtol=1e-6)


def test_binned_curves_convert_exact_curves_fall_back_with_a_warning(caplog):
    from sklearn.metrics import roc_auc_score
    rng = np.random.default_rng(5)
    s = rng.uniform(size=64).astype(np.float32)
    y = (rng.uniform(size=64) < s).astype(np.int32)

    binned = tf.function(lambda s, y: mtf.metrics.auroc(s, y, task="binary", thresholds=11))
    ops = {op.type for op in binned.get_concrete_function(tf.constant(s), tf.constant(y)).graph.get_operations()}
    assert "XlaCallModule" in ops
    np.testing.assert_allclose(binned(s, y).numpy(),
                               np.asarray(maskjax.metrics.auroc(s, y, task="binary", thresholds=11)), rtol=1e-6)

    exact = tf.function(lambda s, y: mtf.metrics.auroc(s, y, task="binary"), jit_compile=False)
    with caplog.at_level(logging.WARNING, logger="maskjax.interop"):
        got = exact(tf.constant(s), tf.constant(y))
    np.testing.assert_allclose(got.numpy(), roc_auc_score(y, s), rtol=1e-5)
    if jax.default_backend() == "cpu":  # host kernels only on a CPU runtime
        assert "tf.py_function" in caplog.text


@pytest.mark.parametrize("module,extra,framework", [("maskjax.tf", "tf", "tensorflow"),
                                                    ("maskjax.keras", "keras", "keras")])
def test_missing_framework_gives_the_install_command(module, extra, framework):
    code = (f"import sys; sys.modules[{framework!r}] = None\n"
            f"try:\n    import {module}\nexcept ImportError as e:\n    print('ERR', e)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert f'pip install "maskjax[{extra}]"' in proc.stdout, proc.stdout + proc.stderr[-2000:]


STREAMING_CASES = {
    "multiclass_f1": (lambda: maskjax.metrics.F1Score(task="multiclass", num_classes=4), (None, 4), "int"),
    "binary_accuracy": (lambda: maskjax.metrics.Accuracy(task="binary"), (None,), "binary"),
    "multilabel_precision": (lambda: maskjax.metrics.Precision(task="multilabel", num_classes=4), (None, 4), "multilabel"),
}


@pytest.mark.parametrize("case", sorted(STREAMING_CASES))
def test_streaming_update_with_a_symbolic_batch_is_native_tf_ops(case):
    """A streaming update (Keras ``update_state`` on TF) under an unknown batch size converts by jax2tf.

    Regression: a static-size shortcut of the wide counts called ``int()`` on the symbolic batch
    dimension, so jax2tf failed and the update fell back to ``tf.py_function`` (not XLA-compilable).
    """
    make, shape, kind = STREAMING_CASES[case]
    metric = make()
    state = metric.init()
    leaves, treedef = jax.tree_util.tree_flatten(state)

    def update(*args):
        st = jax.tree_util.tree_unflatten(treedef, list(args[:len(leaves)]))
        return jax.tree_util.tree_leaves(metric.update(st, *args[len(leaves):]))

    tf_update = mtf.wrap_metric(update)
    y_spec = tf.TensorSpec(shape if kind == "multilabel" else (None,), tf.int64)
    fn = tf.function(lambda *a: tf_update(*a),
                     input_signature=[tf.TensorSpec(np.shape(x), tf.as_dtype(np.asarray(x).dtype)) for x in leaves]
                     + [tf.TensorSpec(shape), y_spec])
    ops = {op.type for op in fn.get_concrete_function().graph.get_operations()}
    assert "XlaCallModule" in ops and not {"EagerPyFunc", "PyFunc"} & ops, ops

    rng = np.random.default_rng(3)
    for n in (9, 4):  # one trace, two batch sizes
        p = rng.uniform(size=(n,) + shape[1:]).astype(np.float32)
        y = rng.integers(0, 4, size=n) if kind == "int" else rng.integers(0, 2, size=(n,) + shape[1:][: kind == "multilabel"])
        got = fn(*[tf.constant(np.asarray(x)) for x in leaves], tf.constant(p), tf.constant(y))
        want = jax.tree_util.tree_leaves(metric.update(state, p, y))
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), np.asarray(w))
    assert fn.experimental_get_tracing_count() == 1
