"""Behaviour of the confusion-matrix metrics: mask ≡ slicing, ignore_index ≡ dropping,
jit ≡ eager (one list of (name, fn, kwargs) for every metric), no retrace on a new
threshold, C = 5000, clear errors, out-of-range labels, empty batches, the seed questions.
"""

from __future__ import annotations

import functools
import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import maskjax
from maskjax import metrics as M
from maskjax._kernels.argmax import first_argmax
from maskjax.metrics import _confusion
from oracles import metrics as om

N, C, L = 16, 4, 5
RNG = np.random.default_rng(42)
DATA = {
    "binary": (RNG.random(N).astype(np.float32), (RNG.random(N) < 0.4).astype(np.int32)),
    "multiclass": (RNG.normal(size=(N, C)).astype(np.float32), RNG.integers(0, C, N).astype(np.int32)),
    "multilabel": (RNG.random((N, L)).astype(np.float32), (RNG.random((N, L)) < 0.4).astype(np.int32)),
}
KEEP = RNG.random(N) < 0.7
KEEP[0] = True
WEIGHT = RNG.uniform(0.1, 2.0, N).astype(np.float32)

B, MC, ML = dict(task="binary"), dict(task="multiclass", num_classes=C), dict(task="multilabel")
CASES = [  # (id, fn, kwargs): every public metric, several averages
    ("bin-accuracy", M.accuracy, B),
    ("bin-precision", M.precision, B),
    ("bin-recall", M.recall, B),
    ("bin-f1", M.f1_score, B),
    ("bin-fbeta", partial(M.fbeta_score, beta=2.0), B),
    ("bin-specificity", M.specificity, B),
    ("bin-jaccard", M.jaccard_index, B),
    ("bin-dice", M.dice_score, B),
    ("bin-balanced", M.balanced_accuracy, B),
    ("bin-mcc", M.matthews_corrcoef, B),
    ("bin-kappa", M.cohen_kappa, B),
    ("bin-hamming", M.hamming_distance, B),
    ("bin-exact", M.exact_match, B),
    ("bin-cm", M.confusion_matrix, B),
    ("bin-stat", M.stat_scores, B),
    ("bin-lower", M.accuracy, dict(B, lower_is_positive=True, threshold=0.3)),
    ("mc-accuracy", M.accuracy, MC),
    ("mc-accuracy-macro", M.accuracy, dict(MC, average="macro")),
    ("mc-precision", M.precision, MC),
    ("mc-recall-weighted", M.recall, dict(MC, average="weighted")),
    ("mc-f1-none", M.f1_score, dict(MC, average=None)),
    ("mc-fbeta-micro", partial(M.fbeta_score, beta=0.5), dict(MC, average="micro")),
    ("mc-jaccard-include", M.jaccard_index, dict(MC, absent_classes="include")),
    ("mc-specificity-micro", M.specificity, dict(MC, average="micro")),
    ("mc-dice", M.dice_score, MC),
    ("mc-balanced", M.balanced_accuracy, MC),
    ("mc-mcc", M.matthews_corrcoef, MC),
    ("mc-kappa", M.cohen_kappa, MC),
    ("mc-kappa-linear", M.cohen_kappa, dict(MC, weights="linear")),
    ("mc-kappa-quadratic", M.cohen_kappa, dict(MC, weights="quadratic")),
    ("mc-hamming", M.hamming_distance, MC),
    ("mc-exact", M.exact_match, MC),
    ("mc-cm-true", M.confusion_matrix, dict(MC, normalize="true")),
    ("mc-stat", M.stat_scores, MC),
    ("mc-top2", partial(M.top_k_accuracy, top_k=2), MC),
    ("mc-top2-macro", partial(M.accuracy, top_k=2), dict(MC, average="macro")),
    ("ml-accuracy", M.accuracy, ML),
    ("ml-precision-samples", M.precision, dict(ML, average="samples")),
    ("ml-recall-macro", M.recall, ML),
    ("ml-f1-micro", M.f1_score, dict(ML, average="micro")),
    ("ml-jaccard-weighted", M.jaccard_index, dict(ML, average="weighted")),
    ("ml-specificity-none", M.specificity, dict(ML, average=None)),
    ("ml-balanced", M.balanced_accuracy, ML),
    ("ml-mcc", M.matthews_corrcoef, ML),
    ("ml-hamming", M.hamming_distance, ML),
    ("ml-exact", M.exact_match, ML),
    ("ml-cm", M.confusion_matrix, ML),
    ("ml-stat-micro", M.stat_scores, dict(ML, average="micro")),
    ("ml-thr-vector", M.f1_score, dict(ML, threshold=np.linspace(0.2, 0.8, L).astype(np.float32))),
    ("ml-p@2", partial(M.precision_at_k, k=2), {}),
    ("ml-r@3", partial(M.recall_at_k, k=3), {}),
]
IDS = [c[0] for c in CASES]


def _task(case_id):
    return {"bin": "binary", "mc": "multiclass", "ml": "multilabel"}[case_id.split("-")[0]]


def _kwargs(kwargs, drop=()):
    return {k: v for k, v in kwargs.items() if k not in drop}


def close(a, b, what=""):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=1e-5,
                               atol=1e-6, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("case_id,fn,kwargs", CASES, ids=IDS)
def test_mask_equals_slicing_and_ignore_equals_dropping(case_id, fn, kwargs):
    p, y = DATA[_task(case_id)]
    sliced = fn(p[KEEP], y[KEEP], sample_weight=WEIGHT[KEEP], **kwargs)
    close(fn(p, y, mask=KEEP, sample_weight=WEIGHT, **kwargs), sliced, "mask")
    ignore = -100 if _task(case_id) == "multiclass" else 255
    y_ign = np.where(KEEP.reshape((N,) + (1,) * (y.ndim - 1)), y, ignore)
    close(fn(p, y_ign, ignore_index=ignore, sample_weight=WEIGHT, **kwargs), sliced, "ignore_index")


@pytest.mark.parametrize("case_id,fn,kwargs", CASES, ids=IDS)
def test_jit_equals_eager(case_id, fn, kwargs):
    p, y = (jnp.asarray(a) for a in DATA[_task(case_id)])
    run = functools.partial(fn, **kwargs)
    jitted = jax.jit(lambda a, b, m, w: run(a, b, mask=m, sample_weight=w))(p, y, KEEP, WEIGHT)
    close(jitted, run(p, y, mask=KEEP, sample_weight=WEIGHT), case_id)


def test_changing_the_threshold_does_not_retrace():
    s, y = DATA["multilabel"]
    traces = []

    @jax.jit
    def f1(s, y, thr):
        traces.append(1)
        return M.f1_score(s, y, task="multilabel", threshold=thr, average="micro")

    values = [float(f1(s, y, jnp.float32(t))) for t in (0.2, 0.5, 0.8)]
    assert len(traces) == 1 and len(set(values)) == 3
    f1(s, y, jnp.full((L,), 0.4, jnp.float32))  # a per-label vector is a new shape: one more trace
    assert len(traces) == 2
    # Eager calls: the shared data-pass jit is keyed by config and shapes, never by the value.
    update = _confusion._data_pass
    M.accuracy(s, y, task="multilabel", threshold=0.3)
    size = update._cache_size()
    for t in (0.1, 0.6, 0.9):
        M.accuracy(s, y, task="multilabel", threshold=t)
        M.precision(s, y, task="multilabel", threshold=t)  # same update config as accuracy
    assert update._cache_size() == size


def test_many_classes_c5000_without_nxc_one_hot():
    rng = np.random.default_rng(0)
    n, c = 1000, 5000
    scores = rng.random((n, c), dtype=np.float32)
    y = rng.integers(0, c, n).astype(np.int32)
    y[: n // 2] = scores[: n // 2].argmax(-1)  # half right
    yh = scores.argmax(-1)
    kw = dict(task="multiclass", num_classes=c)
    close(M.f1_score(scores, y, **kw), om.sklearn_metric("f1", y, yh, task="multiclass", average="macro"))
    close(M.matthews_corrcoef(scores, y, **kw), om.sklearn_metric("mcc", y, yh, task="multiclass"))
    close(M.cohen_kappa(scores, y, **kw), om.sklearn_metric("kappa", y, yh, task="multiclass"))
    close(M.accuracy(scores, y, **kw), 0.5 + np.mean(y[n // 2:] == yh[n // 2:]) / 2)
    top5 = om.sklearn_metric("top_k_accuracy", y, None, task="multiclass", scores=scores, k=5,
                             labels=list(range(c)))
    close(M.top_k_accuracy(scores, y, top_k=5, num_classes=c), top5)
    cm = M.confusion_matrix(yh.astype(np.int32), y, **kw)
    assert cm.shape == (c, c) and int(cm.sum()) == n and int(jnp.trace(cm)) == int(np.sum(y == yh))


def test_argmax_ties_and_nan_follow_numpy():
    x = np.array([[1, 3, 3, 0], [2, 2, 2, 2], [0, np.nan, 5, np.nan], [-np.inf] * 4], np.float32)
    assert first_argmax(jnp.asarray(x)).tolist() == np.argmax(x, -1).tolist()
    xi = np.random.default_rng(0).integers(0, 3, (50, 6))
    assert first_argmax(jnp.asarray(xi)).tolist() == np.argmax(xi, -1).tolist()


@pytest.mark.parametrize("layout", ["class_last_3d", "moved_axis_jit", "wide_blocks"])
def test_argmax_over_nd_and_moved_class_axes_follows_numpy(layout):
    # N-D scores scanned in place (no [-1, C] reshape), incl. torch's [N, C, T] moved inside jit
    rng = np.random.default_rng(1)
    c = 300 if layout == "wide_blocks" else 7
    x = rng.integers(0, 4, (3, 5, c)).astype(np.float32)  # many ties
    x[0, 1, 2] = np.nan
    x[2, 4, [1, 3]] = np.nan
    if layout == "moved_axis_jit":
        nct = np.ascontiguousarray(np.moveaxis(x, -1, 1))  # what a torch caller holds
        got = jax.jit(lambda a: first_argmax(jnp.moveaxis(a, 1, -1)))(nct)
    else:
        got = first_argmax(jnp.asarray(x))
    assert got.shape == (3, 5) and got.dtype == jnp.int32
    assert got.tolist() == np.argmax(x, -1).tolist()


def test_scores_onehot_and_label_inputs_agree():
    s, y = DATA["multiclass"]
    labels = s.argmax(-1).astype(np.int32)
    onehot = np.eye(C, dtype=np.float32)[y]
    for fn in (M.precision, M.recall, M.matthews_corrcoef):
        ref = fn(labels, y, **MC)
        close(fn(s, y, **MC), ref)
        close(fn(s, onehot, **MC), ref)
    b_scores, b_y = DATA["binary"]
    close(M.f1_score(b_scores, b_y, task="binary"), M.f1_score((b_scores > 0.5).astype(np.int32), b_y,
                                                               task="binary"))
    logits = np.log(b_scores / (1 - b_scores))
    close(M.f1_score(logits, b_y, task="binary", from_logits=True), M.f1_score(b_scores, b_y, task="binary"))


def test_row_weights_broadcast_from_the_left():
    rng = np.random.default_rng(1)
    y = rng.integers(0, C, (4, 6)).astype(np.int32)
    yh = rng.integers(0, C, (4, 6)).astype(np.int32)
    w = rng.uniform(0.5, 2, 4).astype(np.float32)
    full = np.broadcast_to(w[:, None], (4, 6))
    close(M.f1_score(yh, y, sample_weight=w, **MC), M.f1_score(yh, y, sample_weight=full, **MC))
    close(M.f1_score(yh, y, sample_weight=w, **MC),
          om.sklearn_metric("f1", y.ravel(), yh.ravel(), task="multiclass", average="macro",
                            sample_weight=full.ravel()))


def test_ignore_index_that_is_a_class_id_is_never_averaged():
    rng = np.random.default_rng(2)
    y = rng.integers(0, C, 40).astype(np.int32)
    yh = rng.integers(0, C, 40).astype(np.int32)
    kept = y != 1
    present = sorted(set(y[kept]) | set(yh[kept]) - {1})
    for avg in ("macro", "weighted"):
        got = M.precision(yh, y, ignore_index=1, average=avg, **MC)
        want = om.sklearn_metric("precision", y[kept], yh[kept], task="multiclass", average=avg,
                                 labels=present)
        close(got, want, avg)
    # micro and per-class values are those of the kept elements (predictions of 1 are fp).
    close(M.precision(yh, y, ignore_index=1, average="micro", **MC),
          om.sklearn_metric("precision", y[kept], yh[kept], task="multiclass", average="micro"))


def test_out_of_range_labels_are_dropped_or_raise_with_validate():
    y = np.array([0, 1, 2, 7, -3, 1], np.int32)
    yh = np.array([0, 1, 1, 1, 0, 9], np.int32)
    ok = np.array([True, True, True, False, False, False])
    for fn in (M.accuracy, M.f1_score, M.confusion_matrix):
        close(fn(yh, y, task="multiclass", num_classes=3),
              fn(yh[ok], y[ok], task="multiclass", num_classes=3))
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        M.accuracy(yh, y, task="multiclass", num_classes=3, validate=True)
    with pytest.raises(ValueError, match="preds"):
        M.accuracy(yh, np.clip(y, 0, 2), task="multiclass", num_classes=3, validate=True)
    with pytest.raises(ValueError, match="0/1"):
        M.accuracy(np.array([0.2, 0.9]), np.array([0, 2]), task="binary", validate=True)
    M.accuracy(np.array([0.2, 0.9]), np.array([0, 255]), task="binary", validate=True, ignore_index=255)
    binary_bad = M.accuracy(np.array([0.2, 0.9, 0.8]), np.array([0, 2, 1]), task="binary")
    assert float(binary_bad) == 1.0  # the target 2 is dropped
    with pytest.raises(ValueError, match="cannot run under jax.jit"):
        jax.jit(lambda p, t: M.accuracy(p, t, task="multiclass", num_classes=3, validate=True))(yh, y)


@pytest.mark.parametrize("zd", [0.0, math.nan])
def test_all_masked_batch_returns_the_empty_value(zd):
    s, y = DATA["multiclass"]
    none = np.zeros(N, bool)
    for cid, fn, kw in CASES:
        if cid.startswith(("bin-cm", "mc-cm", "ml-cm", "bin-stat", "mc-stat", "ml-stat")):
            continue
        p, t = DATA[_task(cid)]
        got = fn(p, t, mask=none, zero_division=zd, **kw)
        expected = np.full(np.shape(got), zd)
        close(got, expected, cid)
    assert float(jnp.sum(M.confusion_matrix(s, y, mask=none, **MC))) == 0.0
    assert M.cohen_kappa(s, y, mask=none, **MC).item() != M.cohen_kappa(s, y, mask=none, **MC).item()  # nan


def test_bad_inputs_raise_clear_errors():
    s, y = DATA["multiclass"]
    with pytest.raises(ValueError, match="same shape"):
        M.accuracy(np.zeros(5), np.zeros(4, np.int32), task="binary")
    with pytest.raises(ValueError, match="num_classes` is required"):
        M.precision(s, y, task="multiclass")
    with pytest.raises(ValueError, match=r"C = num_classes = 3"):
        M.precision(s, y, task="multiclass", num_classes=3)
    with pytest.raises(ValueError, match="targets must have shape"):
        M.precision(s, y[:-1], task="multiclass", num_classes=C)
    with pytest.raises(ValueError, match="threshold"):
        M.f1_score(*DATA["multilabel"], task="multilabel", threshold=np.full(L + 1, 0.5))
    with pytest.raises(ValueError, match="threshold"):
        M.f1_score(*DATA["binary"], task="binary", threshold=np.full(2, 0.5))
    with pytest.raises(ValueError, match="`average` must be one of"):
        M.f1_score(s, y, task="multiclass", num_classes=C, average="macro-ish")
    with pytest.raises(ValueError, match="`task` must be one of"):
        M.f1_score(s, y, task="multi-class", num_classes=C)
    with pytest.raises(ValueError, match="samples"):
        M.f1_score(s, y, task="multiclass", num_classes=C, average="samples")
    with pytest.raises(ValueError, match="zero_division"):
        M.f1_score(s, y, task="multiclass", num_classes=C, zero_division=0.5)
    with pytest.raises(ValueError, match="does not match the label axis"):
        M.f1_score(*DATA["multilabel"], task="multilabel", num_classes=L + 1)
    with pytest.raises(ValueError, match="broadcast"):
        M.f1_score(s, y, task="multiclass", num_classes=C, mask=np.ones(N + 1, bool))
    with pytest.raises(TypeError, match="integer class ids"):
        M.f1_score(s, y.astype(np.float32), task="multiclass", num_classes=C)
    with pytest.raises(ValueError, match="class_weight"):
        M.f1_score(s, y, task="multiclass", num_classes=C, class_weight=np.ones(C + 1))
    with pytest.raises(ValueError, match="absent_classes"):
        M.f1_score(s, y, task="multiclass", num_classes=C, absent_classes="all")
    with pytest.raises(ValueError, match="top_k"):
        M.top_k_accuracy(s, y, top_k=C + 1, num_classes=C)


# --------------------------------------------------------------------------- #
# Seed questions (the README quick start): each one a one-liner
# --------------------------------------------------------------------------- #
def test_seed_precision_and_recall_of_a_single_class():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 5, 60).astype(np.int32)
    yh = np.where(rng.random(60) < 0.6, y, rng.integers(0, 5, 60)).astype(np.int32)
    w = rng.uniform(0, 2, 60).astype(np.float32)
    p3 = M.precision(yh, y, task="multiclass", num_classes=5, average=None, sample_weight=w)[3]
    r3 = M.recall(yh, y, task="multiclass", num_classes=5, average=None, sample_weight=w)[3]
    close(p3, om.sklearn_metric("precision", y, yh, task="multiclass", labels=[3], sample_weight=w)[0])
    close(r3, om.sklearn_metric("recall", y, yh, task="multiclass", labels=[3], sample_weight=w)[0])


def test_seed_accuracy_on_unpadded_timesteps_of_one_hot_targets():
    rng = np.random.default_rng(4)
    b, t, c = 3, 7, 6
    lengths = np.array([7, 4, 2])
    labels = rng.integers(0, c, (b, t))
    onehot = np.eye(c, dtype=np.float32)[labels]
    onehot[np.arange(t)[None, :] >= lengths[:, None]] = 0.0  # padded rows are all zero
    logits = rng.normal(size=(b, t, c)).astype(np.float32)
    mask = maskjax.masks.from_padding(onehot, 0.0)
    got = M.accuracy(logits, onehot, task="multiclass", num_classes=c, mask=mask)
    valid = np.arange(t)[None, :] < lengths[:, None]
    want = om.sklearn_metric("accuracy", labels[valid], logits.argmax(-1)[valid], task="multiclass")
    close(got, want)
    # Without the mask the all-zero rows would count as class 0: a different number.
    assert abs(float(M.accuracy(logits, onehot, task="multiclass", num_classes=c)) - want) > 1e-3


def test_seed_thresholded_accuracy_of_siamese_distances():
    d = np.array([1.5, 0.7, 0.1, 0.3, 3.2], np.float32)
    same = np.array([1, 0, 0, 1, 0])
    got = M.accuracy(d, same, task="binary", threshold=0.5, lower_is_positive=True)
    # d < .5 → predicted "same": [0, 0, 1, 1, 0] vs y [1, 0, 0, 1, 0]: right at 1, 3, 4 → 3/5.
    assert round(float(got), 6) == 0.6


def test_seed_sparse_multilabel_99_percent_accuracy_but_f1_zero():
    rng = np.random.default_rng(5)
    y = (rng.random((300, 1000)) < 0.01).astype(np.int32)
    zeros = np.zeros((300, 1000), np.float32)  # the all-zero model
    kw = dict(task="multilabel")
    acc = float(M.accuracy(zeros, y, **kw))
    ham = float(M.hamming_distance(zeros, y, **kw))
    em = float(M.exact_match(zeros, y, **kw))
    f1_micro = float(M.f1_score(zeros, y, average="micro", **kw))
    f1_macro = float(M.f1_score(zeros, y, **kw))
    assert acc > 0.985 and f1_micro == 0.0 and f1_macro == 0.0
    yh = np.zeros_like(y)
    close(ham, om.sklearn_metric("hamming", y, yh, task="multilabel"))
    close(acc, 1 - ham)
    close(em, om.sklearn_metric("exact_match", y, yh, task="multilabel"))
    assert em < 0.01  # almost every sample has at least one label
