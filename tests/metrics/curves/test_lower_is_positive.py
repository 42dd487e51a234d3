"""``lower_is_positive=True`` (distance-like scores) for ROC / PR / AUROC / AP, exact and binned.

Exact mode equals scikit-learn on the negated scores, with thresholds reported
in the original units (the negated scikit-learn thresholds). Binned mode counts
positive iff ``score <= t``, checked against brute-force counts on scores that
sit exactly on the thresholds.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from curves_data import binary_targets, tied_data
from maskjax import metrics as M
from maskjax.metrics.curves import _binned
from oracles import curves as oc


def close(a, b, tol=2e-5):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=tol, atol=tol)


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("weighted", [False, True])
def test_exact_binary_matches_sklearn_on_negated_scores(seed, weighted):
    rng, s, w = tied_data(seed, 200, weighted=weighted)
    y = 1 - binary_targets(rng, s)                     # a low score means positive
    kw = dict(sample_weight=w, lower_is_positive=True)
    close(M.auroc(s, y, **kw), oc.sk_auroc("binary", y, -s, w))
    close(M.average_precision(s, y, **kw), oc.sk_ap("binary", y, -s, w))
    assert float(M.auroc(s, y, **kw)) > 0.5
    fpr, tpr, th = M.roc_curve(s, y, **kw).trim()
    sk_fpr, sk_tpr, sk_th = oc.sk_roc_curve(y, -s, w)
    close(fpr, sk_fpr), close(tpr, sk_tpr)
    np.testing.assert_array_equal(th, -sk_th)           # original units: -inf first, then increasing
    assert th[0] == -np.inf and np.all(np.diff(th) > 0)
    assert not np.any(np.signbit(th[th == 0]))           # a score 0.0 is reported as +0.0
    p, r, th = M.precision_recall_curve(s, y, **kw).trim()
    sk_p, sk_r, sk_th = oc.sk_pr_curve(y, -s, w)
    close(p, sk_p), close(r, sk_r)
    np.testing.assert_array_equal(th, -sk_th)           # decreasing in the original units


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_exact_multi_matches_sklearn_on_negated_scores(task, average):
    n, k = 120, 4
    rng, s, w = tied_data(5, n, k, levels=5)
    y = rng.integers(0, k, n) if task == "multiclass" else binary_targets(rng, s)
    kw = dict(task=task, num_classes=k, average=average, sample_weight=w)
    close(M.auroc(s, y, **kw, lower_is_positive=True), oc.sk_auroc(task, y, -s, w, average, k))
    close(M.average_precision(s, y, **kw, lower_is_positive=True), oc.sk_ap(task, y, -s, w, average, k))


def _brute(s, y, w, thresholds):
    pos = s[None, :] <= thresholds[:, None]
    tp = (pos * (y == 1) * w).sum(-1)
    fp = (pos * (y == 0) * w).sum(-1)
    return tp, fp, (w * (y == 1)).sum(), (w * (y == 0)).sum()


@pytest.mark.parametrize("thresholds", [11, 101, np.array([0.05, 0.3, 0.5, 0.5001, 0.9], np.float32)])
def test_binned_counts_score_le_threshold(thresholds):
    rng, s, w = tied_data(3, 300, levels=11)           # many scores exactly on linspace(0, 1, 11)
    y = 1 - binary_targets(rng, s)
    kw = dict(thresholds=thresholds, sample_weight=w, lower_is_positive=True)
    roc = M.roc_curve(s, y, **kw)
    th = np.asarray(roc.thresholds)
    assert np.all(np.diff(th) > 0)                      # increasing in the original units
    np.testing.assert_array_equal(th, np.asarray(M.roc_curve(s, y, thresholds=thresholds).thresholds)[::-1])
    tp, fp, npos, nneg = _brute(s.astype(np.float64), y, w.astype(np.float64), th.astype(np.float64))
    close(roc.tpr, tp / npos), close(roc.fpr, fp / nneg)
    pr = M.precision_recall_curve(s, y, **kw)
    th = np.asarray(pr.thresholds)
    assert np.all(np.diff(th) < 0)                      # decreasing in the original units
    tp, fp, npos, _ = _brute(s.astype(np.float64), y, w.astype(np.float64), th.astype(np.float64))
    close(pr.precision[:-1], tp / (tp + fp)), close(pr.recall[:-1], tp / npos)
    # AUROC / AP: the same as binning the negated scores against the negated thresholds.
    neg_thr = -_binned.binned_thresholds(thresholds)[::-1]
    for f in (M.auroc, M.average_precision):
        close(f(s, y, **kw), f(-s, y, thresholds=np.asarray(neg_thr), sample_weight=w))


def test_binned_close_to_exact():
    rng, s, w = tied_data(4, 2000, levels=1000)
    y = 1 - binary_targets(rng, s)
    exact = float(M.auroc(s, y, sample_weight=w, lower_is_positive=True))
    binned = float(M.auroc(s, y, sample_weight=w, lower_is_positive=True, thresholds=1001))
    assert abs(exact - binned) < 2e-3


def test_default_unchanged_jit_and_bad_flag():
    rng, s, w = tied_data(6, 64)
    y = binary_targets(rng, s)
    close(M.auroc(s, y, lower_is_positive=False), M.auroc(s, y))
    f = jax.jit(lambda a, b: M.auroc(a, b, lower_is_positive=True, thresholds=5))
    close(f(s, y), M.auroc(s, y, lower_is_positive=True, thresholds=5))
    close(M.auroc(s, y, lower_is_positive=True), 1 - float(M.auroc(s, y)))   # ties count 1/2 both ways
    with pytest.raises(TypeError, match="lower_is_positive"):
        M.roc_curve(s, y, lower_is_positive=1)
