"""The one input layer of the metrics: argument checks and formatting for every family.

Confusion metrics, curves and calibration all read their inputs here::

    check_args(...)               # Python arguments (static config), eager
    validate_values(...)          # optional eager value check (validate=True)
    fmt = format_inputs(...)      # confusion metrics: shapes/dtypes, threshold, argmax, weights
    problems = format_problems()  # curves / calibration: [K, M] binary problems (scores, labels, weights)
    state = spec.update(...)      # the metric's state (maskjax.metrics._confusion, curves/)
    value = metric.compute(state) # the metric's formula, in the metric's own module

Everything in :func:`format_inputs` runs under ``jax.jit``: it only raises on
*static* information (shapes, dtypes, Python arguments). Threshold values are
data (traced), so changing them never recompiles.

Input conventions (one place, reused by the curves module):

* ``task="binary"``: ``preds`` and ``targets`` of one shape ``[*S]``. Float
  ``preds`` are scores, thresholded (``score > threshold``, strict, or
  ``score < threshold`` with ``lower_is_positive``; after a sigmoid when
  ``from_logits``); int/bool ``preds`` are hard 0/1 labels. Targets are 0/1.
* ``task="multiclass"``: ``preds`` are float scores ``[*S, C]`` (arg-maxed,
  ties to the lowest index as numpy/torch) or int class ids ``[*S]``;
  ``targets`` are int class ids ``[*S]`` or one-hot / probability rows
  ``[*S, C]`` (arg-maxed the same way: all-zero padding rows become class 0,
  so mask them, e.g. with :func:`maskjax.masks.from_padding`).
* ``task="multilabel"``: ``preds`` and ``targets`` ``[*S, L]``; thresholding
  as for binary, with a scalar or per-label ``[L]`` threshold.

Hard predictions are recognised by **dtype** (int/bool = labels), never by
value. Elements whose target is ``ignore_index``, whose target or hard
prediction is out of range (not in ``[0, C)``, or not 0/1 for binary /
multi-label), or whose ``mask`` is false are *dropped*: weight 0 and not
"kept", so they count nowhere (not even in which classes are present).
``validate_values`` (``validate=True`` in the public functions) raises a
``ValueError`` for out-of-range labels instead; it needs concrete arrays.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from maskjax import _checks
from maskjax import _weighting
from maskjax._weighting import fold_mask_and_weight, not_ignored, weight_dtype
from maskjax._kernels.argmax import first_argmax
from maskjax._policy import squeeze_trailing

TASKS = ("binary", "multiclass", "multilabel")
AVERAGES = ("micro", "macro", "weighted", None)
ABSENT_CLASSES = ("auto", "exclude", "include")

__all__ = [
    "CURVE_AVERAGES",
    "Problems",
    "check_curve_average",
    "check_from_logits",
    "float_scores",
    "format_problems",
    "probability_scores",
    "reduce_classes",
    "torch_linspace",
    "TASKS",
    "AVERAGES",
    "ABSENT_CLASSES",
    "Formatted",
    "check_task",
    "check_average",
    "check_zero_division",
    "check_absent_classes",
    "check_ignore_index",
    "check_num_classes",
    "check_args",
    "binarize",
    "format_inputs",
    "validate_values",
    "include_classes",
    "class_axis_last",
    "check_axis",
]


# --------------------------------------------------------------------------- #
# Python-argument checks (static configuration)
# --------------------------------------------------------------------------- #
def check_task(task: Any, allowed: tuple[str, ...] = TASKS) -> str:
    """``task`` must be one of ``allowed`` (explicit: never guessed)."""
    if not isinstance(task, str) or task not in allowed:
        raise ValueError(f"`task` must be one of {list(allowed)}, got {task!r}.")
    return task


def check_average(average: Any, task: str, allowed: tuple[Any, ...] = AVERAGES) -> Any:
    """``average`` in ``allowed``; ``"samples"`` only for multi-label."""
    if average == "none":
        average = None
    if average not in allowed:
        raise ValueError(f"`average` must be one of {list(allowed)}, got {average!r}.")
    if average == "samples" and task != "multilabel":
        raise ValueError(f"`average='samples'` needs task='multilabel', got task={task!r}.")
    return average


def check_zero_division(zero_division: Any) -> Any:
    """``zero_division`` is 0, 1 or nan: a Python number, or a scalar array (may be traced)."""
    if isinstance(zero_division, jax.Array) and zero_division.ndim == 0:
        if isinstance(zero_division, jax.core.Tracer):
            return zero_division  # data: cannot check its value under jit
        check_zero_division(float(zero_division))
        return zero_division
    if isinstance(zero_division, bool) or not isinstance(zero_division, (int, float, np.number)):
        raise TypeError(f"`zero_division` must be 0, 1 or nan, got {zero_division!r}.")
    value = float(zero_division)
    if not (value in (0.0, 1.0) or math.isnan(value)):
        raise ValueError(f"`zero_division` must be 0, 1 or nan, got {zero_division!r}.")
    return value


def check_absent_classes(absent_classes: Any) -> str:
    _checks.check_choice(absent_classes, "absent_classes", ABSENT_CLASSES)
    return absent_classes


check_ignore_index = _checks.check_ignore_index


def check_num_classes(num_classes: Any, task: str) -> int | None:
    """Multiclass needs ``num_classes`` (static); binary accepts None or 2."""
    if task == "multiclass":
        if num_classes is None:
            raise ValueError(
                "`num_classes` is required for task='multiclass' (a Python int >= 2): it "
                "fixes the shape of the per-class counts under jit."
            )
        return _checks.check_static_int(num_classes, "num_classes", minimum=2)
    if num_classes is None:
        return None
    num_classes = _checks.check_static_int(num_classes, "num_classes", minimum=1)
    if task == "binary" and num_classes != 2:
        raise ValueError(f"task='binary' has 2 classes; `num_classes` must be None or 2, got {num_classes}.")
    return num_classes


def check_args(task: Any, *, num_classes: Any = None, average: Any = "__unset__",
               allowed_averages: tuple[Any, ...] = AVERAGES, zero_division: Any = 0.0,
               absent_classes: Any = "auto", ignore_index: Any = None) -> dict:
    """All Python-argument checks at once; returns the normalised values."""
    task = check_task(task)
    out = dict(task=task, num_classes=check_num_classes(num_classes, task),
               zero_division=check_zero_division(zero_division),
               absent_classes=check_absent_classes(absent_classes),
               ignore_index=check_ignore_index(ignore_index))
    if average != "__unset__":
        out["average"] = check_average(average, task, allowed_averages)
    return out


def check_axis(axis: Any) -> int | None:
    """``axis`` is ``None`` (class axis last, ambiguous shapes raise) or a static Python int."""
    if axis is None:
        return None
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"`axis` must be None or a Python int (the class / label axis of the scores), got {axis!r}.")
    return int(axis)


def class_axis_last(preds: jax.Array, targets: jax.Array, *, task: str, num_classes: int | None,
                    axis: int | None, mask: Any = None, sample_weight: Any = None) -> tuple:
    """Move the class / label axis of the scores to the end: ``(preds, targets, mask, sample_weight)``.

    ``axis=None`` keeps the class axis last (the default) but refuses a shape that reads two ways:
    ``preds`` of rank >= 3 whose axis 1 *and* last axis both have length ``num_classes`` (torch's
    ``[N, C, d...]`` with a trailing ``d == C``, e.g. ``[N, C, C]``); pass ``axis=1`` (torch
    layout) or ``axis=-1`` then. With an explicit ``axis`` nothing is guessed. Moved with the
    scores: multiclass one-hot ``targets`` of the scores' rank, multi-label ``targets``, and a
    ``mask`` / ``sample_weight`` of the scores' rank. Binary has no class axis (``axis`` ignored);
    integer multiclass class ids ``[*S]`` have none either.
    """
    if task == "binary":
        return preds, targets, mask, sample_weight
    has_axis = preds.ndim >= 2 and (task == "multilabel" or _checks.is_floating(preds))
    if not has_axis:
        return preds, targets, mask, sample_weight
    nd = preds.ndim
    if axis is None:
        k = num_classes
        if k is not None and nd >= 3 and preds.shape[1] == k and preds.shape[-1] == k:
            raise ValueError(
                f"`preds` of shape {tuple(preds.shape)} has {k} = num_classes entries on axis 1 and on "
                f"the last axis: the class axis cannot be read unambiguously. Pass axis=1 (torch layout "
                f"[N, C, d...]) or axis=-1 (class axis last).")
        return preds, targets, mask, sample_weight
    if not -nd <= axis < nd:
        raise ValueError(f"`axis`={axis} is out of range for `preds` of shape {tuple(preds.shape)}.")
    ax = axis % nd
    if ax == nd - 1:
        return preds, targets, mask, sample_weight

    def move(x):
        if x is None:
            return None
        x = jnp.asarray(x)
        return jnp.moveaxis(x, ax, -1) if x.ndim == nd else x

    targets = move(targets) if (task == "multilabel" or targets.ndim == nd) else targets
    return jnp.moveaxis(preds, ax, -1), targets, move(mask), move(sample_weight)


# --------------------------------------------------------------------------- #
# Formatting
# --------------------------------------------------------------------------- #
class Formatted(NamedTuple):
    """Inputs in the shape the update functions count.

    Attributes:
      preds: int32 hard predictions: class ids ``[*S]`` (multiclass; 0 where
        dropped) or 0/1 ``[*S]`` (binary) / ``[*S, L]`` (multi-label).
      targets: int32 targets, same shape and convention as ``preds``.
      weight: element weight ``mask · sample_weight · class_weight[target]``,
        0 where dropped. int32 (0/1) when neither ``sample_weight`` nor
        ``class_weight`` is given, float32 otherwise.
      keep: bool, True where the element is kept (not masked, not ignored,
        labels in range). Presence of a class is decided on ``keep``, not on
        ``weight`` (a zero sample weight still makes a class present, as in
        scikit-learn).
      sample_weight: the user's ``sample_weight`` as an array (or None), for the
        per-sample metrics (``average="samples"``, ``exact_match``).
      class_w: per-element class weight (float, same shape as ``weight``) or None.
      scores: multiclass float scores ``[*S, C]`` (None otherwise), for top-k.
    """

    preds: jax.Array
    targets: jax.Array
    weight: jax.Array
    keep: jax.Array
    sample_weight: jax.Array | None
    class_w: jax.Array | None
    scores: jax.Array | None


class _WithRaw(Formatted):
    """A :class:`Formatted` (same fields, same tuple) that also carries the raw inputs in ``_raw``.

    Internal: lets a consumer recompute the formatting block-wise. The attribute does not survive
    pytree flattening or ``_replace`` (those give back plain tuples without it), which is safe:
    consumers fall back to the formatted arrays.
    """


def binarize(scores: jax.Array, threshold: Any, *, from_logits: bool = False,
             lower_is_positive: bool = False) -> jax.Array:
    """0/1 int32 predictions: ``score > threshold`` (``<`` with ``lower_is_positive``).

    ``threshold`` is data (a scalar or an array broadcasting along the last
    axis); ``from_logits`` applies a sigmoid first.
    """
    if from_logits:
        scores = jax.nn.sigmoid(scores)
    thr = jnp.asarray(threshold)
    positive = scores < thr if lower_is_positive else scores > thr
    return positive.astype(jnp.int32)


def _check_threshold(threshold: Any, task: str, num_labels: int | None) -> jax.Array:
    thr = _checks.as_array(threshold, "threshold")
    if not (_checks.is_floating(thr) or _checks.is_integer(thr)):
        raise TypeError(f"`threshold` must be a number or a float array, got dtype {thr.dtype}.")
    if thr.ndim == 0:
        return thr
    if task == "multilabel" and thr.shape == (num_labels,):
        return thr
    expected = "a scalar" + (f" or a [{num_labels}] per-label array" if task == "multilabel" else "")
    raise ValueError(f"`threshold` must be {expected} for task={task!r}, got shape {tuple(thr.shape)}.")


def _hard_01(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """int32 values and a bool 'is 0 or 1' for hard binary labels/targets."""
    valid = (x == 0) | (x == 1)
    return jnp.where(valid, x, 0).astype(jnp.int32), valid


def _weights(shape, keep, *, mask, sample_weight, class_w, weighted):
    mask = squeeze_trailing(mask, tuple(shape), "mask")        # Keras [B, H, W, 1] vs [B, H, W]
    sample_weight = squeeze_trailing(sample_weight, tuple(shape), "sample_weight")
    folded = _weighting.fold_mask_and_weight(shape, mask=mask, sample_weight=sample_weight,
                                             dtype=_weighting.weight_dtype(sample_weight))
    keep = keep & (folded.keep != 0)
    if not weighted:
        return keep.astype(jnp.int32), keep
    w = folded.weight if class_w is None else folded.weight * class_w
    return jnp.where(keep, w, jnp.zeros((), w.dtype)), keep


def format_inputs(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                  threshold: Any = 0.5, from_logits: bool = False, lower_is_positive: bool = False,
                  mask: Any = None, sample_weight: Any = None, class_weight: Any = None,
                  ignore_index: int | None = None, axis: int | None = None,
                  pos_label: int | None = None) -> Formatted:
    """Check shapes/dtypes and bring inputs to the :class:`Formatted` convention.

    Trace-safe (runs under ``jax.jit``); raises ``TypeError``/``ValueError`` on
    static problems only. ``num_classes`` must already be checked with
    :func:`check_num_classes` (required for multiclass; for multi-label it is
    the label count and defaults to ``preds.shape[-1]``).
    """
    preds = _checks.as_array(preds, "preds")
    targets = _checks.as_array(targets, "targets")
    _checks.check_numeric(preds, "preds")
    _checks.check_numeric(targets, "targets")
    preds, targets, mask, sample_weight = class_axis_last(
        preds, targets, task=task, num_classes=num_classes, axis=axis, mask=mask, sample_weight=sample_weight)
    sw = _checks.as_optional_array(sample_weight, "sample_weight")
    if sw is not None:
        _checks.check_numeric(sw, "sample_weight")
    weighted = sw is not None or class_weight is not None
    scores = None

    if task == "multiclass":
        c = num_classes
        if _checks.is_floating(preds):
            if preds.ndim < 1 or preds.shape[-1] != c:
                raise ValueError(
                    f"multiclass float `preds` are scores [..., C] with C = num_classes = {c}; got "
                    f"preds.shape={tuple(preds.shape)}. Pass integer class ids for hard predictions."
                )
            scores = preds
            p = first_argmax(preds)
        else:
            p = preds.astype(jnp.int32)
        label_shape = p.shape
        if targets.shape == label_shape + (c,) and (targets.ndim > len(label_shape)):
            t = first_argmax(targets)  # one-hot / probability rows
        elif targets.shape == label_shape:
            if _checks.is_floating(targets):
                raise TypeError(
                    f"multiclass `targets` must be integer class ids {tuple(label_shape)} or one-hot "
                    f"rows {tuple(label_shape) + (c,)}; got float targets of shape {tuple(targets.shape)}."
                )
            t = targets.astype(jnp.int32)
        else:
            raise ValueError(
                f"`preds` and `targets` shapes do not match for task='multiclass': preds.shape="
                f"{tuple(preds.shape)} gives labels of shape {tuple(label_shape)}, so targets must have "
                f"shape {tuple(label_shape)} (class ids) or {tuple(label_shape) + (c,)} (one-hot); got "
                f"targets.shape={tuple(targets.shape)}."
            )
        valid_t = _weighting.not_ignored(t, ignore_index) & (t >= 0) & (t < c)
        keep = valid_t & (p >= 0) & (p < c)
        t = jnp.where(keep, t, 0)
        p = jnp.where(keep, p, 0)
        class_w = None
        if class_weight is not None:
            cw = _weighting.check_class_weight(class_weight, c)
            class_w = _weighting.class_weight_of_labels(t, cw, keep)
        weight, keep = _weights(label_shape, keep, mask=mask, sample_weight=sw,
                                class_w=class_w, weighted=weighted)
        return Formatted(p, t, weight, keep, sw, class_w, scores)

    _checks.check_same_shape(preds, targets, "preds", "targets")
    if task == "multilabel":
        if preds.ndim < 1:
            raise ValueError("multilabel `preds` must have a label axis [..., L], got a scalar.")
        num_labels = preds.shape[-1]
        if num_classes is not None and num_classes != num_labels:
            raise ValueError(
                f"`num_classes`={num_classes} does not match the label axis of preds "
                f"(preds.shape[-1]={num_labels}) for task='multilabel'."
            )
    else:
        num_labels = None
    thr = _check_threshold(threshold, task, num_labels)

    if _checks.is_floating(preds):
        p, valid_p = binarize(preds, thr, from_logits=from_logits,
                              lower_is_positive=lower_is_positive), jnp.ones(preds.shape, bool)
    elif pos_label is not None:   # scikit-learn pos_label: that value is positive, any other negative
        p, valid_p = (preds == pos_label).astype(jnp.int32), jnp.ones(preds.shape, bool)
    else:
        p, valid_p = _hard_01(preds)
    # int32 first: comparing uint8 targets with ignore_index=-100 must not overflow.
    t_raw = targets if _checks.is_floating(targets) else targets.astype(jnp.int32)
    if pos_label is not None:
        t, valid_t = (t_raw == pos_label).astype(jnp.int32), jnp.ones(t_raw.shape, bool)
    else:
        t, valid_t = _hard_01(t_raw)
    valid_t = valid_t & _weighting.not_ignored(t_raw, ignore_index)
    keep = valid_t & valid_p
    p = jnp.where(keep, p, 0)
    t = jnp.where(keep, t, 0)
    class_w = None
    if class_weight is not None:
        if task == "binary":
            cw = _weighting.check_class_weight(class_weight, 2)
            class_w = _weighting.class_weight_of_labels(t, cw, keep)
        else:
            cw = _weighting.check_class_weight(class_weight, num_labels, allow_pairs=True)
            class_w = jnp.where(keep, _weighting.multilabel_class_weight(t, cw), 0.0)
    weight, keep = _weights(preds.shape, keep, mask=mask, sample_weight=sw,
                            class_w=class_w, weighted=weighted)
    out = Formatted(p, t, weight, keep, sw, class_w, None)
    if task == "multilabel" and preds.ndim >= 2:
        # Keep the raw inputs: the multi-label counts re-run this formatting per row block inside
        # a loop (maskjax.metrics._confusion.counts_update), so these [N, L] arrays are never materialised.
        out = _WithRaw(*out)
        out._raw = dict(preds=preds, targets=targets, mask=mask, sample_weight=sw, threshold=thr,
                        from_logits=from_logits, lower_is_positive=lower_is_positive,
                        class_weight=class_weight, ignore_index=ignore_index)
    return out


def include_classes(seen: jax.Array, *, task: str, absent_classes: str,
                    ignore_index: int | None) -> jax.Array:
    """Bool ``[K]``: the classes a macro / weighted average runs over.

    ``absent_classes="auto"`` is ``"exclude"`` for multiclass (scikit-learn's
    labels present in targets ∪ predictions; torchmetrics' ``tp+fp+fn > 0``)
    and ``"include"`` for binary / multi-label (every label, as both
    references). A valid class id used as ``ignore_index`` is never included.
    """
    mode = absent_classes
    if mode == "auto":
        mode = "exclude" if task == "multiclass" else "include"
    include = seen > 0 if mode == "exclude" else jnp.ones(seen.shape, bool)
    if task == "multiclass" and ignore_index is not None and 0 <= ignore_index < seen.shape[0]:
        include = include.at[ignore_index].set(False)
    return include


# --------------------------------------------------------------------------- #
# Eager value validation (validate=True)
# --------------------------------------------------------------------------- #
def validate_values(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                    ignore_index: int | None = None) -> None:
    """Eager check raising ``ValueError`` for out-of-range labels and NaN scores.

    Without it (and always under ``jax.jit``) such elements are dropped: they
    count nowhere. Needs concrete arrays: under a jit trace it raises a
    ``ValueError`` telling you to validate outside the jitted function.
    """
    if isinstance(preds, jax.core.Tracer) or isinstance(targets, jax.core.Tracer):
        raise ValueError(
            "validate=True checks values eagerly and cannot run under jax.jit; call the metric "
            "once outside jit with validate=True, or drop it (out-of-range labels are then dropped)."
        )
    p = np.asarray(preds)
    t = np.asarray(targets)
    if np.issubdtype(p.dtype, np.floating):
        if np.isnan(p).any():
            raise ValueError("`preds` contains NaN scores.")
    t_kept = t if ignore_index is None else t[t != ignore_index]
    if task == "multiclass":
        if t.shape == p.shape and np.issubdtype(p.dtype, np.floating):
            t_kept = np.zeros(0)  # one-hot / probability targets: no label values to check
        bad = t_kept[(t_kept < 0) | (t_kept >= num_classes)]
        if bad.size:
            raise ValueError(
                f"`targets` has class ids outside [0, {num_classes}) that are not ignore_index="
                f"{ignore_index}: e.g. {bad.ravel()[:5].tolist()}."
            )
        if not np.issubdtype(p.dtype, np.floating):
            badp = p[(p < 0) | (p >= num_classes)]
            if badp.size:
                raise ValueError(
                    f"`preds` has class ids outside [0, {num_classes}): e.g. {badp.ravel()[:5].tolist()}."
                )
        return
    bad = t_kept[(t_kept != 0) & (t_kept != 1)]
    if bad.size:
        raise ValueError(
            f"{task} `targets` must be 0/1 (or ignore_index={ignore_index}); got e.g. "
            f"{bad.ravel()[:5].tolist()}."
        )
    if not np.issubdtype(p.dtype, np.floating):
        badp = p[(p != 0) & (p != 1)]
        if badp.size:
            raise ValueError(
                f"hard {task} `preds` (int/bool dtype) must be 0/1; got e.g. {badp.ravel()[:5].tolist()}. "
                "Pass float scores to threshold them."
            )


# --------------------------------------------------------------------------- #
# Curves and calibration: [K, M] binary problems
# --------------------------------------------------------------------------- #
CURVE_AVERAGES = ("macro", "micro", "weighted", None)


class Problems(NamedTuple):
    """``[K, M]`` scores, 0/1 labels and non-negative weights (0 = not counted)."""

    scores: jax.Array
    labels: jax.Array
    weights: jax.Array


def check_curve_average(average: Any, allowed: tuple = CURVE_AVERAGES) -> Any:
    """``average`` in ``allowed`` (``"none"`` means ``None``); the confusion metrics' check."""
    return check_average(average, "multiclass", allowed)


def check_from_logits(from_logits: Any) -> bool:
    return _checks.check_bool(from_logits, "from_logits")


def float_scores(preds: jax.Array) -> jax.Array:
    """Scores as floats: float dtypes kept (bf16/f16 upcast to f32), ints/bools → float32."""
    _checks.check_numeric(preds, "preds")
    if _checks.is_floating(preds):
        return preds.astype(jnp.promote_types(preds.dtype, jnp.float32))
    return preds.astype(jnp.float32)


def probability_scores(preds: jax.Array, targets: jax.Array, *, task: str, num_classes: int | None,
                       from_logits: bool) -> tuple[jax.Array, tuple[int, ...]]:
    """Check the shapes of score inputs and return ``(probabilities, element shape)``.

    The one check of curves and calibration: binary / multi-label ``preds`` and ``targets`` of one
    shape (sigmoid with ``from_logits``); multiclass ``preds [..., C]`` with integer class ids
    ``targets [...]`` (softmax with ``from_logits``). Trace-safe: raises on static information only.
    """
    _checks.check_numeric(targets, "targets")
    scores = float_scores(preds)
    if task == "binary":
        _checks.check_same_shape(preds, targets, "preds", "targets")
        return (jax.nn.sigmoid(scores) if from_logits else scores), tuple(preds.shape)
    if preds.ndim < 1:
        raise ValueError(f"`preds` must have a class axis last for task={task!r}, got a scalar.")
    c = preds.shape[-1]
    if num_classes is not None:
        num_classes = _checks.check_static_int(num_classes, "num_classes", minimum=1)
        if num_classes != c:
            raise ValueError(
                f"`preds` must have num_classes={num_classes} entries on its last axis, "
                f"got shape {tuple(preds.shape)}.")
    if task == "multiclass":
        if tuple(targets.shape) != tuple(preds.shape[:-1]):
            raise ValueError(
                "For task='multiclass', `targets` must be integer class ids with shape "
                f"preds.shape[:-1]={tuple(preds.shape[:-1])}, got {tuple(targets.shape)}.")
        _checks.check_integer(targets, "targets", "class ids for task='multiclass'")
        return (jax.nn.softmax(scores, axis=-1) if from_logits else scores), tuple(preds.shape[:-1])
    _checks.check_same_shape(preds, targets, "preds", "targets")
    return (jax.nn.sigmoid(scores) if from_logits else scores), tuple(preds.shape)


def format_problems(preds: Any, targets: Any, *, task: str, num_classes: int | None = None,
                    from_logits: bool = False, mask: Any = None, sample_weight: Any = None,
                    ignore_index: int | None = None, micro: bool = False,
                    axis: int | None = None) -> Problems:
    """Turn public inputs into ``[K, M]`` binary problems (see the module docstring).

    With ``micro=True`` the K problems are concatenated into one (``K = 1``,
    ``M = K·M``): sklearn's micro average ravels ``y_true`` / ``y_score`` and
    repeats the sample weight.
    """
    task = check_task(task)
    from_logits = check_from_logits(from_logits)
    preds = _checks.as_array(preds, "preds")
    targets = _checks.as_array(targets, "targets")
    preds, targets, mask, sample_weight = class_axis_last(
        preds, targets, task=task, num_classes=num_classes, axis=check_axis(axis), mask=mask,
        sample_weight=sample_weight)
    scores, shape = probability_scores(preds, targets, task=task, num_classes=num_classes, from_logits=from_logits)
    wdtype = weight_dtype(scores)
    mask = squeeze_trailing(mask, shape, "mask")        # Keras [B, H, W, 1] vs [B, H, W]
    sample_weight = squeeze_trailing(sample_weight, shape, "sample_weight")
    w = fold_mask_and_weight(shape, mask=mask, sample_weight=sample_weight, dtype=wdtype).weight
    valid = not_ignored(targets, ignore_index)
    if task == "multiclass":
        c = preds.shape[-1]
        valid = valid & (targets >= 0) & (targets < c)
        w = jnp.where(valid, w, 0).reshape(-1)                       # [M]
        labels = (targets.reshape(-1)[None, :] == jnp.arange(c, dtype=targets.dtype)[:, None])
        scores = scores.reshape(-1, c).T                              # [C, M]
        weights = jnp.broadcast_to(w[None, :], scores.shape)
    else:
        pos = targets == 1
        valid = valid & (pos | (targets == 0))
        w = jnp.where(valid, w, 0)
        if task == "binary":
            labels, scores, weights = pos.reshape(1, -1), scores.reshape(1, -1), w.reshape(1, -1)
        else:
            c = preds.shape[-1]
            labels, scores, weights = (pos.reshape(-1, c).T, scores.reshape(-1, c).T, w.reshape(-1, c).T)
    labels = labels.astype(wdtype)
    if micro:
        labels, scores, weights = labels.reshape(1, -1), scores.reshape(1, -1), weights.reshape(1, -1)
    return Problems(scores, labels, weights)


def reduce_classes(values: jax.Array, support: jax.Array, average: Any, task: str) -> jax.Array:
    """Average ``[K]`` per-class values. ``nan`` classes (undefined) are dropped.

    ``macro``: plain mean of the defined classes; ``weighted``: weighted by the
    (weighted) number of positives; ``None``: the ``[K]`` vector; for the
    binary task the scalar. All classes undefined → ``nan``.
    """
    if task == "binary" or average == "micro":
        return values[0]
    if average is None:
        return values
    defined = ~jnp.isnan(values)
    v = jnp.where(defined, values, 0)
    if average == "macro":
        weights = defined.astype(v.dtype)
    else:
        weights = jnp.where(defined, support.astype(v.dtype), 0)
    total = jnp.sum(weights)
    out = jnp.where(total > 0, jnp.sum(v * weights) / jnp.where(total > 0, total, 1),
                    jnp.asarray(jnp.nan, v.dtype))
    if average == "weighted":   # scikit-learn _average_binary_score: zero total support -> 0
        out = jnp.where(jnp.sum(support) == 0, jnp.zeros((), v.dtype), out)
    return out


def torch_linspace(n: int, dtype: Any = np.float32) -> np.ndarray:
    """``torch.linspace(0, 1, n)`` bit for bit (torchmetrics' ``thresholds=n``).

    torch fills the first half as ``step · i`` and the second half as
    ``1 − step · (n − 1 − i)`` with a fused multiply-add; NumPy's and JAX's
    ``linspace`` differ from it in the last bit for many ``n``.
    """
    dtype = np.dtype(dtype)
    if n == 1:
        return np.zeros(1, dtype)
    i = np.arange(n)
    if dtype == np.float32:
        step = np.float32(np.float32(1) / np.float32(n - 1))
        lo = (np.float64(step) * i).astype(np.float32)
        hi = (1.0 - np.float64(step) * (n - 1 - i)).astype(np.float32)
        return np.where(i < n // 2, lo, hi)
    return np.linspace(0.0, 1.0, n).astype(dtype)
