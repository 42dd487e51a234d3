"""mypy over the package passes with the config in pyproject.toml ([tool.mypy]), and the package is typed."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_package_ships_py_typed_marker():
    assert (ROOT / "maskjax" / "py.typed").is_file()
    assert 'maskjax = ["py.typed"]' in (ROOT / "pyproject.toml").read_text()   # packaged in the wheel


def test_mypy_passes_on_the_package():
    pytest.importorskip("mypy")
    # A cache outside the checkout: mypy's cache is keyed by file hashes, so a stale one is safe.
    cache = os.path.join(tempfile.gettempdir(), "maskjax-mypy-cache")
    proc = subprocess.run([sys.executable, "-m", "mypy", "maskjax", "--cache-dir", cache,
                           "--no-error-summary", "--hide-error-context"],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert proc.returncode == 0 and not errors, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_mypy_catches_a_type_error(tmp_path):
    """The check can fail: a wrong call into the typed public API is reported."""
    pytest.importorskip("mypy")
    bad = tmp_path / "bad.py"
    bad.write_text("import maskjax.plot\nmaskjax.plot.confusion_matrix([[1]], display_labels=3)\n")
    proc = subprocess.run([sys.executable, "-m", "mypy", str(bad), "--cache-dir", str(tmp_path / "c"),
                           "--follow-imports=silent"],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 1 and "display_labels" in proc.stdout, proc.stdout
