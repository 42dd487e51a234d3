"""Precision-recall curve and average precision: the functions and their streaming classes.

Exact (scikit-learn ``precision_recall_curve`` / ``average_precision_score``: step-wise, no
interpolation) or binned (``thresholds=``, torchmetrics).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from maskjax.metrics._streaming import State
from maskjax.metrics.curves import _binned
from maskjax.metrics.curves._exact import SortedCounts
from maskjax.metrics import _format
from maskjax._kernels import exact_host
from maskjax._safe_divide import safe_divide
from maskjax.metrics.curves._common import (CurveSpec, PrecisionRecallCurve, _Curve, _call, _kw, binned_pr_result,
                                             exact_pr, object_curve_average)

__all__ = ["precision_recall_curve", "average_precision", "PRCurve", "AveragePrecision"]


def average_precision_from_counts(c: SortedCounts) -> jax.Array:
    """``[K]`` step-wise AP = Σ_k (R_k − R_{k−1}) · P_k; 0 where there are no positives.

    Per element: Σ_j pos_j · precision(group of j) / P.
    """
    if c.host is not None:
        return exact_host.host_scalar(c.host, "ap")
    precision = safe_divide(c.tps, c.tps + c.fps)
    return safe_divide(jnp.sum(c.pos * precision, axis=-1), c.n_pos)


def _ap_exact(c, support, *, task, average, lower_is_positive):
    """Step-wise AP per class (:func:`average_precision_from_counts`), averaged."""
    return _format.reduce_classes(average_precision_from_counts(c), support, average, task)


def _ap_binned(state, thr, *, task, average, lower_is_positive):
    return _binned.binned_average_precision(state, average, task)


PR_SPEC = CurveSpec(exact=exact_pr, binned=binned_pr_result, is_curve=True)
AP_SPEC = CurveSpec(exact=_ap_exact, binned=_ap_binned, is_curve=False)


def precision_recall_curve(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
                           thresholds: Any = None, average: Any = None, from_logits: bool = False,
                           lower_is_positive: bool = False, mask: Any = None, sample_weight: Any = None,
                           ignore_index: int | None = None, axis: int | None = None) -> PrecisionRecallCurve:
    r"""Precision-recall curve (exact or binned).

    .. math:: P(t) = \frac{TP(t)}{TP(t) + FP(t)},\quad R(t) = \frac{TP(t)}{\sum_i w_i y_i}

    with :math:`TP(t) = \sum_i w_i y_i [s_i \ge t]`.

    Args:
      preds: scores; binary ``[...]``, multiclass ``[..., C]``, multi-label ``[..., L]``.
      targets: binary / multi-label 0/1 of ``preds``' shape; multiclass class ids ``[...]``.
      task: ``"binary"``, ``"multiclass"`` (one-vs-rest) or ``"multilabel"``.
      num_classes: optional check of ``C`` / ``L``.
      thresholds: ``None`` (exact), an int ``n`` or an increasing ``[T]`` array (binned).
      average: multiclass / multi-label only: ``None`` (one curve per class) or ``"micro"``.
      from_logits: apply sigmoid / softmax to ``preds`` first.
      lower_is_positive: distance-like scores, a lower score means positive:
        positive iff ``score <= threshold`` (exact: ranks ``-score``, thresholds
        reported in the original units; binned: exact, see the module docstring).
      mask, sample_weight, ignore_index, axis: as in :func:`roc_curve`.

    Returns:
      :class:`PrecisionRecallCurve` ``(precision, recall, thresholds, valid)``;
      ``.trim()`` equals ``sklearn.metrics.precision_recall_curve``; binned
      results equal torchmetrics' ``binary_precision_recall_curve(...,
      thresholds=...)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import precision_recall_curve
      >>> c = precision_recall_curve(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1]))
      >>> [[round(v, 3) for v in x.tolist()] for x in c.trim()]
      [[0.5, 0.667, 0.5, 1.0, 1.0], [1.0, 1.0, 0.5, 0.5, 0.0], [0.1, 0.35, 0.4, 0.8]]
    """
    return _call(PR_SPEC, **_kw(locals()))


def average_precision(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
                      thresholds: Any = None, average: Any = "macro", from_logits: bool = False,
                      lower_is_positive: bool = False, mask: Any = None, sample_weight: Any = None,
                      ignore_index: int | None = None, axis: int | None = None) -> jax.Array:
    r"""Average precision: step-wise area under the PR curve, no interpolation.

    .. math:: \mathrm{AP} = \sum_k (R_k - R_{k-1}) P_k

    over decreasing distinct thresholds (exact).

    Args:
      preds: scores; binary ``[...]``, multiclass ``[..., C]``, multi-label ``[..., L]``.
      targets: binary / multi-label 0/1 of ``preds``' shape; multiclass class ids ``[...]``.
      task: ``"binary"``, ``"multiclass"`` (one-vs-rest) or ``"multilabel"``.
      num_classes: optional check of ``C`` / ``L``.
      thresholds: ``None`` (exact), an int ``n`` or an increasing ``[T]`` array (binned).
      average: ``"macro"``, ``"weighted"``, ``"micro"`` or ``None`` (as :func:`auroc`).
      from_logits: apply sigmoid / softmax to ``preds`` first.
      lower_is_positive: distance-like scores, a lower score means positive:
        positive iff ``score <= threshold`` (exact: ranks ``-score``, thresholds
        reported in the original units; binned: exact, see the module docstring).
      mask, sample_weight, ignore_index, axis: as in :func:`roc_curve`.

    Returns:
      A scalar (``[K]`` for ``average=None``). Exact mode equals
      ``sklearn.metrics.average_precision_score``; binned mode equals
      torchmetrics' ``average_precision(..., thresholds=...)``. No positives
      gives 0 (scikit-learn; such a class still counts in ``"macro"``, and has
      weight 0 in ``"weighted"``).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import average_precision
      >>> round(float(average_precision(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1]))), 4)
      0.8333
    """
    return _call(AP_SPEC, **_kw(locals()))


@dataclasses.dataclass(frozen=True, kw_only=True)
class PRCurve(_Curve):
    """Streaming precision-recall curve: ``maskjax.metrics.PrecisionRecallCurve``.

    Streaming form of ``maskjax.metrics.precision_recall_curve`` ``(precision,
    recall, thresholds, valid)``. Binned: ``[T + 1]`` / ``[T]`` arrays,
    thresholds increasing (torchmetrics). Exact: fixed length with ``valid``.

    Args:
      task, num_classes, thresholds, capacity, from_logits, lower_is_positive, ignore_index, dtype:
        as :class:`AUROC`.
      average: ``None`` (one curve per class) or ``"micro"`` (multiclass / multi-label).

    State:
      As :class:`AUROC` (shared).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import PRCurve
      >>> pr = PRCurve(capacity=8)
      >>> c = pr(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1]))
      >>> [[round(v, 3) for v in x.tolist()] for x in c.trim()]
      [[0.5, 0.667, 0.5, 1.0, 1.0], [1.0, 1.0, 0.5, 0.5, 0.0], [0.1, 0.35, 0.4, 0.8]]
    """

    average: Any = None
    _check_average = object_curve_average

    def compute(self, state: State) -> PrecisionRecallCurve:
        if self.thresholds is not None:
            return binned_pr_result(state, self._thr(), task=self.task, average=self.average,
                                            lower_is_positive=self.lower_is_positive)
        kw, overflow = self._buffer_inputs(state)
        return self._nan_if(overflow, precision_recall_curve(**kw, average=self.average))


@dataclasses.dataclass(frozen=True, kw_only=True)
class AveragePrecision(_Curve):
    """Streaming average precision (binned: additive histograms; exact: a buffer).

    Streaming form of ``maskjax.metrics.average_precision`` (step-wise, no
    interpolation): the same values as the one-shot function with the same
    ``thresholds``.

    Args:
      task, num_classes, thresholds, capacity, average, from_logits, lower_is_positive, ignore_index,
        dtype: as :class:`AUROC`.

    State:
      As :class:`AUROC` (shared).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import AveragePrecision
      >>> ap = AveragePrecision(capacity=8)
      >>> round(float(ap(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1]))), 4)
      0.8333
    """

    average: Any = "macro"

    def compute(self, state: State) -> jax.Array:
        if self.thresholds is not None:
            return _binned.binned_average_precision(state, self.average, self.task)
        kw, overflow = self._buffer_inputs(state)
        return self._nan_if(overflow, average_precision(**kw, average=self.average))
