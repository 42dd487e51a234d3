"""Keras 3 fit/evaluate with maskjax losses and metrics; run on the active backend.

Imported by test_keras.py (JAX backend, in process) and run as a script with
KERAS_BACKEND=tensorflow in a subprocess (Keras picks its backend at import).
"""

import os
import sys

import numpy as np


def run() -> dict:
    import keras
    import jax.numpy as jnp

    import maskjax
    import maskjax.keras as mk

    rng = np.random.default_rng(0)
    n, t, v, c = 32, 6, 12, 4
    lengths = rng.integers(2, t + 1, size=n)
    x = rng.integers(1, v, size=(n, t))
    x[np.arange(t)[None, :] >= lengths[:, None]] = 0  # padding -> Keras mask
    y = rng.integers(0, c, size=(n, t))
    sw = rng.uniform(0.5, 2.0, size=n).astype(np.float32)

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((t,), dtype="int32"),
        keras.layers.Embedding(v, 8, mask_zero=True),
        keras.layers.Dense(c),
    ])
    acc = maskjax.metrics.Accuracy(task="multiclass", num_classes=c)
    f1 = maskjax.metrics.F1Score(task="multiclass", num_classes=c, average="macro")
    compile_kw = {"jit_compile": True} if keras.backend.backend() == "tensorflow" else {}
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=mk.Loss("cross_entropy", from_logits=True),
                  metrics=[mk.Metric(acc, name="acc"), mk.Metric(f1, name="f1")], **compile_kw)
    history = model.fit(x, y, sample_weight=sw, batch_size=16, epochs=2, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert losses[-1] < losses[0], losses

    logits = jnp.asarray(np.asarray(model.predict(x, verbose=0)))
    mask = jnp.asarray(x != 0)
    yj = jnp.asarray(y.astype(np.int32))
    one_batch = model.evaluate(x, y, batch_size=n, verbose=0, return_dict=True)
    streamed = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    want = {
        "loss": float(maskjax.losses.cross_entropy(logits, yj, mask=mask, reduction="sum_over_batch_size")),
        "loss_unmasked": float(maskjax.losses.cross_entropy(logits, yj, reduction="sum_over_batch_size")),
        "acc": float(acc(logits, yj, mask=mask)),
        "f1": float(f1(logits, yj, mask=mask)),
    }
    weighted = float(mk.Loss("cross_entropy", from_logits=True)(yj, logits, sample_weight=jnp.asarray(sw)))
    want_weighted = float(maskjax.losses.cross_entropy(logits, yj, sample_weight=jnp.asarray(sw),
                                                       reduction="sum_over_batch_size"))
    return {"one_batch": one_batch, "streamed": streamed, "want": want,
            "weighted": (weighted, want_weighted), "backend": keras.backend.backend()}


def check(result: dict) -> None:
    want, one, streamed = result["want"], result["one_batch"], result["streamed"]
    np.testing.assert_allclose(one["loss"], want["loss"], rtol=1e-5)
    assert abs(want["loss"] - want["loss_unmasked"]) > 1e-4  # the mask really mattered
    for key in ("acc", "f1"):
        np.testing.assert_allclose(one[key], want[key], rtol=1e-5)
        np.testing.assert_allclose(streamed[key], want[key], rtol=1e-5)  # streaming == one shot
    np.testing.assert_allclose(*result["weighted"], rtol=1e-5)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
    res = run()
    check(res)
    print("OK", res["backend"], res["want"])
