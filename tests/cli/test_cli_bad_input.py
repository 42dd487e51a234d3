"""Issue 13, item CLI: every bad file or option gives ONE line on stderr and exit code 2.

String labels in a ``.npy`` are refused (not mapped to names): the CLI streams chunks, and a
name -> id mapping would need every distinct value of every file before the first chunk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _cli_support import assert_one_line_error, softmax


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad13")
    rng = np.random.default_rng(1)
    p = rng.random(20).astype(np.float32)
    np.save(d / "p.npy", p)
    np.save(d / "y.npy", rng.integers(0, 2, 20))
    np.save(d / "pc.npy", softmax(rng.normal(size=(20, 3))).astype(np.float32))
    np.save(d / "ystr.npy", np.array(["cat", "dog", "emu"] * 6 + ["cat", "dog"]))
    np.save(d / "ybytes.npy", np.array([b"cat", b"dog"] * 10))
    np.savez(d / "ystr.npz", targets=np.array(["a", "b"] * 10))
    w = np.ones(20, np.float32)
    w[3] = np.nan
    np.save(d / "w_nan.npy", w)
    w = np.ones(20, np.float32)
    w[5] = -1.0
    np.save(d / "w_neg.npy", w)
    w = np.ones(20, np.float32)
    w[0] = np.inf
    np.save(d / "w_inf.npy", w)
    np.save(d / "mask_str.npy", np.array(["yes", "no"] * 10))
    np.save(d / "mask_half.npy", np.array([1.0] * 7 + [0.5] + [0.0] * 12))
    pd.DataFrame({"p": p, "label": rng.integers(0, 2, 20), "w": [1.0] * 19 + [-2.0],
                  "m": ["yes", "no"] * 10}).to_csv(d / "t.csv", index=False)
    pd.DataFrame({"p": p, "label": rng.integers(0, 2, 20), "w": [1.0] * 19 + [np.nan]}).to_csv(
        d / "t_nan.csv", index=False)
    # line 1 header, line 4 short (2 fields of 3)
    (d / "ragged_short.csv").write_text("p,label,w\n0.1,1,1\n0.2,0,1\n0.3,1\n0.4,0,1\n")
    # line 3 long (4 fields of 3)
    (d / "ragged_long.csv").write_text("p,label,w\n0.1,1,1\n0.2,0,1,9\n0.3,1,1\n")
    # every data row long (pandas would take column 0 as the index)
    (d / "ragged_all.csv").write_text("p,label\n0.1,1,3\n0.2,0,4\n")
    (d / "header_only.csv").write_text("p,label\n")
    pd.DataFrame({"p": p, "label": rng.integers(0, 2, 20), "w": [1.0] * 10 + [np.nan] + [1.0] * 9,
                  "m": ["a"] * 20}).to_parquet(d / "t.parquet", index=False)
    return d


T = ["--task", "binary"]
CASES = {
    "string-labels-npy": (["--preds", "{d}/pc.npy", "--targets", "{d}/ystr.npy", "--task", "multiclass"],
                          ["--targets", "ystr.npy", "holds strings", "--class-names"]),
    "bytes-labels-npy": (["--preds", "{d}/p.npy", "--targets", "{d}/ybytes.npy", *T],
                         ["--targets", "byte strings"]),
    "string-labels-npz": (["--preds", "{d}/p.npy", "--targets", "{d}/ystr.npz", *T],
                          ["--targets", "ystr.npz", "holds strings"]),
    "weights-nan-npy": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--weights", "{d}/w_nan.npy", *T],
                        ["--weights", "w_nan.npy", "1 NaN weight", "data row 3"]),
    "weights-negative-npy": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--weights", "{d}/w_neg.npy",
                              *T], ["--weights", "w_neg.npy", "negative", "data row 5"]),
    "weights-inf-npy": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--weights", "{d}/w_inf.npy", *T],
                        ["--weights", "w_inf.npy", "infinite"]),
    "weights-negative-csv-column": (["--preds", "{d}/t.csv", "--targets", "{d}/t.csv", "--weights", "{d}/t.csv",
                                     "--column", "preds=p", "targets=label", "weights=w", *T],
                                    ["--weights", "t.csv", "negative", "data row 19"]),
    "weights-nan-csv-column": (["--preds", "{d}/t_nan.csv", "--targets", "{d}/t_nan.csv", "--weights",
                                "{d}/t_nan.csv", "--column", "preds=p", "targets=label", "weights=w", *T],
                               ["--weights", "t_nan.csv", "NaN"]),
    "threshold-nan": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--threshold", "nan", *T],
                      ["--threshold", "nan"]),
    "threshold-inf": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--threshold", "inf", *T],
                      ["--threshold", "inf"]),
    "threshold-above-1": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--threshold", "1.5", *T],
                          ["--threshold", "[0, 1]", "1.5"]),
    "threshold-negative": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--threshold", "-0.1", *T],
                           ["--threshold", "-0.1"]),
    "string-mask-npy": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--mask", "{d}/mask_str.npy", *T],
                        ["--mask", "mask_str.npy", "strings"]),
    "fractional-mask-npy": (["--preds", "{d}/p.npy", "--targets", "{d}/y.npy", "--mask", "{d}/mask_half.npy",
                             *T], ["--mask", "mask_half.npy", "other than 0 / 1", "0.5", "data row 7"]),
    "string-mask-csv-column": (["--preds", "{d}/t.csv", "--targets", "{d}/t.csv", "--mask", "{d}/t.csv",
                                "--column", "preds=p", "targets=label", "mask=m", *T],
                               ["--mask", "'m'", "not numeric"]),
    "ragged-csv-short-row": (["--preds", "{d}/ragged_short.csv", "--targets", "{d}/ragged_short.csv",
                              "--column", "preds=p", "targets=label", *T],
                             ["ragged", "line 4 has 2 field(s), the header has 3"]),
    "ragged-csv-long-row": (["--preds", "{d}/ragged_long.csv", "--targets", "{d}/ragged_long.csv",
                             "--column", "preds=p", "targets=label", *T],
                            ["ragged", "line 3 has 4 field(s), the header has 3"]),
    "ragged-csv-every-row-long": (["--preds", "{d}/ragged_all.csv", "--targets", "{d}/ragged_all.csv",
                                   "--column", "preds=p", "targets=label", *T],
                                  ["ragged", "line 2 has 3 field(s), the header has 2"]),
    "weights-nan-parquet-column": (["--preds", "{d}/t.parquet", "--targets", "{d}/t.parquet", "--weights",
                                    "{d}/t.parquet", "--column", "preds=p", "targets=label", "weights=w", *T],
                                   ["--weights", "'w'", "t.parquet", "missing values"]),  # pandas writes NaN as null
    "string-mask-parquet-column": (["--preds", "{d}/t.parquet", "--targets", "{d}/t.parquet", "--mask",
                                    "{d}/t.parquet", "--column", "preds=p", "targets=label", "mask=m", *T],
                                   ["--mask", "'m'", "not numeric"]),
    "header-only-csv": (["--preds", "{d}/header_only.csv", "--targets", "{d}/header_only.csv",
                         "--column", "preds=p", "targets=label", *T],
                        ["header_only.csv", "empty", "no data rows"]),
}


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
def test_bad_input_one_line_exit_2(run_cli, d, case):
    argv, expected = CASES[case]
    res = run_cli("report", *[a.format(d=d) for a in argv], "--no-plots")
    line = assert_one_line_error(res)  # exit 2, one line, no traceback
    assert line.startswith("maskjax report: error:"), line
    for part in expected:
        assert part in line, (part, line)
    assert "fractional" not in line
    assert "not numeric" not in line or case.startswith("string-mask-")
    assert res.out == ""


def test_nan_cell_that_is_not_ragged_is_not_called_ragged(run_cli, d, tmp_path):
    """A NaN weight written as an empty cell in a well-formed row: the weight policy, not 'ragged'."""
    path = tmp_path / "cell.csv"
    path.write_text("p,label,w\n0.2,0,1\n0.7,1,\n")
    res = run_cli("report", "--preds", path, "--targets", path, "--weights", path, "--column", "preds=p",
                  "targets=label", "weights=w", "--task", "binary", "--no-plots")
    line = assert_one_line_error(res)
    assert "NaN weight" in line and "data row 1" in line and "ragged" not in line


def test_glob_columns_natural_order(run_cli, tmp_path):
    """Columns p0, p1, p10, p11, p2, ... in file order: the glob takes them as p0, p1, p2, ..., p11.

    Oracle: the same data written with columns in natural order and named one by one.
    """
    rng = np.random.default_rng(3)
    n, c = 400, 12
    y = rng.integers(0, c, n)
    logits = rng.normal(size=(n, c))
    logits[np.arange(n), y] += 3.0
    probs = softmax(logits)
    natural = {f"p{i}": probs[:, i] for i in range(c)}
    file_order = sorted(natural)  # lexicographic: p0, p1, p10, p11, p2, ...
    assert file_order[:4] == ["p0", "p1", "p10", "p11"]
    shuffled = tmp_path / "lex.csv"
    pd.DataFrame({**{k: natural[k] for k in file_order}, "label": y}).to_csv(shuffled, index=False)
    res = run_cli("report", "--preds", shuffled, "--targets", shuffled, "--column", "preds=p*",
                  "targets=label", "--task", "multiclass", "--no-plots", "--json")
    assert res.code == 0, res.err
    order = ", ".join(f"p{i}" for i in range(c))
    assert f"used in this order (natural order of their numbers): {order}" in res.err
    named = run_cli("report", "--preds", shuffled, "--targets", shuffled, "--column",
                    "preds=" + ",".join(f"p{i}" for i in range(c)), "targets=label", "--task", "multiclass",
                    "--no-plots", "--json")
    assert named.code == 0, named.err
    expected_acc = float(np.mean(np.argmax(probs, 1) == y))  # argmax over p0..p11 in natural order
    assert res.json["overall"]["accuracy"] == pytest.approx(expected_acc, abs=1e-6)
    assert named.json["overall"]["accuracy"] == pytest.approx(expected_acc, abs=1e-6)
    assert expected_acc > 0.8


def test_natural_key():
    from maskjax.app.readers import natural_key

    assert sorted(["p10", "p2", "p1", "p0", "p11"], key=natural_key) == ["p0", "p1", "p2", "p10", "p11"]
    assert sorted(["b2", "a10", "a9"], key=natural_key) == ["a9", "a10", "b2"]


def test_demo_balanced_class_weights_match_sklearn(run_cli):
    """The demo's class weights (weights.balanced, task="multiclass", real steps only) = sklearn 'balanced'."""
    import maskjax
    from sklearn.utils.class_weight import compute_class_weight

    from maskjax.app import demo_data

    res = run_cli("demo", "--no-plots")
    assert res.code == 0, res.err
    line = next(ln for ln in res.out.splitlines() if ln.startswith("Balanced class weights"))
    printed = [float(v) for v in line.split(":", 1)[1].split(",")]
    data = demo_data.sequence_batch(seed=0)
    mask = np.asarray(maskjax.masks.from_lengths(data.lengths, data.logits.shape[1])).astype(bool)
    kept = np.asarray(data.labels)[mask]
    expected = compute_class_weight("balanced", classes=np.arange(data.num_classes), y=kept)
    np.testing.assert_allclose(printed, expected, atol=5e-3)  # printed with 2 decimals


def test_string_labels_subprocess_one_line(d, tmp_path):
    """The issue's case end to end: `python -m maskjax report` with string labels: exit 2, one line."""
    import sys

    from _cli_support import run_subprocess

    res = run_subprocess([sys.executable, "-m", "maskjax", "report", "--preds", str(d / "pc.npy"), "--targets",
                          str(d / "ystr.npy"), "--task", "multiclass", "--no-plots"], cwd=tmp_path)
    line = assert_one_line_error(res)
    assert "holds strings" in line and "ystr.npy" in line
