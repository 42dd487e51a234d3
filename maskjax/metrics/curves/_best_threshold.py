"""Best decision threshold over all distinct cut points (sort-based, exact)."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from maskjax import _checks
from maskjax._safe_divide import safe_divide
from maskjax.metrics import _format, _invalid
from maskjax.metrics.curves import _exact

CRITERIA = ("f1", "fbeta", "youden", "accuracy", "recall_at_precision", "precision_at_recall")


def best_threshold(preds: Any, targets: Any, *, task: str = "binary", criterion: str = "f1",
                   beta: float = 1.0, min_precision: float | None = None, min_recall: float | None = None,
                   num_classes: int | None = None, from_logits: bool = False, lower_is_positive: bool = False,
                   mask: Any = None, sample_weight: Any = None, ignore_index: int | None = None,
                   axis: int | None = None):
    r"""The decision threshold that maximises a criterion, and the value it reaches.

    Every distinct cut point is tried: "positive iff score ``>= s_k``" for each
    distinct (kept) score ``s_k``, and "nothing positive". The library applies
    thresholds strictly (positive iff ``score > threshold``), so the returned
    threshold is ``nextafter(s_k, -inf)`` in the scores' dtype (float32 for
    float32 / bf16 / f16 / int scores): ``preds > threshold`` selects exactly
    the elements with ``preds >= s_k`` and reproduces ``value``. "Nothing
    positive" returns the largest kept score. With ``lower_is_positive=True``
    (distances: positive iff ``score < threshold``) the threshold is
    ``nextafter(s_k, +inf)`` and "nothing positive" is the smallest score.
    Ties in the criterion go to the highest threshold (fewest positives).

    Criteria (weighted counts tp, fp, tn, fn; P = tp + fn, N = fp + tn):

    * ``"f1"`` / ``"fbeta"`` (``beta``): :math:`(1+\beta^2)tp / ((1+\beta^2)tp + \beta^2 fn + fp)`, 0 if 0/0.
    * ``"youden"``: :math:`J = tp/P - fp/N`.
    * ``"accuracy"``: :math:`(tp + tn) / (P + N)`.
    * ``"recall_at_precision"`` (``min_precision``): the largest recall among
      cuts with precision ``>= min_precision``.
    * ``"precision_at_recall"`` (``min_recall``): the largest precision among
      cuts with recall ``>= min_recall``.

    If no cut meets the constraint the result is ``(largest score, 0.0)``:
    nothing is predicted positive, recall and precision (0/0) are 0.

    Args:
      preds: scores; ``[...]`` binary, ``[..., C]`` multiclass (one-vs-rest,
        per class), ``[..., L]`` multi-label (per label).
      targets: as in :func:`maskjax.metrics.auroc`.
      task: ``"binary"``, ``"multiclass"`` or ``"multilabel"``.
      criterion: one of the criteria above.
      beta: F-beta's beta (``criterion="fbeta"``).
      min_precision / min_recall: the constraint of the constrained criteria.
      num_classes: optional check of ``C`` / ``L``.
      from_logits: thresholds then apply to sigmoid / softmax probabilities
        (as the metrics' ``threshold=`` with ``from_logits=True``).
      lower_is_positive: positive iff ``score < threshold``.
      mask, sample_weight, ignore_index: the weighting contract.
      axis: the class axis of ``preds`` (default last; ``1`` for torch's ``[N, C, d...]``).

    Returns:
      ``(threshold, value)``: scalars for binary, ``[K]`` per class otherwise.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import best_threshold
      >>> s = jnp.array([.1, .4, .35, .8, .7]); y = jnp.array([0, 0, 1, 1, 1])
      >>> t, v = best_threshold(s, y, criterion="f1")
      >>> round(float(v), 4), bool(jnp.all((s > t) == (s >= .35)))
      (0.8571, True)
    """
    task = _format.check_task(task)
    _checks.check_choice(criterion, "criterion", CRITERIA)
    if criterion == "f1":
        beta = 1.0
    beta = _checks.check_static_float(beta, "beta", low=0.0)
    if criterion == "recall_at_precision":
        if min_precision is None:
            raise ValueError("criterion='recall_at_precision' needs `min_precision` (a float in [0, 1]).")
        min_precision = _checks.check_static_float(min_precision, "min_precision", 0.0, 1.0)
    if criterion == "precision_at_recall":
        if min_recall is None:
            raise ValueError("criterion='precision_at_recall' needs `min_recall` (a float in [0, 1]).")
        min_recall = _checks.check_static_float(min_recall, "min_recall", 0.0, 1.0)
    from_logits = _format.check_from_logits(from_logits)
    ignore_index = _checks.check_ignore_index(ignore_index)
    # the class axis to the end (torch's [N, C, d...] with axis=1; axis=None refuses an ambiguous shape)
    preds, targets, mask, sample_weight = _format.class_axis_last(
        _checks.as_array(preds, "preds"), _checks.as_array(targets, "targets"), task=task,
        num_classes=num_classes, axis=_format.check_axis(axis), mask=mask, sample_weight=sample_weight)
    _invalid.check_weights(sample_weight)       # NaN / negative weights: ValueError when concrete
    bad = _invalid.any_invalid(preds, targets, mask=mask, sample_weight=sample_weight, ignore_index=ignore_index)
    return _invalid.poison(_best(
        _checks.as_array(preds, "preds"), _checks.as_array(targets, "targets"),
        _checks.as_optional_array(mask, "mask"), _checks.as_optional_array(sample_weight, "sample_weight"),
        task=task, criterion=criterion, beta=beta, min_precision=min_precision, min_recall=min_recall,
        num_classes=num_classes, from_logits=from_logits, lower_is_positive=bool(lower_is_positive),
        ignore_index=ignore_index), bad)


@functools.partial(jax.jit, static_argnames=("task", "criterion", "beta", "min_precision", "min_recall",
                                             "num_classes", "from_logits", "lower_is_positive", "ignore_index"))
def _best(preds, targets, mask, sample_weight, *, task, criterion, beta, min_precision, min_recall, num_classes,
          from_logits, lower_is_positive, ignore_index):
    p = _format.format_problems(preds, targets, task=task, num_classes=num_classes, from_logits=from_logits,
                                mask=mask, sample_weight=sample_weight, ignore_index=ignore_index, axis=-1)
    scores = -p.scores if lower_is_positive else p.scores
    c = _exact.sorted_counts(scores, p.labels, p.weights)
    k = c.tps.shape[0]
    zero = jnp.zeros((k, 1), c.tps.dtype)
    tp = jnp.concatenate([zero, c.tps], -1)                       # candidate 0: nothing positive
    fp = jnp.concatenate([zero, c.fps], -1)
    npos, nneg = c.n_pos[:, None], c.n_neg[:, None]
    fn, tn = npos - tp, nneg - fp
    valid = jnp.concatenate([jnp.ones((k, 1), bool), c.last], -1)
    if criterion in ("f1", "fbeta"):
        b2 = beta * beta
        value = safe_divide((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)
    elif criterion == "youden":
        value = safe_divide(tp, npos) - safe_divide(fp, nneg)
    elif criterion == "accuracy":
        value = safe_divide(tp + tn, npos + nneg)
    elif criterion == "recall_at_precision":
        precision, recall = safe_divide(tp, tp + fp), safe_divide(tp, npos)
        value = jnp.where(precision >= min_precision, recall, -jnp.inf)
        value = value.at[:, 0].set(0.0)
    else:
        precision, recall = safe_divide(tp, tp + fp), safe_divide(tp, npos)
        value = jnp.where(recall >= min_recall, precision, -jnp.inf)
        value = value.at[:, 0].set(jnp.where(min_recall <= 0, value[:, 0], 0.0))
    value = jnp.where(valid, value, -jnp.inf)
    best = jnp.argmax(value, axis=-1)
    best_value = jnp.take_along_axis(value, best[:, None], -1)[:, 0]
    cut = jnp.take_along_axis(c.scores, jnp.maximum(best - 1, 0)[:, None], -1)[:, 0]
    top = jnp.max(jnp.where(jnp.isnan(c.scores), -jnp.inf, c.scores), axis=-1)
    top = jnp.where(jnp.isneginf(top), jnp.inf, top)           # nothing kept: nothing is positive
    thr = jnp.where(best == 0, top, jnp.nextafter(cut, jnp.full_like(cut, -jnp.inf)))
    if lower_is_positive:
        thr = -thr
    if task == "binary":
        return thr[0], best_value[0]
    return thr, best_value
