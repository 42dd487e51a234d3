"""Calibration error (ECE / MCE / RMS) and reliability-diagram data.

Additive (streaming) API — the public functions and the streaming
``CalibrationError`` are built on exactly these; everything is pure and
jit-able::

    s = calibration_update(preds, targets, task="multiclass", n_bins=15, from_logits=True,
                           mask=m, sample_weight=w, ignore_index=-100)
    s = jax.tree.map(jnp.add, s, other)          # merging (and psum across devices) is addition
    ece = calibration_compute(s, norm="l1")      # == calibration_error(all data)
    d = reliability_from_state(s)                # == reliability_diagram(all data)

The state is a dict of per-bin sums, ``[n_bins + 1]`` each (see
:func:`calibration_update`): ``"weight"`` = Σ w, ``"confidence"`` =
Σ w·confidence, ``"accuracy"`` = Σ w·correct. :func:`calibration_init` gives
the zero state. One-shot values are bit-identical to
:func:`calibration_error` / :func:`reliability_diagram` on the same data;
streamed values differ only by the order of the float additions.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Hashable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks, _policy
from maskjax._safe_divide import safe_divide
from maskjax._weighting import fold_mask_and_weight, not_ignored, weight_dtype
from maskjax.metrics import _format, _invalid
from maskjax.metrics._streaming import Metric, State, add_into, check_accumulator_dtype
from maskjax.metrics._wide import narrow
from maskjax.metrics.curves import _binned

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


def calibration_init(n_bins: int = 15, dtype: Any = jnp.float32) -> dict:
    """The zero state of :func:`calibration_update`: three ``[n_bins + 1]`` zero vectors."""
    n_bins = _checks.check_static_int(n_bins, "n_bins", minimum=1)
    z = jnp.zeros((n_bins + 1,), dtype)
    return {"weight": z, "confidence": z, "accuracy": z}


def calibration_update(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
                       n_bins: int = 15, from_logits: bool = False, mask: Any = None,
                       sample_weight: Any = None, ignore_index: int | None = None,
                       axis: int | None = None) -> dict:
    r"""Per-bin sums of one batch: the additive state of the calibration metrics.

    With element weight :math:`w_i` (the weighting contract), confidence
    :math:`c_i` and correctness :math:`a_i \in \{0, 1\}` (see
    :func:`reliability_diagram` for both), and bin :math:`b(i)` of
    :math:`c_i`:

    .. math:: W_b = \sum_{b(i)=b} w_i,\quad C_b = \sum_{b(i)=b} w_i c_i,\quad
              A_b = \sum_{b(i)=b} w_i a_i

    States add (``jax.tree.map(jnp.add, a, b)``, or ``psum``); pass the sum to
    :func:`calibration_compute` / :func:`reliability_from_state`.

    Args:
      preds, targets, task, num_classes, n_bins, from_logits, mask,
      sample_weight, ignore_index, axis: as in :func:`calibration_error`.

    Returns:
      ``{"weight": W, "confidence": C, "accuracy": A}``, each ``[n_bins + 1]``
      (the weight dtype: float32, float64 for float64 ``preds``).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics.curves._calibration import calibration_update, calibration_compute
      >>> s = calibration_update(jnp.array([.2, .3, .9, .8]), jnp.array([0, 1, 1, 1]), n_bins=2)
      >>> s["weight"].tolist(), [round(v, 3) for v in s["confidence"].tolist()], s["accuracy"].tolist()
      ([2.0, 2.0, 0.0], [0.5, 1.7, 0.0], [1.0, 2.0, 0.0])
      >>> round(float(calibration_compute(s, "l1")), 4)
      0.2
    """
    task = _format.check_task(task)
    n_bins = _checks.check_static_int(n_bins, "n_bins", minimum=1)
    from_logits = _format.check_from_logits(from_logits)
    ignore_index = _checks.check_ignore_index(ignore_index)
    if num_classes is not None:
        num_classes = _checks.check_static_int(num_classes, "num_classes", minimum=1)
    _invalid.check_weights(sample_weight)
    if axis is not None:     # the class axis to the end (torch's [N, C, d...] with axis=1)
        preds, targets, mask, sample_weight = _format.class_axis_last(
            _checks.as_array(preds, "preds"), _checks.as_array(targets, "targets"), task=task,
            num_classes=num_classes, axis=_format.check_axis(axis), mask=mask, sample_weight=sample_weight)
    if not from_logits and _policy.is_concrete(preds):
        p = np.asarray(_checks.as_array(preds, "preds"), np.float64)
        outside = (p < 0) | (p > 1)
        if outside.any():
            raise ValueError(f"`preds` must be probabilities in [0, 1] for calibration (or pass from_logits=True); "
                             f"got {int(outside.sum())} value(s) outside, e.g. {p[outside].ravel()[:3].tolist()}.")
    return _sums(_checks.as_array(preds, "preds"), _checks.as_array(targets, "targets"),
                 _checks.as_optional_array(mask, "mask"), _checks.as_optional_array(sample_weight, "sample_weight"),
                 task=task, num_classes=num_classes, n_bins=n_bins, from_logits=from_logits,
                 ignore_index=ignore_index)


@functools.partial(jax.jit, static_argnames=("task", "num_classes", "n_bins", "from_logits", "ignore_index"))
def _sums(preds, targets, mask, sample_weight, *, task, num_classes, n_bins, from_logits, ignore_index):
    _checks.check_floating(preds, "preds")
    scores, _ = _format.probability_scores(preds, targets, task=task, num_classes=num_classes,
                                           from_logits=from_logits)
    if task == "multiclass":
        c = preds.shape[-1]
        conf = jnp.max(scores, axis=-1)
        acc = jnp.argmax(scores, axis=-1) == targets
        valid = not_ignored(targets, ignore_index) & (targets >= 0) & (targets < c)
    else:
        conf, acc = scores, targets == 1
        valid = not_ignored(targets, ignore_index) & ((targets == 0) | (targets == 1))
    dtype = weight_dtype(conf)
    w = fold_mask_and_weight(conf.shape, mask=mask, sample_weight=sample_weight, dtype=dtype).weight
    w = jnp.where(valid, w, 0)
    # A kept probability outside [0, 1] (only detectable here under jit) poisons the sums: NaN result.
    w = jnp.where(valid & ((conf < 0) | (conf > 1)), jnp.nan, w).reshape(-1)
    conf = conf.reshape(-1).astype(dtype)
    edges = jnp.asarray(_format.torch_linspace(n_bins + 1, np.dtype(dtype)))
    b = jnp.clip(_binned._buckets(conf, edges, True) - 1, 0, n_bins)
    data = jnp.stack([w, w * conf, w * acc.reshape(-1).astype(dtype)], -1)
    sums = jax.ops.segment_sum(data, b, num_segments=n_bins + 1)
    return {"weight": sums[:, 0], "confidence": sums[:, 1], "accuracy": sums[:, 2]}


def _check_state(state: Any) -> dict:
    if not isinstance(state, dict) or set(state) != {"weight", "confidence", "accuracy"}:
        raise TypeError("a calibration state must be the dict {'weight', 'confidence', 'accuracy'} of "
                        f"calibration_update / calibration_init, got {type(state).__name__}.")
    return {k: jnp.asarray(v) for k, v in state.items()}


def reliability_from_state(state: dict) -> ReliabilityDiagram:
    """The :class:`ReliabilityDiagram` of a :func:`calibration_update` state (means = sums / weight).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics.curves._calibration import calibration_update, reliability_from_state
      >>> d = reliability_from_state(calibration_update(jnp.array([.2, .8]), jnp.array([0, 1]), n_bins=2))
      >>> d.accuracy.tolist(), d.weight.tolist(), d.lower.tolist()
      ([0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.5, 1.0])
    """
    s = _check_state(state)
    w = s["weight"]
    edges = jnp.asarray(_format.torch_linspace(w.shape[-1], np.dtype(w.dtype)))
    return ReliabilityDiagram(safe_divide(s["confidence"], w), safe_divide(s["accuracy"], w), w, edges)


def calibration_compute(state: dict, norm: str = "l1") -> jax.Array:
    """The calibration error of a :func:`calibration_update` state (``norm`` as :func:`calibration_error`)."""
    _checks.check_choice(norm, "norm", NORMS)
    d = reliability_from_state(state)
    gap = jnp.abs(d.accuracy - d.confidence)
    share = safe_divide(d.weight, jnp.sum(d.weight))
    if norm == "l1":
        return jnp.sum(gap * share)
    if norm == "max":
        return jnp.max(gap)
    ms = jnp.sum(gap * gap * share)
    return jnp.sqrt(jnp.where(ms > 0, ms, 1.0)) * (ms > 0)


def reliability_diagram(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
                        n_bins: int = 15, from_logits: bool = False, mask: Any = None,
                        sample_weight: Any = None, ignore_index: int | None = None,
                        axis: int | None = None) -> ReliabilityDiagram:
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
      ignore_index, axis: as in :func:`calibration_error`.

    Returns:
      :class:`ReliabilityDiagram` of ``[n_bins + 1]`` arrays.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import reliability_diagram
      >>> d = reliability_diagram(jnp.array([.2, .3, .9, .8]), jnp.array([0, 1, 1, 1]), n_bins=2)
      >>> [round(v, 3) for v in d.confidence.tolist()], d.accuracy.tolist(), d.weight.tolist()
      ([0.25, 0.85, 0.0], [0.5, 1.0, 0.0], [2.0, 2.0, 0.0])
    """
    bad = _invalid.any_invalid(preds, targets, mask=mask, sample_weight=sample_weight, ignore_index=ignore_index)
    return _invalid.poison(reliability_from_state(calibration_update(
        preds, targets, task=task, num_classes=num_classes, n_bins=n_bins, from_logits=from_logits, mask=mask,
        sample_weight=sample_weight, ignore_index=ignore_index, axis=axis)), bad)


def calibration_error(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
                      n_bins: int = 15, norm: str = "l1", from_logits: bool = False, mask: Any = None,
                      sample_weight: Any = None, ignore_index: int | None = None,
                        axis: int | None = None) -> jax.Array:
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
      axis: the class axis of ``preds`` (default last; ``1`` for torch's ``[N, C, d...]``).

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
    bad = _invalid.any_invalid(preds, targets, mask=mask, sample_weight=sample_weight, ignore_index=ignore_index)
    return _invalid.poison(calibration_compute(calibration_update(
        preds, targets, task=task, num_classes=num_classes, n_bins=n_bins, from_logits=from_logits, mask=mask,
        sample_weight=sample_weight, ignore_index=ignore_index, axis=axis), norm), bad)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CalibrationError(Metric):
    """Streaming calibration error (ECE ``"l1"``, RMS ``"l2"``, MCE ``"max"``).

    Streaming form of ``maskjax.metrics.calibration_error``. The state is the
    per-bin sums ``(Σ w, Σ w·confidence, Σ w·correct)``, ``[n_bins + 1]`` each
    — additive.

    Args:
      task: ``"binary"``, ``"multiclass"`` (top-label) or ``"multilabel"`` (element-wise).
      num_classes: optional check of ``C``.
      n_bins: equal-width confidence bins (default 15, torchmetrics).
      norm: ``"l1"``, ``"l2"`` or ``"max"``.
      from_logits: apply sigmoid / softmax first.
      ignore_index: a target value that counts nowhere.
      axis: the class axis of ``preds`` (as :func:`calibration_error`).
      dtype: ``None`` / ``"float32"``, or ``"float64"`` with x64.

    State:
      ``{"weight", "confidence", "accuracy"}`` per-bin sums.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import CalibrationError
      >>> ece = CalibrationError(n_bins=2)
      >>> s = ece.update(ece.init(), jnp.array([.2, .3]), jnp.array([0, 1]))
      >>> round(float(ece.compute(ece.update(s, jnp.array([.9, .8]), jnp.array([1, 1])))), 4)
      0.2
    """

    task: str = "binary"
    num_classes: int | None = None
    n_bins: int = 15
    norm: str = "l1"
    from_logits: bool = False
    ignore_index: int | None = None
    dtype: str | None = None
    axis: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "axis", _format.check_axis(self.axis))
        _format.check_task(self.task)
        _format.check_from_logits(self.from_logits)
        object.__setattr__(self, "n_bins", _checks.check_static_int(self.n_bins, "n_bins", 1))
        _checks.check_choice(self.norm, "norm", NORMS)
        dt = check_accumulator_dtype(self.dtype)
        if dt is not None and not dt.startswith("float"):
            raise ValueError(f"`dtype` must be None, 'float32' or 'float64', got {dt!r}.")
        object.__setattr__(self, "dtype", dt)

    def state_key(self) -> Hashable:
        return ("calibration", self.task, self.num_classes, self.n_bins, self.from_logits, self.ignore_index,
                self.dtype or "float32", self.axis)

    def init(self) -> State:
        return calibration_init(self.n_bins, self.dtype or "float32")

    def update(self, state: State, preds: Any, targets: Any, *, mask: Any = None,
               sample_weight: Any = None) -> State:
        """Add a batch's per-bin sums (pure, jit-able): ``calibration_update``."""
        inc = calibration_update(preds, targets, task=self.task, num_classes=self.num_classes,
                                              n_bins=self.n_bins, from_logits=self.from_logits, mask=mask,
                                              sample_weight=sample_weight, ignore_index=self.ignore_index,
                                              axis=self.axis)
        return add_into(state, inc, type(self).__name__)

    def compute(self, state: State) -> jax.Array:
        return calibration_compute(state, self.norm)

    def reliability(self, state: State) -> ReliabilityDiagram:
        """The reliability-diagram data of the state (``maskjax.metrics.reliability_diagram``'s)."""
        return reliability_from_state(narrow(self._open(state, "reliability")))
