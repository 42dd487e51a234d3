"""Input formatting shared by the curve, ranking and calibration metrics.

Every curve metric reduces its inputs to a batch of *binary problems* laid out
as ``[K, M]`` arrays (K problems of M elements each):

* ``task="binary"``: ``preds`` and ``targets`` of one (any) shape ``S`` →
  ``K = 1``, ``M = prod(S)``.
* ``task="multiclass"``: ``preds [..., C]`` scores, ``targets [...]`` integer
  class ids → one-vs-rest, ``K = C``, ``M = prod(...)``; class ``c``'s labels
  are ``targets == c``.
* ``task="multilabel"``: ``preds [..., L]``, ``targets [..., L]`` in {0, 1} →
  ``K = L``.

The weights follow the library's weighting contract (:mod:`maskjax._weighting`):
element weight = ``mask · sample_weight · (target != ignore_index)``, ``mask``
and ``sample_weight`` broadcast from the left to the element shape (``[..]``
for multiclass, where a weight belongs to a whole row). Binary / multi-label
targets other than 0 and 1, and multiclass targets outside ``[0, C)``, count
nowhere (weight 0), as out-of-range labels do in every maskjax metric.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks
from maskjax._weighting import fold_mask_and_weight, not_ignored, weight_dtype
from maskjax.metrics import _format

TASKS = ("binary", "multiclass", "multilabel")
AVERAGES = ("macro", "micro", "weighted", None)


class Problems(NamedTuple):
    """``[K, M]`` scores, 0/1 labels and non-negative weights (0 = not counted)."""

    scores: jax.Array
    labels: jax.Array
    weights: jax.Array


check_task = _format.check_task
check_flag = _checks.check_bool


def check_average(average: Any, allowed=AVERAGES) -> Any:
    """``average`` in ``allowed`` (``"none"`` means ``None``); the confusion metrics' check."""
    return _format.check_average(average, "multiclass", allowed)


def check_from_logits(from_logits: Any) -> bool:
    return check_flag(from_logits, "from_logits")


def float_scores(preds: jax.Array) -> jax.Array:
    """Scores as floats: float dtypes kept (bf16/f16 upcast to f32), ints/bools → float32."""
    _checks.check_numeric(preds, "preds")
    if _checks.is_floating(preds):
        return preds.astype(jnp.promote_types(preds.dtype, jnp.float32))
    return preds.astype(jnp.float32)


def format_problems(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                    from_logits: bool = False, mask: Any = None, sample_weight: Any = None,
                    ignore_index: int | None = None, micro: bool = False) -> Problems:
    """Turn public inputs into ``[K, M]`` binary problems (see the module docstring).

    With ``micro=True`` the K problems are concatenated into one (``K = 1``,
    ``M = K·M``): sklearn's micro average ravels ``y_true`` / ``y_score`` and
    repeats the sample weight.
    """
    task = check_task(task)
    from_logits = check_from_logits(from_logits)
    preds = _checks.as_array(preds, "preds")
    targets = _checks.as_array(targets, "targets")
    _checks.check_numeric(targets, "targets")
    scores = float_scores(preds)
    if task == "binary":
        _checks.check_same_shape(preds, targets, "preds", "targets")
        if from_logits:
            scores = jax.nn.sigmoid(scores)
        shape = tuple(preds.shape)
    else:
        if preds.ndim < 1:
            raise ValueError(f"`preds` must have a class axis last for task={task!r}, got a scalar.")
        c = preds.shape[-1]
        if num_classes is not None:
            num_classes = _checks.check_static_int(num_classes, "num_classes", minimum=1)
            if num_classes != c:
                raise ValueError(
                    f"`preds` must have num_classes={num_classes} entries on its last axis, "
                    f"got shape {tuple(preds.shape)}.")
        if task == "multiclass":
            if tuple(targets.shape) != tuple(preds.shape[:-1]):
                raise ValueError(
                    "For task='multiclass', `targets` must be integer class ids with shape "
                    f"preds.shape[:-1]={tuple(preds.shape[:-1])}, got {tuple(targets.shape)}.")
            _checks.check_integer(targets, "targets", "class ids for task='multiclass'")
            if from_logits:
                scores = jax.nn.softmax(scores, axis=-1)
            shape = tuple(preds.shape[:-1])
        else:
            _checks.check_same_shape(preds, targets, "preds", "targets")
            if from_logits:
                scores = jax.nn.sigmoid(scores)
            shape = tuple(preds.shape)
    wdtype = weight_dtype(scores)
    w = fold_mask_and_weight(shape, mask=mask, sample_weight=sample_weight, dtype=wdtype).weight
    valid = not_ignored(targets, ignore_index)
    if task == "multiclass":
        c = preds.shape[-1]
        valid = valid & (targets >= 0) & (targets < c)
        w = jnp.where(valid, w, 0).reshape(-1)                       # [M]
        labels = (targets.reshape(-1)[None, :] == jnp.arange(c, dtype=targets.dtype)[:, None])
        scores = scores.reshape(-1, c).T                              # [C, M]
        weights = jnp.broadcast_to(w[None, :], scores.shape)
    else:
        pos = targets == 1
        valid = valid & (pos | (targets == 0))
        w = jnp.where(valid, w, 0)
        if task == "binary":
            labels, scores, weights = pos.reshape(1, -1), scores.reshape(1, -1), w.reshape(1, -1)
        else:
            c = preds.shape[-1]
            labels, scores, weights = (pos.reshape(-1, c).T, scores.reshape(-1, c).T, w.reshape(-1, c).T)
    labels = labels.astype(wdtype)
    if micro:
        labels, scores, weights = labels.reshape(1, -1), scores.reshape(1, -1), weights.reshape(1, -1)
    return Problems(scores, labels, weights)


def reduce_classes(values: jax.Array, support: jax.Array, average: Any, task: str) -> jax.Array:
    """Average ``[K]`` per-class values. ``nan`` classes (undefined) are dropped.

    ``macro``: plain mean of the defined classes; ``weighted``: weighted by the
    (weighted) number of positives; ``None``: the ``[K]`` vector; for the
    binary task the scalar. All classes undefined → ``nan``.
    """
    if task == "binary" or average == "micro":
        return values[0]
    if average is None:
        return values
    defined = ~jnp.isnan(values)
    v = jnp.where(defined, values, 0)
    if average == "macro":
        weights = defined.astype(v.dtype)
    else:
        weights = jnp.where(defined, support.astype(v.dtype), 0)
    total = jnp.sum(weights)
    return jnp.where(total > 0, jnp.sum(v * weights) / jnp.where(total > 0, total, 1),
                     jnp.asarray(jnp.nan, v.dtype))


def torch_linspace(n: int, dtype: Any = np.float32) -> np.ndarray:
    """``torch.linspace(0, 1, n)`` bit for bit (torchmetrics' ``thresholds=n``).

    torch fills the first half as ``step · i`` and the second half as
    ``1 − step · (n − 1 − i)`` with a fused multiply-add; NumPy's and JAX's
    ``linspace`` differ from it in the last bit for many ``n``.
    """
    dtype = np.dtype(dtype)
    if n == 1:
        return np.zeros(1, dtype)
    i = np.arange(n)
    if dtype == np.float32:
        step = np.float32(np.float32(1) / np.float32(n - 1))
        lo = (np.float64(step) * i).astype(np.float32)
        hi = (1.0 - np.float64(step) * (n - 1 - i)).astype(np.float32)
        return np.where(i < n // 2, lo, hi)
    return np.linspace(0.0, 1.0, n).astype(dtype)
