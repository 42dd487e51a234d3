"""``maskjax report`` on .csv and .parquet files written here with pandas / pyarrow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sklearn.metrics as skm

from _cli_support import assert_valid_png


def _per_class(summary, key):
    return np.array([row[key] for row in summary["per_class"]], dtype=np.float64)


def test_csv_score_columns_label_and_weight(run_cli, tmp_path, multiclass_data):
    data = multiclass_data
    probs, y, w, c = data["probs"], data["y"], data["weights"], data["c"]
    frame = pd.DataFrame(probs, columns=[f"p{i}" for i in range(c)])
    frame["label"] = y
    frame["w"] = w
    frame["note"] = "x"  # a text column the report must not touch
    path = tmp_path / "preds.csv"
    frame.to_csv(path, index=False)
    res = run_cli("report", "--preds", path, "--targets", path, "--weights", path, "--column", "preds=p*",
                  "targets=label", "weights=w", "--task", "multiclass", "--chunk-size", 100, "--json",
                  "--out", tmp_path / "plots")
    assert res.code == 0, res.err
    s = res.json
    assert s["chunks"] == 3
    yhat = probs.argmax(-1)
    p, r, f, sup = skm.precision_recall_fscore_support(y, yhat, labels=range(c), sample_weight=w, zero_division=0)
    np.testing.assert_allclose(_per_class(s, "f1"), f, rtol=1e-5)
    np.testing.assert_allclose(_per_class(s, "support"), sup, rtol=1e-5)
    assert s["overall"]["accuracy"] == pytest.approx(skm.accuracy_score(y, yhat, sample_weight=w), rel=1e-5)
    for path in s["plots"].values():
        assert_valid_png(path)


def test_csv_default_columns(run_cli, tmp_path):
    """Without --column: 'target'/'label' is the target, the remaining numeric columns are the scores."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 120)
    score = np.clip(0.3 * y + rng.uniform(0, 0.7, 120), 0, 1)
    pd.DataFrame({"score": score, "target": y}).to_csv(tmp_path / "b.csv", index=False)
    res = run_cli("report", "--preds", tmp_path / "b.csv", "--targets", tmp_path / "b.csv", "--task", "binary",
                  "--chunk-size", 50, "--json", "--no-plots")
    assert res.code == 0, res.err
    s = res.json
    assert s["chunks"] == 3
    assert s["per_class"][0]["f1"] == pytest.approx(skm.f1_score(y, score > 0.5), rel=1e-5)


def test_csv_with_a_pandas_index_gets_exact_curves_and_no_index_scores(run_cli, tmp_path, multiclass_data):
    """A CSV as pandas writes it by default: the unnamed index column is not a class score (it was
    read as class 0's, accuracy 0.30 for sklearn's 0.70), and its curves are exact like Parquet's
    (a CSV's unknown row count once chose the binned route unless --ci happened to count rows)."""
    data = multiclass_data
    probs, y, c = data["probs"], data["y"], data["c"]
    frame = pd.DataFrame(probs, columns=[f"p{i}" for i in range(c)])
    frame["label"] = y
    frame.to_csv(tmp_path / "d.csv")  # index=True: first column "" -> "Unnamed: 0"
    res = run_cli("report", "--preds", tmp_path / "d.csv", "--targets", tmp_path / "d.csv", "--task", "multiclass",
                  "--json", "--no-plots")
    assert res.code == 0, res.err
    s = res.json
    assert "score columns p0, p1" in res.err
    assert s["overall"]["accuracy"] == pytest.approx(skm.accuracy_score(y, probs.argmax(-1)), rel=1e-6)
    assert s["auroc_route"] == "exact"
    assert s["overall"]["auroc_macro"] == pytest.approx(skm.roc_auc_score(y, probs, multi_class="ovr"), rel=1e-5)


@pytest.mark.parametrize("task,bad", [("multiclass", 5), ("multiclass", -1), ("binary", 2)])
def test_out_of_range_hard_preds_are_refused(run_cli, tmp_path, task, bad):
    """Hard predictions outside the classes once dropped their element from every count silently
    (accuracy 0.75 over 4 rows for sklearn's 0.5 over 6); targets were already refused."""
    preds = [0, 1, 1, bad, 0, 1]
    pd.DataFrame({"pred": preds, "label": [0, 1, 1, 1, 0, 0]}).to_csv(tmp_path / "h.csv", index=False)
    extra = ["--num-classes", 3] if task == "multiclass" else []
    res = run_cli("report", "--preds", tmp_path / "h.csv", "--targets", tmp_path / "h.csv", "--task", task,
                  *extra, "--no-plots")
    assert res.code == 2 and f"hard preds must be" in res.err and f"found {bad}" in res.err, res.err


def test_parquet_row_groups_rechunked_and_list_columns(run_cli, tmp_path):
    """Multi-label scores stored as one list column; row groups (33 rows) differ from the chunk size."""
    rng = np.random.default_rng(2)
    n, labels = 200, 5
    y = (rng.random((n, labels)) < 0.1).astype(np.int8)  # sparse labels
    scores = np.clip(0.5 * y + rng.uniform(0, 0.55, (n, labels)), 0, 1).astype(np.float32)
    table = pa.table({
        "scores": pa.array(list(scores), type=pa.list_(pa.float32())),
        "labels": pa.array(list(y), type=pa.list_(pa.int8())),
    })
    path = tmp_path / "ml.parquet"
    pq.write_table(table, path, row_group_size=33)
    res = run_cli("report", "--preds", path, "--targets", path, "--column", "preds=scores", "targets=labels",
                  "--task", "multilabel", "--chunk-size", 64, "--json", "--out", tmp_path / "plots")
    assert res.code == 0, res.err
    s = res.json
    assert s["chunks"] == 4 and s["rows"] == n
    yhat = (scores > 0.5).astype(int)
    p, r, f, sup = skm.precision_recall_fscore_support(y, yhat, zero_division=0)
    np.testing.assert_allclose(_per_class(s, "f1"), f, rtol=1e-5)
    np.testing.assert_array_equal(_per_class(s, "support"), sup)
    assert s["overall"]["exact_match"] == pytest.approx(skm.accuracy_score(y, yhat), rel=1e-5)
    assert s["overall"]["hamming"] == pytest.approx(skm.hamming_loss(y, yhat), rel=1e-5)
    assert s["averages"]["micro"]["f1"] == pytest.approx(skm.f1_score(y, yhat, average="micro"), rel=1e-5)
    assert s["overall"]["accuracy"] == pytest.approx(1 - skm.hamming_loss(y, yhat), rel=1e-5)
    assert set(s["plots"]) == {"confusion_matrix", "roc_curve", "pr_curve"}
    for path in s["plots"].values():
        assert_valid_png(path)


def test_parquet_scalar_columns(run_cli, tmp_path, multiclass_data):
    data = multiclass_data
    frame = pd.DataFrame(data["logits"], columns=[f"logit_{i}" for i in range(data["c"])])
    frame["y"] = data["y"]
    path = tmp_path / "mc.parquet"
    frame.to_parquet(path, row_group_size=50)
    res = run_cli("report", "--preds", path, "--targets", path, "--column", "targets=y", "--task", "multiclass",
                  "--from-logits", "--chunk-size", 120, "--json", "--no-plots")
    assert res.code == 0, res.err
    yhat = data["logits"].argmax(-1)
    assert res.json["overall"]["accuracy"] == pytest.approx(skm.accuracy_score(data["y"], yhat), rel=1e-6)
    assert res.json["chunks"] == 3


def test_csv_group_codes_keep_their_text_across_chunks(run_cli, tmp_path):
    """Group codes "01", "02", "A1": pandas guessed each chunk's type, so "01" became 1 in chunks
    without "A1" and the report failed ("group value '1' was not seen"); read as text they match
    sklearn on each group, whatever the chunk size."""
    frame = pd.DataFrame({"score": [0.9, 0.2, 0.8, 0.3, 0.4, 0.7], "label": [1, 0, 1, 0, 1, 0],
                          "site": ["01", "01", "02", "02", "A1", "A1"]})
    frame.to_csv(tmp_path / "s.csv", index=False)
    for chunk in (2, 100):
        res = run_cli("report", "--preds", tmp_path / "s.csv", "--targets", tmp_path / "s.csv", "--group-column",
                      "site", "--task", "binary", "--chunk-size", chunk, "--json", "--no-plots")
        assert res.code == 0, res.err
        groups = {g["group"]: g for g in res.json["groups"]}
        assert sorted(groups) == ["01", "02", "A1"]
        for code, g in groups.items():
            part = frame[frame.site == code]
            assert g["accuracy"] == pytest.approx(skm.accuracy_score(part.label, part.score > 0.5)), (chunk, code)
