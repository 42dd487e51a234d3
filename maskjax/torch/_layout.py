"""The torch front's layout: call templates, torch's class axis, shape-bucket geometry.

* :func:`split` — a call's data leaves and its static template (the jit cache key);
* :func:`class_last` — inside a program, the class axis of ``[N, C, d...]``
  scores moved last, where the core expects it (a transpose, not maths);
* :func:`bucket_plan` — which leaves to pad to which bucket shape (cached per
  options and shapes); the front pads a CPU leaf while converting it (one
  copy, outside autograd), :func:`unpad` slices a gradient back.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import torch
import torch.nn.functional as F

from maskjax import _buckets

_PADDED = ("preds", "targets", "mask", "sample_weight")
_PER_CLASS = ("class_weight", "pos_weight")
_BUCKET_REDUCTIONS = ("mean", "sum", "none")


class Spec:
    """How the torch front lays out one core function (hashed by identity).

    Attributes:
      fn: the core function (or a streaming object's ``update``).
      name: public name, for messages.
      layout: ``"class"`` (class axis given by the ``axis`` option, e.g.
        ``cross_entropy``), ``"elementwise"`` (every element of ``preds``),
        ``"metric"`` (confusion metrics: class axis of scores moved last), or
        ``None`` (no layout change and no buckets).
      bucket: whether shape buckets apply (the result provably does not depend
        on padding: tested in tests/torch/test_buckets.py).
      task: the core default of ``task`` (metrics), or ``None``.
      ranking: ``preds`` and ``targets`` both ``[N, C]`` (precision_at_k).
      kind: ``"loss"`` (differentiable) or ``"metric"`` (inputs detached).
      index_only_ignore: ``ignore_index`` applies to class-index targets only
        (``F.cross_entropy``: probability targets ignore it), so floating
        targets get ``ignore_index=None``.
      core_axis: (``"metric"`` layout) the core function takes ``axis=``: after
        the front moved the class axis last it passes ``axis=-1`` (never ambiguous).
      samplewise: (a streaming object) one value per sample of the leading axis is
        kept, so buckets never pad that axis (a one-shot call says so with
        ``multidim_average="samplewise"``).
    """

    __slots__ = ("fn", "name", "layout", "bucket", "task", "ranking", "kind", "index_only_ignore",
                 "core_axis", "samplewise", "__weakref__")

    def __init__(self, fn: Callable, name: str, layout: str | None, bucket: bool,
                 task: str | None = None, ranking: bool = False, kind: str = "loss",
                 index_only_ignore: bool = False, core_axis: bool = False, samplewise: bool = False):
        self.fn, self.name, self.layout, self.bucket = fn, name, layout, bucket
        self.samplewise = samplewise
        self.task, self.ranking, self.kind = task, ranking, kind
        self.index_only_ignore = index_only_ignore
        self.core_axis = core_axis

    def __repr__(self):
        return f"Spec({self.name})"


class _Slot:
    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i

    def __repr__(self):
        return f"<leaf {self.i}>"


_SLOTS = [_Slot(i) for i in range(64)]


def _is_leaf(v: Any) -> bool:
    return isinstance(v, (torch.Tensor, np.ndarray, jax.Array, jax.ShapeDtypeStruct))


def split(args: tuple, kwargs: dict) -> tuple[list, tuple, tuple]:
    """``(leaves, template, names)``: data leaves, the static template, kwarg names."""
    leaves: list = []
    tmpl: list = []
    for v in (*args, *kwargs.values()):
        if v is None or v.__class__ in (str, bool, int, float):
            tmpl.append(v)
            continue
        if isinstance(v, (list, tuple)) and v and all(isinstance(x, (int, float, bool, np.number)) for x in v):
            v = np.asarray(v)
        if _is_leaf(v):
            tmpl.append(_SLOTS[len(leaves)] if len(leaves) < 64 else _Slot(len(leaves)))
            leaves.append(v)
        else:
            tmpl.append(v)
    return leaves, tuple(tmpl), tuple(kwargs)




def _norm_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    if not isinstance(axis, int) or isinstance(axis, bool) or not -ndim <= axis < ndim:
        raise ValueError(f"`{name}` must be an int in [-{ndim}, {ndim}) for inputs of {ndim} dims, got {axis!r}.")
    return axis % ndim


def _is_scores(x: Any) -> bool:
    dt = x.dtype
    if isinstance(dt, torch.dtype):
        return dt.is_floating_point
    return jnp.issubdtype(dt, jnp.floating)


def metric_class_axis(spec: Spec, preds: Any, targets: Any, kw: dict) -> tuple[int | None, bool]:
    """``(class axis of preds or None, whether targets has it too)`` in the torch layout."""
    ndim = len(preds.shape)
    if ndim < 2:
        return None, False
    if spec.ranking:
        return _norm_axis(kw.get("axis", 1), ndim), True
    task = kw.get("task", spec.task)
    if task == "multilabel":
        return _norm_axis(kw.get("axis", 1), ndim), True
    if task == "multiclass" and _is_scores(preds):
        return _norm_axis(kw.get("axis", 1), ndim), False
    return None, False


def class_last(spec: Spec, preds: Any, targets: Any, kw: dict) -> tuple[Any, Any]:
    """Move the class axis of ``[N, C, d...]`` inputs last (inside the program: a transpose)."""
    axis, both = metric_class_axis(spec, preds, targets, kw)
    if axis is None or axis == preds.ndim - 1:
        return preds, targets
    preds = jnp.moveaxis(preds, axis, -1)
    if both and targets is not None and targets.ndim == preds.ndim:
        targets = jnp.moveaxis(targets, axis, -1)
    return preds, targets


def _element_shape(spec: Spec, preds: Any, targets: Any, kw: dict) -> tuple:
    """The element shape the core masks over (inside the program, core layout)."""
    if spec.layout == "class":
        shape = list(preds.shape)
        if len(shape) >= 2:
            del shape[_norm_axis(kw.get("axis", -1), len(shape))]
        return tuple(shape)
    if spec.layout == "elementwise":
        return tuple(preds.shape)
    return tuple(targets.shape)


def _geometry(spec: Spec, leaves: list, tmpl: tuple, names: tuple, policy: str):
    """``(pads, real element shape)`` — pads: ``(leaf index, padded shape)`` — or ``None``.

    Any shape this does not recognise (broadcast targets, a mask wider than
    the elements …) is left unbucketed: the core then checks it and raises its
    own message. Depends only on shapes, the preds dtype and static options
    (cached by :func:`bucket_plan`).
    """
    n_args = len(tmpl) - len(names)
    kw = dict(zip(names, tmpl[n_args:]))
    if kw.get("reduction", "mean") not in _BUCKET_REDUCTIONS or kw.get("average_axis") is not None:
        return None  # average_axis: a mean over an axis, which padding would lengthen
    pos = {}
    for i, v in enumerate(tmpl[:n_args]):
        if i < 2 and v.__class__ is _Slot:
            pos[("preds", "targets")[i]] = v.i
    for k in _PADDED[2:]:
        v = kw.get(k)
        if v.__class__ is _Slot:
            pos[k] = v.i
    if "preds" not in pos:
        return None
    preds = leaves[pos["preds"]]
    targets = leaves[pos["targets"]] if "targets" in pos else None
    if not isinstance(preds, torch.Tensor) or preds.ndim == 0:
        return None
    shape = tuple(preds.shape)
    ndim = len(shape)
    for k in _PER_CLASS:  # only a per-class [C] vector (or a scalar) keeps its meaning under padding
        w = kw.get(k)
        w = leaves[w.i] if w.__class__ is _Slot else w
        if isinstance(w, torch.Tensor) and (w.ndim > 1 or (w.ndim == 1 and ndim < 2 and w.numel() > 1)):
            return None
    if spec.layout == "class":
        if ndim < 2:
            return None
        a = _norm_axis(kw.get("axis", -1), ndim)
        pred_axes = tuple(i for i in range(ndim) if i != a)
        elem = tuple(shape[i] for i in pred_axes)
        if targets is not None:
            if tuple(targets.shape) == shape:
                tgt_axes = pred_axes
            elif tuple(targets.shape) == elem:
                tgt_axes = tuple(range(len(elem)))
            else:
                return None
        real_elem = elem
        elem_axes_in_preds = pred_axes
    elif spec.layout == "elementwise":
        keep_last = ndim >= 2 and any(kw.get(k) is not None for k in _PER_CLASS)
        pred_axes = tuple(range(ndim - 1 if keep_last else ndim))
        if targets is not None and tuple(targets.shape) != shape:
            return None
        tgt_axes = pred_axes
        real_elem = shape
        elem_axes_in_preds = tuple(range(ndim))
    else:  # metric
        if targets is None:
            return None
        c, both = metric_class_axis(spec, preds, targets, kw)
        pred_axes = tuple(i for i in range(ndim) if i != c)
        if both:
            if tuple(targets.shape) != shape:
                return None
            tgt_axes = pred_axes
            moved = tuple(shape[i] for i in range(ndim) if i != c) + ((shape[c],) if c is not None else ())
            real_elem = moved
        else:
            want = tuple(shape[i] for i in pred_axes)
            if tuple(targets.shape) != want:
                return None
            tgt_axes = tuple(range(len(want)))
            real_elem = want
        elem_axes_in_preds = None
        if spec.samplewise or kw.get("multidim_average") == "samplewise":
            # one output value per sample: the sample axis (0) keeps its length, the others pad
            pred_axes = tuple(i for i in pred_axes if i != 0)
            tgt_axes = tuple(i for i in tgt_axes if i != 0)
    padded_preds_shape = _buckets.bucket_shape(shape, pred_axes, policy)
    pads = [(pos["preds"], padded_preds_shape)]
    if targets is not None:
        if not isinstance(targets, torch.Tensor):
            return None
        padded_t = _buckets.bucket_shape(tuple(targets.shape), tgt_axes, policy)
        pads.append((pos["targets"], padded_t))
    # the padded element shape, in the core layout
    if spec.layout == "metric":
        if both:
            c_ = metric_class_axis(spec, preds, targets, kw)[0]
            padded_elem = tuple(padded_t[i] for i in range(ndim) if i != c_) + (padded_t[c_],)
        else:
            padded_elem = tuple(padded_t)
    else:
        padded_elem = tuple(padded_preds_shape[i] for i in elem_axes_in_preds)
    for k in ("mask", "sample_weight"):
        if k in pos:
            m = leaves[pos[k]]
            if not isinstance(m, torch.Tensor):
                return None
            mshape = tuple(m.shape)
            if len(mshape) > len(real_elem) or mshape != real_elem[:len(mshape)]:
                if mshape not in ((), (1,)):
                    return None
                continue
            pads.append((pos[k], padded_elem[:len(mshape)]))
    return tuple(pads), tuple(real_elem)


_GEOMETRY: dict = {}
_SIZES: dict = {}
# A shape that needs no padding, called EXACT_AFTER times in a row (a fixed-shape loop), runs the
# unbucketed program: one more program, and no real-size input or mask (W9 [64, 10] cross entropy:
# ~30 µs a step less, bench/RESULTS.md, "torch front, session 6"). Dynamic shapes rarely repeat.
EXACT_AFTER = 4
_RUNS: dict = {}  # spec -> [geometry key of its last bucket-shaped call, calls in a row]


def bucket_plan(spec: Spec, leaves: list, tmpl: tuple, names: tuple, policy: str):
    """``(pads, sizes, real element shape)``, or ``None`` when this call is not bucketed.

    ``pads`` maps a leaf index to its padded shape; the padding itself happens while the leaf is
    converted (:func:`maskjax.torch._front.to_jax_fast`: one copy on CPU), outside
    autograd, and gradients are sliced back to each input's shape. The geometry is cached per
    (options, shapes); ``sizes`` (the real lengths, a program input) is a cached device array,
    so an unchanged shape costs no new input buffer.
    """
    shapes = tuple((x.shape, x.dtype) if isinstance(x, torch.Tensor) else None for x in leaves)
    key = (spec, tmpl, names, policy, shapes)
    geo = _GEOMETRY.get(key, _GEOMETRY)
    if geo is _GEOMETRY:
        geo = _geometry(spec, leaves, tmpl, names, policy)
        if geo is not None:
            geo = ({i: shape for i, shape in geo[0] if tuple(leaves[i].shape) != shape}, geo[1])
        if len(_GEOMETRY) > 4096:
            _GEOMETRY.clear()
        _GEOMETRY[key] = geo
    if geo is None:
        return None
    pads, real = geo
    if not pads:  # already bucket-shaped: after a run of such calls, the exact program (same result)
        run = _RUNS.get(spec)
        if run is not None and run[0] == key:
            run[1] += 1
            if run[1] >= EXACT_AFTER:
                return None
        else:
            _RUNS[spec] = [key, 1]
    elif spec in _RUNS:
        del _RUNS[spec]  # a padded call ends the run
    device = leaves[next(iter(pads))].device if pads else next(
        x.device for x in leaves if isinstance(x, torch.Tensor))
    skey = (real, device)
    sizes = _SIZES.get(skey)
    if sizes is None:
        sizes = np.asarray(real, np.int32)
        if device.type == "cpu":
            sizes = jax.device_put(sizes, jax.devices("cpu")[0])
        else:
            from maskjax.torch._convert import jax_device
            sizes = jax.device_put(sizes, jax_device(device))
        if len(_SIZES) > 4096:
            _SIZES.clear()
        _SIZES[skey] = sizes
    return pads, sizes, real


def unpad(t: torch.Tensor, shape: tuple) -> torch.Tensor:
    """``t`` sliced back to ``shape`` (a view) when a bucket padded it."""
    if tuple(t.shape) == tuple(shape):
        return t
    return t[tuple(slice(0, n) for n in shape)]


def _pad(t: torch.Tensor, shape: tuple) -> torch.Tensor:
    if tuple(t.shape) == shape:
        return t
    pads: list[int] = []
    for have, want in zip(reversed(t.shape), reversed(shape)):
        pads += [0, want - have]
    return F.pad(t, pads)
