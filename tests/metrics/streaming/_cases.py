"""Shared cases for the streaming tests: one entry per streaming metric.

Each case is ``(id, metric, make)``; ``make(rng, n)`` returns ``(args, kwargs)``
of NumPy arrays whose leading axis is the row axis (length ``n``), so a
batch is a slice of rows and a padded batch is rows + a ``[B]`` row mask.
Values and weights are small multiples of 1/4, so float sums are exact in
any order and streamed / sharded states can be compared with ``==``.
"""

from __future__ import annotations

import numpy as np

from maskjax import metrics as M

C = 4  # classes
L = 3  # labels
WEIGHTS = np.array([0.5, 1.0, 2.0], np.float32)


def _values(rng, n):
    return (rng.integers(-16, 17, (n, 2)).astype(np.float32) / 4,), {}


def _weighted(make):
    def wrapped(rng, n):
        args, kw = make(rng, n)
        return args, dict(kw, sample_weight=rng.choice(WEIGHTS, n))
    return wrapped


def _quarter_scores(rng, shape):
    return rng.integers(0, 5, shape).astype(np.float32) / 4  # ties on purpose


def _binary(rng, n):
    return (_quarter_scores(rng, (n,)), rng.integers(0, 2, n).astype(np.int32)), {}


def _multiclass(rng, n):
    return (rng.normal(size=(n, C)).astype(np.float32), rng.integers(0, C, n).astype(np.int32)), {}


def _multiclass_ignore(rng, n):
    t = rng.integers(0, C, n).astype(np.int32)
    t[rng.random(n) < 0.2] = -100
    return (rng.normal(size=(n, C)).astype(np.float32), t), {}


def _multilabel(rng, n):
    return (_quarter_scores(rng, (n, L)), rng.integers(0, 2, (n, L)).astype(np.int32)), {}


def _segmentation(rng, n):
    """Class-id maps ``[n, 4]`` (generalized Dice, ``input_format="index"``)."""
    return (rng.integers(0, C, (n, 4)).astype(np.int32), rng.integers(0, C, (n, 4)).astype(np.int32)), {}


def _multiclass_probs(rng, n):
    logits = rng.normal(size=(n, C))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return (np.round(p * 8).astype(np.float32) / 8, rng.integers(0, C, n).astype(np.int32)), {}


def _has(name):
    return hasattr(M, name)


def build_cases():
    """All (id, metric, make) cases for the metric classes that exist."""
    cases = [
        ("Mean", M.Mean(), _values),
        ("Mean-weighted", M.Mean(), _weighted(_values)),
        ("Sum-weighted", M.Sum(), _weighted(_values)),
    ]
    mc = dict(task="multiclass", num_classes=C)
    confusion = [
        ("Accuracy", dict(average="micro")),
        ("Precision", dict(average="macro")),
        ("Recall", dict(average="weighted")),
        ("F1Score", dict(average="macro")),
        ("FBetaScore", dict(beta=2.0, average="macro")),
        ("Specificity", dict(average="macro")),
        ("JaccardIndex", dict(average="macro")),
        ("DiceScore", dict(average="macro")),
        ("MatthewsCorrCoef", {}),
        ("CohenKappa", {}),
        ("BalancedAccuracy", {}),
        ("ConfusionMatrix", {}),
        ("HammingDistance", dict(average="micro")),
        ("ExactMatch", {}),
        ("StatScores", dict(average=None)),
    ]
    for name, kw in confusion:
        if not _has(name):
            continue
        cls = getattr(M, name)
        if name == "ExactMatch":
            cases.append((name, cls(task="multilabel", num_classes=L), _multilabel))
            continue
        cases.append((name, cls(**mc, **kw), _multiclass))
        cases.append((name + "-weighted-ignore", cls(**mc, **kw, dtype="float32", ignore_index=-100),
                      _weighted(_multiclass_ignore)))
        # The default object (exact wide sums) takes sample_weight too (issue 13).
        cases.append((name + "-weighted-default", cls(**mc, **kw, ignore_index=-100), _weighted(_multiclass_ignore)))
    if _has("F1Score"):
        cases.append(("F1Score-binary", M.F1Score(task="binary"), _binary))
        cases.append(("F1Score-multilabel", M.F1Score(task="multilabel", num_classes=L, average="macro"),
                      _multilabel))
    binned = dict(thresholds=5)
    for name in ("AUROC", "AveragePrecision", "ROC", "PRCurve"):
        if not _has(name):
            continue
        cls = getattr(M, name)
        cases.append((name + "-binned", cls(task="binary", **binned), _binary))
        cases.append((name + "-binned-weighted", cls(task="binary", **binned, dtype="float32"),
                      _weighted(_binary)))
        cases.append((name + "-binned-multiclass", cls(task="multiclass", num_classes=C, **binned),
                      _multiclass_probs))
        cases.append((name + "-exact", cls(task="binary", capacity=64), _binary))
    cases.append(("PrecisionAtK", M.PrecisionAtK(k=2), _multilabel))
    cases.append(("RecallAtK-weighted", M.RecallAtK(k=2), _weighted(_multilabel)))
    if _has("EqualErrorRate"):
        cases.append(("EqualErrorRate-binned", M.EqualErrorRate(thresholds=5), _binary))
        cases.append(("EqualErrorRate-exact", M.EqualErrorRate(capacity=64), _binary))
    if _has("GeneralizedDiceScore"):   # "linear": no batch-dependent fill of infinite class weights
        cases.append(("GeneralizedDiceScore", M.GeneralizedDiceScore(num_classes=C, input_format="index",
                                                                     weight_type="linear"), _segmentation))
    if _has("CalibrationError"):
        cases.append(("CalibrationError", M.CalibrationError(task="binary", n_bins=4), _binary))
        cases.append(("CalibrationError-weighted", M.CalibrationError(task="binary", n_bins=4, dtype="float32"),
                      _weighted(_binary)))
    return cases


def is_exact_buffer(metric) -> bool:
    return getattr(metric, "capacity", None) is not None


def rows(arrays, sl):
    return tuple(a[sl] for a in arrays)


def pad_rows(a, size):
    pad = size - a.shape[0]
    return np.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1))


def call_update(metric, state, args, kwargs, mask=None):
    if metric.inputs == "values":
        return metric.update(state, *args, mask=mask, **kwargs)
    return metric.update(state, *args, mask=mask, **kwargs)


def _with_loss(make):
    def wrapped(rng, n):
        args, kw = make(rng, n)
        return args, dict(kw, loss=(rng.integers(0, 9, n) / 4).astype(np.float32))
    return wrapped


def collection_cases():
    """Three collections covering every metric class and state kind, one per input convention."""
    conf_names = ("Accuracy", "Precision", "Recall", "F1Score", "Specificity", "JaccardIndex", "DiceScore",
                  "MatthewsCorrCoef", "CohenKappa", "BalancedAccuracy", "ConfusionMatrix", "HammingDistance",
                  "StatScores")
    w = dict(dtype="float32")
    mc = dict(task="multiclass", num_classes=C)
    members = {n.lower(): getattr(M, n)(**mc, **w, ignore_index=-100) for n in conf_names}
    members.update(
        fbeta=M.FBetaScore(**mc, **w, ignore_index=-100, beta=2.0),
        kappa_quadratic=M.CohenKappa(**mc, **w, ignore_index=-100, weights="quadratic"),
        top2=M.Accuracy(**mc, **w, ignore_index=-100, top_k=2),
        auroc=M.AUROC(**mc, **w, ignore_index=-100, thresholds=5, from_logits=True),
        ap=M.AveragePrecision(**mc, **w, ignore_index=-100, thresholds=5, from_logits=True),
        auroc_exact=M.AUROC(**mc, ignore_index=-100, capacity=32, from_logits=True),
        ece=M.CalibrationError(**mc, ignore_index=-100, n_bins=4, from_logits=True),
        loss=M.Mean(),
    )
    multiclass = M.Collection(members)
    binary = M.Collection(
        {n.lower(): getattr(M, n)(task="binary") for n in conf_names if n != "StatScores"},
        roc=M.ROC(task="binary", thresholds=5), pr=M.PRCurve(task="binary", thresholds=5),
        auroc=M.AUROC(task="binary", thresholds=5), roc_exact=M.ROC(task="binary", capacity=32),
        ap_exact=M.AveragePrecision(task="binary", capacity=32), ece=M.CalibrationError(task="binary", n_bins=4),
        loss=M.Sum())
    ml = dict(task="multilabel", num_classes=L)
    multilabel = M.Collection(
        f1=M.F1Score(**ml, average="macro"), f1_samples=M.F1Score(**ml, average="samples"),
        exact=M.ExactMatch(**ml), hamming=M.HammingDistance(**ml), cm=M.ConfusionMatrix(**ml),
        auroc=M.AUROC(**ml, thresholds=5), ap=M.AveragePrecision(**ml, thresholds=5, average="micro"),
        loss=M.Mean())
    return [("multiclass-weighted", multiclass, _with_loss(_weighted(_multiclass_ignore))),
            ("binary", binary, _with_loss(_binary)),
            ("multilabel", multilabel, _with_loss(_multilabel))]


def assert_states_match(metric, a, b, what=""):
    """Exact equality for additive counting states; buffers and calibration sums by computed value."""
    import jax

    if isinstance(metric, M.Collection):
        for group, _ in metric.groups:
            assert_states_match(metric[group], a[group], b[group], f"{what}/{group}")
        return
    from maskjax.metrics._wide import narrow

    a, b = narrow(a), narrow(b)   # wide sums: the value hi + lo must agree, not the split
    if is_exact_buffer(metric):
        # On the host first: the exact sort's CPU pure_callback refuses mesh-replicated inputs
        # (reported to the curves module).
        a, b = metric.compute(jax.device_get(a)), metric.compute(jax.device_get(b))
        jax.tree.map(lambda x, y: np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6,
                                                             equal_nan=True, err_msg=what), a, b)
    elif (isinstance(metric, (M.CalibrationError, M.GeneralizedDiceScore))
          or type(getattr(a, "value", a)).__name__ == "SamplesState"):
        # Σ w·confidence, Σ per-sample scores: arbitrary floats, order-dependent rounding
        jax.tree.map(lambda x, y: np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6,
                                                             err_msg=what), a, b)
    else:
        jax.tree.map(lambda x, y: np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=what),
                     a, b)
