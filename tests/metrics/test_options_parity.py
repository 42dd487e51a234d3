"""Issue 14: the peers' options (contract names) against the real references, and the 8 causes.

Every number is compared with a live call of scikit-learn, torchmetrics or Keras (tests/oracles).
Masks are checked as "the reference on the kept elements" (torchmetrics has no masks), ignore_index
against the references' own ignore_index, weights against scikit-learn's sample_weight. Test ids
name the option, the task and the average.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskjax import metrics as M
from oracles import curves as oc
from oracles import metrics as om

RNG = np.random.default_rng(14)
N, C, L, D = 6, 4, 3, 5          # samples, classes, labels, an extra (spatial) axis
AVERAGES = ["micro", "macro", "weighted", None]


def close(got, want, what="", rtol=2e-5, atol=2e-6):
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=rtol, atol=atol,
                               equal_nan=True, err_msg=what)


def _mc(n=N, d=D, c=C, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d, c)).astype(np.float32), rng.integers(0, c, (n, d))


# --------------------------------------------------------------------------- #
# The 8 causes (the metric ones: 1, 2, 6, 7, 8) — regression tests
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("samplewise", [False, True], ids=["global", "samplewise"])
@pytest.mark.parametrize("average", [None, "macro"], ids=["none", "macro"])
def test_cause1_hamming_absent_class_is_one_minus_accuracy(average, samplewise):
    y, p = np.array([0, 0, 1]), np.array([0, 2, 1])
    kw = dict(task="multiclass", num_classes=3, average=average)
    if samplewise:
        y, p = np.stack([y, y[::-1]]), np.stack([p, p[::-1]])
        kw["multidim_average"] = "samplewise"
    got = M.hamming_distance(p, y, **kw)
    want = om.tm_classification("hamming_distance", "multiclass", p, y, num_classes=3, average=average,
                                multidim_average="samplewise" if samplewise else "global")
    close(got, want)
    if average is None and not samplewise:
        assert np.asarray(got).tolist() == [0.5, 0.0, 1.0]      # the repro, by hand


def test_cause2_jaccard_micro_ignores_the_ignored_class():
    y, p = np.array([0, 1, 1, 2]), np.array([1, 0, 1, 2])
    got = M.jaccard_index(p, y, task="multiclass", num_classes=3, average="micro", ignore_index=0)
    # kept (t, p): (1, 0), (1, 1), (2, 2); without class 0: tp = 2, fn = 1, fp = 0 → 2/3
    close(got, 2 / 3)
    close(got, om.tm_classification("jaccard_index", "multiclass", p, y, num_classes=3, average="micro",
                                    ignore_index=0))
    s = M.JaccardIndex(task="multiclass", num_classes=3, average="micro", ignore_index=0)
    close(s(p, y), 2 / 3)


@pytest.mark.parametrize("fn", ["auroc", "average_precision"])
@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_cause6_weighted_zero_support_is_zero(fn, task):
    s = RNG.random((8, C)).astype(np.float32)
    y = np.zeros(8, int) if task == "multiclass" else np.zeros((8, C), int)
    mask = np.zeros(8, bool)     # nothing kept: zero total support
    got = getattr(M, fn)(s, y, task=task, num_classes=C, average="weighted", mask=mask)
    assert float(got) == 0.0
    if task == "multilabel":     # sklearn: all-negative targets, zero total support → 0
        name = "roc_auc_score" if fn == "auroc" else "average_precision_score"
        if fn == "average_precision":
            assert om.sk(name, y, s, average="weighted") == 0.0


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_cause7_fbeta_beta_inf_is_recall(task):
    if task == "binary":
        p, y, kw = RNG.integers(0, 2, 20), RNG.integers(0, 2, 20), {}
    elif task == "multiclass":
        p, y, kw = RNG.integers(0, C, 20), RNG.integers(0, C, 20), dict(num_classes=C)
    else:
        p, y, kw = RNG.integers(0, 2, (20, L)), RNG.integers(0, 2, (20, L)), dict(num_classes=L)
    avg = {} if task == "binary" else dict(average="macro")
    got = M.fbeta_score(p, y, task=task, beta=math.inf, **kw, **avg)
    close(got, M.recall(p, y, task=task, **kw, **avg))
    close(got, om.sk("fbeta_score", y, p, beta=math.inf, average="binary" if task == "binary" else "macro",
                     labels=list(range(C)) if task == "multiclass" else None))
    close(M.FBetaScore(task=task, beta=math.inf, **kw, **avg)(p, y), got)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_cause8_top_k_accuracy_ties_as_sklearn(k):
    scores = np.round(RNG.random((40, 5)), 1).astype(np.float32)        # many ties
    y = RNG.integers(0, 5, 40)
    w = RNG.uniform(0.1, 2, 40)
    got = M.top_k_accuracy(scores, y, top_k=k, num_classes=5, sample_weight=w)
    close(got, om.sk("top_k_accuracy_score", y, scores, k=k, labels=list(range(5)), sample_weight=w))
    tie = np.array([[0.5, 0.5, 0.0]], np.float32)
    # sklearn ranks the higher index first among ties: class 1 is the top-1, class 0 misses
    assert float(M.top_k_accuracy(tie, np.array([0]), top_k=1, num_classes=3)) == 0.0


# --------------------------------------------------------------------------- #
# multidim_average="samplewise" (torchmetrics), one-shot and streaming
# --------------------------------------------------------------------------- #
SW_METRICS = ["precision", "recall", "f1_score", "fbeta_score", "specificity", "jaccard_index", "dice_score",
              "accuracy", "hamming_distance"]
@pytest.mark.parametrize("ignore", [None, -1], ids=["noignore", "ignore-1"])
@pytest.mark.parametrize("average", AVERAGES, ids=str)
@pytest.mark.parametrize("name", SW_METRICS)
def test_samplewise_multiclass(name, average, ignore):
    # ignore_index outside the classes: torchmetrics keeps averaging a *valid* ignored class id,
    # maskjax never averages it (the documented rule; see test_cause2 for Jaccard micro).
    s, y = _mc()
    if ignore is not None:
        y = np.where(np.random.default_rng(1).random(y.shape) < 0.8, y, ignore)
    extra = dict(beta=2.0) if name == "fbeta_score" else {}
    got = getattr(M, name)(s, y, task="multiclass", num_classes=C, average=average, multidim_average="samplewise",
                           ignore_index=ignore, **extra)
    if name == "jaccard_index":     # torchmetrics jaccard: global only — per sample by hand
        want = np.stack([om.tm_classification(name, "multiclass", np.moveaxis(s[i], -1, 0)[None],
                                              y[i][None], num_classes=C, average=average, ignore_index=ignore)
                         for i in range(N)])
    else:
        want = om.tm_classification(name, "multiclass", np.moveaxis(s, -1, 1), y, num_classes=C, average=average,
                                    multidim_average="samplewise", ignore_index=ignore, **extra)
    close(got, want, f"{name} {average}")
    assert np.asarray(got).shape[0] == N
    # streaming: two batches into a capacity-8 buffer, rows past the samples seen are nan
    cls = {"precision": M.Precision, "recall": M.Recall, "f1_score": M.F1Score, "fbeta_score": M.FBetaScore,
           "specificity": M.Specificity, "jaccard_index": M.JaccardIndex, "dice_score": M.DiceScore,
           "accuracy": M.Accuracy, "hamming_distance": M.HammingDistance}[name]
    m = cls(task="multiclass", num_classes=C, average=average, multidim_average="samplewise", capacity=8,
            ignore_index=ignore, **extra)
    state = jax.jit(m.update)(m.init(), s[:2], y[:2])
    state = m.merge(state, m.update(m.init(), s[2:], y[2:]))
    out = np.asarray(m.compute(state))
    close(out[:N], want)
    assert np.isnan(out[N:]).all()


@pytest.mark.parametrize("name", SW_METRICS + ["stat_scores"])
@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_samplewise_binary_multilabel(name, task):
    rng = np.random.default_rng(3)
    if task == "binary":
        s, y = rng.random((N, D)).astype(np.float32), rng.integers(0, 2, (N, D))
        kw, tkw, sl, yl = {}, {}, s, y
    else:
        s, y = rng.random((N, D, L)).astype(np.float32), rng.integers(0, 2, (N, D, L))
        kw, tkw = dict(num_classes=L, average="macro"), dict(num_labels=L, average="macro")
        sl, yl = np.moveaxis(s, -1, 1), np.moveaxis(y, -1, 1)
    if name == "stat_scores" and task == "multilabel":
        kw["average"] = tkw["average"] = None
    extra = dict(beta=2.0) if name == "fbeta_score" else {}
    got = getattr(M, name)(s, y, task=task, multidim_average="samplewise", **kw, **extra)
    if name == "jaccard_index":
        want = np.stack([om.tm_classification(name, task, sl[i][None], yl[i][None], **tkw) for i in range(N)])
    else:
        want = om.tm_classification(name, task, sl, yl, multidim_average="samplewise", **tkw, **extra)
    close(got, want, f"{name} {task}")


def test_samplewise_with_mask_is_reference_on_kept_elements():
    s, y = _mc(seed=5)
    mask = RNG.random((N, D)) < 0.7
    got = M.recall(s, y, task="multiclass", num_classes=C, average="macro", multidim_average="samplewise",
                   mask=mask)
    # a masked element = an ignored one in torchmetrics (ignore_index on a copy of the targets)
    y_ig = np.where(mask, y, -1)
    want = om.tm_classification("recall", "multiclass", np.moveaxis(s, -1, 1), y_ig, num_classes=C,
                                average="macro", multidim_average="samplewise", ignore_index=-1)
    close(got, want)


# --------------------------------------------------------------------------- #
# top_k (torchmetrics: the target when in the top k, else the top-1 class)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("ignore", [None, -100], ids=["noignore", "ignore-100"])
@pytest.mark.parametrize("average", AVERAGES, ids=str)
@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("name", ["precision", "recall", "f1_score", "fbeta_score", "specificity"])
def test_top_k(name, k, average, ignore):
    rng = np.random.default_rng(k)
    s, y = rng.random((40, C)).astype(np.float32), rng.integers(0, C, 40)
    if ignore is not None:
        y = np.where(rng.random(40) < 0.8, y, ignore)
    extra = dict(beta=2.0) if name == "fbeta_score" else {}
    got = getattr(M, name)(s, y, task="multiclass", num_classes=C, average=average, top_k=k, ignore_index=ignore,
                           **extra)
    want = om.tm_classification(name, "multiclass", s, y, num_classes=C, average=average, top_k=k,
                                ignore_index=ignore, **extra)
    close(got, want, f"{name} k={k} {average}")
    cls = {"precision": M.Precision, "recall": M.Recall, "f1_score": M.F1Score, "fbeta_score": M.FBetaScore,
           "specificity": M.Specificity}[name]
    m = cls(task="multiclass", num_classes=C, average=average, top_k=k, ignore_index=ignore, **extra)
    state = m.update(m.update(m.init(), s[:15], y[:15]), s[15:], y[15:])
    close(m.compute(state), want)


# --------------------------------------------------------------------------- #
# class_id (Keras Precision(class_id=)), labels (scikit-learn), pos_label, adjusted
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("k", [0, 2])
@pytest.mark.parametrize("name", ["precision", "recall", "f1_score", "fbeta_score", "specificity", "jaccard_index"])
@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_class_id(task, name, k):
    rng = np.random.default_rng(k)
    w = rng.uniform(0.1, 2, 30)
    extra = dict(beta=2.0) if name == "fbeta_score" else {}
    if task == "multiclass":
        p, y, kw = rng.integers(0, C, 30), rng.integers(0, C, 30), dict(num_classes=C)
        pk, yk = (p == k).astype(int), (y == k).astype(int)
    else:
        p, y, kw = rng.random((30, L)).astype(np.float32), rng.integers(0, 2, (30, L)), {}
        pk, yk = (p[:, k] > 0.5).astype(int), y[:, k]
    got = getattr(M, name)(p, y, task=task, class_id=k, sample_weight=w, **kw, **extra)
    # the class-k one-vs-rest binary problem (scikit-learn, weighted)
    sk_name = {"precision": "precision_score", "recall": "recall_score", "f1_score": "f1_score",
               "fbeta_score": "fbeta_score", "jaccard_index": "jaccard_score"}.get(name)
    if sk_name:
        want = om.sk(sk_name, yk, pk, sample_weight=w, zero_division=0, **extra)
    else:
        want = om.sk("recall_score", 1 - yk, 1 - pk, sample_weight=w, zero_division=0)
    close(got, want, f"{name} {task} class {k}")
    if task == "multilabel" and name in ("precision", "recall"):   # Keras, thresholds 0.5 on probabilities
        keras = om.keras_metric_value(name.capitalize(), y, p, sample_weight=w, class_id=k)
        close(got, keras, "keras", rtol=1e-5)


@pytest.mark.parametrize("average", AVERAGES, ids=str)
@pytest.mark.parametrize("name", ["precision", "recall", "f1_score", "fbeta_score", "jaccard_index"])
def test_labels_averages(name, average):
    rng = np.random.default_rng(7)
    p, y, w = rng.integers(0, C, 40), rng.integers(0, C, 40), rng.uniform(0.1, 2, 40)
    labels = [3, 0, 7]        # unsorted, with a label absent from the data (and >= num_classes)
    extra = dict(beta=2.0) if name == "fbeta_score" else {}
    got = getattr(M, name)(p, y, task="multiclass", num_classes=C, average=average, labels=labels,
                           sample_weight=w, **extra)
    sk_name = {"precision": "precision_score", "recall": "recall_score", "f1_score": "f1_score",
               "fbeta_score": "fbeta_score", "jaccard_index": "jaccard_score"}[name]
    want = om.sk(sk_name, y, p, average=average, labels=labels, sample_weight=w, zero_division=0, **extra)
    close(got, want, f"{name} {average}")


@pytest.mark.parametrize("normalize", [None, "true"])
def test_labels_confusion_matrix_and_kappa(normalize):
    rng = np.random.default_rng(8)
    p, y, w = rng.integers(0, C, 40), rng.integers(0, C, 40), rng.uniform(0.1, 2, 40)
    labels = [2, 0, 5]
    got = M.confusion_matrix(p, y, task="multiclass", num_classes=C, labels=labels, sample_weight=w,
                             normalize=normalize)
    close(got, om.sk("confusion_matrix", y, p, labels=labels, sample_weight=w, normalize=normalize))
    for weights in (None, "linear", "quadratic"):
        got = M.cohen_kappa(p, y, task="multiclass", num_classes=C, labels=[2, 0, 1], weights=weights,
                            sample_weight=w)
        close(got, om.sk("cohen_kappa_score", y, p, labels=[2, 0, 1], weights=weights, sample_weight=w),
              f"kappa {weights}")
    m = M.ConfusionMatrix(task="multiclass", num_classes=C, labels=labels)
    close(m.compute(m.update(m.init(), p, y)), om.sk("confusion_matrix", y, p, labels=labels))


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_weighted_kappa_with_an_absent_middle_class(weights):
    """Distances count class ids (torchmetrics; scikit-learn with ``labels=range(C)``), as the
    docstring says; scikit-learn's default ranks the present classes only: with class 2 absent,
    0.25 / 0.375 here against its 0.333 / 0.5, which ``labels=`` of the present classes gives."""
    y, yhat = np.array([0, 1, 1, 0]), np.array([0, 3, 1, 1])
    got = M.cohen_kappa(yhat, y, task="multiclass", num_classes=C, weights=weights)
    close(got, om.sk("cohen_kappa_score", y, yhat, weights=weights, labels=list(range(C))))
    close(got, om.tm_classification("cohen_kappa", "multiclass", yhat, y, num_classes=C, weights=weights))
    close(M.cohen_kappa(yhat, y, task="multiclass", num_classes=C, weights=weights, labels=[0, 1, 3]),
          om.sk("cohen_kappa_score", y, yhat, weights=weights))


@pytest.mark.parametrize("name", ["precision", "recall", "f1_score", "jaccard_index", "accuracy"])
@pytest.mark.parametrize("pos_label", [0, 7])
def test_pos_label(name, pos_label):
    rng = np.random.default_rng(pos_label)
    vals = [0, 1] if pos_label == 0 else [3, 7]
    p, y, w = rng.choice(vals, 30), rng.choice(vals, 30), rng.uniform(0.1, 2, 30)
    got = getattr(M, name)(p, y, task="binary", pos_label=pos_label, sample_weight=w)
    if name == "accuracy":
        want = om.sk("accuracy_score", y, p, sample_weight=w)
    else:
        sk_name = {"precision": "precision_score", "recall": "recall_score", "f1_score": "f1_score",
                   "jaccard_index": "jaccard_score"}[name]
        want = om.sk(sk_name, y, p, pos_label=pos_label, sample_weight=w, zero_division=0)
    close(got, want)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_balanced_accuracy_adjusted(task, weighted):
    rng = np.random.default_rng(9)
    k = 2 if task == "binary" else C
    p, y = rng.integers(0, k, 40), rng.integers(0, k, 40)
    w = rng.uniform(0.1, 2, 40) if weighted else None
    kw = dict(num_classes=C) if task == "multiclass" else {}
    got = M.balanced_accuracy(p, y, task=task, adjusted=True, sample_weight=w, **kw)
    close(got, om.sk("balanced_accuracy_score", y, p, adjusted=True, sample_weight=w))
    m = M.BalancedAccuracy(task=task, adjusted=True, **kw)
    close(m(p, y, sample_weight=w), got)


# --------------------------------------------------------------------------- #
# axis= (torch layout) and ambiguous shapes; trailing size-1 masks / weights
# --------------------------------------------------------------------------- #
AXIS_CASES = [
    ("precision", {}), ("recall", {}), ("f1_score", {}), ("fbeta_score", dict(beta=2.0)), ("specificity", {}),
    ("jaccard_index", {}), ("dice_score", {}), ("accuracy", {}), ("hamming_distance", {}),
    ("balanced_accuracy", {}), ("stat_scores", {}), ("confusion_matrix", {}), ("matthews_corrcoef", {}),
    ("cohen_kappa", {}), ("exact_match", {}),
]


@pytest.mark.parametrize("name,extra", AXIS_CASES, ids=[c[0] for c in AXIS_CASES])
def test_axis_torch_layout_equals_class_last(name, extra):
    s, y = _mc(seed=11)
    torch_layout = np.moveaxis(s, -1, 1)              # [N, C, D]
    fn = getattr(M, name)
    want = fn(s, y, task="multiclass", num_classes=C, **extra)
    close(fn(torch_layout, y, task="multiclass", num_classes=C, axis=1, **extra), want)
    close(jax.jit(lambda a, b: fn(a, b, task="multiclass", num_classes=C, axis=1, **extra))(torch_layout, y), want)


def test_axis_torchmetrics_and_curves():
    s, y = _mc(seed=12)
    tl = np.moveaxis(s, -1, 1)
    close(M.f1_score(tl, y, task="multiclass", num_classes=C, axis=1, average="macro"),
          om.tm_classification("f1_score", "multiclass", tl, y, num_classes=C, average="macro"))
    close(M.auroc(tl, y, task="multiclass", num_classes=C, axis=1), M.auroc(s, y, task="multiclass", num_classes=C))
    m = M.AUROC(task="multiclass", num_classes=C, thresholds=9, axis=1)
    close(m(tl, y), M.auroc(s, y, task="multiclass", num_classes=C, thresholds=9))
    ml = (RNG.random((N, L, D)) < 0.5).astype(int)
    sl = RNG.random((N, L, D)).astype(np.float32)
    close(M.precision(sl, ml, task="multilabel", num_classes=L, axis=1, average="macro"),
          om.tm_classification("precision", "multilabel", sl, ml, num_labels=L, average="macro"))


@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_axis_ambiguous_shape_raises(task):
    s = RNG.random((2, C, C)).astype(np.float32)
    y = RNG.integers(0, C, (2, C)) if task == "multiclass" else RNG.integers(0, 2, (2, C, C))
    with pytest.raises(ValueError, match="axis=1"):
        M.precision(s, y, task=task, num_classes=C)
    with pytest.raises(ValueError, match="axis=1"):
        M.auroc(s, y, task=task, num_classes=C)
    # explicit: no guessing
    a = M.precision(s, y, task=task, num_classes=C, axis=-1)
    b = M.precision(np.moveaxis(s, -1, 1), y if task == "multiclass" else np.moveaxis(y, -1, 1), task=task,
                    num_classes=C, axis=1)
    close(a, b)
    with pytest.raises(TypeError, match="axis"):
        M.precision(s, y, task=task, num_classes=C, axis=1.0)


CURVE_AXIS = [("auroc", {}), ("auroc", dict(multi_class="ovo")), ("auroc", dict(thresholds=11)),
              ("average_precision", {}), ("roc_curve", {}), ("precision_recall_curve", {}),
              ("best_threshold", {}), ("calibration_error", {})]


@pytest.mark.parametrize("name,extra", CURVE_AXIS, ids=[f"{c[0]}-{sorted(c[1])}" for c in CURVE_AXIS])
def test_curves_with_c_equal_t_and_an_explicit_axis(name, extra):
    """``[N, C, C]`` scores with ``axis=1`` read nothing twice (the class axis moved last was
    once checked again as if no axis had been passed, and raised "Pass axis=1")."""
    s = RNG.random((6, C, C)).astype(np.float32)
    s /= s.sum(-1, keepdims=True)
    y = RNG.integers(0, C, (6, C))
    fn = getattr(M, name)
    kw = dict(task="multiclass", num_classes=C, **extra)
    want = fn(s, y, axis=-1, **kw)
    got = fn(np.moveaxis(s, -1, 1), y, axis=1, **kw)
    jax.tree_util.tree_map(close, got, want)
    if name in ("auroc", "average_precision") and not extra:
        close(got, om.tm_classification(name, "multiclass", np.moveaxis(s, -1, 1), y, num_classes=C))


TRAIL = [("accuracy", {}), ("precision", {}), ("f1_score", {}), ("jaccard_index", {}), ("dice_score", {}),
         ("stat_scores", {}), ("confusion_matrix", {}), ("cohen_kappa", {}), ("matthews_corrcoef", {}),
         ("balanced_accuracy", {}), ("hamming_distance", {}), ("auroc", {}), ("average_precision", {}),
         ("equal_error_rate", {})]


@pytest.mark.parametrize("name,extra", TRAIL, ids=[t[0] for t in TRAIL])
def test_trailing_size1_mask_and_weight(name, extra):
    rng = np.random.default_rng(13)
    s = rng.random((2, 3, 4)).astype(np.float32)        # Keras [B, H, W] binary scores
    y = rng.integers(0, 2, (2, 3, 4))
    mask = rng.random((2, 3, 4, 1)) < 0.7
    w = rng.uniform(0.1, 2, (2, 3, 4, 1)).astype(np.float32)
    fn = getattr(M, name)
    kw = dict(task="binary", **extra)
    close(fn(s, y, mask=mask, **kw), fn(s, y, mask=mask[..., 0], **kw))
    if name not in ("cohen_kappa",):
        close(fn(s, y, sample_weight=w, **kw), fn(s, y, sample_weight=w[..., 0], **kw))


# --------------------------------------------------------------------------- #
# auroc: max_fpr (McClish) and multi_class="ovo"
# --------------------------------------------------------------------------- #
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), max_fpr=st.sampled_from([0.05, 0.2, 0.5, 0.8, 1.0]),
       ties=st.booleans(), weighted=st.booleans())
def test_max_fpr_vs_sklearn(seed, max_fpr, ties, weighted):
    rng = np.random.default_rng(seed)
    s = rng.random(32).astype(np.float32)
    if ties:
        s = np.round(s, 1)
    y = rng.integers(0, 2, 32)
    y[:2] = [0, 1]
    w = rng.uniform(0.1, 2, 32).astype(np.float32) if weighted else None
    got = M.auroc(s, y, max_fpr=max_fpr, sample_weight=w)
    close(got, oc.sk_partial_auroc(y, s, max_fpr, w), f"max_fpr={max_fpr}", rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("max_fpr", [0.1, 0.5])
def test_max_fpr_binned_masked_streaming(max_fpr):
    rng = np.random.default_rng(21)
    s, y = rng.random(50).astype(np.float32), rng.integers(0, 2, 50)
    keep = rng.random(50) < 0.8
    close(M.auroc(s, y, max_fpr=max_fpr, thresholds=11),
          oc.tm_binary_auroc(y, s, max_fpr=max_fpr, thresholds=11), "binned vs torchmetrics")
    close(M.auroc(s, y, max_fpr=max_fpr, mask=keep), oc.sk_partial_auroc(y[keep], s[keep], max_fpr), "mask")
    y_ig = np.where(keep, y, -1)
    close(M.auroc(s, y_ig, max_fpr=max_fpr, ignore_index=-1), oc.sk_partial_auroc(y[keep], s[keep], max_fpr))
    m = M.AUROC(capacity=64, max_fpr=max_fpr)
    state = m.update(m.update(m.init(), s[:20], y[:20]), s[20:], y[20:])
    close(m.compute(state), oc.sk_partial_auroc(y, s, max_fpr))
    mb = M.AUROC(thresholds=11, max_fpr=max_fpr)
    close(mb.compute(mb.update(mb.init(), s, y)), oc.tm_binary_auroc(y, s, max_fpr=max_fpr, thresholds=11))
    ml = rng.random((50, L)).astype(np.float32), rng.integers(0, 2, (50, L))
    close(M.auroc(*ml, task="multilabel", max_fpr=max_fpr, average="macro"),
          om.sk("roc_auc_score", ml[1], ml[0], max_fpr=max_fpr, average="macro"), "multilabel")


@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_auroc_ovo_vs_sklearn(average):
    rng = np.random.default_rng(22)
    logits = rng.normal(size=(60, C))
    p = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
    y = rng.integers(0, C, 60)
    got = M.auroc(p, y, task="multiclass", num_classes=C, multi_class="ovo", average=average)
    close(got, oc.sk_auroc_ovo(y, p, average), rtol=1e-5)
    keep = rng.random(60) < 0.8
    close(M.auroc(p, y, task="multiclass", num_classes=C, multi_class="ovo", average=average, mask=keep),
          oc.sk_auroc_ovo(y[keep], p[keep], average), "mask", rtol=1e-5)
    close(M.auroc(p, np.where(keep, y, 255), task="multiclass", num_classes=C, multi_class="ovo", average=average,
                  ignore_index=255), oc.sk_auroc_ovo(y[keep], p[keep], average), "ignore_index", rtol=1e-5)
    close(jax.jit(lambda a, b: M.auroc(a, b, task="multiclass", num_classes=C, multi_class="ovo",
                                       average=average))(p, y), got)
    m = M.AUROC(task="multiclass", num_classes=C, capacity=64, multi_class="ovo", average=average)
    close(m.compute(m.update(m.update(m.init(), p[:25], y[:25]), p[25:], y[25:])), got, "streaming")


def test_auroc_option_errors():
    s, y = RNG.random((8, C)).astype(np.float32), RNG.integers(0, C, 8)
    with pytest.raises(ValueError, match="max_fpr"):
        M.auroc(s, y, task="multiclass", num_classes=C, max_fpr=0.5)
    with pytest.raises(ValueError, match="max_fpr"):
        M.auroc(s[:, 0], (y > 1).astype(int), max_fpr=0.0)
    with pytest.raises(ValueError, match="ovo"):
        M.auroc(s[:, 0], (y > 1).astype(int), multi_class="ovo")
    with pytest.raises(ValueError, match="multi_class"):
        M.auroc(s, y, task="multiclass", num_classes=C, multi_class="ova")


# --------------------------------------------------------------------------- #
# equal_error_rate (torchmetrics binary_eer) and generalized_dice_score (torchmetrics segmentation)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("thresholds", [None, 7], ids=["exact", "binned"])
@pytest.mark.parametrize("ties", [False, True], ids=["noties", "ties"])
def test_equal_error_rate(thresholds, ties):
    rng = np.random.default_rng(31)
    s, y = rng.random(60).astype(np.float32), rng.integers(0, 2, 60)
    if ties:
        s = np.round(s, 1)
    got = M.equal_error_rate(s, y, thresholds=thresholds)
    close(got, om.tm_eer("binary", s, y, thresholds=thresholds))
    y_ig = np.where(rng.random(60) < 0.8, y, -1)
    want = om.tm_eer("binary", s, y_ig, thresholds=thresholds, ignore_index=-1)
    close(M.equal_error_rate(s, y_ig, thresholds=thresholds, ignore_index=-1), want, "ignore_index")
    close(M.equal_error_rate(s, y, thresholds=thresholds, mask=y_ig != -1), want, "mask")
    close(jax.jit(lambda a, b: M.equal_error_rate(a, b, thresholds=thresholds))(s, y), got, "jit")
    kw = dict(capacity=64) if thresholds is None else dict(thresholds=thresholds)
    m = M.EqualErrorRate(**kw)
    close(m.compute(m.update(m.update(m.init(), s[:30], y[:30]), s[30:], y[30:])), got, "streaming")
    sc = rng.random((60, C)).astype(np.float32)
    yc = rng.integers(0, C, 60)
    close(M.equal_error_rate(sc, yc, task="multiclass", num_classes=C, thresholds=thresholds),
          om.tm_eer("multiclass", sc, yc, num_classes=C, thresholds=thresholds), "multiclass")


@pytest.mark.parametrize("per_class", [False, True])
@pytest.mark.parametrize("include_background", [True, False])
@pytest.mark.parametrize("weight_type", ["square", "simple", "linear"])
def test_generalized_dice_score(weight_type, include_background, per_class):
    rng = np.random.default_rng(41)
    p, t = rng.integers(0, C, (5, 6, 7)), rng.integers(0, C, (5, 6, 7))
    t[0] = 0                        # a sample where classes 1..C-1 are absent: the infinite-weight rule
    kw = dict(num_classes=C, include_background=include_background, per_class=per_class, weight_type=weight_type)
    want = om.tm_generalized_dice(p, t, input_format="index", **kw)
    close(M.generalized_dice_score(p, t, input_format="index", per_sample=True, **kw), want, "index")
    close(M.generalized_dice_score(p, t, input_format="index", **kw), want.mean(0), "class mean")
    ph = np.moveaxis(np.eye(C, dtype=np.int64)[p], -1, 1)     # torch one-hot [N, C, H, W]
    th = np.moveaxis(np.eye(C, dtype=np.int64)[t], -1, 1)
    close(M.generalized_dice_score(ph, th, axis=1, per_sample=True, **kw),
          om.tm_generalized_dice(ph, th, **kw), "one-hot, axis=1")
    m = M.GeneralizedDiceScore(input_format="index", **kw)
    # torchmetrics fills an infinite class weight from its batch: the reference runs on the same batches
    per_batch = np.concatenate([om.tm_generalized_dice(p[:2], t[:2], input_format="index", **kw),
                                om.tm_generalized_dice(p[2:], t[2:], input_format="index", **kw)])
    close(m.compute(m.update(m.update(m.init(), p[:2], t[:2]), p[2:], t[2:])), per_batch.mean(0), "streaming")
    # float maps: torchmetrics reads probabilities and logits by their arg-max (a soft sum gave
    # 0.2359 for its 0.2243 on probabilities, a negative score on logits)
    logits = rng.normal(size=(5, C, 6, 7)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    for name, scores in (("probabilities", probs), ("logits", logits)):
        close(M.generalized_dice_score(scores, th, axis=1, per_sample=True, **kw),
              om.tm_generalized_dice(scores, th, **kw), name)


def test_generalized_dice_mask_and_ignore_index():
    rng = np.random.default_rng(42)
    p, t = rng.integers(0, C, (3, 8)), rng.integers(0, C, (3, 8))
    keep = rng.random((3, 8)) < 0.7
    got = M.generalized_dice_score(p, np.where(keep, t, 255), num_classes=C, input_format="index",
                                   ignore_index=255, per_sample=True)
    # the reference on one-hot maps whose dropped elements are all-zero rows (they count nowhere)
    hot = lambda x: np.moveaxis(np.eye(C, dtype=np.int64)[x] * keep[..., None], -1, 1)  # noqa: E731
    want = om.tm_generalized_dice(hot(p), hot(t), num_classes=C)
    close(got, want)
    close(M.generalized_dice_score(p, t, num_classes=C, input_format="index", mask=keep[..., None],
                                   per_sample=True), want, "trailing size-1 mask")


# --------------------------------------------------------------------------- #
# every option under jit (static shapes) equals the eager call; labels / class_id with masks
# --------------------------------------------------------------------------- #
_S4, _Y4 = _mc(seed=51)
_B = (RNG.random(30).astype(np.float32), RNG.integers(0, 2, 30))
JIT_CASES = [
    ("samplewise", M.f1_score, (_S4, _Y4), dict(task="multiclass", num_classes=C, multidim_average="samplewise")),
    ("top_k", M.precision, (_S4, _Y4), dict(task="multiclass", num_classes=C, top_k=2, average="macro")),
    ("class_id", M.recall, (_S4, _Y4), dict(task="multiclass", num_classes=C, class_id=1)),
    ("labels", M.jaccard_index, (_S4, _Y4), dict(task="multiclass", num_classes=C, labels=[3, 1], average="macro")),
    ("labels-confmat", M.confusion_matrix, (_S4, _Y4), dict(task="multiclass", num_classes=C, labels=[3, 1])),
    ("pos_label", M.f1_score, (_B[1], 1 - _B[1]), dict(task="binary", pos_label=0)),
    ("adjusted", M.balanced_accuracy, (_S4, _Y4), dict(task="multiclass", num_classes=C, adjusted=True)),
    ("max_fpr", M.auroc, _B, dict(max_fpr=0.3)),
    ("eer", M.equal_error_rate, _B, {}),
    ("axis", M.specificity, (np.moveaxis(_S4, -1, 1), _Y4), dict(task="multiclass", num_classes=C, axis=1)),
]


@pytest.mark.parametrize("fn,args,kw", [c[1:] for c in JIT_CASES], ids=[c[0] for c in JIT_CASES])
def test_option_under_jit_equals_eager(fn, args, kw):
    mask = np.random.default_rng(5).random(np.asarray(args[1]).shape) < 0.8
    eager = fn(*args, mask=mask, **kw)
    jitted = jax.jit(lambda a, b, m: fn(a, b, mask=m, **kw))(*args, mask)
    close(jitted, eager)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), labels=st.lists(st.integers(0, 6), min_size=1, max_size=5, unique=True),
       average=st.sampled_from(AVERAGES))
def test_labels_with_mask_vs_sklearn_property(seed, labels, average):
    # fixed shapes (40 elements, C = 4; labels up to 6 include absent ids): one compile per average
    rng = np.random.default_rng(seed)
    p, y, w = rng.integers(0, C, 40), rng.integers(0, C, 40), rng.uniform(0.1, 2, 40)
    keep = rng.random(40) < 0.8
    got = M.precision(p, y, task="multiclass", num_classes=C, average=average, labels=labels, sample_weight=w,
                      mask=keep)
    want = om.sk("precision_score", y[keep], p[keep], average=average, labels=labels, sample_weight=w[keep],
                 zero_division=0)
    close(got, want, f"labels={labels} {average}")


@pytest.mark.parametrize("name", ["precision", "recall", "f1_score", "jaccard_index"])
def test_class_id_with_mask_and_ignore_index_vs_torchmetrics(name):
    rng = np.random.default_rng(61)
    s, y = rng.random((40, C)).astype(np.float32), rng.integers(0, C, 40)
    y_ig = np.where(rng.random(40) < 0.8, y, -100)
    want = om.tm_classification(name, "multiclass", s, y_ig, num_classes=C, average=None, ignore_index=-100)
    for k in range(C):
        close(M.__dict__[name](s, y_ig, task="multiclass", num_classes=C, class_id=k, ignore_index=-100), want[k])
        close(M.__dict__[name](s, y, task="multiclass", num_classes=C, class_id=k, mask=y_ig != -100), want[k])


@pytest.mark.parametrize("name", ["precision_at_k", "recall_at_k"])
def test_ranking_axis(name):
    rng = np.random.default_rng(71)
    s, y = rng.random((5, 6, L)).astype(np.float32), rng.integers(0, 2, (5, 6, L))
    want = getattr(M, name)(s, y, k=2)
    close(getattr(M, name)(np.moveaxis(s, -1, 1), np.moveaxis(y, -1, 1), k=2, axis=1), want)
    cls = M.PrecisionAtK if name == "precision_at_k" else M.RecallAtK
    close(cls(k=2, axis=1)(np.moveaxis(s, -1, 1), np.moveaxis(y, -1, 1)), want)
    # the class-last value against torchmetrics retrieval (per sample, averaged)
    close(want, om.retrieval_at_k(name.split("_")[0], s.reshape(-1, L), y.reshape(-1, L), 2))
