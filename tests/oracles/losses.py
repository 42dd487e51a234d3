"""Reference loss values computed by the REAL libraries (torch, keras 3, optax, TF1).

Every function takes and returns NumPy arrays / Python floats so tests can
compare them with maskjax outputs. Heavy imports (torch, tensorflow, keras)
happen inside the functions, so collecting the tests stays cheap; tests that
need a library call ``pytest.importorskip`` through :func:`require`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def require(name: str):
    import pytest

    return pytest.importorskip(name)


def _np(x: Any) -> np.ndarray:
    return np.asarray(x.detach().numpy() if hasattr(x, "detach") else x, dtype=np.float64)


# ----------------------------------------------------------------------------- torch
def _t(x, dtype=None):
    import torch

    if x is None:
        return None
    a = np.asarray(x)
    if dtype is None:
        dtype = torch.int64 if np.issubdtype(a.dtype, np.integer) else torch.float64
    return torch.as_tensor(a).to(dtype)


def torch_cross_entropy(logits, target, *, weight=None, ignore_index=-100, label_smoothing=0.0,
                        reduction="mean"):
    """``torch.nn.functional.cross_entropy`` on [N, C, d1, ...] logits (class axis 1)."""
    import torch.nn.functional as F

    return _np(F.cross_entropy(_t(logits), _t(target), weight=_t(weight), ignore_index=ignore_index,
                               label_smoothing=label_smoothing, reduction=reduction))


def torch_bce_with_logits(logits, target, *, weight=None, pos_weight=None, reduction="mean"):
    import torch
    import torch.nn.functional as F

    return _np(F.binary_cross_entropy_with_logits(
        _t(logits), _t(target, torch.float64), weight=_t(weight, torch.float64),
        pos_weight=_t(pos_weight, torch.float64), reduction=reduction))


def torch_regression(name, preds, target, *, reduction="mean", delta=1.0):
    import torch.nn.functional as F

    if name == "mse":
        return _np(F.mse_loss(_t(preds), _t(target), reduction=reduction))
    if name == "l1":
        return _np(F.l1_loss(_t(preds), _t(target), reduction=reduction))
    if name == "huber":
        return _np(F.huber_loss(_t(preds), _t(target), reduction=reduction, delta=delta))
    raise ValueError(name)


def torchvision_sigmoid_focal_loss(logits, target, *, alpha=0.25, gamma=2.0, reduction="none"):
    """``torchvision.ops.sigmoid_focal_loss``, verbatim (torchvision 0.2x), with torch ops.

    torchvision itself is not installed here; this is its source, line for line,
    so the oracle still runs the real torch kernels.
    """
    import torch
    import torch.nn.functional as F

    inputs, targets = _t(logits), _t(target, torch.float64)
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return _np(loss)


# ----------------------------------------------------------------------------- keras 3
def keras_reduce(values, *, mask=None, sample_weight=None, reduction="sum_over_batch_size"):
    """Run Keras 3's own ``Loss.__call__`` machinery on given per-element values.

    A ``keras.losses.Loss`` whose ``call`` returns ``y_pred`` unchanged; the
    mask rides on ``y_pred`` as a Keras mask, exactly as a masked layer output.
    """
    import jax.numpy as jnp
    import keras
    from keras.src import backend

    class _Identity(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return y_pred

    v = jnp.array(np.asarray(values, np.float32))  # a fresh array: the mask attaches to it
    if mask is not None:
        backend.set_keras_mask(v, jnp.asarray(np.asarray(mask, bool)))
    sw = None if sample_weight is None else np.asarray(sample_weight, np.float32)
    return float(_Identity(reduction=reduction)(jnp.zeros_like(v), v, sample_weight=sw))


def keras_loss(name, y_true, y_pred, *, sample_weight=None, reduction="sum_over_batch_size",
               **kwargs):
    """A ``keras.losses.<name>(reduction=..., **kwargs)`` object called on the inputs."""
    import keras

    cls = getattr(keras.losses, name)
    loss = cls(reduction=reduction, **kwargs)
    sw = None if sample_weight is None else np.asarray(sample_weight, np.float32)
    return _np(loss(np.asarray(y_true), np.asarray(y_pred, np.float32), sample_weight=sw))


def keras_fn(name, *args, **kwargs):
    """A functional ``keras.losses.<name>(...)`` (no reduction)."""
    import keras

    return _np(getattr(keras.losses, name)(*args, **kwargs))


# ----------------------------------------------------------------------------- optax
def optax_fn(name, *args, **kwargs):
    import optax

    return _np(getattr(optax.losses, name)(*args, **kwargs))


# ----------------------------------------------------------------------------- TF1
def tf1_compute_weighted_loss(losses, weights, reduction="SUM_BY_NONZERO_WEIGHTS"):
    """``tf.compat.v1.losses.compute_weighted_loss`` (TF1 / Keras 2 reduction rules)."""
    import tensorflow as tf

    red = getattr(tf.compat.v1.losses.Reduction, reduction)
    out = tf.compat.v1.losses.compute_weighted_loss(
        tf.constant(np.asarray(losses, np.float32)), tf.constant(np.asarray(weights, np.float32)),
        reduction=red)
    return float(out.numpy())


def keras_loss_masked(name, y_true, y_pred, *, mask=None, sample_weight=None,
                      reduction="sum_over_batch_size", **kwargs):
    """``keras.losses.<name>(reduction=..., **kwargs)(y_true, y_pred, sample_weight)`` with a Keras mask.

    The mask rides on ``y_pred`` (a fresh backend array) as a masked layer
    output's would, so Keras' own ``Loss.__call__`` merges it into the weight.
    """
    import jax.numpy as jnp
    import keras
    from keras.src import backend

    loss = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    yp = jnp.array(np.asarray(y_pred, np.float32))
    if mask is not None:
        backend.set_keras_mask(yp, jnp.asarray(np.asarray(mask, bool)))
    sw = None if sample_weight is None else np.asarray(sample_weight, np.float32)
    return _np(loss(jnp.asarray(np.asarray(y_true)), yp, sample_weight=sw))


def keras_version():
    import keras
    from packaging.version import Version

    return Version(keras.__version__)


def keras_tversky_swaps_alpha_beta() -> bool:
    """Probe the installed Keras: does ``tversky``'s ``alpha`` weigh false *negatives*?

    y_true = [1, 0], y_pred = [0, 1]: one FN and one FP. With alpha=1, beta=0 the
    textbook loss is 1 − 0/(0 + 1·FP) = 1 either way, so use y_pred = [0.5, 0]:
    I = 0.5, FP = 0, FN = 0.5 → textbook (alpha on FP) 1 − 0.5/0.5 = 0; swapped
    (alpha on FN) 1 − 0.5/1.0 = 0.5.
    """
    v = keras_fn("tversky", np.array([1.0, 0.0], np.float32), np.array([0.5, 0.0], np.float32),
                 alpha=1.0, beta=0.0)
    if abs(float(v) - 0.5) < 1e-5:
        return True
    assert abs(float(v)) < 1e-5, f"unexpected Keras tversky probe value {float(v)}"
    return False
