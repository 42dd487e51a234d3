"""Docstring text shared by the confusion metrics' functions and classes (no maths here)."""

from __future__ import annotations

from typing import Callable

from maskjax.metrics import _format

SAMPLES_AVERAGES = _format.AVERAGES + ("samples",)

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
        scores (cannot run under jit). Without it such elements are dropped.
      axis: the class / label axis of the scores (static). ``None`` (default):
        last, and a rank >= 3 ``preds`` with ``num_classes`` entries on axis 1
        *and* on the last axis raises (it reads two ways); ``1`` reads torch's
        ``[N, C, d...]`` (one-hot targets, full-shape masks move with it).
      pos_label: binary hard labels (scikit-learn): this value is the positive
        class and every other value negative (``None``: 0/1 labels)."""

_AVG = """average: ``"micro"`` (sum counts over classes), ``"macro"`` (unweighted
        mean over classes), ``"weighted"`` (mean weighted by support), ``None``
        (per class ``[K]``)__SAMPLES__. Ignored for binary (positive class).
      absent_classes: which classes macro / weighted average over. ``"auto"``:
        multiclass → classes present (kept) in targets or predictions
        (scikit-learn without ``labels=``, torchmetrics' ``tp+fp+fn > 0``), but
        with ``top_k > 1`` classes with support in the targets (torchmetrics'
        top-k precision / recall); multilabel → all labels (both references). ``"exclude"`` / ``"include"``
        force one rule (``"include"`` = sklearn ``labels=range(C)``). A class id
        used as ``ignore_index`` is never averaged.
      zero_division: value of a 0/0 (0, 1 or nan). nan drops the class from the
        average (scikit-learn); an all-masked batch returns this value.
      labels: scikit-learn ``labels=``: the classes to report / average, in this
        order (unsorted, absent and >= ``num_classes`` ids allowed: all-zero counts).
      multidim_average: ``"global"`` (default) or ``"samplewise"``: one value per
        sample of the leading axis, ``[N]`` (``[N, K]`` for ``average=None``), as
        torchmetrics.__EXTRA__"""

_CLASS_ID = """
      class_id: the value of class ``k`` alone (``average=None`` then index ``k``),
        Keras ``Precision(class_id=k)``; multilabel: label k as a binary problem."""

_TOP_K = """
      top_k: multiclass scores: the prediction is the target when the target is
        among the ``top_k`` highest scores, otherwise the top-1 class (torchmetrics)."""

_SAMPLES = """, ``"samples"``
        (multilabel: per-sample score averaged with ``sample_weight``, which must
        then be per sample)"""


def doc(*, samples: bool = False, class_id: bool = False, top_k: bool = False) -> Callable:
    def deco(fn):
        extra = (_CLASS_ID if class_id else "") + (_TOP_K if top_k else "")
        avg = _AVG.replace("__SAMPLES__", _SAMPLES if samples else "").replace("__EXTRA__", extra)
        fn.__doc__ = fn.__doc__.replace("__ARGS__", _ARGS).replace("__AVG__", avg)
        return fn
    return deco


_COMMON_ARGS = """
    Args:
      task: ``"binary"``, ``"multiclass"`` or ``"multilabel"`` (explicit, never guessed).
      num_classes: ``C`` (multiclass, required) or ``L`` (multi-label, required: it fixes the
        state shape); ``None`` for binary.
      threshold: positive iff ``score > threshold`` (binary / multi-label; a scalar or a
        per-label tuple/array); ``score < threshold`` with ``lower_is_positive``.
      from_logits: apply a sigmoid before thresholding (binary / multi-label).
      lower_is_positive: distances: lower scores are positive.
      ignore_index: a target value whose elements count nowhere.
      class_weight: ``[C]`` (or ``[L]`` / ``[L, 2]``) weights by target class (needs
        ``dtype="float32"``).
      dtype: accumulator dtype: ``None`` (int32 counts, unweighted), ``"float32"`` (weighted
        counts, needed for ``sample_weight``), ``"int64"`` / ``"float64"`` with x64.
      validate: run the eager value check (out-of-range labels, NaN scores) in ``update``;
        cannot be used under ``jax.jit``.
      axis: the class / label axis of the scores (``None``: last, ambiguous shapes raise;
        ``1``: torch's ``[N, C, d...]``).
      pos_label: binary hard labels: the positive value, every other value negative.
      multidim_average: ``"global"`` or ``"samplewise"`` (one value per sample of the leading
        axis); streaming samplewise keeps ``capacity`` rows (``compute`` gives ``[capacity, ...]``,
        ``nan`` for rows not written, all ``nan`` after an overflow).
      capacity: the most samples a streaming ``"samplewise"`` state holds.
"""
_AVG_ARGS = """      average: ``"micro"``, ``"macro"``, ``"weighted"``, ``None`` (per class){samples}.
      zero_division: 0, 1 or nan for a zero denominator (nan drops a class from the average).
      absent_classes: ``"auto"``, ``"exclude"`` or ``"include"``: which classes a macro average
        runs over (see :func:`maskjax.metrics._format.include_classes`).
      labels: scikit-learn ``labels=`` (which classes, in which order).
      class_id: the value of class / label ``k`` alone (Keras ``class_id``).
"""


def ratio_doc(cls, title: str, name: str, extra: str = "", example: str = "") -> type:
    samples = ', ``"samples"`` (multi-label)' if cls._averages == SAMPLES_AVERAGES else ""
    cls.__doc__ = (f"{title}\n\n    Streaming form of ``maskjax.metrics.{name}``: the same format and "
                   f"count update, summed over batches, then the same compute.\n"
                   + _COMMON_ARGS + extra + _AVG_ARGS.format(samples=samples)
                   + "\n    State:\n      ``Counts`` (shared by every counting metric of the same "
                   "task and thresholds).\n\n    Example:\n" + example)
    return cls
