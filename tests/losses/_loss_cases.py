"""Shared inputs for the loss tests: one entry per public loss (name, fn, inputs, options).

Every case has a leading batch axis of size ``B`` on its element shape, so a
``[B]`` mask removes whole rows (the "mask ≡ slicing" check).
"""

from __future__ import annotations

import numpy as np

from maskjax import losses

B = 4


def _rng(seed=0):
    return np.random.default_rng(seed)


def _logits(shape, seed=0):
    return _rng(seed).normal(size=shape).astype(np.float32) * 2.0


def _onehot(labels, c):
    return np.eye(c, dtype=np.float32)[labels]


def make_inputs(name: str, seed: int = 0):
    """``(preds, targets)`` numpy arrays for a case."""
    r = _rng(seed + 100)
    if name.startswith("cross_entropy"):
        x = _logits((B, 3, 5), seed)
        y = r.integers(0, 5, size=(B, 3)).astype(np.int32)
        if name == "cross_entropy_probs":
            p = r.random((B, 3, 5)).astype(np.float32)
            return x, p / p.sum(-1, keepdims=True)
        return x, y
    if name in ("binary_cross_entropy", "focal_loss", "soft_fbeta_loss"):
        return _logits((B, 3), seed), (r.random((B, 3)) > 0.5).astype(np.float32)
    if name == "multi_positive_cross_entropy":
        t = r.random((B, 5)) > 0.6
        t[:, 0] |= ~t.any(-1)
        return _logits((B, 5), seed), t
    if name in ("dice_loss", "tversky_loss", "jaccard_loss"):
        y = r.integers(0, 3, size=(B, 3, 2))
        return _logits((B, 3, 2, 3), seed), _onehot(y, 3)
    if name == "contrastive_loss":
        return np.abs(_logits((B,), seed)), (r.random(B) > 0.5).astype(np.float32)
    return _logits((B, 3), seed), _logits((B, 3), seed + 1)


#: (case id, loss function, static options)
CASES = [
    ("cross_entropy", losses.cross_entropy, {}),
    ("cross_entropy_opts", losses.cross_entropy,
     dict(class_weight=np.array([1.0, 2.0, 0.5, 1.0, 3.0], np.float32), label_smoothing=0.1,
          ignore_index=2)),
    ("cross_entropy_probs", losses.cross_entropy, {}),
    ("binary_cross_entropy", losses.binary_cross_entropy,
     dict(pos_weight=np.array([2.0, 1.0, 0.5], np.float32))),
    ("focal_loss", losses.focal_loss, dict(alpha=0.25)),
    ("multi_positive_cross_entropy", losses.multi_positive_cross_entropy, {}),
    ("dice_loss", losses.dice_loss, {}),
    ("dice_loss_global", losses.dice_loss, dict(per_sample=False)),
    ("tversky_loss", losses.tversky_loss, dict(alpha=0.3, beta=0.7)),
    ("jaccard_loss", losses.jaccard_loss, {}),
    ("mean_squared_error", losses.mean_squared_error, {}),
    ("mean_absolute_error", losses.mean_absolute_error, {}),
    ("huber_loss", losses.huber_loss, dict(delta=0.5)),
    ("log_cosh", losses.log_cosh, {}),
    ("cosine_similarity_loss", losses.cosine_similarity_loss, {}),
    ("contrastive_loss", losses.contrastive_loss, dict(margin=1.5)),
    ("soft_fbeta_loss", losses.soft_fbeta_loss, dict(beta=2.0)),
    ("soft_fbeta_loss_macro", losses.soft_fbeta_loss, dict(average="macro")),
    # issue 14: new losses and options
    ("softmax_focal_loss", losses.softmax_focal_loss,
     dict(alpha=np.array([0.1, 0.4, 0.2, 0.2, 0.1], np.float32), label_smoothing=0.1)),
    ("softmax_focal_loss_onehot", losses.softmax_focal_loss, dict(gamma=1.5)),
    ("generalized_dice_loss", losses.generalized_dice_loss, {}),
    ("dice_loss_pooled_classes", losses.dice_loss, dict(pool_classes=True)),
    ("tversky_loss_keras_global", losses.tversky_loss,
     dict(alpha=0.3, beta=0.7, smooth=0.0, per_sample=False, pool_classes=True)),
    ("mean_squared_error_avg", losses.mean_squared_error, dict(average_axis=-1)),
    ("huber_loss_avg", losses.huber_loss, dict(delta=0.5, average_axis=-1)),
    ("binary_cross_entropy_avg", losses.binary_cross_entropy, dict(average_axis=-1)),
    ("focal_loss_avg", losses.focal_loss, dict(alpha=0.25, average_axis=-1)),
]


def inputs_for(case_id: str, seed: int = 0):
    base = {"cross_entropy_opts": "cross_entropy", "dice_loss_global": "dice_loss",
            "soft_fbeta_loss_macro": "soft_fbeta_loss", "softmax_focal_loss": "cross_entropy",
            "softmax_focal_loss_onehot": "cross_entropy_probs",
            "generalized_dice_loss": "dice_loss", "dice_loss_pooled_classes": "dice_loss",
            "tversky_loss_keras_global": "dice_loss"}.get(case_id, case_id)
    if base.endswith("_avg"):
        base = base[:-len("_avg")]
    x, y = make_inputs(base, seed)
    if case_id == "softmax_focal_loss_onehot":   # one-hot targets
        y = _onehot(y.argmax(-1), y.shape[-1])
    if case_id.endswith("_avg"):                 # [B, T, D]: Keras' per-sample average over D
        x, y = np.stack([x, x[::-1] * 0.5], 1), np.stack([y, y[::-1]], 1)
    return x, y


#: Losses whose value is a per-batch statistic: a row mask ≡ slicing only for "mean"/"sum" as
#: documented there (pooled or per-sample overlap statistics).
POOLED = {"dice_loss_global", "soft_fbeta_loss", "soft_fbeta_loss_macro", "tversky_loss_keras_global"}
