"""Generalized Dice score (Sudre et al. 2017): the function and its streaming class.

Per sample ``n`` and class ``c`` over the spatial elements: intersection ``I = Σ p·t``, target sum
``T = Σ t``, prediction sum ``P = Σ p``; class weights ``w = 1/T²`` (``"square"``), ``1/T``
(``"simple"``) or 1 (``"linear"``); then

.. math:: \\mathrm{GDS}_n = \\frac{2 \\sum_c w_c I_c}{\\sum_c w_c (T_c + P_c)}

(``per_class=True`` keeps ``2 w_c I_c / (w_c (T_c + P_c))`` per class). Equals torchmetrics'
``segmentation.generalized_dice_score`` per sample, and the mean over samples of its
``GeneralizedDiceScore`` class, including its rule for the weight of a class absent from a sample's
targets (an infinite weight is replaced, see :func:`_fill_infinite`).
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from maskjax import _checks
from maskjax._policy import squeeze_trailing
from maskjax._safe_divide import safe_divide
from maskjax.metrics import _format, _invalid
from maskjax.metrics._streaming import Metric, State, add_into

__all__ = ["generalized_dice_score", "GeneralizedDiceScore"]

_WEIGHT_TYPES = ("square", "simple", "linear")
_FORMATS = ("one-hot", "index", "mixed")


def _fill_infinite(w: jax.Array) -> jax.Array:
    """torchmetrics' replacement of infinite class weights (``T_c = 0``), ``w`` of shape ``[N, C]``.

    torchmetrics zeroes the infinite entries, takes the per-class maximum over the batch ``M[c]``
    and writes ``M`` back through a transposed repeat: the flat entry ``i = n·C + c`` gets
    ``M[i // N]`` (which is ``M[c]`` only when ``N == C`` or ``N == 1``). Reproduced as it is, so
    values equal the reference for every batch shape.
    """
    n, c = w.shape
    inf = jnp.isinf(w)
    w0 = jnp.where(inf, 0.0, w)
    m = jnp.max(w0, axis=0)                                              # [C]
    flat = jnp.arange(n * c).reshape(n, c)
    return jnp.where(inf, m[flat // n], w0)


def _one_hot_last(x: jax.Array, c: int, dtype: Any) -> jax.Array:
    return (x[..., None] == jnp.arange(c, dtype=x.dtype)).astype(dtype)


def _hot_last(x: jax.Array, axis: int, c: int) -> jax.Array:
    """A one-hot map with its class axis moved last, as float32. A float map (probabilities,
    logits) becomes the one-hot of its arg-max, as torchmetrics' ``_format_logits`` (soft sums of
    probabilities gave 0.2359 for its 0.2243, logits a negative score; ties: the lowest index); a
    row holding NaN stays NaN (never a plausible class)."""
    x = jnp.moveaxis(x, axis, -1)
    if not _checks.is_floating(x):
        return x.astype(jnp.float32)
    hot = _one_hot_last(jnp.argmax(x, axis=-1), c, jnp.float32)
    return jnp.where(jnp.any(jnp.isnan(x), axis=-1, keepdims=True), jnp.nan, hot)


@partial(jax.jit, static_argnames=("num_classes", "include_background", "per_class", "weight_type",
                                   "input_format", "ignore_index", "axis"))
def _per_sample(preds, targets, mask, *, num_classes, include_background, per_class, weight_type, input_format,
                ignore_index, axis):
    """``(numerator, denominator)`` per sample ``[N]`` (``[N, C]`` with ``per_class``)."""
    c = num_classes
    pred_hot = input_format == "one-hot" or (input_format == "mixed" and preds.ndim == targets.ndim + 1)
    targ_hot = input_format == "one-hot" or (input_format == "mixed" and targets.ndim == preds.ndim + 1)
    ax = -1 if axis is None else axis
    if pred_hot:
        preds = _hot_last(preds, ax, c)
    if targ_hot:
        targets = _hot_last(targets, ax, c)
    keep = None
    if not targ_hot:
        keep = _format.not_ignored(targets, ignore_index)
        targets = _one_hot_last(jnp.where(keep, targets, 0), c, jnp.float32)
    if not pred_hot:
        preds = _one_hot_last(preds, c, jnp.float32)
    el = preds.shape[:-1]
    if preds.shape[-1] != c or targets.shape != preds.shape:
        raise ValueError(f"generalized_dice_score: preds and targets must be [N, ..., C={c}] one-hot or [N, ...] "
                         f"class ids; got {tuple(preds.shape)} and {tuple(targets.shape)} after formatting.")
    w = jnp.ones(el, jnp.float32)
    if keep is not None:
        w = w * keep
    if mask is not None:
        w = w * _format._weighting.broadcast_left(mask.astype(jnp.float32), el, "mask")
    keep_el = (w != 0)[..., None]  # a masked / ignored element's NaN counts nowhere (NaN · 0 would be NaN)
    preds = jnp.where(keep_el, preds * w[..., None], 0.0)
    targets = jnp.where(keep_el, targets * w[..., None], 0.0)
    if not include_background:
        preds, targets = preds[..., 1:], targets[..., 1:]
    axes = tuple(range(1, preds.ndim - 1))
    inter = jnp.sum(preds * targets, axis=axes)                          # [N, C]
    t_sum = jnp.sum(targets, axis=axes)
    p_sum = jnp.sum(preds, axis=axes)
    card = t_sum + p_sum
    if weight_type == "simple":
        cw = 1.0 / t_sum
    elif weight_type == "linear":
        cw = jnp.ones_like(t_sum)
    else:
        cw = 1.0 / (t_sum * t_sum)
    cw = _fill_infinite(cw)
    num, den = 2.0 * inter * cw, card * cw
    if not per_class:
        num, den = jnp.sum(num, axis=1), jnp.sum(den, axis=1)
    kept = jnp.any(w.reshape(w.shape[0], -1) > 0, axis=1)               # a sample with no kept element
    return num, den, kept


def _check(num_classes, include_background, per_class, weight_type, input_format):
    num_classes = _checks.check_static_int(num_classes, "num_classes", minimum=1)
    _checks.check_bool(include_background, "include_background")
    _checks.check_bool(per_class, "per_class")
    _checks.check_choice(weight_type, "weight_type", _WEIGHT_TYPES)
    _checks.check_choice(input_format, "input_format", _FORMATS)
    return num_classes


def _scores(preds, targets, mask, *, num_classes, include_background, per_class, weight_type, input_format,
            ignore_index, axis):
    preds = _checks.as_array(preds, "preds")
    targets = _checks.as_array(targets, "targets")
    lead = targets.shape if input_format == "index" else preds.shape[:-1]
    mask = squeeze_trailing(_checks.as_optional_array(mask, "mask"), tuple(lead), "mask")
    num, den, kept = _per_sample(preds, targets, mask, num_classes=num_classes,
                                 include_background=include_background, per_class=per_class,
                                 weight_type=weight_type, input_format=input_format,
                                 ignore_index=_checks.check_ignore_index(ignore_index), axis=_format.check_axis(axis))
    return safe_divide(num, den), kept


def _sample_mean(scores, kept, sample_weight):
    """Σ s·score and Σ s over the samples with a kept element (a fully masked sample is dropped)."""
    n = scores.shape[0]
    s = jnp.ones((n,), jnp.float32) if sample_weight is None else jnp.asarray(sample_weight, jnp.float32).reshape(n)
    s = jnp.where(s < 0, jnp.nan, s)          # a negative weight (only possible under jit) gives NaN
    s = jnp.where(kept, s, 0.0).reshape((n,) + (1,) * (scores.ndim - 1))
    return jnp.sum(scores * s, axis=0), jnp.sum(s)


def generalized_dice_score(preds: Any, targets: Any, *, num_classes: int, include_background: bool = True,
                           per_class: bool = False, weight_type: str = "square", input_format: str = "one-hot",
                           per_sample: bool = False, mask: Any = None, sample_weight: Any = None,
                           ignore_index: int | None = None, axis: int | None = None) -> jax.Array:
    r"""Generalized Dice score (segmentation), torchmetrics' definition.

    Per sample :math:`\mathrm{GDS}_n = 2 \sum_c w_c I_c / \sum_c w_c (T_c + P_c)` with
    :math:`w_c = 1/T_c^2` (``"square"``), :math:`1/T_c` (``"simple"``) or 1 (``"linear"``),
    :math:`I_c = \sum p t`, :math:`T_c = \sum t`, :math:`P_c = \sum p` over a sample's elements,
    ``p`` and ``t`` one-hot: float maps (probabilities or logits) are read as the one-hot of their
    arg-max, as torchmetrics does (a soft Dice of probabilities is ``1 − dice_loss``).
    Returns the (``sample_weight``-weighted) mean over samples, as torchmetrics'
    ``GeneralizedDiceScore`` class computes it; ``per_sample=True`` gives the ``[N]`` values of
    the functional ``torchmetrics.functional.segmentation.generalized_dice_score``.

    Args:
      preds: one-hot maps or scores (probabilities, logits: their arg-max) ``[N, ..., C]`` (class
        axis last, or ``axis=1`` for torch's ``[N, C, ...]``), or class ids ``[N, ...]``
        (``input_format="index"``).
      targets: the same formats.
      num_classes: ``C`` (static).
      include_background: keep class 0.
      per_class: one score per class (``[C]``, or ``[N, C]`` with ``per_sample``).
      weight_type: ``"square"``, ``"simple"`` or ``"linear"``.
      input_format: ``"one-hot"``, ``"index"`` or ``"mixed"`` (torchmetrics).
      per_sample: return ``[N]`` per-sample scores instead of their mean.
      mask: ``[N, ...]`` element mask (a trailing size-1 axis is accepted); masked elements
        count nowhere, and a sample without a kept element is left out of the mean.
      sample_weight: ``[N]`` weights of the mean over samples.
      ignore_index: with class-id targets, a target value whose elements count nowhere.
      axis: the class axis of one-hot inputs (default last).

    Returns:
      Scalar (``[C]`` with ``per_class``; ``[N]`` / ``[N, C]`` with ``per_sample``).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import generalized_dice_score
      >>> p = jnp.array([[0, 1, 1, 2]]); t = jnp.array([[0, 1, 2, 2]])
      >>> # I = (1, 1, 1), T = (1, 1, 2), P = (1, 2, 1), w = 1/T² = (1, 1, 1/4): 4.5 / 5.75
      >>> round(float(generalized_dice_score(p, t, num_classes=3, input_format="index")), 4)
      0.7826
    """
    _invalid.check_weights(sample_weight)       # NaN / negative weights: ValueError when concrete
    num_classes = _check(num_classes, include_background, per_class, weight_type, input_format)
    scores, kept = _scores(preds, targets, mask, num_classes=num_classes, include_background=include_background,
                           per_class=per_class, weight_type=weight_type, input_format=input_format,
                           ignore_index=ignore_index, axis=axis)
    if per_sample:
        return scores
    total, count = _sample_mean(scores, kept, sample_weight)
    return safe_divide(total, count)


@dataclasses.dataclass(frozen=True, kw_only=True)
class GeneralizedDiceScore(Metric):
    """Streaming generalized Dice score: the mean of the per-sample scores over every sample seen.

    Streaming form of ``maskjax.metrics.generalized_dice_score`` (torchmetrics
    ``GeneralizedDiceScore``: ``Σ per-sample score / number of samples``).

    Args:
      num_classes, include_background, per_class, weight_type, input_format, ignore_index, axis:
        as :func:`generalized_dice_score`.

    State:
      ``(score_sum [] or [C], weight_sum [])``, float32, additive.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import GeneralizedDiceScore
      >>> m = GeneralizedDiceScore(num_classes=3, input_format="index")
      >>> s = m.update(m.init(), jnp.array([[0, 1, 1, 2]]), jnp.array([[0, 1, 2, 2]]))
      >>> round(float(m.compute(m.update(s, jnp.array([[0, 0]]), jnp.array([[0, 0]])))), 4)
      0.8913
    """

    num_classes: int
    include_background: bool = True
    per_class: bool = False
    weight_type: str = "square"
    input_format: str = "one-hot"
    ignore_index: int | None = None
    axis: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "num_classes", _check(self.num_classes, self.include_background, self.per_class,
                                                       self.weight_type, self.input_format))
        object.__setattr__(self, "axis", _format.check_axis(self.axis))
        object.__setattr__(self, "ignore_index", _checks.check_ignore_index(self.ignore_index))

    def init(self) -> State:
        k = self.num_classes - (0 if self.include_background else 1)
        return (jnp.zeros((k,) if self.per_class else (), jnp.float32), jnp.zeros((), jnp.float32))

    def update(self, state: State, preds: Any, targets: Any, *, mask: Any = None,
               sample_weight: Any = None) -> State:
        scores, kept = _scores(preds, targets, mask, num_classes=self.num_classes,
                               include_background=self.include_background, per_class=self.per_class,
                               weight_type=self.weight_type, input_format=self.input_format,
                               ignore_index=self.ignore_index, axis=self.axis)
        return add_into(state, _sample_mean(scores, kept, sample_weight), type(self).__name__)

    def compute(self, state: State) -> jax.Array:
        return safe_divide(state[0], state[1])
