"""maskjax.keras on the JAX backend (in process) and the TensorFlow backend (one subprocess).

Each check of ``keras_checks.py`` is one test per backend, so a failing id
names the check and the backend.
"""

import json
import os
import subprocess
import sys

import pytest

keras = pytest.importorskip("keras")

from tests.keras import keras_checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the in-process checks run on Keras' JAX backend")
@pytest.mark.parametrize("name", sorted(keras_checks.CHECKS))
def test_on_jax_backend(name):
    keras_checks.CHECKS[name]()


@pytest.fixture(scope="module")
def tensorflow_results():
    pytest.importorskip("tensorflow")
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "keras", "keras_checks.py")],
                          env=env, capture_output=True, text=True, timeout=900)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULTS ")), None)
    assert line is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(line[len("RESULTS "):])
    assert results["backend"] == "tensorflow"
    return results["checks"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(keras_checks.CHECKS))
def test_on_tensorflow_backend(tensorflow_results, name):
    assert tensorflow_results[name] == "ok", tensorflow_results[name]
