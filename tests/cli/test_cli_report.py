"""``maskjax report`` end to end on .npy / .npz files written here with NumPy.

Checks: streamed in several chunks == one chunk; == maskjax's one-shot functions;
== scikit-learn; the PNGs are valid images; --json parses.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import sklearn.metrics as skm

import maskjax
from _cli_support import assert_valid_png, run_subprocess

M = maskjax.metrics
PLOTS = ("confusion_matrix", "roc_curve", "pr_curve", "reliability")


@pytest.fixture(scope="module")
def mc_files(tmp_path_factory, multiclass_data):
    d = tmp_path_factory.mktemp("mc")
    np.save(d / "probs.npy", multiclass_data["probs"])
    np.save(d / "logits.npy", multiclass_data["logits"])
    np.save(d / "labels.npy", multiclass_data["y"])
    np.save(d / "weights.npy", multiclass_data["weights"])
    return d


def _per_class(summary, key):
    return np.array([row[key] for row in summary["per_class"]], dtype=np.float64)


def test_streamed_equals_one_shot_and_references(run_cli, mc_files, multiclass_data, tmp_path):
    d, data = mc_files, multiclass_data
    args = ("report", "--preds", d / "probs.npy", "--targets", d / "labels.npy", "--task", "multiclass",
            "--json", "--out", tmp_path / "plots")
    streamed = run_cli(*args, "--chunk-size", 100)  # 3 chunks of 100 rows
    ragged = run_cli(*args, "--chunk-size", 70, "--no-plots")  # 5 chunks, the last one padded
    assert streamed.code == ragged.code == 0, streamed.err + ragged.err
    s, r = streamed.json, ragged.json
    assert (s["chunks"], r["chunks"]) == (3, 5)
    assert s["rows"] == r["rows"] == 300
    for other in (r,):  # counts and every ratio computed from them: identical
        assert other["confusion_matrix"] == s["confusion_matrix"]
        for key in ("precision", "recall", "f1", "support", "auroc", "average_precision"):
            np.testing.assert_allclose(_per_class(other, key), _per_class(s, key), rtol=1e-6)
        for avg, values in s["averages"].items():
            assert other["averages"][avg] == pytest.approx(values, rel=1e-6)
        assert other["overall"] == pytest.approx(s["overall"], rel=1e-5)

    probs, y, c = data["probs"], data["y"], data["c"]
    kw = dict(task="multiclass", num_classes=c)
    # maskjax one-shot functions
    np.testing.assert_allclose(_per_class(s, "precision"), M.precision(probs, y, average=None, **kw), rtol=1e-6)
    np.testing.assert_allclose(_per_class(s, "recall"), M.recall(probs, y, average=None, **kw), rtol=1e-6)
    np.testing.assert_allclose(_per_class(s, "f1"), M.f1_score(probs, y, average=None, **kw), rtol=1e-6)
    np.testing.assert_array_equal(s["confusion_matrix"], M.confusion_matrix(probs, y, **kw))
    assert s["overall"]["accuracy"] == pytest.approx(float(M.accuracy(probs, y, **kw)), rel=1e-6)
    # the file fits in memory: exact AUROC / AP (the auto route), as the one-shot exact functions
    assert s["auroc_route"] == r["auroc_route"] == "exact"
    np.testing.assert_allclose(_per_class(s, "auroc"), M.auroc(probs, y, average=None, **kw), rtol=1e-5)
    np.testing.assert_allclose(_per_class(s, "average_precision"),
                               M.average_precision(probs, y, average=None, **kw), rtol=1e-5)
    ce = maskjax.losses.cross_entropy(probs, y, from_logits=False)
    assert s["overall"]["cross_entropy"] == pytest.approx(float(ce), rel=1e-5)
    # scikit-learn
    yhat = probs.argmax(-1)
    p, rc, f, sup = skm.precision_recall_fscore_support(y, yhat, labels=range(c), zero_division=0)
    np.testing.assert_allclose(_per_class(s, "precision"), p, rtol=1e-5)
    np.testing.assert_allclose(_per_class(s, "recall"), rc, rtol=1e-5)
    np.testing.assert_allclose(_per_class(s, "f1"), f, rtol=1e-5)
    np.testing.assert_array_equal(_per_class(s, "support"), sup)
    np.testing.assert_array_equal(s["confusion_matrix"], skm.confusion_matrix(y, yhat, labels=range(c)))
    assert s["overall"]["accuracy"] == pytest.approx(skm.accuracy_score(y, yhat), rel=1e-6)
    assert s["overall"]["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, yhat), rel=1e-5)
    assert s["averages"]["macro"]["f1"] == pytest.approx(skm.f1_score(y, yhat, average="macro"), rel=1e-5)
    assert s["averages"]["weighted"]["precision"] == pytest.approx(
        skm.precision_score(y, yhat, average="weighted"), rel=1e-5)
    assert s["overall"]["cross_entropy"] == pytest.approx(skm.log_loss(y, probs, labels=range(c)), rel=1e-4)
    # exact route = scikit-learn
    yb = np.eye(c)[y]
    np.testing.assert_allclose(_per_class(s, "auroc"), skm.roc_auc_score(yb, probs, average=None), rtol=1e-5)
    np.testing.assert_allclose(_per_class(s, "average_precision"), skm.average_precision_score(yb, probs, average=None),
                               rtol=1e-5)
    assert s["overall"]["auroc_macro"] == pytest.approx(skm.roc_auc_score(y, probs, multi_class="ovr"), rel=1e-5)
    # --binned forces the streaming route: curves binned at 200 thresholds, close to the exact values
    binned = run_cli(*args, "--chunk-size", 100, "--no-plots", "--binned").json
    assert binned["auroc_route"] == "binned"
    np.testing.assert_allclose(_per_class(binned, "auroc"),
                               M.auroc(probs, y, thresholds=200, average=None, **kw), rtol=1e-5)
    np.testing.assert_allclose(_per_class(binned, "average_precision"),
                               M.average_precision(probs, y, thresholds=200, average=None, **kw), rtol=1e-5)
    np.testing.assert_allclose(_per_class(binned, "auroc"), _per_class(s, "auroc"), atol=5e-3)
    # plots
    assert sorted(s["plots"]) == sorted(PLOTS)
    for name in PLOTS:
        assert s["plots"][name] == os.path.join(str(tmp_path / "plots"), name + ".png")
        assert_valid_png(s["plots"][name])


def test_logits_and_weights(run_cli, mc_files, multiclass_data):
    d, data = mc_files, multiclass_data
    res = run_cli("report", "--preds", d / "logits.npy", "--targets", d / "labels.npy", "--weights",
                  d / "weights.npy", "--task", "multiclass", "--from-logits", "--chunk-size", 128, "--json",
                  "--no-plots")
    assert res.code == 0, res.err
    s = res.json
    assert s["chunks"] == 3
    y, w, logits, c = data["y"], data["weights"], data["logits"], data["c"]
    yhat = logits.argmax(-1)
    p, rc, f, sup = skm.precision_recall_fscore_support(y, yhat, labels=range(c), sample_weight=w, zero_division=0)
    np.testing.assert_allclose(_per_class(res.json, "precision"), p, rtol=1e-5)
    np.testing.assert_allclose(_per_class(res.json, "recall"), rc, rtol=1e-5)
    np.testing.assert_allclose(_per_class(res.json, "support"), sup, rtol=1e-6)
    assert s["overall"]["accuracy"] == pytest.approx(skm.accuracy_score(y, yhat, sample_weight=w), rel=1e-5)
    probs = data["probs"]
    assert s["overall"]["cross_entropy"] == pytest.approx(
        skm.log_loss(y, probs, sample_weight=w, labels=range(c)), rel=1e-4)
    np.testing.assert_allclose(
        s["confusion_matrix"], skm.confusion_matrix(y, yhat, labels=range(c), sample_weight=w), rtol=1e-6)
    # exact route with weights = scikit-learn's weighted one-vs-rest AUROC
    np.testing.assert_allclose(_per_class(s, "auroc"),
                               skm.roc_auc_score(np.eye(c)[y], probs, average=None, sample_weight=w), rtol=1e-4)


def test_npz_sequences_with_mask(run_cli, tmp_path):
    """[B, T, C] scores, [B, T] targets and a [B, T] padding mask in one .npz, streamed over B."""
    rng = np.random.default_rng(3)
    b, t, c = 20, 9, 3
    lengths = rng.integers(2, t + 1, b)
    mask = np.arange(t)[None, :] < lengths[:, None]
    y = rng.integers(0, c, (b, t))
    logits = rng.normal(size=(b, t, c)).astype(np.float32) + 1.5 * np.eye(c, dtype=np.float32)[y]
    y[~mask] = 0
    logits[~mask] = np.array([9.0, 0.0, 0.0])  # padding "predicted perfectly" as class 0
    path = tmp_path / "seq.npz"
    np.savez_compressed(path, logits=logits, labels=y, keep=mask)
    res = run_cli("report", "--preds", path, "--targets", path, "--mask", path, "--key", "preds=logits",
                  "targets=labels", "mask=keep", "--task", "multiclass", "--from-logits", "--chunk-size", 7,
                  "--json", "--no-plots")
    assert res.code == 0, res.err
    s = res.json
    assert s["chunks"] == 3 and s["rows"] == b
    yt, yp = y[mask], logits.argmax(-1)[mask]
    p, rc, f, sup = skm.precision_recall_fscore_support(yt, yp, labels=range(c), zero_division=0)
    np.testing.assert_allclose(_per_class(s, "f1"), f, rtol=1e-5)
    np.testing.assert_array_equal(_per_class(s, "support"), sup)
    assert s["overall"]["accuracy"] == pytest.approx(skm.accuracy_score(yt, yp), rel=1e-6)
    masked_ce = maskjax.losses.cross_entropy(logits, y, mask=mask)
    assert s["overall"]["cross_entropy"] == pytest.approx(float(masked_ce), rel=1e-5)
    np.testing.assert_allclose(_per_class(s, "auroc"), M.auroc(logits, y, task="multiclass", num_classes=c,
                                                              from_logits=True, average=None,
                                                              mask=mask), rtol=1e-5)


def test_binary_threshold_npz_uncompressed(run_cli, tmp_path):
    rng = np.random.default_rng(5)
    n = 250
    y = rng.integers(0, 2, n)
    scores = np.clip(0.35 * y + rng.uniform(0, 0.65, n), 0, 1).astype(np.float32)
    np.savez(tmp_path / "bin.npz", preds=scores, targets=y)
    res = run_cli("report", "--preds", tmp_path / "bin.npz", "--targets", tmp_path / "bin.npz", "--task",
                  "binary", "--threshold", 0.4, "--chunk-size", 80, "--json", "--out", tmp_path / "plots")
    assert res.code == 0, res.err
    s = res.json
    assert s["chunks"] == 4
    yhat = (scores > 0.4).astype(int)
    row = s["per_class"][0]
    assert row["precision"] == pytest.approx(skm.precision_score(y, yhat), rel=1e-5)
    assert row["recall"] == pytest.approx(skm.recall_score(y, yhat), rel=1e-5)
    assert row["f1"] == pytest.approx(skm.f1_score(y, yhat), rel=1e-5)
    assert s["confusion_matrix"] == skm.confusion_matrix(y, yhat).tolist()
    assert s["auroc_route"] == "exact"
    assert s["overall"]["auroc"] == pytest.approx(skm.roc_auc_score(y, scores), rel=1e-5)
    assert s["overall"]["average_precision"] == pytest.approx(skm.average_precision_score(y, scores), rel=1e-5)
    assert s["overall"]["binary_cross_entropy"] == pytest.approx(skm.log_loss(y, scores), rel=1e-4)
    for path in s["plots"].values():
        assert_valid_png(path)


def test_text_table_and_subprocess(tmp_path, mc_files):
    """The human-readable table through a real process (the console entry point's code path)."""
    d = mc_files
    res = run_subprocess([sys.executable, "-m", "maskjax", "report", "--preds", str(d / "probs.npy"),
                          "--targets", str(d / "labels.npy"), "--task", "multiclass", "--chunk-size", "100",
                          "--class-names", "cat,dog,eel,fox", "--out", "plots"], cwd=tmp_path)
    assert res.code == 0, res.err
    assert "Traceback" not in res.err
    out = res.out
    assert "300 rows in 3 chunk(s)" in out
    for token in ("class", "precision", "recall", "F1", "support", "AUROC", "AP", "cat", "fox",
                  "macro avg", "weighted avg", "accuracy", "cross entropy", "Plots written to"):
        assert token in out, token
    for name in PLOTS:
        assert_valid_png(tmp_path / "plots" / f"{name}.png")


def test_readers_stream_without_loading(tmp_path):
    """.npy is memory-mapped; .npz members are read row-block by row-block (compressed or not)."""
    from maskjax.app import readers as _readers

    a = np.arange(1000 * 3, dtype=np.float32).reshape(1000, 3)
    np.save(tmp_path / "a.npy", a)
    np.savez_compressed(tmp_path / "c.npz", preds=a)
    np.savez(tmp_path / "u.npz", preds=a, other=a[:5])
    src = _readers.open_source(str(tmp_path / "a.npy"), "preds")
    assert isinstance(src.array, np.memmap)
    for path in ("a.npy", "c.npz", "u.npz"):
        src = _readers.open_source(str(tmp_path / path), "preds")
        chunks = list(src.chunks(300))
        assert [len(c) for c in chunks] == [300, 300, 300, 100]
        np.testing.assert_array_equal(np.concatenate(chunks), a)
