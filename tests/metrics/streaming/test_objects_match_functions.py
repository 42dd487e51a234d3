"""Every streaming class ≡ its one-shot function (same configuration, mask, weights)."""

import math

import jax
import numpy as np
import pytest

from maskjax import metrics as M

C, L, N = 4, 3, 40
rng = np.random.default_rng(0)
LOGITS = rng.normal(size=(N, C)).astype(np.float32)
LABELS = rng.integers(0, C, N).astype(np.int32)
LABELS_IGN = np.where(rng.random(N) < 0.15, -100, LABELS).astype(np.int32)
SCORES = rng.random(N).astype(np.float32)
BIN = rng.integers(0, 2, N).astype(np.int32)
ML_SCORES = rng.random((N, L)).astype(np.float32)
ML = rng.integers(0, 2, (N, L)).astype(np.int32)
MASK = rng.random(N) < 0.8
WEIGHT = rng.choice(np.array([0.5, 1.0, 2.0], np.float32), N)
PROBS = np.asarray(jax.nn.softmax(LOGITS))

MC = dict(task="multiclass", num_classes=C)
ML_CFG = dict(task="multilabel", num_classes=L)

# (id, class, function, config, data, weighted)
TABLE = []
for (name, fn), avg in zip((("Accuracy", "accuracy"), ("Precision", "precision"), ("Recall", "recall"),
                             ("F1Score", "f1_score"), ("Specificity", "specificity"),
                             ("JaccardIndex", "jaccard_index"), ("DiceScore", "dice_score"),
                             ("HammingDistance", "hamming_distance")),
                            ("macro", "micro", "weighted", None, "macro", None, "weighted", "micro")):
    TABLE.append((f"{name}-{avg}", name, fn, dict(MC, average=avg), "mc", True))
TABLE += [
    ("FBetaScore", "FBetaScore", "fbeta_score", dict(MC, beta=0.5, average="macro"), "mc", True),
    ("Precision-zd-nan", "Precision", "precision", dict(MC, average="macro", zero_division=math.nan), "mc", False),
    ("Accuracy-top2", "Accuracy", "accuracy", dict(MC, top_k=2, average="macro"), "mc", True),
    ("StatScores", "StatScores", "stat_scores", dict(MC), "mc", True),
    ("StatScores-macro", "StatScores", "stat_scores", dict(MC, average="macro"), "mc", False),
    ("BalancedAccuracy", "BalancedAccuracy", "balanced_accuracy", dict(MC), "mc", True),
    ("MatthewsCorrCoef", "MatthewsCorrCoef", "matthews_corrcoef", dict(MC), "mc", True),
    ("CohenKappa", "CohenKappa", "cohen_kappa", dict(MC), "mc", True),
    ("CohenKappa-linear", "CohenKappa", "cohen_kappa", dict(MC, weights="linear"), "mc", True),
    ("ConfusionMatrix", "ConfusionMatrix", "confusion_matrix", dict(MC), "mc", False),
    ("ConfusionMatrix-true", "ConfusionMatrix", "confusion_matrix", dict(MC, normalize="true"), "mc", True),
    ("F1-ignore", "F1Score", "f1_score", dict(MC, ignore_index=-100), "mc_ign", True),
    ("F1-class_weight", "F1Score", "f1_score", dict(MC, class_weight=(1.0, 2.0, 0.5, 1.0)), "mc", True),
    ("F1-binary-logits", "F1Score", "f1_score", dict(task="binary", threshold=0.2, from_logits=True), "bin", True),
    ("Precision-binary-lower", "Precision", "precision", dict(task="binary", lower_is_positive=True), "bin", False),
    ("ConfusionMatrix-binary", "ConfusionMatrix", "confusion_matrix", dict(task="binary"), "bin", False),
    ("F1-multilabel-thr", "F1Score", "f1_score", dict(ML_CFG, threshold=(0.3, 0.5, 0.7)), "ml", True),
    ("F1-samples", "F1Score", "f1_score", dict(ML_CFG, average="samples"), "ml", True),
    ("Jaccard-samples", "JaccardIndex", "jaccard_index", dict(ML_CFG, average="samples"), "ml", False),
    ("ExactMatch", "ExactMatch", "exact_match", dict(ML_CFG), "ml", True),
    ("ConfusionMatrix-ml", "ConfusionMatrix", "confusion_matrix", dict(ML_CFG), "ml", True),
    ("MCC-ml", "MatthewsCorrCoef", "matthews_corrcoef", dict(ML_CFG), "ml", True),
    ("PrecisionAtK", "PrecisionAtK", "precision_at_k", dict(k=2), "ml", True),
    ("RecallAtK", "RecallAtK", "recall_at_k", dict(k=2, zero_division=1.0), "ml", True),
]
for name, fn in (("AUROC", "auroc"), ("AveragePrecision", "average_precision")):
    for avg in (("macro", None) if name == "AUROC" else ("weighted", "micro")):
        TABLE.append((f"{name}-binned-{avg}", name, fn, dict(MC, thresholds=7, average=avg), "mc_prob", True))
        TABLE.append((f"{name}-exact-{avg}", name, fn, dict(MC, average=avg), "mc_prob", True))
    TABLE.append((f"{name}-binary-exact", name, fn, dict(task="binary"), "bin", True))
    TABLE.append((f"{name}-binary-array-thr", name, fn, dict(task="binary", thresholds=(0.1, 0.5, 0.9)), "bin", True))
    TABLE.append((f"{name}-ml-binned", name, fn, dict(ML_CFG, thresholds=5), "ml", True))
for name, fn in (("ROC", "roc_curve"), ("PRCurve", "precision_recall_curve")):
    TABLE.append((f"{name}-binned", name, fn, dict(task="binary", thresholds=6), "bin", True))
    TABLE.append((f"{name}-exact", name, fn, dict(task="binary"), "bin", True))
    TABLE.append((f"{name}-mc-binned-micro", name, fn, dict(MC, thresholds=6, average="micro"), "mc_prob", True))
    TABLE.append((f"{name}-mc-binned", name, fn, dict(MC, thresholds=6), "mc_prob", False))
for name, fn in (("AUROC", "auroc"), ("AveragePrecision", "average_precision"), ("ROC", "roc_curve"),
                 ("PRCurve", "precision_recall_curve")):
    LOWER = dict(task="binary", lower_is_positive=True)
    TABLE.append((f"{name}-lower-binned", name, fn, dict(LOWER, thresholds=6), "bin", True))
    TABLE.append((f"{name}-lower-array-thr", name, fn, dict(LOWER, thresholds=(0.1, 0.5, 0.9)), "bin", False))
    TABLE.append((f"{name}-lower-exact", name, fn, LOWER, "bin", True))
TABLE.append(("AUROC-mc-lower-binned", "AUROC", "auroc", dict(MC, thresholds=7, lower_is_positive=True), "mc_prob",
              True))
TABLE += [
    ("CalibrationError", "CalibrationError", "calibration_error", dict(task="binary", n_bins=5), "bin", True),
    ("CalibrationError-mc-max", "CalibrationError", "calibration_error",
     dict(MC, n_bins=5, norm="max", from_logits=True), "mc", True),
]

DATA = {"mc": (LOGITS, LABELS), "mc_ign": (LOGITS, LABELS_IGN), "mc_prob": (PROBS, LABELS),
        "bin": (SCORES, BIN), "ml": (ML_SCORES, ML)}


def _object_config(cls, cfg, weighted):
    cfg = dict(cfg)
    if cls in ("AUROC", "AveragePrecision", "ROC", "PRCurve") and cfg.get("thresholds") is None:
        cfg["capacity"] = 64
    if weighted and cls not in ("AUROC", "AveragePrecision", "ROC", "PRCurve", "CalibrationError", "ExactMatch"):
        cfg["dtype"] = "float32"
    elif "class_weight" in cfg:
        cfg["dtype"] = "float32"
    return cfg


@pytest.mark.parametrize("case_id,cls,fn,cfg,data,weighted", TABLE, ids=[t[0] for t in TABLE])
def test_object_equals_function(case_id, cls, fn, cfg, data, weighted):
    preds, targets = DATA[data]
    kw = dict(mask=MASK)
    if weighted:
        kw["sample_weight"] = WEIGHT
    metric = getattr(M, cls)(**_object_config(cls, cfg, weighted))
    fn_cfg = dict(cfg)
    if "class_weight" in fn_cfg:
        fn_cfg["class_weight"] = np.asarray(fn_cfg["class_weight"], np.float32)
    if "threshold" in fn_cfg and isinstance(fn_cfg["threshold"], tuple):
        fn_cfg["threshold"] = np.asarray(fn_cfg["threshold"], np.float32)
    if isinstance(fn_cfg.get("thresholds"), tuple):
        fn_cfg["thresholds"] = np.asarray(fn_cfg["thresholds"], np.float32)
    want = getattr(M, fn)(preds, targets, **fn_cfg, **kw)
    # streamed in two halves through one jitted update (the uneven splits are test_streaming_equivalence's)
    update = jax.jit(metric.update)
    s = metric.init()
    for sl in (slice(0, N // 2), slice(N // 2, N)):
        s = update(s, preds[sl], targets[sl], mask=MASK[sl], sample_weight=WEIGHT[sl] if weighted else None)
    got = metric.compute(s)
    if hasattr(want, "trim"):  # exact curves: fixed-length arrays differ in length; compare trimmed curves
        if "valid" in want._fields and want.valid.shape != got.valid.shape:
            want, got = want.trim(), got.trim()
    jax.tree.map(lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6,
                                                         equal_nan=True, err_msg=case_id), got, want)


def test_weighted_update_into_integer_counts_raises():
    f1 = M.F1Score(**MC, dtype="int32")      # explicit narrow int32 counts: weights would truncate
    with pytest.raises(TypeError, match="dtype=None"):
        f1.update(f1.init(), LOGITS, LABELS, sample_weight=WEIGHT)


def test_default_objects_accept_weights_and_class_weights():
    # The default state (exact wide sums) takes sample_weight and class_weight: equal to one-shot.
    cw = (0.5, 2.0, 1.0, 1.5)
    f1 = M.F1Score(**MC, class_weight=cw)
    got = f1.compute(f1.update(f1.init(), LOGITS, LABELS, sample_weight=WEIGHT))
    want = M.f1_score(LOGITS, LABELS, **MC, sample_weight=WEIGHT, class_weight=np.asarray(cw))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_config_errors_name_the_argument():
    with pytest.raises(ValueError, match="num_classes"):
        M.F1Score(task="multiclass")
    with pytest.raises(ValueError, match="average"):
        M.Precision(**MC, average="samples")
    with pytest.raises(ValueError, match="capacity"):
        M.AUROC(task="binary")
    with pytest.raises(ValueError, match="class_weight"):
        M.F1Score(**MC, class_weight=(1, 1, 1, 1), dtype="int32")
    with pytest.raises(ValueError, match="beta"):
        M.F1Score(**MC, beta=2.0)


def test_nan_zero_division_configs_are_equal_and_share_state():
    a = M.Precision(**MC, zero_division=float("nan"))
    b = M.Precision(**MC, zero_division=float("nan"))
    assert a == b and hash(a) == hash(b)
    coll = M.Collection(p=a, r=M.Recall(**MC), mcc=M.MatthewsCorrCoef(**MC), iou=M.JaccardIndex(**MC),
                        acc=M.Accuracy(**MC), f1=M.F1Score(**MC), kappa=M.CohenKappa(**MC),
                        auroc=M.AUROC(**MC, thresholds=10), ap=M.AveragePrecision(**MC, thresholds=10),
                        roc=M.ROC(**MC, thresholds=10))
    assert [len(members) for _, members in coll.groups] == [7, 3]


def test_exact_buffer_overflow_gives_nan():
    m = M.AUROC(task="binary", capacity=4)
    s = m.update(m.init(), SCORES[:6], BIN[:6])
    assert int(getattr(s, "value", s).count[0]) == 6 and np.isnan(float(m.compute(s)))   # tagged state
    merged = m.merge(m.update(m.init(), SCORES[:3], BIN[:3]), m.update(m.init(), SCORES[3:5], BIN[3:5]))
    assert np.isnan(float(m.compute(merged)))
