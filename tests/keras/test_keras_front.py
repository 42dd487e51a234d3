"""maskjax.keras on the JAX backend (in process), the TensorFlow and torch backends (a subprocess each).

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
    try:
        keras_checks.CHECKS[name]()
    except keras_checks.NotOnThisBackend as why:
        pytest.skip(str(why))


@pytest.fixture(scope="module", params=["tensorflow", "torch"])
def subprocess_results(request):
    backend = request.param
    pytest.importorskip(backend)
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "keras", "keras_checks.py")],
                          env=env, capture_output=True, text=True, timeout=900)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULTS ")), None)
    assert line is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(line[len("RESULTS "):])
    assert results["backend"] == backend
    return results["checks"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(keras_checks.CHECKS))
def test_on_tensorflow_and_torch_backends(subprocess_results, name):
    """TF: compiled with jit_compile=True (maskjax runs as jax2tf ops); torch: through maskjax.torch."""
    result = subprocess_results[name]
    if result.startswith("skip: "):
        pytest.skip(result)
    assert result == "ok", result
