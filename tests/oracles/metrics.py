"""Reference implementations for the classification metrics: real scikit-learn
and torchmetrics calls (numpy in, Python floats / numpy arrays out).

Inputs are already *sliced* (masked / ignored elements removed): the tests
compare maskjax-with-a-mask against the reference-on-the-kept-elements.
``labels=None`` lets scikit-learn pick the labels present in y ∪ ŷ
(maskjax ``absent_classes="auto"`` for multiclass); ``labels=range(C)``
matches ``absent_classes="include"`` and ``average=None``.
"""

from __future__ import annotations

import warnings

import numpy as np
import sklearn.metrics as skm

__all__ = ["sklearn_metric", "sklearn_prf", "sklearn_specificity", "torchmetrics_metric", "retrieval_at_k"]


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def sklearn_metric(name, y, yhat, *, task, average=None, zero_division=0.0, sample_weight=None,
                   labels=None, beta=1.0, weights=None, normalize=None, scores=None, k=None):
    """The scikit-learn value of maskjax metric ``name`` on kept elements.

    ``task="binary"`` uses ``average="binary"`` (positive class 1); multiclass /
    multilabel pass ``average`` straight through.
    """
    y = np.asarray(y)
    yhat = np.asarray(yhat)
    sw = None if sample_weight is None else np.asarray(sample_weight, np.float64)
    avg = "binary" if task == "binary" else average
    kw = dict(sample_weight=sw)
    if name in ("precision", "recall", "f1", "fbeta", "dice"):
        b = 1.0 if name in ("f1", "dice") else beta
        p, r, f = sklearn_prf(y, yhat, task=task, average=average, zero_division=zero_division,
                              sample_weight=sw, labels=labels, beta=b)
        return {"precision": p, "recall": r}.get(name, f)
    if name == "jaccard":
        if not np.isnan(zero_division):
            return _quiet(skm.jaccard_score, y, yhat, average=avg, labels=labels,
                          zero_division=zero_division, **kw)
        # jaccard_score has no zero_division=nan: a 0/0 is where 0 and 1 disagree.
        both = avg if avg in ("binary", "micro") else ("samples" if avg == "samples" else None)
        if both == "samples":  # per-sample scores from one-row calls, then sklearn's _nanaverage
            per = []
            for i in range(len(y)):
                a = _quiet(skm.jaccard_score, y[i:i + 1], yhat[i:i + 1], average="samples",
                           zero_division=0)
                b = _quiet(skm.jaccard_score, y[i:i + 1], yhat[i:i + 1], average="samples",
                           zero_division=1)
                per.append(np.nan if a != b else a)
            return _nanaverage(per, weights=sw)
        j0 = np.atleast_1d(_quiet(skm.jaccard_score, y, yhat, average=both, labels=labels,
                                  zero_division=0, **kw))
        j1 = np.atleast_1d(_quiet(skm.jaccard_score, y, yhat, average=both, labels=labels,
                                  zero_division=1, **kw))
        per = np.where(j0 != j1, np.nan, j0)
        if both is not None or avg is None:
            return per[0] if both is not None else per
        support = None
        if avg == "weighted":
            mcm = _quiet(skm.multilabel_confusion_matrix, y, yhat, labels=labels, **kw)
            support = mcm[:, 1, 1] + mcm[:, 1, 0]
        return _nanaverage(per, weights=support)
    if name == "accuracy":
        if task == "multilabel":
            return 1.0 - _quiet(skm.hamming_loss, y, yhat, **kw)
        return _quiet(skm.accuracy_score, y, yhat, **kw)
    if name == "hamming":
        return _quiet(skm.hamming_loss, y, yhat, **kw)
    if name == "exact_match":
        return _quiet(skm.accuracy_score, y, yhat, **kw)
    if name == "balanced_accuracy":
        return _quiet(skm.balanced_accuracy_score, y, yhat, **kw)
    if name == "mcc":
        if task == "multilabel":  # pooled (torchmetrics), per-sample weights repeated per label
            swl = None if sw is None else np.repeat(sw, y.shape[1])
            return _quiet(skm.matthews_corrcoef, y.ravel(), yhat.ravel(), sample_weight=swl)
        return _quiet(skm.matthews_corrcoef, y, yhat, **kw)
    if name == "kappa":
        return _quiet(skm.cohen_kappa_score, y, yhat, weights=weights, labels=labels, **kw)
    if name == "confusion_matrix":
        if task == "multilabel":
            return _quiet(skm.multilabel_confusion_matrix, y, yhat, **kw)
        return _quiet(skm.confusion_matrix, y, yhat, labels=labels, normalize=normalize, **kw)
    if name == "top_k_accuracy":
        return _quiet(skm.top_k_accuracy_score, y, scores, k=k, labels=labels, **kw)
    raise KeyError(name)


def sklearn_prf(y, yhat, *, task, average=None, zero_division=0.0, sample_weight=None, labels=None,
                beta=1.0):
    """(precision, recall, F-beta) from one ``precision_recall_fscore_support`` call."""
    avg = "binary" if task == "binary" else average
    p, r, f, _ = _quiet(skm.precision_recall_fscore_support, np.asarray(y), np.asarray(yhat),
                        beta=beta, average=avg, labels=labels, zero_division=zero_division,
                        sample_weight=sample_weight)
    return p, r, f


def _nanaverage(a, weights=None):
    """scikit-learn's ``_nanaverage`` (the one its averages use)."""
    from sklearn.utils.extmath import _nanaverage

    return float(_nanaverage(np.asarray(a, np.float64), weights=weights))


def sklearn_specificity(y, yhat, *, task, average, zero_division=0.0, sample_weight=None, labels=None):
    """tn / (tn + fp) from scikit-learn's ``multilabel_confusion_matrix``, averaged like sklearn."""
    if task == "binary":
        labels = [1]
    mcm = _quiet(skm.multilabel_confusion_matrix, y, yhat, sample_weight=sample_weight, labels=labels)
    tn, fp = mcm[:, 0, 0].astype(np.float64), mcm[:, 0, 1].astype(np.float64)
    support = mcm[:, 1, 1] + mcm[:, 1, 0]
    if task == "binary":
        return zero_division if tn[0] + fp[0] == 0 else tn[0] / (tn[0] + fp[0])
    if average == "micro":
        return zero_division if tn.sum() + fp.sum() == 0 else tn.sum() / (tn.sum() + fp.sum())
    spec = np.where(tn + fp == 0, zero_division, tn / np.where(tn + fp == 0, 1, tn + fp))
    if average is None:
        return spec
    return _nanaverage(spec, weights=support if average == "weighted" else None)


def torchmetrics_metric(name, preds, target, *, task, num_classes=None, average="macro", top_k=1,
                        ignore_index=None, threshold=0.5):
    """torchmetrics functional value (unweighted: torchmetrics has no sample weights)."""
    import torch
    import torchmetrics.functional.classification as F

    p = torch.as_tensor(np.asarray(preds))
    t = torch.as_tensor(np.asarray(target))
    if task == "multiclass":
        fn = {"precision": F.multiclass_precision, "recall": F.multiclass_recall,
              "f1": F.multiclass_f1_score, "accuracy": F.multiclass_accuracy,
              "specificity": F.multiclass_specificity, "jaccard": F.multiclass_jaccard_index,
              "stat_scores": F.multiclass_stat_scores}[name]
        kw = dict(num_classes=num_classes, average=average, ignore_index=ignore_index)
        if name != "jaccard":
            kw["top_k"] = top_k
        return fn(p, t, **kw).numpy()
    fn = {"accuracy": F.multilabel_accuracy, "precision": F.multilabel_precision,
          "f1": F.multilabel_f1_score, "stat_scores": F.multilabel_stat_scores}[name]
    return fn(p, t, num_labels=num_classes, average=average, threshold=threshold,
              ignore_index=ignore_index).numpy()


def retrieval_at_k(which, scores, target, k):
    """Mean over rows of torchmetrics ``retrieval_precision`` / ``retrieval_recall``."""
    import torch
    from torchmetrics.functional.retrieval import retrieval_precision, retrieval_recall

    fn = retrieval_precision if which == "precision" else retrieval_recall
    vals = [float(fn(torch.as_tensor(s), torch.as_tensor(t), top_k=k)) for s, t in zip(scores, target)]
    return float(np.mean(vals))


# --------------------------------------------------------------------------- #
# Issue 14: the options the peers' users reach for (torch layout [N, C, ...])
# --------------------------------------------------------------------------- #
TM_NAMES = {"precision": "precision", "recall": "recall", "f1_score": "f1_score", "specificity": "specificity",
            "jaccard_index": "jaccard_index", "accuracy": "accuracy", "hamming_distance": "hamming_distance",
            "stat_scores": "stat_scores", "dice_score": "f1_score"}


def tm_classification(name, task, preds, target, **kw):
    """``torchmetrics.functional.classification.<task>_<name>(preds, target, **kw)`` as NumPy.

    ``preds`` / ``target`` in torchmetrics' layout (class axis 1); ``fbeta_score`` takes ``beta``.
    """
    import torch
    import torchmetrics.functional.classification as F

    fn = getattr(F, f"{task}_{TM_NAMES.get(name, name)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(torch.as_tensor(np.asarray(preds)), torch.as_tensor(np.asarray(target)), **kw)
    return out.numpy()


def tm_eer(task, scores, target, **kw):
    """torchmetrics ``<task>_eer`` (exact with ``thresholds=None``, binned otherwise)."""
    import torch
    import torchmetrics.functional.classification as F

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(F, f"{task}_eer")(torch.as_tensor(np.asarray(scores)),
                                         torch.as_tensor(np.asarray(target)), **kw).numpy()


def tm_generalized_dice(preds, target, **kw):
    """torchmetrics ``segmentation.generalized_dice_score`` (per sample, torch layout)."""
    import torch
    from torchmetrics.functional.segmentation import generalized_dice_score

    return generalized_dice_score(torch.as_tensor(np.asarray(preds)), torch.as_tensor(np.asarray(target)),
                                  **kw).numpy()


def sk(name, *args, **kw):
    """``sklearn.metrics.<name>(*args, **kw)`` with warnings silenced."""
    return _quiet(getattr(skm, name), *args, **kw)


def keras_metric_value(cls_name, y_true, y_pred, sample_weight=None, **kw):
    """``keras.metrics.<cls_name>(**kw)`` after one update (float)."""
    import keras

    m = getattr(keras.metrics, cls_name)(**kw)
    m.update_state(np.asarray(y_true), np.asarray(y_pred), sample_weight=sample_weight)
    return float(np.asarray(m.result()))
