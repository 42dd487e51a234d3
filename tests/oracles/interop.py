"""Example inputs for every core loss / metric, used by the adapter tests.

Each case maps a public name to ``make(rng) -> (args, kwargs)`` with NumPy
data (the tests convert it to torch / TF tensors, int labels as int64 as those
frameworks produce them). The adapter tests run every name of
``maskjax.losses.__all__`` / ``maskjax.metrics.__all__`` through the adapters
and compare with the core; a name without a case here is skipped with a
message asking for one.
"""

from __future__ import annotations

import numpy as np

B, C = 6, 4


def _logits(rng, *shape):
    return rng.normal(size=shape).astype(np.float32)


def _labels(rng, n, c=C, ignore=None):
    y = rng.integers(0, c, size=n).astype(np.int64)
    if ignore is not None:
        y[1] = ignore
    return y


def _mask(n):
    m = np.ones(n, bool)
    m[-1] = False
    return m


def _weights(rng, n):
    return rng.uniform(0.5, 2.0, size=n).astype(np.float32)


def _onehot(y, c=C):
    return np.eye(c, dtype=np.float32)[y]


LOSS_CASES = {
    "cross_entropy": lambda r: ((_logits(r, B, C), _labels(r, B, ignore=-100)), dict(
        class_weight=np.array([1.0, 2.0, 0.5, 1.5], np.float32), ignore_index=-100,
        label_smoothing=0.1, mask=_mask(B), sample_weight=_weights(r, B))),
    "binary_cross_entropy": lambda r: ((_logits(r, B, 3), (r.uniform(size=(B, 3)) > .5).astype(np.float32)),
                                       dict(pos_weight=np.array([2.0, 1.0, .5], np.float32), mask=_mask(B))),
    "focal_loss": lambda r: ((_logits(r, B), (r.uniform(size=B) > .5).astype(np.int64)),
                             dict(alpha=0.25, gamma=2.0, sample_weight=_weights(r, B))),
    "multi_positive_cross_entropy": lambda r: ((_logits(r, B, C), r.uniform(size=(B, C)) > .6),
                                               dict(mask=_mask(B))),
    "contrastive_loss": lambda r: ((r.uniform(0, 2, size=B).astype(np.float32),
                                    (r.uniform(size=B) > .5).astype(np.int64)), dict(margin=1.0)),
    "mean_squared_error": lambda r: ((_logits(r, B, 3), _logits(r, B, 3)),
                                     dict(mask=_mask(B), sample_weight=_weights(r, B))),
    "mean_absolute_error": lambda r: ((_logits(r, B, 3), _logits(r, B, 3)), dict(mask=_mask(B))),
    "huber_loss": lambda r: ((_logits(r, B, 3), _logits(r, B, 3)), dict(delta=0.5, mask=_mask(B))),
    "log_cosh": lambda r: ((_logits(r, B, 3), _logits(r, B, 3)), dict(sample_weight=_weights(r, B))),
    "cosine_similarity_loss": lambda r: ((_logits(r, B, 3), _logits(r, B, 3)), dict(mask=_mask(B))),
    "dice_loss": lambda r: ((_logits(r, 2, 5, 3), _onehot(_labels(r, (2, 5), 3), 3)), dict()),
    "tversky_loss": lambda r: ((_logits(r, 2, 5, 3), _onehot(_labels(r, (2, 5), 3), 3)),
                               dict(alpha=0.3, beta=0.7)),
    "jaccard_loss": lambda r: ((_logits(r, 2, 5, 3), _onehot(_labels(r, (2, 5), 3), 3)), dict()),
    "generalized_dice_loss": lambda r: ((_logits(r, 2, 5, 3), _onehot(_labels(r, (2, 5), 3), 3)), dict()),
    "softmax_focal_loss": lambda r: ((_logits(r, B, 3), _labels(r, B, 3)), dict(mask=_mask(B), gamma=2.0)),
    "soft_fbeta_loss": lambda r: ((_logits(r, B, 3), (r.uniform(size=(B, 3)) > .5).astype(np.float32)),
                                  dict(beta=2.0)),
}

_MC = dict(task="multiclass", num_classes=C)

METRIC_CASES = {
    # one-shot functions (the documented signatures): multiclass scores + int64 labels + a mask
    **{name: (lambda r, _kw=kw: ((_logits(r, B, C), _labels(r, B)), dict(_MC, mask=_mask(B), **_kw)))
       for name, kw in {
           "stat_scores": {}, "confusion_matrix": {}, "accuracy": {}, "balanced_accuracy": {},
           "precision": {}, "recall": {}, "f1_score": {}, "fbeta_score": dict(beta=2.0),
           "specificity": {}, "jaccard_index": {}, "dice_score": {}, "matthews_corrcoef": {},
           "cohen_kappa": {}, "hamming_distance": {}, "exact_match": {},
           "top_k_accuracy": dict(top_k=2), "calibration_error": dict(from_logits=True),
       }.items()},
    **{name: (lambda r: ((r.uniform(size=20).astype(np.float32),
                          (np.arange(20) % 3 == 0).astype(np.int64)), dict(task="binary")))
       for name in ("roc_curve", "precision_recall_curve", "auroc", "average_precision",
                    "best_threshold")},
    "precision_at_k": lambda r: ((_logits(r, B, C), r.uniform(size=(B, C)) > .5), dict(k=2)),
    "recall_at_k": lambda r: ((_logits(r, B, C), r.uniform(size=(B, C)) > .5), dict(k=2)),
    # streaming helpers that are not metrics of data: nothing to mirror-test
}
