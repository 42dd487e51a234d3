"""Equal error rate: the function and its streaming class (:class:`EqualErrorRate`).

The point of the ROC curve where the false acceptance rate (FPR) meets the false rejection rate
(1 − TPR): :math:`\\mathrm{EER} = (\\mathrm{FPR}_j + 1 - \\mathrm{TPR}_j) / 2` at the first ``j``
minimising :math:`|\\mathrm{FPR}_j - (1 - \\mathrm{TPR}_j)|` (torchmetrics ``binary_eer``). The ROC
points come from the shared exact (sort-based) or binned passes of :mod:`~maskjax.metrics.curves._roc`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from maskjax.metrics._streaming import State
from maskjax.metrics.curves._common import CurveSpec, _call, _Curve, _kw, binned_roc_result, exact_roc

__all__ = ["equal_error_rate", "EqualErrorRate"]


def eer_from_curve(fpr: jax.Array, tpr: jax.Array, valid: jax.Array) -> jax.Array:
    """``(FPR + 1 − TPR) / 2`` at the first valid point minimising ``|FPR − (1 − TPR)|`` (last axis)."""
    gap = jnp.abs(fpr - (1 - tpr))
    gap = jnp.where(valid, gap, jnp.inf)
    gap = jnp.where(jnp.isnan(gap), -jnp.inf, gap)          # a nan rate makes the result nan (torch argmin)
    j = jnp.argmin(gap, axis=-1)[..., None]
    f = jnp.take_along_axis(fpr, j, axis=-1)[..., 0]
    t = jnp.take_along_axis(tpr, j, axis=-1)[..., 0]
    return (f + 1 - t) / 2


def _eer_exact(c, support, *, task, average, lower_is_positive):
    rc = exact_roc(c, support, task="multilabel", average=None, lower_is_positive=False)
    out = eer_from_curve(rc.fpr, rc.tpr, rc.valid)
    return out[0] if task == "binary" else out


def _eer_binned(state, thr, *, task, average, lower_is_positive):
    rc = binned_roc_result(state, thr, task="multilabel", average=None)
    out = eer_from_curve(rc.fpr, rc.tpr, rc.valid)
    return out[0] if task == "binary" else out


EER_SPEC = CurveSpec(exact=_eer_exact, binned=_eer_binned, is_curve=False)


def equal_error_rate(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
                     thresholds: Any = None, from_logits: bool = False, lower_is_positive: bool = False,
                     mask: Any = None, sample_weight: Any = None, ignore_index: int | None = None,
                     axis: int | None = None) -> jax.Array:
    r"""Equal error rate: where the ROC's false acceptance and false rejection rates meet.

    .. math:: \mathrm{EER} = \frac{\mathrm{FPR}_j + (1 - \mathrm{TPR}_j)}{2},\quad
              j = \arg\min_j |\mathrm{FPR}_j - (1 - \mathrm{TPR}_j)|

    over the ROC points of :func:`roc_curve` (the first minimiser, in decreasing threshold order).
    Equals torchmetrics' ``binary_eer`` (exact with ``thresholds=None``, binned with
    ``thresholds=``); multiclass (one-vs-rest) and multi-label give one value per class, as
    torchmetrics' ``multiclass_eer`` / ``multilabel_eer``.

    Args:
      preds: scores; binary ``[...]``, multiclass ``[..., C]``, multi-label ``[..., L]``.
      targets: binary / multi-label 0/1 of ``preds``' shape; multiclass class ids ``[...]``.
      task: ``"binary"``, ``"multiclass"`` or ``"multilabel"``.
      num_classes: optional check of ``C`` / ``L``.
      thresholds: ``None`` (exact), an int ``n`` or an increasing ``[T]`` array (binned).
      from_logits: apply sigmoid / softmax to ``preds`` first.
      lower_is_positive: distance-like scores (a lower score means positive).
      mask: bool / 0-1, broadcast from the left (a trailing size-1 axis is accepted).
      sample_weight: non-negative weights, broadcast from the left.
      ignore_index: target value that counts nowhere.
      axis: the class axis of ``preds`` (default last; ``1`` for torch's ``[N, C, d...]``).

    Returns:
      A scalar (binary) or ``[K]``; ``nan`` for a problem without positives or negatives.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import equal_error_rate
      >>> float(equal_error_rate(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1])))
      0.5
    """
    average = None
    return _call(EER_SPEC, **_kw(locals()))


@dataclasses.dataclass(frozen=True, kw_only=True)
class EqualErrorRate(_Curve):
    """Streaming equal error rate (binned: additive histograms; exact: a buffer).

    Streaming form of ``maskjax.metrics.equal_error_rate``: the same value as the one-shot
    function with the same ``thresholds`` (``None`` → exact, torchmetrics ``binary_eer``).

    Args:
      task, num_classes, thresholds, capacity, from_logits, lower_is_positive, ignore_index, dtype,
        axis: as :class:`AUROC`.

    State:
      As :class:`AUROC` (shared with the other curve metrics of one configuration).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import EqualErrorRate
      >>> m = EqualErrorRate(capacity=8)
      >>> s = m.update(m.init(), jnp.array([.1, .4]), jnp.array([0, 0]))
      >>> float(m.compute(m.update(s, jnp.array([.35, .8]), jnp.array([1, 1]))))
      0.5
    """

    def compute(self, state: State) -> jax.Array:
        if self.thresholds is not None:
            return EER_SPEC.binned(state, self._thr(), task=self.task, average=None, lower_is_positive=False)
        kw, overflow = self._buffer_inputs(state)
        return self._nan_if(overflow, equal_error_rate(**kw))
