"""Calibration error (ECE / MCE / RMS) and reliability-diagram data."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks
from maskjax._safe_divide import safe_divide
from maskjax._weighting import fold_mask_and_weight, not_ignored, weight_dtype
from maskjax.metrics import _binned, _curve_inputs as ci

NORMS = ("l1", "l2", "max")


class ReliabilityDiagram(NamedTuple):
    """Per-bin reliability data, each ``[n_bins + 1]``.

    ``confidence``: weighted mean confidence in the bin (0 if empty);
    ``accuracy``: weighted fraction correct (0 if empty); ``weight``: total
    weight in the bin (``weight / weight.sum()`` is the bin's share);
    ``lower``: each bin's lower edge. Bins are ``[k/n, (k+1)/n)`` for
    ``k < n_bins`` and the last one holds confidences exactly 1.0 (torchmetrics'
    ``bucketize(right=True)`` binning, reproduced so ECE values match).
    """

    confidence: jax.Array
    accuracy: jax.Array
    weight: jax.Array
    lower: jax.Array


def reliability_diagram(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
                        n_bins: int = 15, from_logits: bool = False, mask: Any = None,
                        sample_weight: Any = None, ignore_index: int | None = None) -> ReliabilityDiagram:
    r"""Reliability-diagram data: per confidence bin, mean confidence, accuracy and weight.

    Binary (and multi-label, element-wise): confidence = ``preds`` (the
    probability of the positive class), "accuracy" = the target (torchmetrics
    ``binary_calibration_error``). Multiclass: confidence = the top
    probability, accuracy = ``argmax == target`` (top-label,
    torchmetrics ``multiclass_calibration_error``). Bins split ``[0, 1]`` into
    ``n_bins`` equal widths (edges ``torch.linspace(0, 1, n_bins + 1)``).

    Args:
      preds: probabilities (or logits with ``from_logits=True``); binary
        ``[...]``, multiclass ``[..., C]``, multi-label ``[..., L]``.
      targets: binary / multi-label 0/1 like ``preds``; multiclass ids ``[...]``.
      task, num_classes, n_bins, from_logits, mask, sample_weight,
      ignore_index: as in :func:`calibration_error`.

    Returns:
      :class:`ReliabilityDiagram` of ``[n_bins + 1]`` arrays.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import reliability_diagram
      >>> d = reliability_diagram(jnp.array([.2, .3, .9, .8]), jnp.array([0, 1, 1, 1]), n_bins=2)
      >>> [round(v, 3) for v in d.confidence.tolist()], d.accuracy.tolist(), d.weight.tolist()
      ([0.25, 0.85, 0.0], [0.5, 1.0, 0.0], [2.0, 2.0, 0.0])
    """
    task = ci.check_task(task)
    n_bins = _checks.check_static_int(n_bins, "n_bins", minimum=1)
    from_logits = ci.check_from_logits(from_logits)
    if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, int)):
        raise TypeError(f"`ignore_index` must be an int or None, got {ignore_index!r}.")
    if num_classes is not None:
        num_classes = _checks.check_static_int(num_classes, "num_classes", minimum=1)
    return _diagram(_checks.as_array(preds, "preds"), _checks.as_array(targets, "targets"),
                    _checks.as_optional_array(mask, "mask"), _checks.as_optional_array(sample_weight, "sample_weight"),
                    task=task, num_classes=num_classes, n_bins=n_bins, from_logits=from_logits,
                    ignore_index=ignore_index)


@functools.partial(jax.jit, static_argnames=("task", "num_classes", "n_bins", "from_logits", "ignore_index"))
def _diagram(preds, targets, mask, sample_weight, *, task, num_classes, n_bins, from_logits, ignore_index):
    _checks.check_floating(preds, "preds")
    scores = ci.float_scores(preds)
    if task == "multiclass":
        if preds.ndim < 1 or tuple(targets.shape) != tuple(preds.shape[:-1]):
            raise ValueError("For task='multiclass', `preds` must be [..., C] and `targets` [...] class ids; "
                             f"got {tuple(preds.shape)} and {tuple(targets.shape)}.")
        _checks.check_integer(targets, "targets", "class ids for task='multiclass'")
        c = preds.shape[-1]
        if num_classes is not None and num_classes != c:
            raise ValueError(f"`preds` must have num_classes={num_classes} entries on its last axis, "
                             f"got shape {tuple(preds.shape)}.")
        if from_logits:
            scores = jax.nn.softmax(scores, axis=-1)
        conf = jnp.max(scores, axis=-1)
        acc = jnp.argmax(scores, axis=-1) == targets
        valid = not_ignored(targets, ignore_index) & (targets >= 0) & (targets < c)
    else:
        _checks.check_same_shape(preds, targets, "preds", "targets")
        if from_logits:
            scores = jax.nn.sigmoid(scores)
        conf, acc = scores, targets == 1
        valid = not_ignored(targets, ignore_index) & ((targets == 0) | (targets == 1))
    dtype = weight_dtype(conf)
    w = fold_mask_and_weight(conf.shape, mask=mask, sample_weight=sample_weight, dtype=dtype).weight
    w = jnp.where(valid, w, 0).reshape(-1)
    conf = conf.reshape(-1).astype(dtype)
    edges = jnp.asarray(ci.torch_linspace(n_bins + 1, np.dtype(dtype)))
    b = jnp.clip(_binned._buckets(conf, edges, True) - 1, 0, n_bins)
    data = jnp.stack([w, w * conf, w * acc.reshape(-1).astype(dtype)], -1)
    sums = jax.ops.segment_sum(data, b, num_segments=n_bins + 1)
    weight = sums[:, 0]
    return ReliabilityDiagram(safe_divide(sums[:, 1], weight), safe_divide(sums[:, 2], weight), weight, edges)


def calibration_error(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
                      n_bins: int = 15, norm: str = "l1", from_logits: bool = False, mask: Any = None,
                      sample_weight: Any = None, ignore_index: int | None = None) -> jax.Array:
    r"""Calibration error over equal-width confidence bins (ECE, RMS-CE, MCE).

    With per-bin accuracy :math:`a_b`, confidence :math:`c_b` and weight share
    :math:`p_b` (see :func:`reliability_diagram`):

    * ``norm="l1"`` (ECE): :math:`\sum_b p_b |a_b - c_b|`
    * ``norm="l2"`` (RMS): :math:`\sqrt{\sum_b p_b (a_b - c_b)^2}`
    * ``norm="max"`` (MCE): :math:`\max_b |a_b - c_b|`

    Matches torchmetrics ``binary_calibration_error`` (``task="binary"``) and
    ``multiclass_calibration_error`` (top-label; ``task="multiclass"``) with the
    same ``n_bins`` and ``norm`` (without debiasing), extended with weights and
    masks. Everything masked gives 0.

    Args:
      preds: probabilities (``from_logits=True``: logits); binary ``[...]``,
        multiclass ``[..., C]``; multi-label ``[..., L]`` is treated element-wise.
      targets: 0/1 (binary, multi-label) or class ids ``[...]`` (multiclass).
      task: ``"binary"``, ``"multiclass"`` or ``"multilabel"``.
      num_classes: optional check of ``C``.
      n_bins: number of equal-width bins (default 15, as torchmetrics).
      norm: ``"l1"``, ``"l2"`` or ``"max"``.
      from_logits: apply sigmoid / softmax first.
      mask, sample_weight, ignore_index: the weighting contract.

    Returns:
      A scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import calibration_error
      >>> p = jnp.array([.2, .3, .9, .8]); y = jnp.array([0, 1, 1, 1])
      >>> round(float(calibration_error(p, y, n_bins=2)), 4)
      0.2
    """
    _checks.check_choice(norm, "norm", NORMS)
    d = reliability_diagram(preds, targets, task=task, num_classes=num_classes, n_bins=n_bins,
                            from_logits=from_logits, mask=mask, sample_weight=sample_weight,
                            ignore_index=ignore_index)
    gap = jnp.abs(d.accuracy - d.confidence)
    share = safe_divide(d.weight, jnp.sum(d.weight))
    if norm == "l1":
        return jnp.sum(gap * share)
    if norm == "max":
        return jnp.max(gap)
    ms = jnp.sum(gap * gap * share)
    return jnp.sqrt(jnp.where(ms > 0, ms, 1.0)) * (ms > 0)
