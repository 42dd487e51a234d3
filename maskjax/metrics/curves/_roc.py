"""ROC curve and AUROC: the functions, their streaming classes (:class:`ROC`, :class:`AUROC`).

Exact (sort-based, scikit-learn ``roc_curve`` / ``roc_auc_score``) or binned (``thresholds=``,
torchmetrics); the maths is in :mod:`maskjax.metrics.curves._exact` (trapezoids over tie groups)
and :mod:`maskjax.metrics.curves._binned`.
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
from maskjax.metrics.curves._common import (CurveSpec, RocCurve, _Curve, _call, _kw, binned_roc_result, exact_roc,
                                             object_curve_average)

__all__ = ["roc_curve", "auroc", "ROC", "AUROC"]


def auroc_from_counts(c: SortedCounts) -> jax.Array:
    """``[K]`` trapezoidal ROC AUC; ``nan`` where a problem lacks positives or negatives.

    AUROC = Σ_j neg_j · (tps_before_j + tps_j) / 2 / (P · N): each negative's
    weight times the mean TPR of its tie group's trapezoid.
    """
    if c.host is not None:
        return exact_host.host_scalar(c.host, "auroc")
    area = jnp.sum(c.neg * (c.tps_before + c.tps), axis=-1) * 0.5
    den = c.n_pos * c.n_neg
    return jnp.where(den > 0, safe_divide(area, den), jnp.nan)


def _auroc_exact(c, support, *, task, average, lower_is_positive):
    """Trapezoidal AUROC per class (:func:`auroc_from_counts`), averaged."""
    return _format.reduce_classes(auroc_from_counts(c), support, average, task)


def _auroc_binned(state, thr, *, task, average, lower_is_positive):
    return _binned.binned_auroc(state, average, task)


ROC_SPEC = CurveSpec(exact=exact_roc, binned=binned_roc_result, is_curve=True)
AUROC_SPEC = CurveSpec(exact=_auroc_exact, binned=_auroc_binned, is_curve=False)


def roc_curve(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
              thresholds: Any = None, average: Any = None, from_logits: bool = False, lower_is_positive: bool = False,
              mask: Any = None, sample_weight: Any = None, ignore_index: int | None = None) -> RocCurve:
    r"""Receiver operating characteristic curve (exact or binned).

    .. math:: \mathrm{TPR}(t) = \frac{\sum_i w_i y_i [s_i \ge t]}{\sum_i w_i y_i},\quad
              \mathrm{FPR}(t) = \frac{\sum_i w_i (1 - y_i) [s_i \ge t]}{\sum_i w_i (1 - y_i)}

    Args:
      preds: scores; binary ``[...]``, multiclass ``[..., C]``, multi-label ``[..., L]``.
      targets: binary / multi-label 0/1 of ``preds``' shape; multiclass class ids ``[...]``.
      task: ``"binary"``, ``"multiclass"`` (one-vs-rest) or ``"multilabel"``.
      num_classes: optional check of ``C`` / ``L``.
      thresholds: ``None`` (exact), an int ``n`` or an increasing ``[T]`` array (binned).
      average: multiclass / multi-label only: ``None`` (one curve per class,
        ``[K, ...]`` arrays) or ``"micro"`` (one curve over all (element, class) pairs).
      from_logits: apply sigmoid / softmax to ``preds`` first.
      lower_is_positive: distance-like scores, a lower score means positive:
        positive iff ``score <= threshold`` (exact: ranks ``-score``, thresholds
        reported in the original units; binned: exact, see the module docstring).
      mask: bool / 0-1, broadcast from the left to the element shape; True keeps.
      sample_weight: non-negative weights, broadcast from the left.
      ignore_index: target value that counts nowhere.

    Returns:
      :class:`RocCurve` ``(fpr, tpr, thresholds, valid)``; exact: length
      ``M + 1``; binned: length ``T``. ``.trim()`` gives the scikit-learn
      arrays (``roc_curve(..., drop_intermediate=False)``); binned results
      equal torchmetrics' ``binary_roc(..., thresholds=...)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import roc_curve
      >>> c = roc_curve(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1]))
      >>> [x.tolist() for x in c.trim()]
      [[0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0], [inf, 0.800000011920929, 0.4000000059604645, 0.3499999940395355, 0.10000000149011612]]
    """
    return _call(ROC_SPEC, **_kw(locals()))


def auroc(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
          thresholds: Any = None, average: Any = "macro", from_logits: bool = False,
          lower_is_positive: bool = False, mask: Any = None, sample_weight: Any = None,
          ignore_index: int | None = None) -> jax.Array:
    r"""Area under the ROC curve (trapezoidal; exact or binned).

    .. math:: \mathrm{AUROC} = \sum_k (\mathrm{FPR}_k - \mathrm{FPR}_{k-1})
              \frac{\mathrm{TPR}_k + \mathrm{TPR}_{k-1}}{2}

    over the distinct thresholds (exact) — equivalently the weighted
    probability that a positive outscores a negative, ties counting ½.

    Args:
      preds, targets, task, num_classes, thresholds, from_logits,
      lower_is_positive, mask, sample_weight, ignore_index: as :func:`roc_curve`.
      average: multiclass (one-vs-rest) / multi-label: ``"macro"`` (mean over
        classes), ``"weighted"`` (by weighted positive count), ``"micro"``
        (one problem over all (element, class) pairs), ``None`` (``[K]``).
        Ignored for ``task="binary"``.

    Returns:
      A scalar (``[K]`` for ``average=None``). Exact mode equals
      ``sklearn.metrics.roc_auc_score`` (multiclass: on
      ``label_binarize(targets)``, i.e. ``multi_class="ovr"``); binned mode
      equals torchmetrics' ``auroc(..., thresholds=...)``. A problem without
      positives or negatives gives ``nan`` (scikit-learn); ``nan`` classes are
      left out of averages (torchmetrics).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import auroc
      >>> float(auroc(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1])))
      0.75
      >>> float(auroc(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1]), thresholds=5))
      0.875
    """
    return _call(AUROC_SPEC, **_kw(locals()))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ROC(_Curve):
    """Streaming ROC curve: ``maskjax.metrics.RocCurve`` ``(fpr, tpr, thresholds, valid)``.

    Streaming form of ``maskjax.metrics.roc_curve``. Binned: ``[T]`` arrays,
    thresholds decreasing (torchmetrics). Exact: fixed-length
    ``capacity + 1`` arrays with a ``valid`` mask (``.trim()`` gives the
    scikit-learn arrays eagerly).

    Args:
      task, num_classes, thresholds, capacity, from_logits, lower_is_positive, ignore_index, dtype:
        as :class:`AUROC`.
      average: ``None`` (one curve per class) or ``"micro"`` (multiclass / multi-label).

    State:
      As :class:`AUROC` (shared).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import ROC
      >>> roc = ROC(thresholds=3)
      >>> c = roc(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1]))
      >>> c.fpr.tolist(), c.tpr.tolist(), c.thresholds.tolist()
      ([0.0, 0.0, 1.0], [0.0, 0.5, 1.0], [1.0, 0.5, 0.0])
    """

    average: Any = None
    _check_average = object_curve_average

    def compute(self, state: State) -> RocCurve:
        if self.thresholds is not None:
            return binned_roc_result(state, self._thr(), task=self.task, average=self.average,
                                             lower_is_positive=self.lower_is_positive)
        kw, overflow = self._buffer_inputs(state)
        return self._nan_if(overflow, roc_curve(**kw, average=self.average))


@dataclasses.dataclass(frozen=True, kw_only=True)
class AUROC(_Curve):
    """Streaming area under the ROC curve (binned: additive histograms; exact: a buffer).

    Streaming form of ``maskjax.metrics.auroc``: same values as the one-shot
    function with the same ``thresholds`` (``None`` → exact, scikit-learn).

    Args:
      task: ``"binary"``, ``"multiclass"`` (one-vs-rest) or ``"multilabel"``.
      num_classes: ``C`` / ``L`` (required unless binary: it fixes the state shape).
      thresholds: an int ``n`` (``linspace(0, 1, n)``) or increasing values → binned,
        additive state; ``None`` → exact, needs ``capacity``.
      capacity: exact mode: the most kept elements the buffer holds (overflow → ``nan``).
      average: ``"macro"``, ``"weighted"``, ``"micro"`` or ``None`` (multiclass / multi-label).
      from_logits: apply sigmoid / softmax first.
      lower_is_positive: distance-like scores, a lower score means positive (as the
        one-shot functions: ``score <= threshold``; thresholds reported in score units).
      ignore_index: a target value that counts nowhere.
      dtype: ``None`` / ``"float32"``, or ``"float64"`` with x64.

    State:
      ``BinnedState`` ``[K, T + 1]`` histograms (binned) or a ``CurveBuffer`` (exact); shared
      with AveragePrecision, ROC and PRCurve of the same configuration.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import AUROC
      >>> m = AUROC(thresholds=5)
      >>> s = m.update(m.init(), jnp.array([.1, .4]), jnp.array([0, 0]))
      >>> float(m.compute(m.update(s, jnp.array([.35, .8]), jnp.array([1, 1]))))
      0.875
      >>> exact = AUROC(capacity=16)
      >>> float(exact(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1])))
      0.75
    """

    average: Any = "macro"

    def compute(self, state: State) -> jax.Array:
        if self.thresholds is not None:
            return _binned.binned_auroc(state, self.average, self.task)
        kw, overflow = self._buffer_inputs(state)
        return self._nan_if(overflow, auroc(**kw, average=self.average))
