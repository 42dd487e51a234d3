"""Agreement: Matthews correlation and Cohen's kappa (functions, streaming classes, formulas).

Both come from class sums of the shared :class:`~maskjax.metrics._confusion.Counts` (O(N + C), no
C×C matrix), except linear / quadratic kappa, which keeps a ``[C, C]`` confusion matrix. Defaults
match scikit-learn ``matthews_corrcoef`` and ``cohen_kappa_score``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from maskjax import _checks
from maskjax.metrics._confusion import (ConfusionMetric, Counts, CountsState, StateSpec, jit_compute,
                                        _cells)
from maskjax.metrics._docs import doc
from maskjax.metrics._streaming import State
from maskjax.metrics._config import check_labels, take_labels
from maskjax.metrics._confusion import ConfmatState
from maskjax.metrics._stat_scores import counts_confmat

__all__ = ["matthews_corrcoef", "cohen_kappa", "MatthewsCorrCoef", "CohenKappa"]


def _pooled_binary(counts: Counts):
    tp, fp, fn, tn = (jnp.sum(x) for x in _cells(counts))
    t_sum = jnp.stack([tn + fp, tp + fn])
    p_sum = jnp.stack([tn + fn, tp + fp])
    return t_sum, p_sum, tp + tn, tp + fp + fn + tn


def _class_sums(counts: Counts, task: str):
    """Float32 true / predicted class sums, correct count and total."""
    if task == "multiclass":
        t, p, c = counts.target, counts.pred, jnp.sum(counts.tp)
    else:
        t, p, c, _ = _pooled_binary(counts)
    t, p, c = (x.astype(jnp.float32) for x in (t, p, c))
    return t, p, c, jnp.sum(t)


def _occupied(x: jax.Array, s: jax.Array) -> jax.Array:
    """Classes with a non-zero sum (relative 1e-6: float32 cells are differences of sums)."""
    return x > 1e-6 * s


def mcc_compute(counts: Counts, *, task: str, zero_division: Any = 0.0) -> jax.Array:
    r"""Matthews correlation from class sums (scikit-learn's multiclass formula).

    :math:`(c s - \sum_k t_k p_k) / \sqrt{(s^2 - \sum p_k^2)(s^2 - \sum t_k^2)}`
    computed on counts normalised by s (float32-safe). Degenerate (all
    targets or all predictions in one class) → 0, as scikit-learn; nothing
    kept → ``zero_division``. Multi-label pools all labels into one binary
    problem (torchmetrics).
    """
    t_sum, p_sum, correct, s = _class_sums(counts, task)
    s_safe = jnp.where(s > 0, s, 1.0)
    t = t_sum / s_safe
    p = p_sum / s_safe
    cov_tp = correct / s_safe - jnp.sum(t * p)
    den = (1.0 - jnp.sum(p * p)) * (1.0 - jnp.sum(t * t))
    ok = ((jnp.sum(_occupied(t_sum, s)) > 1) & (jnp.sum(_occupied(p_sum, s)) > 1) & (den > 0))
    mcc = jnp.where(ok, cov_tp / jnp.sqrt(jnp.where(ok, den, 1.0)), 0.0)
    return jnp.where(s > 0, jnp.clip(mcc, -1.0, 1.0), jnp.asarray(zero_division, jnp.float32))


def _kappa_defined(t_sum, p_sum, s):
    """Chance agreement < 1: not (targets and predictions all in one and the same class)."""
    ot, op = _occupied(t_sum, s), _occupied(p_sum, s)
    single = (jnp.sum(ot) == 1) & (jnp.sum(op) == 1) & (jnp.sum(ot & op) == 1)
    return (s > 0) & ~single


def kappa_compute(counts: Counts, *, task: str, zero_division: Any = jnp.nan) -> jax.Array:
    r"""Unweighted Cohen's kappa from class sums: :math:`1 - (1 - p_o) / (1 - p_e)`.

    :math:`p_o = \sum tp / s`, :math:`p_e = \sum_k t_k p_k / s^2`. Undefined
    (nothing kept, or :math:`p_e = 1`) → ``zero_division`` (scikit-learn's
    ``replace_undefined_by``).
    """
    t_sum, p_sum, correct, s = _class_sums(counts, task)
    s_safe = jnp.where(s > 0, s, 1.0)
    disagree = 1.0 - correct / s_safe
    expected = 1.0 - jnp.sum((t_sum / s_safe) * (p_sum / s_safe))
    ok = _kappa_defined(t_sum, p_sum, s) & (expected > 0)
    return jnp.where(ok, 1.0 - disagree / jnp.where(ok, expected, 1.0),
                     jnp.asarray(zero_division, jnp.float32))


def kappa_confmat_compute(confmat: jax.Array, *, weights: str | None,
                          zero_division: Any = jnp.nan) -> jax.Array:
    r"""Cohen's kappa from a ``[C, C]`` confusion matrix, ``weights`` None/linear/quadratic.

    :math:`\kappa = 1 - \sum W \circ C / \sum W \circ E`, :math:`E = t p^T / s`
    (scikit-learn). The expected term is O(C) (moments / cumulative sums), so
    only the confusion matrix itself is C×C.
    """
    cm = confmat.astype(jnp.float32)
    c = cm.shape[0]
    s = jnp.sum(cm)
    s_safe = jnp.where(s > 0, s, 1.0)
    cm = cm / s_safe
    t = jnp.sum(cm, 1)
    p = jnp.sum(cm, 0)
    i = lax.broadcasted_iota(jnp.float32, (c, c), 0)
    j = lax.broadcasted_iota(jnp.float32, (c, c), 1)
    k = jnp.arange(c, dtype=jnp.float32)
    if weights is None:
        num = 1.0 - jnp.trace(cm)
        den = 1.0 - jnp.sum(t * p)
    elif weights == "quadratic":
        num = jnp.sum((i - j) ** 2 * cm)
        den = (jnp.sum(k * k * t) * jnp.sum(p) + jnp.sum(t) * jnp.sum(k * k * p)
               - 2.0 * jnp.sum(k * t) * jnp.sum(k * p))
    else:  # linear: Σ_i t_i Σ_j |i - j| p_j with cumulative sums
        num = jnp.sum(jnp.abs(i - j) * cm)
        cp = jnp.cumsum(p)
        cm_ = jnp.cumsum(k * p)
        dist = k * cp - cm_ + (cm_[-1] - cm_) - k * (cp[-1] - cp)
        den = jnp.sum(t * dist)
    ok = _kappa_defined(t * s, p * s, s) & (den > 0)
    return jnp.where(ok, 1.0 - num / jnp.where(ok, den, 1.0), jnp.asarray(zero_division, jnp.float32))


mcc_compute = jit_compute(mcc_compute, ("task",))
kappa_compute = jit_compute(kappa_compute, ("task",))
kappa_confmat_compute = jit_compute(kappa_confmat_compute, ("weights",))


# --------------------------------------------------------------------------- #
# Streaming classes
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True, kw_only=True)
class MatthewsCorrCoef(ConfusionMetric):
    """Streaming Matthews correlation coefficient (scikit-learn's multiclass formula).

    Streaming form of ``maskjax.metrics.matthews_corrcoef``; computed from the
    per-class sums of the shared ``Counts`` state (no C×C matrix needed).

    Args:
      task, num_classes, threshold, from_logits, lower_is_positive, ignore_index, class_weight,
        dtype, validate: as :class:`Accuracy`.
      zero_division: the value when nothing was kept.

    State:
      ``Counts`` (shared with the other counting metrics).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import MatthewsCorrCoef
      >>> mcc = MatthewsCorrCoef(task="multiclass", num_classes=3, dtype="float32")
      >>> p, t = jnp.array([0, 1, 0, 0, 1, 2]), jnp.array([0, 1, 1, 0, 2, 2])
      >>> round(float(mcc(p, t, sample_weight=jnp.array([1., 2, 0, 1, 3, 1]))), 5)
      0.59656
    """

    zero_division: Any = 0.0

    def compute(self, state: State) -> jax.Array:
        return mcc_compute(state, task=self.task, zero_division=self.zero_division)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CohenKappa(ConfusionMetric):
    """Streaming Cohen's kappa, unweighted or with ``weights="linear"`` / ``"quadratic"``.

    Streaming form of ``maskjax.metrics.cohen_kappa``. Unweighted (and any
    binary) kappa needs only the shared ``Counts``; weighted multiclass kappa
    keeps a ``[C, C]`` confusion matrix (shared with :class:`ConfusionMatrix`).

    Args:
      task, num_classes, threshold, from_logits, lower_is_positive, ignore_index, class_weight,
        dtype, validate: as :class:`Accuracy`.
      weights: ``None``, ``"linear"`` or ``"quadratic"``.
      zero_division: the value when kappa is undefined (default nan, as scikit-learn).

    State:
      ``Counts``, or a ``[C, C]`` confusion matrix for weighted multiclass kappa.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import CohenKappa
      >>> k = CohenKappa(task="multiclass", num_classes=3, dtype="float32")
      >>> p, t = jnp.array([0, 1, 0, 0, 1, 2]), jnp.array([0, 1, 1, 0, 2, 2])
      >>> round(float(k(p, t, sample_weight=jnp.array([1., 2, 0, 1, 3, 1]))), 5)
      0.47826
    """

    weights: str | None = None
    zero_division: Any = math.nan
    labels: Any = None

    def _check_config(self) -> None:
        _checks.check_choice(self.weights, "weights", (None, "linear", "quadratic"))
        if self.labels is not None and self.task == "multilabel":
            raise ValueError("cohen_kappa supports task='binary' or 'multiclass', got 'multilabel'.")
        object.__setattr__(self, "labels", check_labels(self.labels, "multiclass"))

    def state_spec(self) -> StateSpec:
        if self.task == "multiclass" and (self.weights is not None or self.labels is not None):
            return ConfmatState(*self._spec_args())
        return CountsState(*self._spec_args())

    def compute(self, state: Any) -> jax.Array:
        if self.labels is not None:   # scikit-learn labels=: the sub-matrix of those classes, in order
            cm = state if self.task == "multiclass" else counts_confmat(state)[0]
            cm = take_labels(take_labels(cm, self.labels, axis=0), self.labels, axis=1)
            return kappa_confmat_compute(cm, weights=self.weights, zero_division=self.zero_division)
        if isinstance(self.state_spec(), ConfmatState):
            return kappa_confmat_compute(state, weights=self.weights, zero_division=self.zero_division)
        return kappa_compute(state, task=self.task, zero_division=self.zero_division)


# --------------------------------------------------------------------------- #
# One-shot functions
# --------------------------------------------------------------------------- #
@doc()
def matthews_corrcoef(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                      threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                      mask: Any = None, sample_weight: Any = None, class_weight: Any = None,
                      ignore_index: int | None = None, zero_division: float = 0.0,
                      axis: int | None = None, pos_label: int | None = None,
        validate: bool = False) -> jax.Array:
    r"""Matthews correlation coefficient (multiclass R_K statistic).

    .. math:: \frac{c\,s - \sum_k t_k p_k}{\sqrt{(s^2 - \sum_k p_k^2)(s^2 - \sum_k t_k^2)}}

    with c = Σ tp, s = Σ w, t_k / p_k the weighted true / predicted counts —
    O(N + C), no confusion matrix. Matches scikit-learn ``matthews_corrcoef``
    (a zero denominator gives 0). Multilabel pools every label into one binary
    problem (torchmetrics).

    Args:
      __ARGS__
      zero_division: value when nothing is kept (all masked / ignored).

    Returns:
      Scalar in [-1, 1].

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import matthews_corrcoef
      >>> y = jnp.array([0, 1, 1, 0, 2, 2]); yhat = jnp.array([0, 1, 0, 0, 1, 2])
      >>> w = jnp.array([1., 2., 0., 1., 3., 1.])
      >>> round(float(matthews_corrcoef(yhat, y, task="multiclass", num_classes=3, sample_weight=w)), 5)
      0.59656
    """
    return MatthewsCorrCoef.one_shot(preds, targets, task=task, num_classes=num_classes,
                                     threshold=threshold, from_logits=from_logits,
                                     lower_is_positive=lower_is_positive, mask=mask,
                                     sample_weight=sample_weight, class_weight=class_weight,
                                     ignore_index=ignore_index, zero_division=zero_division,
                                     axis=axis, pos_label=pos_label,
        validate=validate)


@doc()
def cohen_kappa(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                weights: str | None = None, mask: Any = None, sample_weight: Any = None,
                class_weight: Any = None, ignore_index: int | None = None,
                zero_division: float = math.nan, axis: int | None = None, pos_label: int | None = None, labels: Any = None,
        validate: bool = False) -> jax.Array:
    r"""Cohen's kappa, agreement corrected for chance.

    .. math:: \kappa = 1 - \frac{\sum_{ij} W_{ij} C_{ij}}{\sum_{ij} W_{ij} E_{ij}},
       \quad E = t\,p^\top / s

    with ``W`` = 1 − I (unweighted, O(N + C) from class counts), ``|i − j|``
    (linear) or ``(i − j)²`` (quadratic; these two build the C×C matrix).
    Matches scikit-learn ``cohen_kappa_score`` (``preds``, ``targets`` in
    either order: kappa is symmetric) and torchmetrics. Binary or multiclass.
    Weighted kappa counts distances in class ids ``0 … C−1``, as torchmetrics
    and scikit-learn with ``labels=range(C)``; scikit-learn *without*
    ``labels=`` ranks only the classes present, so the two differ when a class
    between two present ones never occurs (``[0, 1, 1, 0]`` vs ``[0, 3, 1, 1]``:
    linear 0.25 here, 0.333 there). Pass ``labels=`` to pick classes.

    Args:
      __ARGS__
      weights: ``None``, ``"linear"`` or ``"quadratic"``.
      zero_division: value when kappa is undefined (nothing kept, or chance
        agreement 1); default nan = scikit-learn's ``replace_undefined_by``.
      labels: scikit-learn ``labels=``: kappa of the confusion sub-matrix of
        these classes (weights by position in the list).

    Returns:
      Scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import cohen_kappa
      >>> y = jnp.array([0, 1, 1, 0, 2, 2]); yhat = jnp.array([0, 1, 0, 0, 1, 2])
      >>> w = jnp.array([1., 2., 0., 1., 3., 1.])
      >>> round(float(cohen_kappa(yhat, y, task="multiclass", num_classes=3, sample_weight=w)), 5)
      0.47826
    """
    _checks.check_choice(weights, "weights", [None, "linear", "quadratic"])
    if task == "multilabel":
        raise ValueError("cohen_kappa supports task='binary' or 'multiclass', got 'multilabel'.")
    return CohenKappa.one_shot(preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                               from_logits=from_logits, lower_is_positive=lower_is_positive,
                               weights=weights, mask=mask, sample_weight=sample_weight,
                               class_weight=class_weight, ignore_index=ignore_index,
                               zero_division=zero_division, axis=axis, pos_label=pos_label, labels=labels,
        validate=validate)
