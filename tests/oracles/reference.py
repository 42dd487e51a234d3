"""Oracles for the core reduction and weight builders: real Keras 3, TF1 and scikit-learn calls."""

from __future__ import annotations

import numpy as np


def keras_reduce(values, *, mask, sample_weight, reduction):
    """Keras 3 ``reduce_weighted_values`` with the mask merged as ``keras.losses.Loss`` does."""
    from keras import ops
    from keras.src.losses import loss as keras_loss

    v = ops.convert_to_tensor(values)
    if mask is not None:
        mask_t = ops.convert_to_tensor(np.asarray(mask, bool))
        sw = None if sample_weight is None else ops.convert_to_tensor(sample_weight)
        sw = keras_loss.apply_mask(sw, mask_t, dtype=v.dtype, reduction=reduction)
    else:
        sw = None if sample_weight is None else ops.convert_to_tensor(sample_weight)
    out = keras_loss.reduce_weighted_values(v, sample_weight=sw, reduction=reduction)
    return np.asarray(out)


def tf1_compute_weighted_loss(values, weights, reduction):
    import tensorflow as tf

    names = {
        "sum": tf.compat.v1.losses.Reduction.SUM,
        "mean": tf.compat.v1.losses.Reduction.MEAN,
        "sum_over_batch_size": tf.compat.v1.losses.Reduction.SUM_OVER_BATCH_SIZE,
        "sum_by_nonzero_weights": tf.compat.v1.losses.Reduction.SUM_BY_NONZERO_WEIGHTS,
        "none": tf.compat.v1.losses.Reduction.NONE,
    }
    out = tf.compat.v1.losses.compute_weighted_loss(
        tf.constant(values), weights=tf.constant(weights), reduction=names[reduction]
    )
    return out.numpy()


def sklearn_balanced(y, classes):
    from sklearn.utils.class_weight import compute_class_weight

    return compute_class_weight("balanced", classes=np.asarray(classes), y=np.asarray(y))
