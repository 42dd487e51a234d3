"""Static configuration of the confusion metrics: hashable values, ``labels=`` selection.

Config that shapes the program is a Python value (hashable, so a metric object is a jit-static
configuration); these helpers normalise it and select scikit-learn's ``labels=`` classes.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from maskjax.metrics import _format

__all__ = ["static_tuple", "static_zero_division", "check_labels", "take_labels", "select_labels"]


def static_tuple(x: Any, name: str) -> Any:
    """Arrays / lists → nested tuples of Python floats (hashable config); scalars → float."""
    if x is None:
        return None
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"`{name}` must be a number or an array of numbers, got {x!r}.")
    if arr.ndim == 0:
        return float(arr)
    return tuple(map(tuple, arr.tolist())) if arr.ndim == 2 else tuple(float(v) for v in arr.tolist())


def static_zero_division(value: Any) -> Any:
    value = _format.check_zero_division(value)
    if isinstance(value, jax.Array):
        return value
    return math.nan if math.isnan(value) else value  # one nan object: configs stay equal


def check_labels(labels: Any, task: str) -> tuple[int, ...] | None:
    """scikit-learn ``labels=``: a static list of class ids (any order, absent ids allowed)."""
    if labels is None:
        return None
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.size == 0 or not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
        raise ValueError(f"`labels` must be a non-empty 1-D list of int class ids, got {labels!r}.")
    if len(set(arr.tolist())) != arr.size:
        raise ValueError(f"`labels` must not repeat a class, got {labels!r}.")
    if task == "binary":
        raise ValueError("`labels` selects classes of task='multiclass' / 'multilabel' (for binary hard labels "
                         "use `pos_label`).")
    return tuple(int(v) for v in arr.tolist())


def take_labels(x: jax.Array, labels: tuple[int, ...], axis: int = 0) -> jax.Array:
    """``x`` indexed by ``labels`` along ``axis``; a label outside ``[0, K)`` gives zeros (absent)."""
    k = x.shape[axis]
    idx = np.asarray(labels)
    ok = (idx >= 0) & (idx < k)
    out = jnp.take(x, jnp.asarray(np.where(ok, idx, 0)), axis=axis)
    shape = [1] * x.ndim
    shape[axis] = len(labels)
    return out * jnp.asarray(ok).reshape(shape).astype(out.dtype)


def select_labels(counts: Any, labels: tuple[int, ...], task: str) -> Any:
    """The per-class counts of ``labels`` only, in that order (scikit-learn ``labels=``)."""
    total = counts.total if task == "multiclass" else take_labels(counts.total, labels)
    return counts._replace(tp=take_labels(counts.tp, labels), pred=take_labels(counts.pred, labels),
                           target=take_labels(counts.target, labels), total=total,
                           seen=take_labels(counts.seen, labels))
