"""Every public loss and metric × every kind of bad input, eager and under jit: no plausible number.

The documented outcome of each (README, "What bad input gets"):

=========================  ================================  ====================================
input                      eager                             under ``jax.jit``
=========================  ================================  ====================================
NaN score, kept element    NaN (``validate=True``: raises)   NaN
NaN / negative weight      ``ValueError`` naming the weight  NaN
int64 label >= 2**31       ``ValueError`` naming the labels  ``ValueError`` (a constant)
decreasing thresholds      ``ValueError``                    NaN (traced thresholds)
probabilities > 1          calibration: ``ValueError``;      calibration: NaN; other metrics
                           other metrics: scores, a value    compare scores with the threshold
everything masked          the documented empty value: 0 (losses; ``zero_division``) or NaN (curves,
                           kappa) — never an error
=========================  ================================  ====================================

Integer-count outputs (unweighted one-shot ``stat_scores`` / ``confusion_matrix``) cannot hold NaN:
for them ``validate=True`` is the NaN check (documented in the README table).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import maskjax.losses as L
import maskjax.metrics as M

RNG = np.random.default_rng(0)
N = 6
S = np.array([.9, .2, .7, .4, .6, .1], np.float32)          # binary scores
B = np.array([1, 0, 1, 1, 0, 0], np.int32)                  # binary targets
P = RNG.normal(size=(N, 3)).astype(np.float32)               # multiclass logits
Y = np.array([0, 1, 2, 1, 1, 2], np.int32)
ML_S = RNG.random((N, 3)).astype(np.float32)
ML_Y = (RNG.random((N, 3)) < .5).astype(np.int32)
SEG = RNG.normal(size=(N, 4, 3)).astype(np.float32)         # [B, pixels, C] logits
SEG_Y = RNG.integers(0, 3, (N, 4)).astype(np.int32)
REG_P = RNG.normal(size=(N, 2)).astype(np.float32)
REG_Y = RNG.normal(size=(N, 2)).astype(np.float32)

MC = dict(task="multiclass", num_classes=3)
# name -> (function, preds, targets, options, kind). kind: "labels" (int targets a NaN-able
# integer label can corrupt), "float" (float targets), "int_counts" (integer outputs).
TABLE = {
    "accuracy": (M.accuracy, P, Y, MC, "labels"),
    "balanced_accuracy": (M.balanced_accuracy, P, Y, MC, "labels"),
    "hamming_distance": (M.hamming_distance, P, Y, MC, "labels"),
    "exact_match": (M.exact_match, ML_S, ML_Y, dict(task="multilabel"), "labels"),
    "top_k_accuracy": (M.top_k_accuracy, P, Y, dict(num_classes=3, top_k=2), "labels"),
    "precision": (M.precision, P, Y, MC, "labels"),
    "recall": (M.recall, P, Y, MC, "labels"),
    "specificity": (M.specificity, S, B, dict(task="binary"), "labels"),
    "f1_score": (M.f1_score, P, Y, MC, "labels"),
    "fbeta_score": (M.fbeta_score, S, B, dict(task="binary", beta=2.0), "labels"),
    "dice_score": (M.dice_score, P, Y, MC, "labels"),
    "jaccard_index": (M.jaccard_index, ML_S, ML_Y, dict(task="multilabel"), "labels"),
    "matthews_corrcoef": (M.matthews_corrcoef, P, Y, MC, "labels"),
    "cohen_kappa": (M.cohen_kappa, P, Y, MC, "labels"),
    "stat_scores": (M.stat_scores, S, B, dict(task="binary"), "int_counts"),
    "confusion_matrix": (M.confusion_matrix, P, Y, MC, "int_counts"),
    "precision_at_k": (M.precision_at_k, ML_S, ML_Y, dict(k=2), "labels"),
    "recall_at_k": (M.recall_at_k, ML_S, ML_Y, dict(k=2), "labels"),
    "roc_curve": (M.roc_curve, S, B, {}, "labels"),
    "precision_recall_curve": (M.precision_recall_curve, S, B, {}, "labels"),
    "auroc": (M.auroc, S, B, {}, "labels"),
    "average_precision": (M.average_precision, S, B, {}, "labels"),
    "best_threshold": (M.best_threshold, S, B, {}, "labels"),
    "calibration_error": (M.calibration_error, S, B, {}, "labels"),
    "reliability_diagram": (M.reliability_diagram, S, B, {}, "labels"),
    "cross_entropy": (L.cross_entropy, P, Y, {}, "labels"),
    "binary_cross_entropy": (L.binary_cross_entropy, S, B.astype(np.float32), {}, "float"),
    "focal_loss": (L.focal_loss, S, B.astype(np.float32), {}, "float"),
    "softmax_focal_loss": (L.softmax_focal_loss, P, Y, {}, "labels"),
    "multi_positive_cross_entropy": (L.multi_positive_cross_entropy, P, ML_Y | (np.arange(3) == 0), {}, "float"),
    "dice_loss": (L.dice_loss, SEG, SEG_Y, {}, "labels"),
    "jaccard_loss": (L.jaccard_loss, SEG, SEG_Y, {}, "labels"),
    "tversky_loss": (L.tversky_loss, SEG, SEG_Y, {}, "labels"),
    "generalized_dice_loss": (L.generalized_dice_loss, SEG, SEG_Y, {}, "labels"),
    "soft_fbeta_loss": (L.soft_fbeta_loss, S, B.astype(np.float32), {}, "float"),
    "mean_squared_error": (L.mean_squared_error, REG_P, REG_Y, {}, "float"),
    "mean_absolute_error": (L.mean_absolute_error, REG_P, REG_Y, {}, "float"),
    "huber_loss": (L.huber_loss, REG_P, REG_Y, {}, "float"),
    "log_cosh": (L.log_cosh, REG_P, REG_Y, {}, "float"),
    "cosine_similarity_loss": (L.cosine_similarity_loss, REG_P, REG_Y, {}, "float"),
    "contrastive_loss": (L.contrastive_loss, np.abs(S), B.astype(np.float32), {}, "float"),
}
for _optional in ("equal_error_rate", "generalized_dice_score"):
    if hasattr(M, _optional):
        TABLE[_optional] = ((M.equal_error_rate, S, B, {}, "labels") if _optional == "equal_error_rate"
                            else (M.generalized_dice_score, jax.nn.softmax(SEG, -1).__array__(),
                                  np.eye(3, dtype=np.int32)[SEG_Y], dict(num_classes=3), "float"))
CURVES = {"roc_curve", "precision_recall_curve", "auroc", "average_precision"}
CALIBRATION = {"calibration_error", "reliability_diagram"}
NAMES = sorted(TABLE)


def _floats(out):
    return [np.asarray(x) for x in jax.tree.leaves(out) if jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating)]


def _all_nan(out):
    leaves = _floats(out)
    return bool(leaves) and all(np.isnan(x).all() for x in leaves)


def _run(mode, fn, preds, targets, opts, **data):
    """Call eagerly, or under jit with the arrays traced (constants closed over stay constants)."""
    if mode == "eager":
        return fn(preds, targets, **opts, **data)
    names = sorted(data)
    jitted = jax.jit(lambda p, *arrs: fn(p, targets, **opts, **dict(zip(names, arrs))))
    return jitted(preds, *[data[n] for n in names])


MODES = ["eager", "jit"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_nan_score_in_a_kept_element(name, mode):
    fn, preds, targets, opts, kind = TABLE[name]
    if kind == "int_counts":
        # cannot hold NaN: validate=True is the check (eager), documented in the README table
        if mode == "eager" and "validate" in fn.__code__.co_varnames:
            bad = preds.astype(np.float32).copy()
            bad.flat[0] = np.nan
            with pytest.raises(ValueError, match="preds"):
                fn(bad, targets, **opts, validate=True)
        return
    bad = preds.copy()
    bad.flat[0] = np.nan
    assert _all_nan(_run(mode, fn, bad, targets, opts)), name


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("value", [math.nan, -1.0], ids=["nan_weight", "negative_weight"])
@pytest.mark.parametrize("name", NAMES)
def test_bad_sample_weight(name, value, mode):
    fn, preds, targets, opts, kind = TABLE[name]
    w = np.ones(N, np.float32)
    w[1] = value
    if mode == "eager":
        with pytest.raises(ValueError, match="sample_weight"):
            fn(preds, targets, **opts, sample_weight=w)
        return
    out = _run("jit", fn, preds, targets, opts, sample_weight=w)
    if kind == "int_counts" and not _floats(out):
        return
    assert _all_nan(out), name


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", [n for n in NAMES if TABLE[n][4] != "float"])
def test_int64_label_beyond_int32_never_wraps(name, mode):
    fn, preds, targets, opts, kind = TABLE[name]
    big = targets.astype(np.int64).copy()
    big.flat[0] = 2**32 + 1            # would wrap to class 1
    with pytest.raises(ValueError, match="int32 range"):
        if mode == "eager":
            fn(preds, big, **opts)
        else:   # the labels are a constant of the traced function (a jit *argument* is converted by JAX)
            jax.jit(lambda p: fn(p, big, **opts))(preds)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(CURVES))
def test_decreasing_thresholds(name, mode):
    fn, preds, targets, opts, _ = TABLE[name]
    thr = np.array([.9, .5, .1], np.float32)
    if mode == "eager":
        with pytest.raises(ValueError, match="thresholds"):
            fn(preds, targets, thresholds=thr)
        with pytest.raises(ValueError, match="thresholds"):
            getattr(M, {"auroc": "AUROC", "average_precision": "AveragePrecision", "roc_curve": "ROC",
                        "precision_recall_curve": "PRCurve"}[name])(task="binary", thresholds=thr)
        return
    assert _all_nan(jax.jit(lambda t: fn(preds, targets, thresholds=t))(thr)), name


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_probabilities_above_one(name, mode):
    fn, preds, targets, opts, kind = TABLE[name]
    if name not in CALIBRATION:
        return   # scores, not probabilities: compared with the threshold (documented); covered below
    high = preds.copy()
    high[0] = 1.2
    if mode == "eager":
        with pytest.raises(ValueError, match="probabilities"):
            fn(high, targets, **opts)
        return
    out = _run("jit", fn, high, targets, opts)
    # calibration_error: NaN; the diagram: NaN in the bin that holds the bad probability
    assert (np.isnan(np.asarray(out.weight)).any() if name == "reliability_diagram" else _all_nan(out)), name


def test_scores_above_one_are_scores_for_the_threshold_metrics():
    high = S.copy()
    high[0] = 1.2                       # still above 0.5: the same prediction, the same accuracy
    assert float(M.accuracy(high, B, task="binary")) == float(M.accuracy(S, B, task="binary"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_everything_masked_gives_the_documented_empty_value(name, mode):
    fn, preds, targets, opts, kind = TABLE[name]
    out = _run(mode, fn, preds, targets, opts, mask=np.zeros(N, bool))
    # The values (not the thresholds / bin edges a curve or diagram reports beside them)
    values = {"roc_curve": ("fpr", "tpr"), "precision_recall_curve": ("precision", "recall"),
              "reliability_diagram": ("confidence", "accuracy", "weight"), "best_threshold": (1,)}.get(name)
    if values is not None:
        out = [out[v] if isinstance(v, int) else getattr(out, v) for v in values]
    for leaf in _floats(out):
        ok = np.isnan(leaf) | (leaf == 0) | (leaf == 1)   # zero_division, NaN (curves, kappa) or a curve end
        assert ok.all(), (name, leaf)
