"""W10 (PERF.md): a Keras ``fit`` epoch with a maskjax F1 metric against ``keras.metrics.F1Score``.

Model: 8192×32 → Dense(64, relu) → Dense(10, softmax), batch 64, SGD, one-hot
labels (``keras.metrics.F1Score`` takes one-hot ``y_true``; maskjax's
multiclass F1 takes them too). Candidates, timed round-robin in the same
process, one epoch per repeat after a warm-up epoch:

* ``keras``: Keras' ``CategoricalCrossentropy`` + ``keras.metrics.F1Score(average="macro")``;
* ``maskjax F1``: the same loss + ``mk.Metric(F1Score(task="multiclass", num_classes=10))``;
* ``maskjax loss + F1``: ``mk.Loss("cross_entropy")`` + the maskjax F1;
* ``no metric``: the same model without a metric, for context.

Each backend runs in its own subprocess (Keras picks its backend at import);
TensorFlow compiles with ``jit_compile=True``, JAX with Keras' default jit.

    PYTHONPATH=. python bench/keras_epoch.py [--repeats 7] [--backends jax,tensorflow]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _models():
    import keras
    import numpy as np

    import maskjax
    import maskjax.keras as mk

    rng = np.random.default_rng(0)
    x = rng.normal(size=(8192, 32)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, size=8192)]
    jit = {"jit_compile": True} if keras.backend.backend() == "tensorflow" else {}

    def build(loss, metric):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(64, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss,
                      metrics=[metric] if metric is not None else [], **jit)
        return model

    f1 = maskjax.metrics.F1Score(task="multiclass", num_classes=10)
    return x, y, {
        "keras": build(keras.losses.CategoricalCrossentropy(), keras.metrics.F1Score(average="macro", name="f1")),
        "maskjax F1": build(keras.losses.CategoricalCrossentropy(), mk.Metric(f1, name="f1")),
        "maskjax loss + F1": build(mk.Loss("cross_entropy"), mk.Metric(f1, name="f1")),
        "no metric (context)": build(keras.losses.CategoricalCrossentropy(), None),
    }


def measure(repeats: int) -> dict:
    """Median / min / max seconds per epoch of each candidate on the active backend."""
    import keras

    x, y, models = _models()
    for model in models.values():  # warm-up: compile
        model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    times = {name: [] for name in models}
    f1 = {}
    for _ in range(repeats):
        for name, model in models.items():
            t0 = time.perf_counter()
            hist = model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
            times[name].append(time.perf_counter() - t0)
            f1[name] = float(hist.history.get("f1", [float("nan")])[-1])
    return {"backend": keras.backend.backend(), "f1": f1,
            "times": {k: {"median": statistics.median(v), "min": min(v), "max": max(v)}
                      for k, v in times.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--backends", default="jax,tensorflow")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(measure(args.repeats)))
        return
    rows = []
    for backend in args.backends.split(","):
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
                   PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child",
                               "--repeats", str(args.repeats)], env=env, capture_output=True, text=True)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            print(f"{backend}: failed\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
            continue
        res = json.loads(line[len("RESULT "):])
        base = res["times"]["keras"]["median"]
        for name, t in res["times"].items():
            rows.append(f"| {backend}{' (jit_compile=True)' if backend == 'tensorflow' else ''} | {name} "
                        f"| {t['median'] * 1e3:.0f} ({t['min'] * 1e3:.0f}–{t['max'] * 1e3:.0f}) "
                        f"| {t['median'] / base:.2f}× | {res['f1'][name]:.4f} |")
    print("| backend | metric | ms / epoch, median (min–max) | vs keras F1Score | last-epoch F1 |")
    print("|---|---|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
