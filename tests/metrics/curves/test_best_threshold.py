"""best_threshold: optimal over every distinct cut point (brute force) and reproducible via `>`."""

from __future__ import annotations

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

from curves_data import binary_targets, tied_data
from maskjax import metrics as M

N = 48
CRITERIA = [("f1", {}), ("fbeta", {"beta": 2.0}), ("fbeta", {"beta": 0.5}), ("youden", {}), ("accuracy", {}),
            ("recall_at_precision", {"min_precision": 0.7}), ("precision_at_recall", {"min_recall": 0.6})]


def strict_value(s, y, w, pred, criterion, kw):
    """The criterion of hard predictions `pred` (numpy, float64)."""
    tp = np.sum(w * (y == 1) * pred); fp = np.sum(w * (y == 0) * pred)
    fn = np.sum(w * (y == 1) * ~pred); tn = np.sum(w * (y == 0) * ~pred)
    div = lambda a, b: a / b if b > 0 else 0.0  # noqa: E731
    prec, rec = div(tp, tp + fp), div(tp, tp + fn)
    if criterion in ("f1", "fbeta"):
        b2 = kw.get("beta", 1.0) ** 2
        return div((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp), True
    if criterion == "youden":
        return div(tp, tp + fn) - div(fp, fp + tn), True
    if criterion == "accuracy":
        return div(tp + tn, tp + tn + fp + fn), True
    if criterion == "recall_at_precision":
        return rec, prec >= kw["min_precision"]
    return prec, rec >= kw["min_recall"]


def brute_force(s, y, w, criterion, kw):
    kept = w != 0
    cuts = [np.zeros_like(kept)] + [(s >= c) for c in np.unique(s[kept])]
    vals = [strict_value(s, y, w, c & kept, criterion, kw) for c in cuts]
    feasible = [v for v, ok in vals if ok]
    return max(feasible) if feasible else 0.0


_jitted = {}


def run(criterion, kw, s, y, m, w, lower=False):
    key = (criterion, tuple(kw.items()), lower)
    if key not in _jitted:
        _jitted[key] = jax.jit(lambda s, y, m, w: M.best_threshold(
            s, y, criterion=criterion, mask=m, sample_weight=w, lower_is_positive=lower, **kw))
    return _jitted[key](s, y, m, w)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), levels=st.sampled_from([3, 10, 1000]), n_kept=st.integers(1, N))
def test_optimal_and_reproducible(seed, levels, n_kept):
    rng, s, w = tied_data(seed, N, levels=levels)
    y = binary_targets(rng, s)
    m = np.zeros(N, bool)
    m[rng.permutation(N)[:n_kept]] = True
    wk = np.where(m, w, 0).astype(np.float64)
    for criterion, kw in CRITERIA:
        t, v = run(criterion, kw, s, y, m, w)
        t, v = np.float32(t), float(v)
        assert t.dtype == np.float32
        np.testing.assert_allclose(v, brute_force(s, y, wk, criterion, kw), rtol=1e-5, atol=1e-6)
        reproduced, ok = strict_value(s, y, wk, (s > t) & m, criterion, kw)   # strict `>`, exact threshold
        np.testing.assert_allclose(reproduced, v, rtol=1e-5, atol=1e-6)


def test_lower_is_positive_distances():
    rng, s, w = tied_data(3, N, levels=12)
    y = binary_targets(rng, 1 - s)                     # small distance ⇒ positive
    m = np.ones(N, bool)
    t, v = run("f1", {}, s, y, m, w, lower=True)
    brute = brute_force(-s, y, w.astype(np.float64), "f1", {})
    np.testing.assert_allclose(float(v), brute, rtol=1e-5)
    reproduced, _ = strict_value(s, y, w.astype(np.float64), s < np.float32(t), "f1", {})
    np.testing.assert_allclose(reproduced, float(v), rtol=1e-5)


def test_matches_f1_score_at_threshold():
    rng, s, w = tied_data(4, 200, levels=25)
    y = binary_targets(rng, s)
    t, v = M.best_threshold(s, y, criterion="f1", sample_weight=w)
    np.testing.assert_allclose(float(M.f1_score(s, y, task="binary", threshold=t, sample_weight=w)), float(v),
                               rtol=1e-6)
    # nextafter: the cut sits just below a score, so `>` keeps that score
    assert np.any(s > t) and np.float32(np.nextafter(t, np.float32(np.inf))) in s


def test_multilabel_per_label_and_degenerate():
    rng, s, w = tied_data(5, 60, 3, levels=8)
    y = binary_targets(rng, s)
    t, v = M.best_threshold(s, y, task="multilabel", criterion="youden")
    assert t.shape == v.shape == (3,)
    for k in range(3):
        tk, vk = M.best_threshold(s[:, k], y[:, k], criterion="youden")
        assert float(tk) == float(t[k]) and float(vk) == float(v[k])
    # nothing kept: "nothing positive", value 0, never raises
    t, v = M.best_threshold(s[:, 0], y[:, 0], mask=np.zeros(60, bool))
    assert float(v) == 0.0 and np.isinf(float(t))
    # infeasible constraint: nothing positive
    t, v = M.best_threshold(s[:, 0], np.zeros(60, int), criterion="recall_at_precision", min_precision=0.5)
    assert float(v) == 0.0 and not np.any(s[:, 0] > t)


def test_bad_arguments():
    with pytest.raises(ValueError, match="criterion"):
        M.best_threshold([.1, .2], [0, 1], criterion="f2")
    with pytest.raises(ValueError, match="min_precision"):
        M.best_threshold([.1, .2], [0, 1], criterion="recall_at_precision")
