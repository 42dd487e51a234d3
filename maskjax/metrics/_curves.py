"""Curves, ranking and calibration: ROC / PR curves, AUROC, AP, best threshold, ECE.

Two modes, chosen by ``thresholds``:

* **Exact** (``thresholds=None``, the default): sort-based, ties grouped as
  scikit-learn groups them; matches ``sklearn.metrics.roc_curve``,
  ``precision_recall_curve``, ``roc_auc_score`` and
  ``average_precision_score``. Under ``jax.jit`` shapes must be static, so an
  exact curve over ``M`` elements is returned at a **fixed length** (see
  :class:`RocCurve`, :class:`PrecisionRecallCurve`) with a ``valid`` mask;
  ``.trim()`` gives the scikit-learn arrays eagerly.
* **Binned** (``thresholds=n`` → ``torch.linspace(0, 1, n)`` bit for bit, or an
  increasing array): O(N + T) histograms, positive iff ``score >= t``;
  matches torchmetrics' ``thresholds=`` results. The state is additive: see
  :mod:`maskjax.metrics._binned` for ``binned_init`` / ``binned_update`` /
  ``binned_auroc`` … (streaming).

Tasks: ``"binary"`` (``preds``, ``targets`` of one shape), ``"multiclass"``
(one-vs-rest: ``preds [..., C]`` scores, ``targets [...]`` class ids),
``"multilabel"`` (``preds [..., L]``, ``targets [..., L]``). Weighting:
``mask``, ``sample_weight`` (broadcast from the left), ``ignore_index`` as in
every maskjax metric; elements of weight 0 count nowhere (scikit-learn drops
zero-weight samples too). ``from_logits=True`` applies sigmoid (binary,
multi-label) or softmax (multiclass) first; it is never guessed.

Distance-like scores (a *lower* score means positive): ``lower_is_positive=True``
(the confusion metrics' option). Exact mode ranks ``-score`` (values equal
scikit-learn on negated scores) but reports thresholds in the original units:
predict positive iff ``score <= threshold``, so ROC thresholds increase
(entry 0 is ``-inf``) and PR thresholds decrease. Binned mode counts
positive iff ``score <= t`` (exactly: it bins ``-score`` against ``-t``);
ROC thresholds come out increasing, PR thresholds decreasing, in the original
units.

Degenerate inputs never raise: AUROC of a problem without positives or
without negatives (including everything masked) is ``nan`` (scikit-learn);
AP without positives is 0 (scikit-learn). Averages drop ``nan`` classes
(torchmetrics' rule; scikit-learn would return ``nan``). An empty input
behaves as one fully masked element (exact curves then have two entries,
the second invalid). Scores are ordered by their bits, so denormals rank
above zero (as in scikit-learn) although XLA:CPU compares them as zero.

The exact and binned statistics are not differentiable: their gradients are
zero (``stop_gradient``), on every backend.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks
from maskjax._safe_divide import safe_divide
from maskjax.metrics import _binned, _curve_inputs as ci, _exact
from maskjax.metrics._best_threshold import best_threshold
from maskjax.metrics._calibration import calibration_error, reliability_diagram

__all__ = [
    "roc_curve",
    "precision_recall_curve",
    "auroc",
    "average_precision",
    "best_threshold",
    "calibration_error",
    "reliability_diagram",
    "RocCurve",
    "PrecisionRecallCurve",
]


def _trim_rows(arrays, valids, squeeze):
    arrays = [np.asarray(a) for a in arrays]
    valids = [np.asarray(v) for v in valids]
    if arrays[0].ndim == 1:
        return tuple(a[v] for a, v in zip(arrays, valids))
    rows = [tuple(a[k][v[k]] for a, v in zip(arrays, valids)) for k in range(arrays[0].shape[0])]
    return rows


class RocCurve(NamedTuple):
    """A ROC curve at a fixed length (a pytree: works under ``jit``).

    Exact mode, ``M`` elements per problem: ``fpr``, ``tpr``, ``thresholds``
    and ``valid`` have length ``M + 1`` (``[K, M + 1]`` for K per-class
    curves). Entry 0 is the point (0, 0) at threshold ``inf`` (scikit-learn).
    Then come the elements in decreasing score order; each holds the point of
    its tie group (predict positive iff ``score >= threshold``), so a group
    repeats its point and ``valid`` marks one entry per distinct threshold.
    Entries of dropped elements (masked, ignored, zero weight) come last and
    repeat the final point (1, 1). Repeated points have zero width, so plots
    and trapezoidal areas over the full arrays equal those over the trimmed
    curve. ``fpr`` (``tpr``) is ``nan`` when there are no negatives
    (positives), as in scikit-learn.

    Binned mode: ``[T]`` arrays in decreasing threshold order, all valid
    (torchmetrics' binned ``roc``).
    """

    fpr: jax.Array
    tpr: jax.Array
    thresholds: jax.Array
    valid: jax.Array

    def trim(self, drop_intermediate: bool = False):
        """Eager: the scikit-learn arrays ``(fpr, tpr, thresholds)`` (a list of them per class).

        Equal to ``sklearn.metrics.roc_curve(..., drop_intermediate=False)``;
        with ``drop_intermediate=True`` scikit-learn's rule (drop points
        collinear with their neighbours) is applied to the rates, with a
        tolerance of a few ulps (scikit-learn tests the raw counts exactly).
        """
        out = _trim_rows((self.fpr, self.tpr, self.thresholds), (self.valid,) * 3, False)
        if not drop_intermediate:
            return out

        def drop(f, t, th):
            if len(f) <= 2:
                return f, t, th
            tol = 8 * np.finfo(f.dtype).eps      # collinear up to the rounding of the rates
            keep = np.r_[True, (np.abs(np.diff(f, 2)) > tol) | (np.abs(np.diff(t, 2)) > tol), True]
            return f[keep], t[keep], th[keep]

        return drop(*out) if isinstance(out, tuple) else [drop(*r) for r in out]


class PrecisionRecallCurve(NamedTuple):
    """A precision-recall curve at a fixed length (a pytree: works under ``jit``).

    scikit-learn order: thresholds increasing, recall decreasing, and a final
    point (precision 1, recall 0) without a threshold. Exact mode, ``M``
    elements: ``precision``, ``recall``, ``valid`` have length ``M + 1`` and
    ``thresholds`` length ``M``. Entries of dropped elements come first and
    repeat the first (lowest-threshold) point; within a tie group entries
    repeat the group's point; ``valid`` marks one entry per distinct threshold
    plus the final point (``valid[:-1]`` applies to ``thresholds``). Precision
    with no predicted positive is 0 and recall without positives is 1
    (scikit-learn).

    Binned mode: ``precision``, ``recall`` ``[T + 1]``, ``thresholds`` ``[T]``,
    all valid; precision / recall with a zero denominator are ``nan``
    (torchmetrics).
    """

    precision: jax.Array
    recall: jax.Array
    thresholds: jax.Array
    valid: jax.Array

    def trim(self):
        """Eager: ``(precision, recall, thresholds)`` as ``sklearn.metrics.precision_recall_curve``."""
        return _trim_rows((self.precision, self.recall, self.thresholds),
                          (self.valid, self.valid, self.valid[..., :-1]), False)


def _problems(preds, targets, task, num_classes, from_logits, mask, sample_weight, ignore_index, micro):
    return ci.format_problems(preds, targets, task=task, num_classes=num_classes, from_logits=from_logits,
                              mask=mask, sample_weight=sample_weight, ignore_index=ignore_index, micro=micro)


def _exact_roc(c, task, average):
    lowest = jnp.min(jnp.where(jnp.isnan(c.scores), jnp.inf, c.scores), axis=-1, keepdims=True)
    th = jnp.where(jnp.isnan(c.scores), lowest, c.scores)
    k = c.fps.shape[0]
    zero = jnp.zeros((k, 1), c.fps.dtype)
    fps = jnp.concatenate([zero, c.fps], -1)
    tps = jnp.concatenate([zero, c.tps], -1)
    fpr = jnp.where(c.n_neg[:, None] > 0, safe_divide(fps, c.n_neg[:, None]), jnp.nan)
    tpr = jnp.where(c.n_pos[:, None] > 0, safe_divide(tps, c.n_pos[:, None]), jnp.nan)
    th = jnp.concatenate([jnp.full((k, 1), jnp.inf, th.dtype), th], -1)
    valid = jnp.concatenate([jnp.ones((k, 1), bool), c.last], -1)
    return RocCurve(*_squeeze(task, average, fpr, tpr, th, valid))


def _exact_pr(c, task, average):
    precision = safe_divide(c.tps, c.tps + c.fps)
    recall = jnp.where(c.n_pos[:, None] > 0, safe_divide(c.tps, c.n_pos[:, None]), 1.0)
    lowest = jnp.min(jnp.where(jnp.isnan(c.scores), jnp.inf, c.scores), axis=-1, keepdims=True)
    th = jnp.where(jnp.isnan(c.scores), lowest, c.scores)
    k = precision.shape[0]
    one = jnp.ones((k, 1), precision.dtype)
    precision = jnp.concatenate([precision[:, ::-1], one], -1)
    recall = jnp.concatenate([recall[:, ::-1], jnp.zeros_like(one)], -1)
    valid = jnp.concatenate([c.last[:, ::-1], jnp.ones((k, 1), bool)], -1)
    return PrecisionRecallCurve(*_squeeze(task, average, precision, recall, th[:, ::-1], valid))


def _kw(local):
    return {k: local[k] for k in ("preds", "targets", "task", "num_classes", "thresholds", "average",
                                  "from_logits", "lower_is_positive", "mask", "sample_weight", "ignore_index")}


_STATIC = ("kind", "task", "num_classes", "average", "from_logits", "lower_is_positive", "ignore_index", "evenly")


@functools.partial(jax.jit, static_argnames=_STATIC)
def _run(preds, targets, mask, sample_weight, thr, *, kind, task, num_classes, average, from_logits,
         lower_is_positive, ignore_index, evenly):
    """All curve computations, compiled once per shape and static configuration.

    Eager calls then cost one compile (not one per primitive); under an outer
    ``jit`` this inlines. ``thr`` is ``None`` (exact) or the ``[T]`` thresholds.
    ``lower_is_positive``: everything runs on ``-score`` (and ``-thr[::-1]``, still
    increasing; ``score <= t`` iff ``-score >= -t``, negation is exact), and the
    reported thresholds are negated back to the original units.
    """
    micro = average == "micro"
    p = _problems(preds, targets, task, num_classes, from_logits, mask, sample_weight, ignore_index, micro)
    if lower_is_positive:
        p = p._replace(scores=-p.scores)
    if thr is not None:
        if lower_is_positive:
            thr = -thr[::-1]      # evenly spaced stays evenly spaced: the bucket arithmetic stays exact
        state = _binned.histogram(p, thr, evenly)
        if kind == "auroc":
            return _binned.binned_auroc(state, average, task)
        if kind == "ap":
            return _binned.binned_average_precision(state, average, task)
        if kind == "roc":
            return binned_roc_result(state, thr, task=task, average=average, lower_is_positive=lower_is_positive)
        return binned_pr_result(state, thr, task=task, average=average, lower_is_positive=lower_is_positive)
    c = _exact.sorted_counts(p.scores, p.labels, p.weights, unit_weights=sample_weight is None)
    # The per-class support by a plain sum, not c.n_pos: on the NumPy backend that would run the
    # per-element kernel (a second sort) just for "weighted" averaging.
    support = jnp.sum(jnp.where(p.labels != 0, p.weights, 0), axis=-1)
    if kind == "auroc":
        return ci.reduce_classes(_exact.auroc_from_counts(c), support, average, task)
    if kind == "ap":
        return ci.reduce_classes(_exact.average_precision_from_counts(c), support, average, task)
    if kind == "roc":
        out = _exact_roc(c, task, average)
    else:
        out = _exact_pr(c, task, average)
    return out._replace(thresholds=_negate(out.thresholds)) if lower_is_positive else out


def _negate(th):
    """``-th`` with ``+0.0`` for zero scores (not the ``-0.0`` of negating a sorted ``0.0`` twice)."""
    return jnp.where(th == 0, jnp.zeros_like(th), -th)


def binned_roc_result(state: _binned.BinnedState, thr: jax.Array, *, task: str, average: Any = None,
                      lower_is_positive: bool = False) -> RocCurve:
    """:class:`RocCurve` of a binned state, shaped as :func:`roc_curve` returns it (all entries valid).

    ``thr``: the increasing ``[T]`` thresholds the state was binned with;
    ``average="micro"`` pools a per-class state (a no-op on a state already
    built from micro problems); binary / micro results drop the class axis.
    ``lower_is_positive=True``: the state binned ``-score`` against ``thr =
    -t[::-1]``; thresholds are reported negated back (original units).
    """
    fpr, tpr, th = _binned.binned_roc(state, thr, average == "micro")
    th = _negate(th) if lower_is_positive else th
    return RocCurve(*_squeeze(task, average, fpr, tpr, th, jnp.ones(fpr.shape, bool)))


def binned_pr_result(state: _binned.BinnedState, thr: jax.Array, *, task: str, average: Any = None,
                     lower_is_positive: bool = False) -> PrecisionRecallCurve:
    """:class:`PrecisionRecallCurve` of a binned state (as :func:`binned_roc_result`)."""
    pr, rc, th = _binned.binned_pr_curve(state, thr, average == "micro")
    th = _negate(th) if lower_is_positive else th
    return PrecisionRecallCurve(*_squeeze(task, average, pr, rc, th, jnp.ones(pr.shape, bool)))


def _call(kind, preds, targets, *, task, num_classes, thresholds, average, from_logits, lower_is_positive, mask,
          sample_weight, ignore_index):
    task = ci.check_task(task)
    if kind in ("roc", "pr"):
        average = _curve_average(average, task)
    else:
        average = ci.check_average(average) if task != "binary" else "macro"
    from_logits = ci.check_from_logits(from_logits)
    lower_is_positive = ci.check_flag(lower_is_positive, "lower_is_positive")
    ignore_index = _checks.check_ignore_index(ignore_index)
    if num_classes is not None:
        num_classes = _checks.check_static_int(num_classes, "num_classes", minimum=1)
    thr = None if thresholds is None else _binned.binned_thresholds(thresholds)
    evenly = isinstance(thresholds, (int, np.integer))
    preds = _checks.as_array(preds, "preds")
    targets = _checks.as_array(targets, "targets")
    mask = _checks.as_optional_array(mask, "mask")
    sample_weight = _checks.as_optional_array(sample_weight, "sample_weight")
    return _run(preds, targets, mask, sample_weight, thr, kind=kind, task=task, num_classes=num_classes,
                average=average, from_logits=from_logits, lower_is_positive=lower_is_positive,
                ignore_index=ignore_index, evenly=evenly)


def _curve_average(average, task):
    if task == "binary":
        return None
    average = ci.check_average(average, (None, "micro"))
    return average


def _squeeze(task, average, *arrays):
    if task == "binary" or average == "micro":
        return tuple(a[0] for a in arrays)
    return arrays


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
    return _call("roc", **_kw(locals()))


def precision_recall_curve(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
                           thresholds: Any = None, average: Any = None, from_logits: bool = False,
                           lower_is_positive: bool = False, mask: Any = None, sample_weight: Any = None,
                           ignore_index: int | None = None) -> PrecisionRecallCurve:
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
      mask, sample_weight, ignore_index: as in :func:`roc_curve`.

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
    return _call("pr", **_kw(locals()))


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
    return _call("auroc", **_kw(locals()))


def average_precision(preds: Any, targets: Any, *, task: str = "binary", num_classes: int | None = None,
                      thresholds: Any = None, average: Any = "macro", from_logits: bool = False,
                      lower_is_positive: bool = False, mask: Any = None, sample_weight: Any = None,
                      ignore_index: int | None = None) -> jax.Array:
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
      mask, sample_weight, ignore_index: as in :func:`roc_curve`.

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
    return _call("ap", **_kw(locals()))
