"""maskjax.tf: DLPack conversion, every loss vs core (eager and tf.function), gradients."""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
import maskjax  # noqa: E402
import maskjax.tf as mtf  # noqa: E402
from tests.oracles.interop import LOSS_CASES  # noqa: E402

LOSS_NAMES = [n for n in maskjax.losses.__all__ if inspect.isfunction(getattr(maskjax.losses, n))]


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.int32, jnp.bool_, jnp.bfloat16, jnp.float16], ids=str)
def test_round_trip_is_zero_copy(dtype):
    a = (jnp.arange(64 * 8).reshape(64, 8) % 3).astype(dtype)
    t = mtf.from_jax(a)
    assert t.shape == (64, 8)
    b = mtf.to_jax(t, copy=False)
    assert b.unsafe_buffer_pointer() == a.unsafe_buffer_pointer()  # jax -> tf -> jax shares one buffer
    assert b.dtype == a.dtype


def test_int64_route_and_refusals():
    y = tf.constant([0, 4, -100], tf.int64)
    assert mtf.to_jax(y).dtype == jnp.int32 and mtf.to_jax(y).tolist() == [0, 4, -100]
    with pytest.raises(ValueError, match="int64 becomes int32"):
        mtf.to_jax(y, copy=False)
    with pytest.raises(ValueError, match="outside the int32 range"):
        mtf.to_jax(tf.constant([2**40], tf.int64))
    assert mtf.to_jax(tf.zeros((0, 3))).shape == (0, 3)
    assert mtf.to_jax(tf.Variable([1.0, 2.0])).tolist() == [1.0, 2.0]


def test_symbolic_tensor_gives_clear_error():
    @tf.function
    def f(x):
        return mtf.to_jax(x)

    with pytest.raises(TypeError, match="symbolic TensorFlow tensor"):
        f(tf.ones(3))


# every loss goes through maskjax.torch in test_torch_wrappers.py; here the TF path, on a few
@pytest.mark.parametrize("name", [n for n in ("cross_entropy", "binary_cross_entropy", "dice_loss",
                                              "mean_squared_error") if n in LOSS_NAMES])
def test_losses_match_core_eager(name):
    if name not in LOSS_CASES:
        pytest.skip(f"no example inputs for {name}: add a case to tests/oracles/interop.py")
    args, kwargs = LOSS_CASES[name](np.random.default_rng(0))
    core = getattr(maskjax.losses, name)
    jkw = {k: jnp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    want = jax.jit(lambda *a: core(*a, **jkw))(*[jnp.asarray(a) for a in args])
    tkw = {k: tf.constant(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    preds = tf.Variable(args[0])
    with tf.GradientTape() as tape:
        got = getattr(mtf.losses, name)(preds, *[tf.constant(a) for a in args[1:]], **tkw)
    np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=1e-5, atol=1e-6)
    if True:
        want_grad = jax.jit(jax.grad(lambda p: core(p, *[jnp.asarray(a) for a in args[1:]], **jkw)))(
            jnp.asarray(args[0]))
        np.testing.assert_allclose(tape.gradient(got, preds).numpy(), np.asarray(want_grad),
                                   rtol=1e-5, atol=1e-6)


def test_cross_entropy_inside_tf_function_with_gradient():
    rng = np.random.default_rng(1)
    logits = tf.Variable(rng.normal(size=(6, 3)).astype(np.float32))
    labels = tf.constant([0, 2, -100, 1, 1, 0], tf.int64)
    cw = tf.constant([1.0, 2.0, 0.5])

    @tf.function(jit_compile=False)
    def step():
        with tf.GradientTape() as tape:
            loss = mtf.losses.cross_entropy(logits, labels, class_weight=cw, ignore_index=-100)
        return loss, tape.gradient(loss, logits)

    loss, grad = step()
    core = maskjax.losses.cross_entropy
    want, want_grad = jax.value_and_grad(
        lambda p: core(p, jnp.asarray(labels.numpy()), class_weight=jnp.asarray(cw.numpy()),
                       ignore_index=-100))(jnp.asarray(logits.numpy()))
    assert loss.shape == ()
    np.testing.assert_allclose(loss.numpy(), np.asarray(want), rtol=1e-5)
    np.testing.assert_allclose(grad.numpy(), np.asarray(want_grad), rtol=1e-5, atol=1e-7)


def test_cross_entropy_matches_keras_sparse_ce():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(8, 4)).astype(np.float32)
    y = rng.integers(0, 4, size=8)
    ref = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)
    got = mtf.losses.cross_entropy(tf.constant(logits), tf.constant(y))
    np.testing.assert_allclose(float(got), float(ref), rtol=1e-5)


def test_metric_wrapper_returns_tf_tensors():
    out = mtf.wrap_metric(maskjax.reduce)(tf.constant([[1.0, 2.0], [3.0, 4.0]]),
                                          sample_weight=tf.constant([1.0, 0.0]), reduction="sum")
    assert isinstance(out, tf.Tensor) and float(out) == 3.0
