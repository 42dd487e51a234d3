"""Property tests: every confusion-matrix metric × average × zero_division vs scikit-learn.

Fixed padded shapes (the padding is a mask), random sample weights (with
zeros), class weights, classes absent from targets and/or predictions. The
metrics run eagerly: their data pass is one shared jitted program per task, so
the whole table compiles once. The references get the kept elements only (so
mask ≡ slicing is checked too).
"""

from __future__ import annotations

import math

import hypothesis.strategies as st
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

from maskjax import metrics as M
from oracles import metrics as om

NAN = math.nan
ZDS = (0.0, 1.0, NAN)
N, C, L = 20, 4, 5
RATIO = {  # name -> (maskjax fn, extra kwargs)
    "precision": (M.precision, {}),
    "recall": (M.recall, {}),
    "f1": (M.f1_score, {}),
    "fbeta": (M.fbeta_score, {"beta": 0.5}),
    "dice": (M.dice_score, {}),
    "jaccard": (M.jaccard_index, {}),
    "specificity": (M.specificity, {}),
}
SAMPLES_OK = ("precision", "recall", "f1", "fbeta", "dice", "jaccard")


def close(got, want, what):
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64),
                               rtol=2e-5, atol=2e-6, equal_nan=True, err_msg=what)


class _Oracle:
    """scikit-learn values of the ratio metrics, one real call per (group, average, labels, zd)."""

    def __init__(self, y, yh, *, task, sw):
        self.y, self.yh, self.task, self.sw, self.cache = y, yh, task, sw, {}

    def __call__(self, name, *, average, zd, labels):
        group = "prf" if name in ("precision", "recall", "f1", "dice") else name
        key = (group, average, None if labels is None else tuple(labels), repr(zd))
        kw = dict(task=self.task, average=average, zero_division=zd, sample_weight=self.sw,
                  labels=labels)
        if key not in self.cache:
            if group == "prf":
                self.cache[key] = om.sklearn_prf(self.y, self.yh, **kw)
            elif group == "specificity":
                self.cache[key] = om.sklearn_specificity(self.y, self.yh, **kw)
            else:
                self.cache[key] = om.sklearn_metric(name, self.y, self.yh, beta=0.5, **kw)
        value = self.cache[key]
        if group == "prf":
            return value[{"precision": 0, "recall": 1}.get(name, 2)]
        return value


def _draw_common(data, rng_seed, n):
    rng = np.random.default_rng(rng_seed)
    keep = rng.random(n) < data.draw(st.sampled_from([0.5, 0.8, 1.0]), label="keep_rate")
    keep[rng.integers(n)] = True  # at least one kept element
    w = rng.uniform(0.0, 2.0, n).astype(np.float32)
    w[rng.random(n) < 0.2] = 0.0
    return rng, keep, w


# --------------------------------------------------------------------------- #
# multiclass: one test case per metric × average (the id names what broke)
# --------------------------------------------------------------------------- #
MC_CM_NORMS = (None, "true", "pred", "all")
MC_AVERAGES = (("micro", "auto"), ("macro", "auto"), ("macro", "include"), ("weighted", "auto"), (None, "auto"))
MC_CASES = ([(name, avg, absent) for name in RATIO for avg, absent in MC_AVERAGES]
            + [(name,) for name in ("accuracy", "hamming", "balanced_accuracy", "mcc")]
            + [("kappa", weights) for weights in (None, "linear", "quadratic")]
            + [("cm", norm) for norm in MC_CM_NORMS])


def _case_id(case):
    return "-".join(str(c) for c in case)


def _multiclass_value(case, yh, y, mask, w, cw):
    """maskjax's value(s) of one case: a dict zero_division -> value (or {None: value})."""
    kw = dict(task="multiclass", num_classes=C, mask=mask, sample_weight=w, class_weight=cw)
    name = case[0]
    if name in RATIO:
        fn, extra = RATIO[name]
        return {zd: fn(yh, y, average=case[1], absent_classes=case[2], zero_division=zd, **kw, **extra)
                for zd in ZDS}
    if name in ("accuracy", "hamming", "balanced_accuracy", "mcc"):
        fn = {"accuracy": M.accuracy, "hamming": M.hamming_distance, "balanced_accuracy": M.balanced_accuracy,
              "mcc": M.matthews_corrcoef}[name]
        return {zd: fn(yh, y, zero_division=zd, **kw) for zd in ZDS}
    if name == "kappa":
        return {None: M.cohen_kappa(yh, y, weights=case[1], **kw)}
    return {None: M.confusion_matrix(yh, y, normalize=case[1], **kw)}


@pytest.mark.parametrize("case", MC_CASES, ids=_case_id)
@settings(max_examples=8)
@given(data=st.data())
def test_multiclass_vs_sklearn(case, data):
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng, keep, w = _draw_common(data, seed, N)
    t_classes = data.draw(st.lists(st.integers(0, C - 1), min_size=1, max_size=C, unique=True))
    p_classes = data.draw(st.lists(st.integers(0, C - 1), min_size=1, max_size=C, unique=True))
    y = rng.choice(t_classes, N).astype(np.int32)
    yh = rng.choice(p_classes, N).astype(np.int32)
    cw = rng.uniform(0.2, 2.0, C).astype(np.float32)
    out = _multiclass_value(case, yh, y, keep, w, cw)

    ys, yhs = y[keep], yh[keep]
    sw = (w * cw[y])[keep].astype(np.float64)
    oracle = _Oracle(ys, yhs, task="multiclass", sw=sw)
    for zd, got in out.items():
        key = case + (zd,)
        if case[0] in RATIO:
            name, avg, absent = case
            # micro: every class counts (tn of absent classes matter for specificity: torchmetrics).
            labels = list(range(C)) if (absent == "include" or avg in (None, "micro")) else None
            want = oracle(name, average=avg, zd=zd, labels=labels)
        elif case[0] == "accuracy":
            want = om.sklearn_metric("accuracy", ys, yhs, task="multiclass", sample_weight=sw)
        elif case[0] == "hamming":
            want = 1.0 - om.sklearn_metric("accuracy", ys, yhs, task="multiclass", sample_weight=sw)
        elif case[0] == "balanced_accuracy":
            want = om.sklearn_metric("balanced_accuracy", ys, yhs, task="multiclass", sample_weight=sw)
        elif case[0] == "mcc":
            want = om.sklearn_metric("mcc", ys, yhs, task="multiclass", sample_weight=sw)
        elif case[0] == "kappa":
            want = om.sklearn_metric("kappa", ys, yhs, task="multiclass", sample_weight=sw,
                                     weights=case[1])
        else:
            want = om.sklearn_metric("confusion_matrix", ys, yhs, task="multiclass", sample_weight=sw,
                                     labels=list(range(C)), normalize=case[1])
        close(got, want, str(key))


# --------------------------------------------------------------------------- #
# multilabel (per-label threshold vector, per-sample mask and weights)
# --------------------------------------------------------------------------- #
ML_AVERAGES = (("micro", "auto"), ("macro", "auto"), ("macro", "exclude"), ("weighted", "auto"), (None, "auto"))
ML_CASES = ([(name, avg, absent) for name in RATIO for avg, absent in ML_AVERAGES]
            + [(name, "samples", "auto") for name in SAMPLES_OK]
            + [(name,) for name in ("accuracy", "hamming", "exact_match", "mcc", "balanced_accuracy", "cm")])


def _multilabel_value(case, scores, y, mask, w, thr, cw):
    kw = dict(task="multilabel", threshold=thr, mask=mask, sample_weight=w)
    name = case[0]
    if name in RATIO:
        fn, extra = RATIO[name]
        return {zd: fn(scores, y, average=case[1], absent_classes=case[2], zero_division=zd, class_weight=cw,
                       **kw, **extra) for zd in ZDS}
    if name == "exact_match":
        return {zd: M.exact_match(scores, y, zero_division=zd, **kw) for zd in ZDS}
    if name == "balanced_accuracy":
        return {zd: M.balanced_accuracy(scores, y, zero_division=zd, average=None, class_weight=cw, **kw)
                for zd in ZDS}
    if name == "cm":
        return {None: M.confusion_matrix(scores, y, class_weight=cw, **kw)}
    fn = {"accuracy": M.accuracy, "hamming": M.hamming_distance, "mcc": M.matthews_corrcoef}[name]
    return {zd: fn(scores, y, zero_division=zd, class_weight=cw, **kw) for zd in ZDS}


@pytest.mark.parametrize("case", ML_CASES, ids=_case_id)
@settings(max_examples=8)
@given(data=st.data())
def test_multilabel_vs_sklearn(case, data):
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng, keep, w = _draw_common(data, seed, N)
    density = data.draw(st.sampled_from([0.1, 0.3, 0.6]), label="density")
    y = (rng.random((N, L)) < density).astype(np.int32)
    y[:, rng.integers(L)] = 0  # one label never occurs in the targets
    scores = rng.random((N, L)).astype(np.float32)
    thr = rng.uniform(0.2, 0.8, L).astype(np.float32)
    # class_weight per label: a per-column constant, i.e. sample weight × cw[l] element-wise.
    out = _multilabel_value(case, scores, y, keep, w, thr, np.ones(L, np.float32))

    ys, yhs, sw = y[keep], (scores > thr).astype(np.int32)[keep], w[keep].astype(np.float64)
    present = np.flatnonzero((ys | yhs).any(0)).tolist()
    oracle = _Oracle(ys, yhs, task="multilabel", sw=sw)
    for zd, got in out.items():
        key = case + (zd,)
        if case[0] in RATIO:
            name, avg, absent = case
            if absent == "exclude":
                if not present:
                    continue
                labels = present
            else:
                labels = None
            want = oracle(name, average=avg, zd=zd, labels=labels)
        elif case[0] == "accuracy":
            want = om.sklearn_metric("accuracy", ys, yhs, task="multilabel", sample_weight=sw)
        elif case[0] in ("hamming", "exact_match", "mcc"):
            want = om.sklearn_metric(case[0], ys, yhs, task="multilabel", sample_weight=sw)
        elif case[0] == "balanced_accuracy":
            want = []
            for col in range(L):
                v = om.sklearn_metric("balanced_accuracy", ys[:, col], yhs[:, col], task="binary",
                                      sample_weight=sw)
                want.append(zd if np.isnan(v) else v)
        else:
            want = om.sklearn_metric("confusion_matrix", ys, yhs, task="multilabel", sample_weight=sw)
        close(got, want, str(key))


def test_multilabel_class_weight_pairs_equal_elementwise_weights():
    rng = np.random.default_rng(0)
    y = (rng.random((N, L)) < 0.4).astype(np.int32)
    s = rng.random((N, L)).astype(np.float32)
    cw = rng.uniform(0.5, 2, (L, 2)).astype(np.float32)
    w_el = np.where(y == 1, cw[:, 1], cw[:, 0])
    for avg in ("micro", "macro", "weighted"):
        a = M.f1_score(s, y, task="multilabel", average=avg, class_weight=cw)
        b = M.f1_score(s, y, task="multilabel", average=avg, sample_weight=w_el)
        close(a, b, avg)


# --------------------------------------------------------------------------- #
# binary (traced threshold, lower_is_positive, class_weight [neg, pos])
# --------------------------------------------------------------------------- #
BINARY_CASES = list(RATIO) + ["accuracy", "hamming", "balanced_accuracy", "mcc", "kappa", "cm"]


def _binary_value(name, scores, y, mask, w, thr, cw, lower):
    kw = dict(task="binary", threshold=thr, lower_is_positive=lower, mask=mask, sample_weight=w, class_weight=cw)
    if name in RATIO:
        fn, extra = RATIO[name]
        return {zd: fn(scores, y, zero_division=zd, **kw, **extra) for zd in ZDS}
    if name == "kappa":
        return {None: M.cohen_kappa(scores, y, **kw)}
    if name == "cm":
        return {None: M.confusion_matrix(scores, y, **kw)}
    fn = {"accuracy": M.accuracy, "hamming": M.hamming_distance, "balanced_accuracy": M.balanced_accuracy,
          "mcc": M.matthews_corrcoef}[name]
    return {zd: fn(scores, y, zero_division=zd, **kw) for zd in ZDS}


@pytest.mark.parametrize("lower", [False, True], ids=["higher_is_positive", "lower_is_positive"])
@pytest.mark.parametrize("name", BINARY_CASES)
@settings(max_examples=10)
@given(data=st.data())
def test_binary_vs_sklearn(name, lower, data):
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng, keep, w = _draw_common(data, seed, N)
    pos_rate = data.draw(st.sampled_from([0.0, 0.2, 0.5, 1.0]), label="pos_rate")
    y = (rng.random(N) < pos_rate).astype(np.int32)
    scores = rng.random(N).astype(np.float32)
    thr = np.float32(data.draw(st.sampled_from([0.0, 0.3, 0.5, 0.9, 1.0]), label="thr"))
    cw = rng.uniform(0.2, 2.0, 2).astype(np.float32)
    out = _binary_value(name, scores, y, keep, w, thr, cw, lower)

    ys, sw = y[keep], (w * cw[y])[keep].astype(np.float64)
    yhs = ((scores < thr) if lower else (scores > thr)).astype(np.int32)[keep]
    for zd, got in out.items():
        key = (name, lower, zd)
        if name in RATIO:
            want = _Oracle(ys, yhs, task="binary", sw=sw)(name, average=None, zd=zd, labels=None)
        elif name == "hamming":
            want = om.sklearn_metric("hamming", ys, yhs, task="binary", sample_weight=sw)
        elif name == "cm":
            want = om.sklearn_metric("confusion_matrix", ys, yhs, task="binary", sample_weight=sw,
                                     labels=[0, 1])
        elif name == "balanced_accuracy":
            want = om.sklearn_metric(name, ys, yhs, task="binary", sample_weight=sw)
            want = zd if np.isnan(want) else want
        else:
            want = om.sklearn_metric(name, ys, yhs, task="binary", sample_weight=sw)
        close(got, want, str(key))


# --------------------------------------------------------------------------- #
# top-k accuracy vs sklearn (weighted) and torchmetrics (macro)
# --------------------------------------------------------------------------- #
def _topk_all(scores, y, mask, w):
    out = {}
    for k in (1, 2, 3):
        out["micro", k] = M.top_k_accuracy(scores, y, top_k=k, num_classes=5, mask=mask, sample_weight=w)
        out["macro", k] = M.top_k_accuracy(scores, y, top_k=k, num_classes=5, average="macro", mask=mask)
        out["micro_unw", k] = M.top_k_accuracy(scores, y, top_k=k, num_classes=5, mask=mask)
    return out


@settings(max_examples=8)
@given(data=st.data())
def test_top_k_accuracy_vs_sklearn_and_torchmetrics(data):
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng, keep, w = _draw_common(data, seed, N)
    y = rng.choice(data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=5, unique=True)), N)
    scores = rng.random((N, 5)).astype(np.float32)
    out = _topk_all(scores, y, keep, w)
    for k in (1, 2, 3):
        want = om.sklearn_metric("top_k_accuracy", y[keep], None, task="multiclass", scores=scores[keep],
                                 k=k, labels=list(range(5)), sample_weight=w[keep])
        close(out["micro", k], want, f"micro k={k}")
        for avg in ("micro", "macro"):
            want = om.torchmetrics_metric("accuracy", scores[keep], y[keep], task="multiclass",
                                          num_classes=5, average=avg, top_k=k)
            close(out[avg if avg == "macro" else "micro_unw", k], want, f"tm {avg} k={k}")


def test_semantics_worked_examples():
    """The two checks of SEMANTICS.md, to the printed digits."""
    y, yh = jnp.array([0, 0, 1]), jnp.array([0, 0, 0])
    kw = dict(task="multiclass", num_classes=3, absent_classes="include")
    expected = {0.0: (.2222, .3333, .2667), 1.0: (.8889, .6667, .6), NAN: (.6667, .5, .4)}
    for zd, (p, r, f) in expected.items():
        got = [round(float(fn(yh, y, zero_division=zd, **kw)), 4)
               for fn in (M.precision, M.recall, M.f1_score)]
        assert got == [p, r, f], (zd, got)
        for name, value in zip(("precision", "recall", "f1"), got):  # sklearn labels=[0, 1, 2]
            want = om.sklearn_metric(name, y, yh, task="multiclass", average="macro",
                                     zero_division=zd, labels=[0, 1, 2])
            assert round(want, 4) == value

    y = jnp.array([0, 1, 1, 0, 2, 2])
    yh = jnp.array([0, 1, 0, 0, 1, 2])
    w = jnp.array([1., 2., 0., 1., 3., 1.])
    kw = dict(task="multiclass", num_classes=3, sample_weight=w)
    assert M.confusion_matrix(yh, y, **kw).tolist() == [[2, 0, 0], [0, 2, 0], [0, 3, 1]]
    assert [round(float(fn(yh, y, **kw)), 4) for fn in (M.precision, M.recall, M.f1_score)] == \
        [.8, .75, .6571]
    assert round(float(M.matthews_corrcoef(yh, y, **kw)), 5) == .59656
    assert round(float(M.cohen_kappa(yh, y, **kw)), 5) == .47826
    assert round(float(M.balanced_accuracy(yh, y, **kw)), 4) == .75


@pytest.mark.parametrize("name", ["precision", "recall", "f1"])
def test_multiclass_macro_exclusion_matches_torchmetrics(name):
    """torchmetrics multiclass macro drops classes with tp+fp+fn = 0 (our "auto")."""
    rng = np.random.default_rng(1)
    y = rng.choice([0, 2, 3], 40)
    yh = rng.choice([0, 1, 2], 40)
    fn = {"precision": M.precision, "recall": M.recall, "f1": M.f1_score}[name]
    for avg in ("macro", "micro", "weighted", None):
        got = fn(yh, y, task="multiclass", num_classes=6, average=avg)
        want = om.torchmetrics_metric(name, yh, y, task="multiclass", num_classes=6, average=avg)
        close(got, want, f"{name} {avg}")
    acc = M.accuracy(yh, y, task="multiclass", num_classes=6, average="macro")
    close(acc, om.torchmetrics_metric("accuracy", yh, y, task="multiclass", num_classes=6,
                                      average="macro"), "accuracy macro")


def test_stat_scores_specificity_multilabel_accuracy_match_torchmetrics():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 30)
    yh = rng.integers(0, 4, 30)
    for avg in (None, "micro"):
        got = M.stat_scores(yh, y, task="multiclass", num_classes=4, average=avg)
        close(got, om.torchmetrics_metric("stat_scores", yh, y, task="multiclass", num_classes=4,
                                          average=avg), f"stat_scores {avg}")
    for avg in ("micro", "macro", "weighted", None):
        got = M.specificity(yh, y, task="multiclass", num_classes=4, average=avg)
        close(got, om.torchmetrics_metric("specificity", yh, y, task="multiclass", num_classes=4,
                                          average=avg), f"specificity {avg}")
    s = rng.random((30, 5)).astype(np.float32)
    t = (rng.random((30, 5)) < 0.3).astype(np.int32)
    for avg in ("micro", "macro", "weighted", None):
        got = M.accuracy(s, t, task="multilabel", average=avg)
        close(got, om.torchmetrics_metric("accuracy", s, t, task="multilabel", num_classes=5,
                                          average=avg), f"multilabel accuracy {avg}")


@pytest.mark.parametrize("which", ["precision", "recall"])
def test_at_k_matches_torchmetrics_retrieval(which):
    rng = np.random.default_rng(3)
    s = rng.random((12, 8)).astype(np.float32)
    t = (rng.random((12, 8)) < 0.3).astype(np.int32)
    t[0] = 0  # a sample without relevant labels (recall: 0 as torchmetrics)
    fn = M.precision_at_k if which == "precision" else M.recall_at_k
    for k in (1, 3, 8):
        close(fn(s, t, k=k), om.retrieval_at_k(which, s, t, k), f"{which}@{k}")
    # A weighted mean of per-sample values; masked labels leave the ranking.
    w = rng.uniform(0, 2, 12).astype(np.float32)
    per = np.array([float(fn(s[i:i + 1], t[i:i + 1], k=3)) for i in range(12)])
    close(fn(s, t, k=3, sample_weight=w), np.sum(per * w) / w.sum(), "weighted")
    m = np.ones((12, 8), bool)
    m[:, -2:] = False
    close(fn(s, t, k=3, mask=m), fn(s[:, :-2], t[:, :-2], k=3), "mask == dropping labels")
