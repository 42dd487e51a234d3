"""ROC curve and AUROC: the functions, their streaming classes (:class:`ROC`, :class:`AUROC`).

Exact (sort-based, scikit-learn ``roc_curve`` / ``roc_auc_score``) or binned (``thresholds=``,
torchmetrics); the maths is in :mod:`maskjax.metrics.curves._exact` (trapezoids over tie groups)
and :mod:`maskjax.metrics.curves._binned`.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks
from maskjax.metrics._streaming import State
from maskjax.metrics.curves import _binned
from maskjax.metrics.curves._exact import SortedCounts, sorted_counts
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


def mcclish_partial_auc(fpr: jax.Array, tpr: jax.Array, max_fpr: float) -> jax.Array:
    r"""scikit-learn's standardised partial AUC over ``FPR <= max_fpr`` (McClish correction).

    The area under the piecewise-linear ROC up to ``max_fpr`` (the segment crossing it is cut at
    its interpolated point), then :math:`rac12(1 + rac{A - m^2/2}{m - m^2/2})`. ``fpr`` is
    non-decreasing along the last axis; repeated points have zero width, so the fixed-length exact
    curves and the binned ones go in as they are.
    """
    x0, x1 = fpr[..., :-1], fpr[..., 1:]
    y0, y1 = tpr[..., :-1], tpr[..., 1:]
    m = jnp.asarray(max_fpr, fpr.dtype)
    xe = jnp.minimum(x1, m)
    dx = x1 - x0
    frac = jnp.where(dx > 0, (xe - x0) / jnp.where(dx > 0, dx, 1), 0)
    ye = y0 + (y1 - y0) * frac
    area = jnp.sum(jnp.where(x0 < m, (xe - x0) * (y0 + ye) * 0.5, 0), axis=-1)
    area = jnp.where(jnp.any(jnp.isnan(fpr) | jnp.isnan(tpr), axis=-1), jnp.nan, area)
    min_area = 0.5 * m * m
    return 0.5 * (1 + (area - min_area) / (m - min_area))


@functools.lru_cache(maxsize=None)
def _partial_spec(max_fpr: float) -> CurveSpec:
    """A hashable (cached) spec per ``max_fpr``: the jit key stays equal between calls."""

    def exact(c, support, *, task, average, lower_is_positive):
        rc = exact_roc(c, support, task="multilabel", average=None, lower_is_positive=False)
        return _format.reduce_classes(mcclish_partial_auc(rc.fpr, rc.tpr, max_fpr), support, average, task)

    def binned(state, thr, *, task, average, lower_is_positive):
        rc = binned_roc_result(state, thr, task="multilabel", average=None)
        support = state_support(state)
        return _format.reduce_classes(mcclish_partial_auc(rc.fpr, rc.tpr, max_fpr), support, average, task)

    return CurveSpec(exact=exact, binned=binned, is_curve=False)


def state_support(state: Any) -> jax.Array:
    """``[K]`` weighted positives of a binned state."""
    return jnp.sum(state.pos, axis=-1)


def _check_max_fpr(max_fpr: Any, task: str) -> float | None:
    if max_fpr is None:
        return None
    m = _checks.check_static_float(max_fpr, "max_fpr")
    if not 0.0 < m <= 1.0:
        raise ValueError(f"`max_fpr` must be in (0, 1], got {max_fpr!r}.")
    if task == "multiclass":
        raise ValueError("`max_fpr` (partial AUC) is defined for task='binary' / 'multilabel' (scikit-learn "
                         "has no multiclass partial AUC).")
    return m


def _check_multi_class(multi_class: Any, task: str, thresholds: Any) -> str:
    _checks.check_choice(multi_class, "multi_class", ("ovr", "ovo"))
    if multi_class == "ovo":
        if task != "multiclass":
            raise ValueError(f"`multi_class='ovo'` needs task='multiclass', got task={task!r}.")
        if thresholds is not None:
            raise ValueError("`multi_class='ovo'` is exact (thresholds=None); binned one-vs-one is not provided.")
    return multi_class


@functools.partial(jax.jit, static_argnames=("average", "from_logits", "ignore_index", "lower_is_positive"))
def _auroc_ovo(preds, targets, mask, sample_weight, *, average, from_logits, ignore_index, lower_is_positive):
    """scikit-learn ``multi_class="ovo"``: per pair (a, b) the mean of AUC(a | b) and AUC(b | a) on the
    elements of class a or b; ``macro`` = mean over pairs, ``weighted`` = weighted by the pair's share of
    the elements (prevalence). Pairs without both classes are ``nan`` and left out."""
    p = _format.format_problems(preds, targets, task="multiclass", from_logits=from_logits, mask=mask,
                                sample_weight=sample_weight, ignore_index=ignore_index, axis=-1)  # moved last
    scores = -p.scores if lower_is_positive else p.scores
    c = scores.shape[0]
    a_idx, b_idx = np.nonzero(~np.eye(c, dtype=bool))           # ordered pairs, a != b
    w = p.weights[a_idx] * (p.labels[a_idx] + p.labels[b_idx])
    counts = sorted_counts(scores[a_idx], p.labels[a_idx], w, unit_weights=sample_weight is None)
    auc = auroc_from_counts(counts).reshape(c, c - 1)
    full = jnp.full((c, c), jnp.nan, auc.dtype).at[a_idx, b_idx].set(auc.reshape(-1))
    iu, ju = np.triu_indices(c, 1)
    pair = 0.5 * (full[iu, ju] + full[ju, iu])
    support = jnp.sum(p.labels * p.weights, axis=-1)
    prevalence = support[iu] + support[ju]
    ok = ~jnp.isnan(pair)
    wts = jnp.where(ok, prevalence if average == "weighted" else 1.0, 0.0)
    return jnp.where(jnp.sum(wts) > 0, safe_divide(jnp.sum(jnp.where(ok, pair, 0) * wts), jnp.sum(wts)), jnp.nan)


def roc_curve(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
              thresholds: Any = None, average: Any = None, from_logits: bool = False, lower_is_positive: bool = False,
              mask: Any = None, sample_weight: Any = None, ignore_index: int | None = None,
              axis: int | None = None) -> RocCurve:
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
      axis: the class / label axis of ``preds`` (default last, an ``[N, C, C]``-like shape that
        reads two ways raises; ``1`` for torch's ``[N, C, d...]``).

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
          ignore_index: int | None = None, max_fpr: float | None = None, multi_class: str = "ovr",
          axis: int | None = None) -> jax.Array:
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
        Ignored for ``task="binary"``. A ``"weighted"`` average with zero
        total positive weight is 0 (scikit-learn).
      max_fpr: binary / multi-label: the standardised partial AUC over
        ``FPR <= max_fpr`` (scikit-learn's McClish correction, exact or binned);
        ``None`` / 1 is the full area.
      multi_class: multiclass: ``"ovr"`` (one-vs-rest, default) or ``"ovo"``
        (scikit-learn one-vs-one: the mean of AUC(a | b) and AUC(b | a) per pair,
        ``average="macro"`` or ``"weighted"`` by pair prevalence; exact only).
      axis: as :func:`roc_curve`.

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
      >>> round(float(auroc(jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1]), max_fpr=0.5)), 4)
      0.6667
    """
    task = _format.check_task(task)
    m = _check_max_fpr(max_fpr, task)
    if _check_multi_class(multi_class, task, thresholds) == "ovo":
        return _ovo_call(preds, targets, average=average, num_classes=num_classes, from_logits=from_logits,
                         lower_is_positive=lower_is_positive, mask=mask, sample_weight=sample_weight,
                         ignore_index=ignore_index, axis=axis)
    spec = AUROC_SPEC if m is None or m == 1.0 else _partial_spec(m)
    return _call(spec, **_kw(locals()))


def _ovo_call(preds, targets, *, average, num_classes, from_logits, lower_is_positive, mask, sample_weight,
              ignore_index, axis):
    average = _format.check_curve_average(average, ("macro", "weighted"))
    preds = _checks.as_array(preds, "preds")
    targets = _checks.as_array(targets, "targets")
    mask = _checks.as_optional_array(mask, "mask")
    sample_weight = _checks.as_optional_array(sample_weight, "sample_weight")
    if num_classes is not None:
        num_classes = _checks.check_static_int(num_classes, "num_classes", minimum=2)
    preds, targets, mask, sample_weight = _format.class_axis_last(
        preds, targets, task="multiclass", num_classes=num_classes, axis=_format.check_axis(axis), mask=mask,
        sample_weight=sample_weight)
    _format.probability_scores(preds, targets, task="multiclass", num_classes=num_classes, from_logits=False)
    return _auroc_ovo(preds, targets, mask, sample_weight, average=average,
                      from_logits=_format.check_from_logits(from_logits),
                      ignore_index=_checks.check_ignore_index(ignore_index),
                      lower_is_positive=_checks.check_bool(lower_is_positive, "lower_is_positive"))


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
      max_fpr, multi_class, axis: as :func:`auroc` (``"ovo"`` needs the exact buffer).

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
    max_fpr: float | None = None
    multi_class: str = "ovr"

    def _check_config(self) -> None:
        object.__setattr__(self, "max_fpr", _check_max_fpr(self.max_fpr, self.task))
        _check_multi_class(self.multi_class, self.task, self.thresholds)
        if self.multi_class == "ovo":
            _format.check_curve_average(self.average, ("macro", "weighted"))

    def compute(self, state: State) -> jax.Array:
        partial = self.max_fpr is not None and self.max_fpr != 1.0
        if self.thresholds is not None:
            if partial:
                return _partial_spec(self.max_fpr).binned(state, self._thr(), task=self.task,
                                                          average=self.average, lower_is_positive=False)
            return _binned.binned_auroc(state, self.average, self.task)
        kw, overflow = self._buffer_inputs(state)
        if self.multi_class == "ovo":     # the buffer's one-vs-rest rows are the class ids again
            kw = dict(preds=state.scores.T, targets=jnp.argmax(state.labels.T, axis=-1), task="multiclass",
                      sample_weight=state.weights[0], lower_is_positive=self.lower_is_positive,
                      multi_class="ovo")
        return self._nan_if(overflow, auroc(**kw, average=self.average, max_fpr=self.max_fpr))
