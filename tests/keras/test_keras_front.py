"""maskjax.keras on the JAX backend (in process), the TensorFlow and torch backends (a subprocess each).

Each check of ``keras_checks.py`` is one test per backend, so a failing id
names the check and the backend.
"""

import functools
import json
import os
import subprocess
import sys

import pytest

keras = pytest.importorskip("keras")

from tests.keras import keras_checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the in-process checks run on Keras' JAX backend")
@pytest.mark.parametrize("name", sorted(set(keras_checks.CHECKS) - keras_checks.TF_ONLY))
def test_on_jax_backend(name):
    keras_checks.CHECKS[name]()


@functools.lru_cache(maxsize=None)
def subprocess_results(backend):
    """Every check on ``backend``, run once in a subprocess (Keras picks its backend at import)."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "keras", "keras_checks.py")],
                          env=env, capture_output=True, text=True, timeout=900)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULTS ")), None)
    assert line is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(line[len("RESULTS "):])
    assert results["backend"] == backend
    return results["checks"]


BACKEND_CASES = [(b, n) for b in ("tensorflow", "torch") for n in sorted(keras_checks.CHECKS)
                 if b == "tensorflow" or n not in keras_checks.TF_ONLY]


@pytest.mark.slow
@pytest.mark.parametrize("backend,name", BACKEND_CASES, ids=[f"{b}-{n}" for b, n in BACKEND_CASES])
def test_on_tensorflow_and_torch_backends(backend, name):
    """TF: compiled with jit_compile=True (maskjax runs as jax2tf ops); torch: through maskjax.torch."""
    result = subprocess_results(backend)[name]
    assert result == "ok", result
