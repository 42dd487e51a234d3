"""Bad inputs: one clear line on stderr, exit status 2, never a traceback."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from _cli_support import assert_one_line_error, run_subprocess


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    rng = np.random.default_rng(0)
    np.save(d / "p.npy", rng.random((50, 3)).astype(np.float32))
    np.save(d / "y.npy", rng.integers(0, 3, 50))
    np.save(d / "y40.npy", rng.integers(0, 3, 40))
    np.save(d / "y2d.npy", rng.integers(0, 3, (50, 2)))
    np.save(d / "y_big.npy", np.full(50, 7))
    np.save(d / "yb.npy", rng.integers(0, 2, 50))
    np.save(d / "mask_bad.npy", np.ones((50, 4), bool))
    (d / "junk.npy").write_bytes(b"this is not an npy file")
    (d / "junk.npz").write_bytes(b"nor a zip")
    (d / "notes.txt").write_text("hello")
    np.savez(d / "two.npz", a=np.zeros(50), b=np.zeros(50))
    pd.DataFrame({"s": rng.random(50), "label": rng.integers(0, 2, 50), "name": ["x"] * 50}).to_csv(
        d / "t.csv", index=False)
    return d


CASES = {
    "missing file": (["--preds", "{d}/nope.npy", "--targets", "{d}/y.npy", "--task", "multiclass"], "no such file"),
    "unsupported type": (["--preds", "{d}/notes.txt", "--targets", "{d}/y.npy", "--task", "multiclass"],
                         "unsupported file type"),
    "corrupt npy": (["--preds", "{d}/junk.npy", "--targets", "{d}/y.npy", "--task", "multiclass"],
                    "not a readable .npy"),
    "corrupt npz": (["--preds", "{d}/junk.npz", "--targets", "{d}/y.npy", "--task", "multiclass"],
                    "not a readable .npz"),
    "ambiguous npz": (["--preds", "{d}/two.npz", "--targets", "{d}/y.npy", "--task", "multiclass"],
                      "--key preds=NAME"),
    "unknown npz key": (["--preds", "{d}/two.npz", "--targets", "{d}/y.npy", "--key", "preds=zz", "--task",
                         "multiclass"], "no array 'zz'"),
    "unknown column": (["--preds", "{d}/t.csv", "--targets", "{d}/t.csv", "--column", "preds=score",
                        "targets=label", "--task", "binary"], "no column 'score'"),
    "text column": (["--preds", "{d}/t.csv", "--targets", "{d}/t.csv", "--column", "preds=name",
                     "targets=label", "--task", "binary"], "not numeric"),
    "bad role": (["--preds", "{d}/t.csv", "--targets", "{d}/t.csv", "--column", "scores=s", "--task", "binary"],
                 "role must be one of"),
    "row mismatch": (["--preds", "{d}/p.npy", "--targets", "{d}/y40.npy", "--task", "multiclass"],
                     "p.npy) but --targets has 40 rows ("),
    "shape mismatch": (["--preds", "{d}/p.npy", "--targets", "{d}/y2d.npy", "--task", "multiclass"],
                       "do not match preds"),
    "num classes mismatch": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--task", "multiclass",
                              "--num-classes", "5"], "--num-classes is 5"),
    "label out of range": (["--preds", "{d}/p.npy", "--targets", "{d}/y_big.npy", "--task", "multiclass"],
                           "outside [0, 3)"),
    "binary shape": (["--preds", "{d}/p.npy", "--targets", "{d}/yb.npy", "--task", "binary"], "same shape"),
    "mask shape": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--mask", "{d}/mask_bad.npy", "--task",
                    "multiclass"], "--mask of shape"),
    "bad chunk size": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--task", "multiclass",
                        "--chunk-size", "0"], "--chunk-size"),
    "bad task": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--task", "regression"], "invalid choice"),
    "missing argument": (["--preds", "{d}/p.npy", "--task", "multiclass"], "--targets"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_one_line(run_cli, files, case):
    argv, expected = CASES[case]
    res = run_cli("report", *[a.format(d=files) for a in argv], "--no-plots")
    line = assert_one_line_error(res)
    assert line.startswith("maskjax report: error:")
    assert expected in line, line
    assert res.out == ""


def test_bad_input_subprocess_no_traceback(files, tmp_path):
    res = run_subprocess([sys.executable, "-m", "maskjax", "report", "--preds", str(files / "p.npy"),
                          "--targets", str(files / "y40.npy"), "--task", "multiclass"], cwd=tmp_path)
    line = assert_one_line_error(res)
    assert "rows" in line
