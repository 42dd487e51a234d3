"""Confusion-matrix metrics: one-shot, masked, weighted, thresholded, jit-able.

Each public function is ``check args → (validate values) → format → update →
compute`` (see :mod:`maskjax.metrics._format` and
:mod:`maskjax.metrics._stat_scores`, whose update/compute pairs a streaming
metric reuses). The data pass (format + update) runs through one
module-level ``jax.jit`` keyed by the *update* configuration (task,
num_classes, ignore_index, ...) with the data — threshold values included —
traced: changing a threshold never recompiles, and precision, recall, F1, ...
of one task share one compiled program. The compute step works on the small
``[C]`` state (inlined when the caller jits).

Defaults and the reference they match:

* ``precision`` / ``recall`` / ``f1_score`` / ``fbeta_score`` / ``jaccard_index``:
  scikit-learn (``average="macro"`` over the classes present in targets ∪
  predictions for multiclass, all labels for multi-label; binary = the
  positive class, sklearn ``average="binary"``).
* ``accuracy``: ``average="micro"`` — multiclass = sklearn ``accuracy_score``;
  binary = fraction correct; multi-label = element-wise (Keras
  ``BinaryAccuracy``, torchmetrics multilabel micro). Subset accuracy is
  :func:`exact_match`.
* ``balanced_accuracy``, ``matthews_corrcoef``, ``cohen_kappa``,
  ``confusion_matrix``, ``hamming_distance``, ``top_k_accuracy``: sklearn.
* ``specificity``, ``stat_scores``, ``dice_score``, multi-label MCC,
  macro ``accuracy``: torchmetrics.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, NamedTuple

import jax

from maskjax import _checks
from maskjax.metrics import _format
from maskjax.metrics import _stat_scores as ss

__all__ = [
    "stat_scores",
    "confusion_matrix",
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1_score",
    "fbeta_score",
    "specificity",
    "jaccard_index",
    "dice_score",
    "matthews_corrcoef",
    "cohen_kappa",
    "hamming_distance",
    "exact_match",
    "top_k_accuracy",
    "precision_at_k",
    "recall_at_k",
]

_UNSET = "__unset__"
_AVG_SAMPLES = _format.AVERAGES + ("samples",)


class _Cfg(NamedTuple):
    """Static configuration of one metric call (hashable)."""

    kind: str
    metric: str | None
    task: str
    num_classes: int | None
    average: Any
    absent_classes: str
    ignore_index: int | None
    from_logits: bool
    lower_is_positive: bool
    extra: Any = None


class _Upd(NamedTuple):
    """Static configuration of the update step (the jit key): many metrics share one."""

    kind: str  # counts | confmat | topk | samples | exact_match | ranking
    metric: str | None
    task: str
    num_classes: int | None
    ignore_index: int | None
    from_logits: bool
    lower_is_positive: bool
    extra: Any = None


def _update_config(cfg: _Cfg) -> _Upd:
    kind, metric, extra = "counts", None, None
    if cfg.kind == "confmat" and cfg.task == "multiclass":
        kind = "confmat"
    elif cfg.kind == "kappa" and cfg.extra is not None and cfg.task == "multiclass":
        kind = "confmat"
    elif cfg.kind in ("topk", "ranking"):
        kind, metric, extra = cfg.kind, cfg.metric, cfg.extra
    elif cfg.kind in ("samples", "exact_match"):
        kind, metric = cfg.kind, cfg.metric
    return _Upd(kind, metric, cfg.task, cfg.num_classes, cfg.ignore_index, cfg.from_logits,
                cfg.lower_is_positive, extra)


@partial(jax.jit, static_argnames=("upd",))
def _update(preds, targets, mask, sample_weight, class_weight, threshold, zero_division, beta, *, upd):
    """The data pass (format → update) under one module-level jit.

    Keyed by the *update* configuration only, so precision, recall, F1,
    accuracy, ... of one task share a compiled program; the compute step works
    on ``[C]``-sized state and runs after it (inlined when the caller jits).
    """
    if upd.kind == "ranking":
        return ss.ranking_update(preds, targets, k=upd.extra, which=upd.metric, mask=mask,
                                 sample_weight=sample_weight, ignore_index=upd.ignore_index,
                                 zero_division=zero_division)
    fmt = _format.format_inputs(preds, targets, task=upd.task, num_classes=upd.num_classes,
                                threshold=threshold, from_logits=upd.from_logits,
                                lower_is_positive=upd.lower_is_positive, mask=mask,
                                sample_weight=sample_weight, class_weight=class_weight,
                                ignore_index=upd.ignore_index)
    if upd.kind == "samples":
        return ss.samples_update(fmt, upd.metric, zero_division=zero_division, beta=beta)
    if upd.kind == "exact_match":
        return ss.exact_match_update(fmt, task=upd.task)
    if upd.kind == "confmat":
        return ss.confmat_update(fmt, num_classes=upd.num_classes)
    if upd.kind == "topk":
        return ss.topk_update(fmt, num_classes=upd.num_classes, top_k=upd.extra)
    return ss.counts_update(fmt, task=upd.task, num_classes=upd.num_classes)


def _compute(state, cfg: _Cfg, zero_division, beta):
    """The compute step for ``cfg`` from the state :func:`_update` returned."""
    common = dict(task=cfg.task, absent_classes=cfg.absent_classes, ignore_index=cfg.ignore_index)
    if cfg.kind in ("samples", "exact_match", "ranking"):
        return ss.samples_compute(state, zero_division=zero_division)
    if cfg.kind == "confmat":
        if cfg.task != "multiclass":
            state = ss.counts_confmat(state)
            state = state[0] if cfg.task == "binary" else state
        return ss.confmat_compute(state, normalize=cfg.extra)
    if cfg.kind == "kappa" and cfg.extra is not None and cfg.task == "multiclass":
        return ss.kappa_confmat_compute(state, weights=cfg.extra, zero_division=zero_division)
    if cfg.kind == "topk":
        return ss.score_compute(state, "recall", average=cfg.average, zero_division=zero_division,
                                **common)
    if cfg.kind == "score":
        return ss.score_compute(state, cfg.metric, average=cfg.average, zero_division=zero_division,
                                beta=beta, **common)
    if cfg.kind == "stat_scores":
        return ss.stat_scores_compute(state, average=cfg.average, **common)
    if cfg.kind == "balanced":
        return ss.balanced_accuracy_compute(state, average=cfg.average, zero_division=zero_division,
                                            **common)
    if cfg.kind == "mcc":
        return ss.mcc_compute(state, task=cfg.task, zero_division=zero_division)
    if cfg.kind == "kappa":
        return ss.kappa_compute(state, task=cfg.task, zero_division=zero_division)
    raise AssertionError(cfg.kind)  # pragma: no cover


def _run(preds, targets, mask, sample_weight, class_weight, threshold, zero_division, beta, *, cfg):
    """format → update (jitted, shared) → compute."""
    upd = _update_config(cfg)
    per_sample = upd.kind in ("samples", "ranking")
    state = _update(preds, targets, mask, sample_weight, class_weight, threshold,
                    zero_division if per_sample else None,
                    beta if upd.kind == "samples" else None, upd=upd)
    return _compute(state, cfg, zero_division, beta)


def _call(kind: str, preds, targets, *, task, metric=None, num_classes=None, threshold=0.5,
          from_logits=False, lower_is_positive=False, average=_UNSET, allowed_averages=_format.AVERAGES,
          absent_classes="auto", mask=None, sample_weight=None, class_weight=None, ignore_index=None,
          zero_division=0.0, validate=False, beta=1.0, extra=None):
    """Python-side argument checks, optional eager validation, then :func:`_run`."""
    args = _format.check_args(task, num_classes=num_classes, average=average,
                              allowed_averages=allowed_averages, zero_division=zero_division,
                              absent_classes=absent_classes, ignore_index=ignore_index)
    avg = args.get("average")
    if avg == "samples" and kind == "score":
        if metric not in ss.SAMPLE_SCORES:
            raise ValueError(f"`average='samples'` is not defined for {metric}; use one of "
                             f"micro/macro/weighted/None.")
        kind = "samples"
    for name, flag in (("from_logits", from_logits), ("lower_is_positive", lower_is_positive),
                       ("validate", validate)):
        if not isinstance(flag, bool):
            raise TypeError(f"`{name}` must be a bool, got {flag!r}.")
    preds = _checks.as_array(preds, "preds")
    targets = _checks.as_array(targets, "targets")
    threshold = _checks.as_array(threshold, "threshold")
    if validate:
        _format.validate_values(preds, targets, task=args["task"], num_classes=args["num_classes"],
                                ignore_index=args["ignore_index"])
    cfg = _Cfg(kind, metric, args["task"], args["num_classes"], avg, args["absent_classes"],
               args["ignore_index"], from_logits, lower_is_positive, extra)
    return _run(preds, targets, _checks.as_optional_array(mask, "mask"),
                _checks.as_optional_array(sample_weight, "sample_weight"),
                _checks.as_optional_array(class_weight, "class_weight"),
                threshold, args["zero_division"], beta, cfg=cfg)


_ARGS = """preds: scores or hard labels. binary: ``[*S]`` (float scores, thresholded, or
        int/bool 0/1); multiclass: float scores ``[*S, C]`` (arg-max, ties to the
        lowest index) or int class ids ``[*S]``; multilabel: ``[*S, L]``.
      targets: binary ``[*S]`` 0/1; multiclass int class ids ``[*S]`` or one-hot
        rows ``[*S, C]``; multilabel ``[*S, L]`` 0/1.
      task: ``"binary"``, ``"multiclass"`` or ``"multilabel"`` (never guessed).
      num_classes: ``C``, required for multiclass; for multilabel optional
        (``L``, checked against ``preds.shape[-1]``).
      threshold: binary / multilabel float scores are positive iff
        ``score > threshold`` (strict); a scalar or a per-label ``[L]`` array.
        Traced: changing its value never recompiles.
      from_logits: apply a sigmoid to binary / multilabel scores first
        (multiclass arg-max is unaffected).
      lower_is_positive: positive iff ``score < threshold`` (distances).
      mask: bool / 0-1, broadcast from the left to the element shape
        (``[*S]``, or ``[*S, L]`` for multilabel); ``False`` drops an element.
      sample_weight: broadcast from the left like ``mask``.
      class_weight: ``[C]`` (multiclass), ``[2]`` (binary: negative, positive)
        or ``[L]`` / ``[L, 2]`` (multilabel), looked up by the target.
      ignore_index: a target value (e.g. -100, 255, or a class id) whose
        elements count nowhere, not even in the classes that are present.
      validate: eagerly raise ``ValueError`` for out-of-range labels or NaN
        scores (cannot run under jit). Without it such elements are dropped."""

_AVG = """average: ``"micro"`` (sum counts over classes), ``"macro"`` (unweighted
        mean over classes), ``"weighted"`` (mean weighted by support), ``None``
        (per class ``[K]``)__SAMPLES__. Ignored for binary (positive class).
      absent_classes: which classes macro / weighted average over. ``"auto"``:
        multiclass → classes present (kept) in targets or predictions
        (scikit-learn without ``labels=``, torchmetrics' ``tp+fp+fn > 0``);
        multilabel → all labels (both references). ``"exclude"`` / ``"include"``
        force one rule (``"include"`` = sklearn ``labels=range(C)``). A class id
        used as ``ignore_index`` is never averaged.
      zero_division: value of a 0/0 (0, 1 or nan). nan drops the class from the
        average (scikit-learn); an all-masked batch returns this value."""

_SAMPLES = """, ``"samples"``
        (multilabel: per-sample score averaged with ``sample_weight``, which must
        then be per sample)"""


def _doc(*, samples=False):
    def deco(fn):
        avg = _AVG.replace("__SAMPLES__", _SAMPLES if samples else "")
        fn.__doc__ = fn.__doc__.replace("__ARGS__", _ARGS).replace("__AVG__", avg)
        return fn
    return deco


def _ratio(metric, preds, targets, *, average, **kw):
    return _call("score", preds, targets, metric=metric, average=average,
                 allowed_averages=_AVG_SAMPLES, **kw)


# --------------------------------------------------------------------------- #
# Counts and matrices
# --------------------------------------------------------------------------- #
@_doc()
def stat_scores(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                average: str | None = None, absent_classes: str = "auto", mask: Any = None,
                sample_weight: Any = None, class_weight: Any = None, ignore_index: int | None = None,
                validate: bool = False) -> jax.Array:
    """Weighted ``(tp, fp, tn, fn, support)`` per class (torchmetrics ``stat_scores`` layout).

    Args:
      __ARGS__
      average: ``None`` (default, per class ``[K, 5]``), ``"micro"`` (summed
        ``[5]``) or ``"macro"`` (mean over the averaged classes ``[5]``).
      absent_classes: see :func:`precision` (only for ``"macro"``).

    Returns:
      ``[5]`` for binary, ``[K, 5]`` or ``[5]`` otherwise. int32 without
      weights, float32 with ``sample_weight`` / ``class_weight``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import stat_scores
      >>> stat_scores(jnp.array([0, 2, 1, 2]), jnp.array([0, 1, 1, 2]),
      ...             task="multiclass", num_classes=3).tolist()
      [[1, 0, 3, 0, 1], [1, 0, 2, 1, 2], [1, 1, 2, 0, 1]]
    """
    _format.check_average(average, _format.check_task(task), (None, "micro", "macro"))
    return _call("stat_scores", preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                 from_logits=from_logits, lower_is_positive=lower_is_positive, average=average,
                 absent_classes=absent_classes, mask=mask, sample_weight=sample_weight,
                 class_weight=class_weight, ignore_index=ignore_index, validate=validate)


@_doc()
def confusion_matrix(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                     threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                     normalize: str | None = None, mask: Any = None, sample_weight: Any = None,
                     class_weight: Any = None, ignore_index: int | None = None,
                     validate: bool = False) -> jax.Array:
    r"""Weighted confusion matrix :math:`C_{ij} = \sum w` over (true i, predicted j).

    Matches scikit-learn ``confusion_matrix`` (binary: ``labels=[0, 1]``,
    ``[[tn, fp], [fn, tp]]``) and ``multilabel_confusion_matrix`` (``[L, 2, 2]``).
    The multiclass matrix is one ``segment_sum`` on the key ``t·C + p``.

    Args:
      __ARGS__
      normalize: ``None``, ``"true"`` (rows sum to 1), ``"pred"`` (columns) or
        ``"all"``; empty rows / columns give 0 (scikit-learn).

    Returns:
      ``[2, 2]`` (binary), ``[C, C]`` (multiclass) or ``[L, 2, 2]`` (multilabel);
      int32 counts without weights or normalisation, float32 otherwise.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import confusion_matrix
      >>> y = jnp.array([0, 1, 1, 0, 2, 2]); yhat = jnp.array([0, 1, 0, 0, 1, 2])
      >>> w = jnp.array([1., 2., 0., 1., 3., 1.])
      >>> confusion_matrix(yhat, y, task="multiclass", num_classes=3, sample_weight=w).tolist()
      [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 3.0, 1.0]]
    """
    _checks.check_choice(normalize, "normalize", [None, "true", "pred", "all"])
    return _call("confmat", preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                 from_logits=from_logits, lower_is_positive=lower_is_positive, mask=mask,
                 sample_weight=sample_weight, class_weight=class_weight, ignore_index=ignore_index,
                 validate=validate, extra=normalize)


# --------------------------------------------------------------------------- #
# Ratio metrics
# --------------------------------------------------------------------------- #
@_doc()
def accuracy(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
             threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
             top_k: int = 1, average: str | None = "micro", absent_classes: str = "auto",
             mask: Any = None, sample_weight: Any = None, class_weight: Any = None,
             ignore_index: int | None = None, zero_division: float = 0.0,
             validate: bool = False) -> jax.Array:
    r"""Weighted fraction of correct predictions.

    * binary: :math:`(tp + tn) / \sum w` (Keras ``BinaryAccuracy``).
    * multiclass: ``"micro"`` = :math:`\sum_k tp_k / \sum w` = scikit-learn
      ``accuracy_score``; ``"macro"`` / ``"weighted"`` / ``None`` = per-class
      recall, averaged (torchmetrics ``multiclass_accuracy``). ``top_k > 1``:
      see :func:`top_k_accuracy`.
    * multilabel: element-wise, :math:`(tp + tn) / total` per label, ``"micro"``
      pooling all elements (Keras ``BinaryAccuracy``, torchmetrics multilabel).
      For the fraction of samples with every label right use :func:`exact_match`.

    Args:
      __ARGS__
      top_k: multiclass only: correct if the target is among the ``top_k``
        highest scores.
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import accuracy
      >>> d = jnp.array([1.5, 0.7, 0.1, 0.3, 3.2])   # siamese distances
      >>> same = jnp.array([1, 0, 0, 1, 0])
      >>> round(float(accuracy(d, same, task="binary", threshold=0.5, lower_is_positive=True)), 4)
      0.6
    """
    if top_k != 1:
        return top_k_accuracy(preds, targets, task=task, num_classes=num_classes, top_k=top_k,
                              average=average, absent_classes=absent_classes, mask=mask,
                              sample_weight=sample_weight, class_weight=class_weight,
                              ignore_index=ignore_index, zero_division=zero_division, validate=validate)
    return _call("score", preds, targets, metric="accuracy", task=task, num_classes=num_classes,
                 threshold=threshold, from_logits=from_logits, lower_is_positive=lower_is_positive,
                 average=average, absent_classes=absent_classes, mask=mask, sample_weight=sample_weight,
                 class_weight=class_weight, ignore_index=ignore_index, zero_division=zero_division,
                 validate=validate)


def _ratio_fn(metric, summary, formula, reference, example, samples=True):
    """Build a ratio metric (precision, recall, ...) with its docstring."""

    def fn(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
           threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
           average: str | None = "macro", absent_classes: str = "auto", mask: Any = None,
           sample_weight: Any = None, class_weight: Any = None, ignore_index: int | None = None,
           zero_division: float = 0.0, validate: bool = False) -> jax.Array:
        if average == "samples" and not samples:
            raise ValueError(f"`average='samples'` is not supported by {metric}.")
        return _ratio(metric, preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                      from_logits=from_logits, lower_is_positive=lower_is_positive, average=average,
                      absent_classes=absent_classes, mask=mask, sample_weight=sample_weight,
                      class_weight=class_weight, ignore_index=ignore_index,
                      zero_division=zero_division, validate=validate)

    fn.__doc__ = f"""{summary}

    Per class :math:`{formula}` from weighted counts, then averaged. Matches
    {reference}.

    Args:
      __ARGS__
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None`` (binary: the positive class).

    Example:
{example}
    """
    return _doc(samples=samples)(fn)


_EX_P = """      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import precision
      >>> y = jnp.array([0, 0, 1]); yhat = jnp.array([0, 0, 0])
      >>> round(float(precision(yhat, y, task="multiclass", num_classes=3)), 4)
      0.3333
      >>> round(precision(yhat, y, task="multiclass", num_classes=3, average=None)[0].item(), 4)  # class 0
      0.6667"""

precision = _ratio_fn(
    "precision", "Precision (positive predictive value).", r"tp / (tp + fp)",
    "scikit-learn ``precision_score`` (``average='macro'`` default; binary = "
    "``average='binary'``)", _EX_P)
precision.__name__ = precision.__qualname__ = "precision"

recall = _ratio_fn(
    "recall", "Recall (sensitivity, true positive rate).", r"tp / (tp + fn)",
    "scikit-learn ``recall_score``",
    """      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import recall
      >>> y = jnp.array([0, 1, 1, 0, 2, 2]); yhat = jnp.array([0, 1, 0, 0, 1, 2])
      >>> w = jnp.array([1., 2., 0., 1., 3., 1.])
      >>> round(float(recall(yhat, y, task="multiclass", num_classes=3, sample_weight=w)), 4)
      0.75""")
recall.__name__ = recall.__qualname__ = "recall"

f1_score = _ratio_fn(
    "fbeta", "F1 score, the harmonic mean of precision and recall.",
    r"2 tp / (2 tp + fp + fn)",
    "scikit-learn ``f1_score`` (0/0 only when tp + fp + fn = 0)",
    """      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import f1_score
      >>> y = jnp.array([0, 1, 1, 0, 2, 2]); yhat = jnp.array([0, 1, 0, 0, 1, 2])
      >>> w = jnp.array([1., 2., 0., 1., 3., 1.])
      >>> round(float(f1_score(yhat, y, task="multiclass", num_classes=3, sample_weight=w)), 4)
      0.6571""")
f1_score.__name__ = f1_score.__qualname__ = "f1_score"

dice_score = _ratio_fn(
    "dice", "Dice coefficient (Sørensen–Dice), the segmentation name of F1.",
    r"2 tp / (2 tp + fp + fn)",
    "scikit-learn ``f1_score`` and torchmetrics ``dice`` (same value as :func:`f1_score`)",
    """      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import dice_score
      >>> seg = jnp.array([[0, 1, 1], [2, 2, 0]]); gt = jnp.array([[0, 1, 2], [2, 2, 255]])
      >>> round(float(dice_score(seg, gt, task="multiclass", num_classes=3, ignore_index=255)), 4)
      0.8222""")
dice_score.__name__ = dice_score.__qualname__ = "dice_score"

specificity = _ratio_fn(
    "specificity", "Specificity (true negative rate).", r"tn / (tn + fp)",
    "torchmetrics ``specificity`` (scikit-learn has none; tn per class is "
    "one-vs-rest)",
    """      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import specificity
      >>> p = jnp.array([0.9, 0.8, 0.2, 0.1]); y = jnp.array([1, 0, 0, 0])
      >>> round(float(specificity(p, y, task="binary")), 4)
      0.6667""", samples=False)
specificity.__name__ = specificity.__qualname__ = "specificity"

jaccard_index = _ratio_fn(
    "jaccard", "Jaccard index (intersection over union, IoU).", r"tp / (tp + fp + fn)",
    "scikit-learn ``jaccard_score``",
    """      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import jaccard_index
      >>> seg = jnp.array([[0, 1, 1], [2, 2, 0]]); gt = jnp.array([[0, 1, 2], [2, 2, 0]])
      >>> iou = jaccard_index(seg, gt, task="multiclass", num_classes=3, average=None)
      >>> [round(v, 4) for v in iou.tolist()]
      [1.0, 0.5, 0.6667]""")
jaccard_index.__name__ = jaccard_index.__qualname__ = "jaccard_index"


@_doc(samples=True)
def fbeta_score(preds: Any, targets: Any, *, beta: float, task: str, num_classes: int | None = None,
                threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                average: str | None = "macro", absent_classes: str = "auto", mask: Any = None,
                sample_weight: Any = None, class_weight: Any = None, ignore_index: int | None = None,
                zero_division: float = 0.0, validate: bool = False) -> jax.Array:
    r"""F-beta score: recall weighted ``beta`` times as much as precision.

    Per class :math:`(1+\beta^2) tp / ((1+\beta^2) tp + \beta^2 fn + fp)`,
    then averaged. Matches scikit-learn ``fbeta_score``.

    Args:
      __ARGS__
      beta: non-negative weight of recall (traced; ``beta=0`` is precision).
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import fbeta_score
      >>> p = jnp.array([0.9, 0.4, 0.6, 0.2]); y = jnp.array([1, 1, 0, 0])
      >>> round(float(fbeta_score(p, y, task="binary", beta=2.0)), 4)
      0.5
    """
    b = _checks.check_static_float(beta, "beta", low=0.0) if not isinstance(beta, jax.Array) else beta
    return _call("score", preds, targets, metric="fbeta", task=task, num_classes=num_classes,
                 threshold=threshold, from_logits=from_logits, lower_is_positive=lower_is_positive,
                 average=average, allowed_averages=_AVG_SAMPLES, absent_classes=absent_classes,
                 mask=mask, sample_weight=sample_weight, class_weight=class_weight,
                 ignore_index=ignore_index, zero_division=zero_division, validate=validate, beta=b)


@_doc()
def balanced_accuracy(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                      threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                      average: str | None = "macro", mask: Any = None, sample_weight: Any = None,
                      class_weight: Any = None, ignore_index: int | None = None,
                      zero_division: float = 0.0, validate: bool = False) -> jax.Array:
    r"""Balanced accuracy: mean recall over the classes that occur in the targets.

    Multiclass: :math:`\frac{1}{|K'|}\sum_{k \in K'} tp_k / (tp_k + fn_k)` over
    classes with non-zero (weighted) support; binary: mean of TPR and TNR
    (each only if its class occurs). Matches scikit-learn
    ``balanced_accuracy_score`` (``adjusted=False``). Multilabel: the binary
    value per label, averaged with ``average`` (macro over all labels).

    Args:
      __ARGS__
      average: multilabel only: ``"macro"``, ``"weighted"``, ``"micro"``
        (pooled) or ``None``.
      zero_division: value when no class occurs (all masked).

    Returns:
      Scalar (``[L]`` for multilabel ``average=None``).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import balanced_accuracy
      >>> y = jnp.array([0, 1, 1, 0, 2, 2]); yhat = jnp.array([0, 1, 0, 0, 1, 2])
      >>> w = jnp.array([1., 2., 0., 1., 3., 1.])
      >>> round(float(balanced_accuracy(yhat, y, task="multiclass", num_classes=3, sample_weight=w)), 4)
      0.75
    """
    return _call("balanced", preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                 from_logits=from_logits, lower_is_positive=lower_is_positive, average=average,
                 mask=mask, sample_weight=sample_weight, class_weight=class_weight,
                 ignore_index=ignore_index, zero_division=zero_division, validate=validate)


@_doc()
def matthews_corrcoef(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                      threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                      mask: Any = None, sample_weight: Any = None, class_weight: Any = None,
                      ignore_index: int | None = None, zero_division: float = 0.0,
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
    return _call("mcc", preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                 from_logits=from_logits, lower_is_positive=lower_is_positive, mask=mask,
                 sample_weight=sample_weight, class_weight=class_weight, ignore_index=ignore_index,
                 zero_division=zero_division, validate=validate)


@_doc()
def cohen_kappa(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                weights: str | None = None, mask: Any = None, sample_weight: Any = None,
                class_weight: Any = None, ignore_index: int | None = None,
                zero_division: float = math.nan, validate: bool = False) -> jax.Array:
    r"""Cohen's kappa, agreement corrected for chance.

    .. math:: \kappa = 1 - \frac{\sum_{ij} W_{ij} C_{ij}}{\sum_{ij} W_{ij} E_{ij}},
       \quad E = t\,p^\top / s

    with ``W`` = 1 − I (unweighted, O(N + C) from class counts), ``|i − j|``
    (linear) or ``(i − j)²`` (quadratic; these two build the C×C matrix).
    Matches scikit-learn ``cohen_kappa_score`` (``preds``, ``targets`` in
    either order: kappa is symmetric). Binary or multiclass.

    Args:
      __ARGS__
      weights: ``None``, ``"linear"`` or ``"quadratic"``.
      zero_division: value when kappa is undefined (nothing kept, or chance
        agreement 1); default nan = scikit-learn's ``replace_undefined_by``.

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
    return _call("kappa", preds, targets, task=task, num_classes=num_classes, threshold=threshold,
                 from_logits=from_logits, lower_is_positive=lower_is_positive, mask=mask,
                 sample_weight=sample_weight, class_weight=class_weight, ignore_index=ignore_index,
                 zero_division=zero_division, validate=validate, extra=weights)


@_doc()
def hamming_distance(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                     threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                     average: str | None = "micro", absent_classes: str = "auto", mask: Any = None,
                     sample_weight: Any = None, class_weight: Any = None,
                     ignore_index: int | None = None, zero_division: float = 0.0,
                     validate: bool = False) -> jax.Array:
    r"""Hamming distance: the weighted fraction of wrong elements, ``1 − accuracy``.

    Multilabel: :math:`(fp + fn) / total` per label, ``"micro"`` over all
    elements = scikit-learn ``hamming_loss``. Binary / multiclass: ``1 −``
    :func:`accuracy` (per class: :math:`fn / (tp + fn)`), as torchmetrics.

    Args:
      __ARGS__
      __AVG__

    Returns:
      Scalar, or ``[K]`` for ``average=None``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import hamming_distance
      >>> y = jnp.zeros((2, 4), int).at[0, 1].set(1)
      >>> float(hamming_distance(jnp.zeros((2, 4)), y, task="multilabel"))
      0.125
    """
    return _call("score", preds, targets, metric="hamming", task=task, num_classes=num_classes,
                 threshold=threshold, from_logits=from_logits, lower_is_positive=lower_is_positive,
                 average=average, absent_classes=absent_classes, mask=mask, sample_weight=sample_weight,
                 class_weight=class_weight, ignore_index=ignore_index, zero_division=zero_division,
                 validate=validate)


@_doc()
def exact_match(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                mask: Any = None, sample_weight: Any = None, ignore_index: int | None = None,
                zero_division: float = 0.0, validate: bool = False) -> jax.Array:
    r"""Subset accuracy: the weighted fraction of samples with *every* kept element right.

    Multilabel: a sample is an ``[L]`` row (scikit-learn ``accuracy_score`` on
    indicator matrices). Binary / multiclass: a sample is an index of the
    first axis, all later axes must be right (torchmetrics ``exact_match``).
    Masked / ignored elements are skipped; a sample with none kept is dropped.
    ``sample_weight`` here is per sample (broadcast from the left to the
    sample shape).

    Args:
      __ARGS__
      zero_division: value when no sample is kept.

    Returns:
      Scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import exact_match
      >>> y = jnp.array([[1, 0, 0], [0, 1, 1]]); p = jnp.array([[0.9, 0.2, 0.1], [0.1, 0.8, 0.3]])
      >>> float(exact_match(p, y, task="multilabel"))
      0.5
    """
    return _call("exact_match", preds, targets, task=task, num_classes=num_classes,
                 threshold=threshold, from_logits=from_logits, lower_is_positive=lower_is_positive,
                 mask=mask, sample_weight=sample_weight, ignore_index=ignore_index,
                 zero_division=zero_division, validate=validate)


def top_k_accuracy(preds: Any, targets: Any, *, top_k: int, num_classes: int,
                   task: str = "multiclass", average: str | None = "micro",
                   absent_classes: str = "auto", mask: Any = None, sample_weight: Any = None,
                   class_weight: Any = None, ignore_index: int | None = None,
                   zero_division: float = 0.0, validate: bool = False) -> jax.Array:
    r"""Top-k accuracy: the target is among the ``top_k`` highest scores.

    A target t is a hit iff :math:`\#\{j: s_j > s_t\} + \#\{j < t: s_j = s_t\} < k`
    (a fused compare-and-count, no sort, no one-hot). ``"micro"`` matches
    scikit-learn ``top_k_accuracy_score`` and torchmetrics
    ``multiclass_accuracy(top_k=k)``; ``"macro"`` is the mean per-class hit
    rate over the classes present in the targets (torchmetrics). Ties go to
    the lower class index (as ``argmax``; scikit-learn favours the higher one).

    Args:
      preds: float scores ``[*S, C]``.
      targets: int class ids ``[*S]`` (or one-hot ``[*S, C]``).
      top_k: static int in ``[1, C]``.
      num_classes: ``C``.
      task: must be ``"multiclass"``.
      average: ``"micro"``, ``"macro"``, ``"weighted"`` or ``None``.
      absent_classes: ``"auto"`` (classes present in the targets) /
        ``"exclude"`` / ``"include"``.
      mask: see :func:`accuracy`.
      sample_weight: see :func:`accuracy`.
      class_weight: ``[C]``, looked up by the target.
      ignore_index: target value that counts nowhere.
      zero_division: value of a 0/0 (0, 1 or nan).
      validate: eager range check of the targets.

    Returns:
      Scalar, or ``[C]`` for ``average=None``.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import top_k_accuracy
      >>> s = jnp.array([[0.5, 0.3, 0.2], [0.1, 0.3, 0.6], [0.4, 0.35, 0.25]])
      >>> round(float(top_k_accuracy(s, jnp.array([1, 0, 2]), top_k=2, num_classes=3)), 4)
      0.3333
    """
    if task != "multiclass":
        raise ValueError(f"top_k_accuracy needs task='multiclass', got {task!r}.")
    k = _checks.check_static_int(top_k, "top_k", minimum=1)
    if isinstance(num_classes, int) and k > num_classes:
        raise ValueError(f"`top_k`={k} must be <= num_classes={num_classes}.")
    preds_arr = _checks.as_array(preds, "preds")
    if not _checks.is_floating(preds_arr):
        raise TypeError("top_k_accuracy needs float scores [..., C] as `preds`, got dtype "
                        f"{preds_arr.dtype}.")
    if k == 1:
        return accuracy(preds_arr, targets, task=task, num_classes=num_classes, average=average,
                        absent_classes=absent_classes, mask=mask, sample_weight=sample_weight,
                        class_weight=class_weight, ignore_index=ignore_index,
                        zero_division=zero_division, validate=validate)
    return _call("topk", preds_arr, targets, task=task, num_classes=num_classes, average=average,
                 absent_classes=absent_classes, mask=mask, sample_weight=sample_weight,
                 class_weight=class_weight, ignore_index=ignore_index, zero_division=zero_division,
                 validate=validate, extra=k)


def _ranking(which, preds, targets, *, k, mask, sample_weight, ignore_index, zero_division, validate):
    k = _checks.check_static_int(k, "k", minimum=1)
    args = _format.check_args("multilabel", zero_division=zero_division, ignore_index=ignore_index)
    preds = _checks.as_array(preds, "preds")
    targets = _checks.as_array(targets, "targets")
    if validate:
        _format.validate_values(preds, targets, task="multilabel", ignore_index=args["ignore_index"])
    cfg = _Cfg("ranking", which, "multilabel", None, None, "auto", args["ignore_index"], False, False, k)
    return _run(preds, targets, _checks.as_optional_array(mask, "mask"),
                _checks.as_optional_array(sample_weight, "sample_weight"), None, 0.5,
                args["zero_division"], 1.0, cfg=cfg)


def precision_at_k(preds: Any, targets: Any, *, k: int, mask: Any = None, sample_weight: Any = None,
                   ignore_index: int | None = None, zero_division: float = 0.0,
                   validate: bool = False) -> jax.Array:
    r"""Multilabel precision@k: the fraction of each sample's top-k labels that are relevant.

    :math:`P@k_i = |\mathrm{top}_k(s_i) \cap \{l: y_{il} = 1\}| / k`, averaged
    over samples with ``sample_weight``. Matches torchmetrics
    ``retrieval_precision(top_k=k)`` per sample (averaged). Masked / ignored
    labels leave the ranking; ties go to the lower label index.

    Args:
      preds: float scores ``[*S, L]``.
      targets: 0/1 relevance ``[*S, L]``.
      k: static int in ``[1, L]``.
      mask: bool, broadcast from the left to ``[*S, L]``; masked labels are
        neither ranked nor relevant. A sample with none kept is skipped.
      sample_weight: per sample, broadcast from the left to ``[*S]``.
      ignore_index: target value treated like a masked label.
      zero_division: value when no sample is kept.
      validate: eager check that targets are 0/1.

    Returns:
      Scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import precision_at_k
      >>> s = jnp.array([[0.9, 0.8, 0.1, 0.7], [0.2, 0.1, 0.9, 0.3]])
      >>> y = jnp.array([[1, 0, 0, 1], [0, 0, 1, 0]])
      >>> float(precision_at_k(s, y, k=2))
      0.5
    """
    return _ranking("precision", preds, targets, k=k, mask=mask, sample_weight=sample_weight,
                    ignore_index=ignore_index, zero_division=zero_division, validate=validate)


def recall_at_k(preds: Any, targets: Any, *, k: int, mask: Any = None, sample_weight: Any = None,
                ignore_index: int | None = None, zero_division: float = 0.0,
                validate: bool = False) -> jax.Array:
    r"""Multilabel recall@k: the fraction of each sample's relevant labels in its top k.

    :math:`R@k_i = |\mathrm{top}_k(s_i) \cap \{l: y_{il} = 1\}| / |\{l: y_{il}=1\}|`
    (``zero_division`` for a sample with no relevant label), averaged over
    samples with ``sample_weight``. Matches torchmetrics
    ``retrieval_recall(top_k=k)`` per sample.

    Args:
      preds: float scores ``[*S, L]``.
      targets: 0/1 relevance ``[*S, L]``.
      k: static int in ``[1, L]``.
      mask: bool, broadcast from the left to ``[*S, L]``.
      sample_weight: per sample, broadcast from the left to ``[*S]``.
      ignore_index: target value treated like a masked label.
      zero_division: value of 0/0 (sample without relevant labels; nan drops it).
      validate: eager check that targets are 0/1.

    Returns:
      Scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import recall_at_k
      >>> s = jnp.array([[0.9, 0.8, 0.1, 0.7], [0.2, 0.1, 0.9, 0.3]])
      >>> y = jnp.array([[1, 0, 0, 1], [0, 0, 1, 0]])
      >>> float(recall_at_k(s, y, k=2))
      0.75
    """
    return _ranking("recall", preds, targets, k=k, mask=mask, sample_weight=sample_weight,
                    ignore_index=ignore_index, zero_division=zero_division, validate=validate)
