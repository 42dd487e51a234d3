"""Losses: masked, weighted, jit-able; one private module per family.

Every loss has the signature ``fn(preds, targets, *, <options>, mask=None,
sample_weight=None, reduction="mean")`` and reduces through
:func:`maskjax.reduce`'s rules. Re-exports one name per line.
"""

from maskjax.losses._classification import binary_cross_entropy
from maskjax.losses._classification import cross_entropy
from maskjax.losses._classification import focal_loss
from maskjax.losses._classification import multi_positive_cross_entropy
from maskjax.losses._classification import softmax_focal_loss
from maskjax.losses._common import EPSILON
from maskjax.losses._metric_learning import contrastive_loss
from maskjax.losses._regression import cosine_similarity_loss
from maskjax.losses._regression import huber_loss
from maskjax.losses._regression import log_cosh
from maskjax.losses._regression import mean_absolute_error
from maskjax.losses._regression import mean_squared_error
from maskjax.losses._segmentation import dice_loss
from maskjax.losses._segmentation import generalized_dice_loss
from maskjax.losses._segmentation import jaccard_loss
from maskjax.losses._segmentation import soft_fbeta_loss
from maskjax.losses._segmentation import tversky_loss

__all__ = [
    "EPSILON",
    "binary_cross_entropy",
    "contrastive_loss",
    "cosine_similarity_loss",
    "cross_entropy",
    "dice_loss",
    "focal_loss",
    "generalized_dice_loss",
    "huber_loss",
    "jaccard_loss",
    "log_cosh",
    "mean_absolute_error",
    "mean_squared_error",
    "multi_positive_cross_entropy",
    "soft_fbeta_loss",
    "softmax_focal_loss",
    "tversky_loss",
]
