"""README's Keras snippet runs as written (on the in-process Keras backend)."""

import pathlib
import re

import pytest

keras = pytest.importorskip("keras")

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_keras_quick_start_runs():
    text = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "maskjax.keras" in b)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    logs = namespace["logs"]
    assert set(logs) == {"loss", "f1", "precision_2", "acc"}, logs
    assert all(0.0 <= float(logs[k]) <= 1.0 for k in ("f1", "precision_2", "acc"))
