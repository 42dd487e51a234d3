"""``maskjax demo``: runs as a module and as the console script, prints the report, writes plots."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from _cli_support import assert_valid_png, run_subprocess

PLOTS = ("confusion_matrix.png", "roc_curve.png", "pr_curve.png", "reliability.png")


def _check_report(out: str) -> None:
    assert "naive (unmasked)" in out and "masked" in out
    assert "cross-entropy (mean)" in out and "macro F1" in out
    assert "Per-class report on the real steps" in out
    for head in ("precision", "recall", "F1", "support", "AUROC", "AP"):
        assert head in out
    assert "macro avg" in out and "weighted avg" in out


def test_demo_module_prints_report_and_writes_plots(tmp_path):
    res = run_subprocess([sys.executable, "-m", "maskjax", "demo", "--out", "plots"], cwd=tmp_path)
    assert res.code == 0, res.err
    assert "Traceback" not in res.err
    _check_report(res.out)
    assert "Plots written to" in res.out
    for name in PLOTS:
        assert_valid_png(os.path.join(tmp_path, "plots", name))


def test_demo_masked_numbers_differ_from_naive(run_cli, tmp_path):
    res = run_cli("demo", "--no-plots")
    assert res.code == 0
    rows = {}
    for line in res.out.splitlines():
        parts = line.rsplit(None, 2)
        if len(parts) == 3:
            try:
                rows[parts[0].strip()] = (float(parts[1]), float(parts[2]))
            except ValueError:
                pass
    naive, masked = rows["accuracy"]
    assert naive > masked  # the padding is predicted perfectly: unmasked accuracy is inflated
    naive_ce, masked_ce = rows["cross-entropy (mean)"]
    assert naive_ce < masked_ce
    assert "Plots skipped" in res.out


def test_demo_without_matplotlib_skips_plots(run_cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    res = run_cli("demo", "--out", tmp_path / "plots")
    assert res.code == 0, res.err
    _check_report(res.out)
    assert "matplotlib is not installed: plots skipped" in res.out
    assert not (tmp_path / "plots").exists()


@pytest.mark.skipif(shutil.which("maskjax") is None, reason="console script not installed (pip install -e .)")
def test_demo_console_script(tmp_path):
    res = run_subprocess(["maskjax", "demo", "--no-plots"], cwd=tmp_path)
    assert res.code == 0, res.err
    _check_report(res.out)
