"""Helpers for the ``maskjax`` command-line tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from maskjax.app import cli

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Result:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    @property
    def json(self):
        return json.loads(self.out)


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """``run_cli(*argv)`` → Result(code, stdout, stderr), in this process (jit caches are shared).

    The persistent compilation cache the CLI enables is left off here, so the
    test process's JAX configuration stays as the other tests expect.
    """
    monkeypatch.setenv("MASKJAX_NO_CACHE", "1")

    def run(*argv):
        argv = [str(a) for a in argv]
        if argv and argv[0] == "report" and "--no-progress" not in argv:
            argv.append("--no-progress")
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse errors
            code = exc.code
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_subprocess(args, cwd, env_extra=None, timeout=300):
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.update(env_extra or {})
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(result):
    assert result.code == 2, (result.code, result.out, result.err)
    assert "Traceback" not in result.err and "Traceback" not in result.out
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert "error:" in lines[0]
    return lines[0]


def assert_valid_png(path):
    from PIL import Image
    import matplotlib.image

    assert os.path.isfile(path), path
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    with Image.open(path) as im:
        im.verify()
    img = matplotlib.image.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert float(np.std(img)) > 0.01  # something was drawn


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.fixture(scope="session")
def multiclass_data():
    """300 rows, 4 classes: probabilities, logits, labels, weights (deterministic)."""
    rng = np.random.default_rng(7)
    n, c = 300, 4
    y = rng.integers(0, c, n).astype(np.int64)
    logits = rng.normal(size=(n, c)).astype(np.float32)
    logits[np.arange(n), y] += 1.2
    probs = softmax(logits).astype(np.float32)
    weights = rng.choice(np.array([0.5, 1.0, 2.0], np.float32), n)
    return dict(probs=probs, logits=logits, y=y, weights=weights, c=c)
