"""Oracles for curves, ranking and calibration: real scikit-learn and torchmetrics calls.

Everything takes NumPy arrays (already sliced: no masks) and returns NumPy /
Python floats, so tests compare maskjax's masked, jitted results against them.
"""

from __future__ import annotations

import warnings

import numpy as np


def _quiet():
    warnings.simplefilter("ignore")


# ----------------------------------------------------------------- scikit-learn
def sk_roc_curve(y, s, w=None, drop_intermediate=False):
    from sklearn.metrics import roc_curve
    with warnings.catch_warnings():
        _quiet()
        return roc_curve(y, s, sample_weight=w, drop_intermediate=drop_intermediate)


def sk_pr_curve(y, s, w=None):
    from sklearn.metrics import precision_recall_curve
    with warnings.catch_warnings():
        _quiet()
        return precision_recall_curve(y, s, sample_weight=w)


def _binarize(task, y, num_classes):
    if task == "multiclass":
        from sklearn.preprocessing import label_binarize
        return label_binarize(y, classes=list(range(num_classes)))
    return y


def sk_auroc(task, y, s, w=None, average="macro", num_classes=None):
    """roc_auc_score; multiclass through label_binarize (one-vs-rest, as multi-label)."""
    from sklearn.metrics import roc_auc_score
    with warnings.catch_warnings():
        _quiet()
        return np.asarray(roc_auc_score(_binarize(task, y, num_classes), s, sample_weight=w, average=average))


def sk_ap(task, y, s, w=None, average="macro", num_classes=None):
    from sklearn.metrics import average_precision_score
    with warnings.catch_warnings():
        _quiet()
        return np.asarray(average_precision_score(_binarize(task, y, num_classes), s, sample_weight=w,
                                                  average=average))


# ----------------------------------------------------------------- torchmetrics
def _t(x, integer=False):
    import torch
    x = torch.from_numpy(np.ascontiguousarray(x))
    return x.long() if integer else x.float()


def tm_binned(kind, task, y, s, thresholds, average="macro", num_classes=None):
    """torchmetrics functional ``kind`` in {auroc, average_precision, roc, precision_recall_curve}."""
    import torchmetrics.functional.classification as F
    fn = getattr(F, f"{task}_{kind}")
    if isinstance(thresholds, np.ndarray):
        thresholds = _t(thresholds)
    kw = {"thresholds": thresholds}
    if task == "multiclass":
        kw["num_classes"] = num_classes
    if task == "multilabel":
        kw["num_labels"] = s.shape[-1]
    if kind in ("auroc", "average_precision") and task != "binary":
        kw["average"] = average
    with warnings.catch_warnings():
        _quiet()
        out = fn(_t(s), _t(y, integer=True), **kw)
    if isinstance(out, tuple):
        return tuple(o.numpy() if hasattr(o, "numpy") else [x.numpy() for x in o] for o in out)
    return out.numpy()


def tm_calibration_error(task, y, p, n_bins=15, norm="l1", num_classes=None):
    import torchmetrics.functional.classification as F
    with warnings.catch_warnings():
        _quiet()
        if task == "binary":
            return float(F.binary_calibration_error(_t(p), _t(y, integer=True), n_bins=n_bins, norm=norm))
        return float(F.multiclass_calibration_error(_t(p), _t(y, integer=True), num_classes=num_classes,
                                                    n_bins=n_bins, norm=norm))


def tm_exact_binary_auroc(y, s):
    import torchmetrics.functional.classification as F
    return float(F.binary_auroc(_t(s), _t(y, integer=True)))


def sk_partial_auroc(y, s, max_fpr, w=None):
    """scikit-learn ``roc_auc_score(..., max_fpr=)`` (McClish-standardised partial AUC)."""
    from sklearn.metrics import roc_auc_score
    return float(roc_auc_score(y, s, max_fpr=max_fpr, sample_weight=w))


def sk_auroc_ovo(y, p, average="macro", labels=None):
    """scikit-learn one-vs-one multiclass AUROC."""
    from sklearn.metrics import roc_auc_score
    return float(roc_auc_score(y, p, multi_class="ovo", average=average, labels=labels))


def tm_binary_auroc(y, s, **kw):
    """torchmetrics ``binary_auroc`` (``max_fpr=``, ``thresholds=``)."""
    import torchmetrics.functional.classification as F
    with warnings.catch_warnings():
        _quiet()
        return float(F.binary_auroc(_t(s), _t(y, integer=True), **kw))
