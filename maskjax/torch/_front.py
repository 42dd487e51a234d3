"""The torch front's call path: layout, shape buckets, conversion, cached programs, autograd.

One call of a ``maskjax.torch`` loss or metric:

1. split the arguments into data leaves (tensors, arrays) and static options
   (a hashable template: the jit cache key);
2. (buckets on) plan the padding of the non-class axes of ``preds`` /
   ``targets`` / ``mask`` / ``sample_weight`` up to their bucket sizes
   (:mod:`maskjax._buckets`); the program ANDs the mask with the real
   elements, so the core sees a handful of shapes and gives the unpadded result;
3. convert: CPU tensors go in as NumPy views (jit's C++ dispatch takes them
   without a Python DLPack round trip), or, when padded, as one copy into a NumPy array
   that pads, makes contiguous and narrows at once (outside autograd); int64
   labels are narrowed to int32 and checked equal to the originals on the host; other devices /
   dtypes go through :func:`maskjax.torch.to_jax` (DLPack, padded by ``F.pad``);
4. run the program cached for (function, options, bucket flag, mode):
   ``forward``, ``value_and_grad`` (scalar losses: gradient computed with the
   value in one program; backward is ``grad_output * saved_grad``), or
   ``vjp`` (non-scalar outputs);
5. convert back (small CPU results by a NumPy copy, others through DLPack),
   slice padded ``reduction="none"`` outputs back to the real shape in torch,
   and slice each input's gradient back to its shape in the backward.

Layout (the torch conventions, done here as a layout change, never maths):
losses take the core's ``axis=`` (the front's default is 1); metrics move the
class axis of ``[N, C, d...]`` scores (``task="multiclass"`` / ``"multilabel"``)
to the last position, where the core expects it, inside the program.
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import torch

from maskjax import _buckets, _interop
from maskjax.torch._convert import from_jax, to_jax
from maskjax.torch._layout import Spec, _Slot, _element_shape, _pad, bucket_plan, class_last, split, unpad

__all__ = ["Spec", "split", "bucket_plan", "class_last", "convert_inputs", "private_inputs", "host_array",
           "is_host_copy", "copy_checked", "make_spec", "loss", "metric", "call_loss", "call_metric", "loss_vjp",
           "program", "run_program"]

# CPU tensors of these dtypes enter as NumPy views (jit's C++ fast path); int64 after a range check.
_NUMPY_IN = frozenset({torch.float32, torch.float16, torch.int32, torch.int16, torch.int8, torch.uint8,
                       torch.bool, torch.float64, torch.int64})
_NUMPY_OUT = frozenset({np.dtype(np.float32), np.dtype(np.int32), np.dtype(np.bool_), np.dtype(np.float16),
                        np.dtype(np.uint32), np.dtype(np.int8), np.dtype(np.uint8)})
_NARROW = {torch.int64: np.int32, torch.float64: np.float32}  # while JAX's x64 is off
SMALL_OUT = 1 << 14  # elements: smaller CPU results are copied out (cheaper than a DLPack export)


# ------------------------------------------------------------------------------ conversion


_ALIGN = 64  # bytes: XLA's CPU client reads such host arrays in place
_XLA_SMALL = 100 * 1024  # bytes: XLA copies a smaller misaligned host array at once, a larger one on a worker


def host_array(shape: tuple, dtype: Any, zero: bool = False) -> np.ndarray:
    """A NumPy array for a copy made by the front; 64-byte aligned from 100 KiB on.

    XLA's CPU client reads a 64-byte aligned host array in place; a misaligned one from 100 KiB
    on it copies on a worker thread first, and the program then runs there too. W8's padded
    ``[16, 20, 128]`` logits (NumPy allocates large arrays 16 bytes past a page): a value and
    gradient took 190-205 µs misaligned, 70-75 µs aligned (bench/RESULTS.md, "torch front,
    session 6"). Smaller arrays are plain NumPy arrays (aligning costs ~5 µs, a copy of them ~1).
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < _XLA_SMALL:
        return (np.zeros if zero else np.empty)(shape, dtype)
    buf = (np.zeros if zero else np.empty)(nbytes + _ALIGN, np.uint8)
    off = -buf.ctypes.data % _ALIGN
    return buf[off:off + nbytes].view(dtype).reshape(shape)


def is_host_copy(a: Any) -> bool:
    """Whether ``a``, returned by :func:`to_jax_fast`, is a :func:`host_array` (its memory is its own).

    :func:`to_jax_fast` returns JAX arrays, views of the caller's tensors (whose ``base`` is the
    tensor) and host arrays (which own their memory, or whose ``base`` is the aligned NumPy buffer).
    """
    return isinstance(a, np.ndarray) and (a.flags.owndata or type(a.base) is np.ndarray)


def copy_checked(view: torch.Tensor, t: torch.Tensor, name: str) -> None:
    """``view.copy_(t)``; int64 values that narrowing to int32 would wrap raise ``ValueError``.

    torch ops, not NumPy's: alone NumPy's cast copy and min / max take half the time (15.5 vs
    38.7 µs for W8's labels), yet inside the torch loops they lost (W8 1540 vs 1501 µs a step,
    W9 703 vs 679: bench/RESULTS.md, "torch front, session 7").
    """
    view.copy_(t)
    if t.dtype is torch.int64 and view.dtype is torch.int32 and not torch.equal(view, t):
        lo, hi = map(int, torch.aminmax(t))  # labels >= 2**31 raise, never wrap
        _interop.check_int32_range(lo, hi, name)
        raise ValueError(f"`{name or 'array'}`: int64 values do not fit int32.")  # pragma: no cover


_RECENT: dict = {}  # copy key -> (source, its version, host copy, labels view): _recent_copy, _recent_labels
_RECENT_MAX = 4


def _recent_copy(t: torch.Tensor, key: tuple) -> np.ndarray | None:
    """The host copy made of this very tensor by a recent call, if its data cannot have changed.

    A training step hands the same logits to the loss and then, detached, to a metric's update:
    the second call reuses the first's padded copy (W8: 76 µs a step, bench/RESULTS.md, session 7).
    Only copies of autograd outputs (tensors with a ``grad_fn``) are kept, with a reference that
    keeps their memory from being reused, and a hit needs the same address, shape, strides, dtype,
    padding and torch version counter: an in-place write bumps the counter (the check torch's own
    autograd relies on); writes that bypass it (``.data``, NumPy views) are not used on activations.
    """
    hit = _RECENT.get(key)
    if hit is not None and hit[1] == t._version:
        return hit[2]
    return None


def _recent_labels(t: torch.Tensor, key: tuple) -> np.ndarray | None:
    """The int32 copy a recent call made of int64 labels of this geometry, if it equals ``t`` now.

    Labels rarely have autograd history and may share memory with NumPy (``torch.from_numpy``),
    which writes behind torch's version counter, so the copy is compared with ``t`` value by value
    (which also re-checks the int32 range): cheaper than a new copy (W8, the loss's labels reused by
    the F1 update: 40-70 µs a step, bench/RESULTS.md, "torch front, session 8").
    """
    hit = _RECENT.get(key)
    if hit is not None and hit[3] is not None and torch.equal(hit[3], t):
        return hit[2]
    return None


def _keep_copy(t: torch.Tensor, key: tuple, out: np.ndarray, view: torch.Tensor | None = None) -> None:
    """Keep ``out``, the host copy of ``t`` (``view``: its unpadded part, for labels checked by value)."""
    if len(_RECENT) >= _RECENT_MAX:
        try:
            _RECENT.pop(next(iter(_RECENT)), None)  # the oldest
        except (StopIteration, RuntimeError):  # another thread changed it meanwhile
            _RECENT.clear()
    _RECENT[key] = (t, t._version, out, view)


_WARNED_FLOAT64 = [False]


def warn_float64() -> None:
    """Say once per process that float64 input is computed in float32 (JAX's x64 mode is off)."""
    if _WARNED_FLOAT64[0] or _interop.x64_enabled():
        return
    _WARNED_FLOAT64[0] = True
    level, frame = 1, sys._getframe(0)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(("maskjax.", "torch.")):
        frame, level = frame.f_back, level + 1  # point at the caller's line, outside maskjax
    warnings.warn(
        "maskjax.torch: float64 tensors are computed in float32 while JAX's 64-bit mode is off "
        "(results are float32; e.g. a score within float32 rounding of a threshold may land on "
        "either side). For float64, call jax.config.update('jax_enable_x64', True) before the "
        "first maskjax call. This warning is shown once.", UserWarning, stacklevel=level)


def to_jax_fast(t: Any, name: str, pad: tuple | None = None) -> Any:
    """One leaf on its way in: a NumPy view for common CPU tensors, else :func:`to_jax`.

    ``pad``: the bucket shape to zero-pad a tensor to (CPU: in the one copy that also makes it
    contiguous and narrows int64/float64; elsewhere ``F.pad``), outside autograd. Any copy made
    here is a :func:`host_array` (:func:`private_inputs` relies on it); the copy of an autograd
    output is reused by the next calls on the same unchanged tensor (:func:`_recent_copy`).
    """
    if isinstance(t, torch.Tensor):
        if t.dtype is torch.float64:
            warn_float64()
        if t.device.type == "cpu" and t.dtype in _NUMPY_IN and t.layout == torch.strided:
            tracked = t.grad_fn is not None
            if t.requires_grad:
                t = t.detach()
            dt = t.dtype
            narrow = _NARROW.get(dt) if not _interop.x64_enabled() else None
            if narrow is None:
                a = t.numpy()
                if a.flags.c_contiguous and pad is None:
                    return a
                key = (t.data_ptr(), a.shape, a.strides, a.dtype, pad)
                out = _recent_copy(t, key)
                if out is not None:
                    return out
                # NumPy's strided copy: faster than torch's ([16, 20, 100] moved axis: 14 vs 25 µs)
                out = host_array(pad or a.shape, a.dtype, zero=pad is not None)
                out[tuple(slice(0, n) for n in a.shape)] = a
                if tracked:
                    _keep_copy(t, key, out)
                return out
            # One copy that pads, makes contiguous and narrows, by torch into a NumPy-owned array:
            # inside a torch loop torch's copy is the warm path (W9 int64 labels: 24 µs a step vs 40
            # with NumPy's min/max/astype, bench/RESULTS.md, "torch front, session 6").
            labels = dt is torch.int64
            if labels:
                key = (t.data_ptr(), tuple(t.shape), t.stride(), dt, pad)
                out = _recent_labels(t, key)
                if out is not None:
                    return out
            out = host_array(pad or tuple(t.shape), narrow, zero=pad is not None)
            view = torch.from_numpy(out)
            if pad is not None and tuple(pad) != tuple(t.shape):
                view = view[tuple(slice(0, n) for n in t.shape)]
            copy_checked(view, t, name)
            if labels:
                _keep_copy(t, key, out, view)
            return out
        if pad is not None:
            t = _pad(t.detach(), pad)
        return to_jax(t, name=name)
    if isinstance(t, jax.Array):
        return t
    return _interop.to_jax(t, name=name)


_COPY_PRIVATE = _XLA_SMALL  # bytes: smaller caller arrays are copied rather than waited for


def private_inputs(leaves: list, jleaves: list) -> tuple[list, bool]:
    """``(jleaves, private)``: small caller arrays copied; whether nothing shares the caller's memory.

    XLA reads host arrays in place and may finish a program after the call returns (a pending
    input copy, an earlier program in flight). A caller that returns before the program ends (the
    stateful ``update``) must wait unless every input is a JAX array or a copy made here. Arrays
    under 100 KiB are copied instead (about 1 µs; waiting cost ~20 µs per W9 step, bench/RESULTS.md).
    """
    out = list(jleaves)
    private = True
    off = len(jleaves) - len(leaves)
    for i, x in enumerate(leaves):
        j = out[off + i]
        if isinstance(x, jax.Array) or is_host_copy(j):
            continue
        if isinstance(j, np.ndarray) and j.nbytes < _COPY_PRIVATE:
            c = out[off + i] = host_array(j.shape, j.dtype)
            c[...] = j
        else:
            private = False
    return out, private


def from_jax_fast(a: Any, like: torch.Tensor | None) -> torch.Tensor:
    """One result on its way out (a small CPU result is copied; otherwise DLPack)."""
    if (like is None or like.device.type == "cpu") and a.size <= SMALL_OUT and a.dtype in _NUMPY_OUT:
        return torch.from_numpy(np.array(a))
    return from_jax(a, like)


def tree_out(tree: Any, like: torch.Tensor | None) -> Any:
    if isinstance(tree, jax.Array):
        return from_jax_fast(tree, like)
    return jax.tree_util.tree_map(lambda x: from_jax_fast(x, like) if isinstance(x, jax.Array) else x, tree)


def first_tensor(values) -> torch.Tensor | None:
    for v in values:
        if isinstance(v, torch.Tensor):
            return v
    return None


# ------------------------------------------------------------------------------ programs

_PROGRAMS: dict = {}
_EAGER_ONLY: set = set()

# torch.compile support needs torch.library.custom_op (torch >= 2.4); older torch runs eagerly only.
HAVE_OPS = hasattr(torch.library, "custom_op") and hasattr(torch.compiler, "assume_constant_result")


def _never() -> bool:
    return False


is_compiling = torch.compiler.is_compiling if HAVE_OPS else _never
SPECS: dict = {}  # public name -> Spec (read by the torch.compile ops in _ops.py)
COMPILED_CALL: list = []  # [compiled_call], filled by maskjax.torch._ops when it registers the ops


def _runner(spec: Spec, tmpl: tuple, names: tuple, bucketed: bool, stateful: bool) -> Callable:
    n_args = len(tmpl) - len(names)

    def run(*leaves):
        if stateful:
            state, leaves = leaves[0], leaves[1:]
        if bucketed:
            sizes, leaves = leaves[0], leaves[1:]
        vals = [leaves[v.i] if v.__class__ is _Slot else v for v in tmpl]
        args, kw = vals[:n_args], dict(zip(names, vals[n_args:]))
        if spec.layout == "metric":
            kw_axis = kw.pop("axis", 1) if not stateful else kw.pop("axis", 1)
            if len(args) >= 2:
                args[0], args[1] = class_last(spec, args[0], args[1], {**kw, "axis": kw_axis})
            if spec.core_axis and kw.get("task", spec.task) != "binary":
                kw["axis"] = -1  # the class axis is last now: say so (the core refuses to guess)
        if bucketed:
            elem = _element_shape(spec, args[0], args[1] if len(args) > 1 else None, kw)
            kw["mask"] = _buckets.with_real_mask(sizes, elem, kw.get("mask"))
        if stateful:
            return spec.fn(state, *args, **kw)
        return spec.fn(*args, **kw)
    return run


def program(spec: Spec, tmpl: tuple, names: tuple, bucketed: bool, mode: str, diff: tuple = (),
            stateful: bool = False) -> Callable:
    """The jitted program for one call configuration (cached).

    ``mode``: ``"forward"``; ``"value_and_grad"`` / ``"vjp"`` w.r.t. the leaves in ``diff``;
    ``"batched"`` (stateful only): ``(state, n, [sizes], *stacked)`` applies the update to the
    first ``n`` of ``K`` stacked batches in order (a ``fori_loop``: the same sequence of updates);
    ``"pooled"`` (updates that commute): ``(state, empty state, n, *stacked)``, the real sizes
    stacked too (one row per batch): each batch's increment from the empty state, the first ``n``
    merged into the state.
    """
    key = (spec, tmpl, names, bucketed, mode, diff, stateful)
    prog = _PROGRAMS.get(key)
    if prog is None:
        run = _runner(spec, tmpl, names, bucketed, stateful)
        off = 1 if bucketed else 0
        if mode == "forward":
            prog = jax.jit(run)
        elif mode == "value_and_grad":
            prog = jax.jit(jax.value_and_grad(run, argnums=tuple(d + off for d in diff)))
        elif mode == "vjp":
            def vjp(*leaves):
                def f(*d):
                    full = list(leaves)
                    for i, v in zip(diff, d):
                        full[i + off] = v
                    return run(*full)
                return jax.vjp(f, *[leaves[i + off] for i in diff])
            prog = jax.jit(vjp)
        elif mode == "pooled":  # stateful, updates that commute: state, empty state, n, K stacked batches
            merge = getattr(spec.fn, "__self__").merge  # spec.fn: the core metric's bound update

            def pooled(state, empty, n, *stacked):
                # every batch's increment at once (vmap: a few large kernels instead of K loop
                # iterations of small ones), then the first n added to the state
                incs = jax.vmap(lambda *b: run(empty, *b))(*stacked)
                return jax.lax.fori_loop(
                    0, n, lambda i, s: merge(s, jax.tree_util.tree_map(lambda x: x[i], incs)), state)
            prog = jax.jit(pooled)
        elif mode == "batched":  # stateful: state, n, [shared sizes], K stacked batches -> state
            def batched(state, n, *leaves):
                shared, stacked = leaves[:off], leaves[off:]

                def body(i, s):
                    return run(s, *shared, *[x[i] for x in stacked])
                return jax.lax.fori_loop(0, n, body, state)
            prog = jax.jit(batched)
        else:  # pragma: no cover
            raise ValueError(mode)
        _PROGRAMS[key] = prog
    return prog


def _eager_run(spec, tmpl, names, bucketed, jleaves, stateful=False):
    """No-jit fallback (options that do not trace, e.g. ``validate=True``)."""
    return _runner(spec, tmpl, names, bucketed, stateful)(*jleaves)


def run_program(spec, tmpl, names, bucketed, jleaves, stateful=False):
    key = (spec, tmpl, names, bucketed, stateful)
    if key not in _EAGER_ONLY:
        try:
            return program(spec, tmpl, names, bucketed, "forward", stateful=stateful)(*jleaves)
        except _interop._TRACING_ERRORS:
            _EAGER_ONLY.add(key)
        except TypeError as err:  # unhashable static option
            if "unhashable" not in str(err):
                raise
            _EAGER_ONLY.add(key)
    return _eager_run(spec, tmpl, names, bucketed, jleaves, stateful)


# ------------------------------------------------------------------------------ autograd


def grad_to_torch(g: Any, device: torch.device, dtype: torch.dtype, shape: tuple) -> torch.Tensor:
    """One input's gradient from a program, as a tensor of the input's device, dtype and (unpadded) shape."""
    t = unpad(from_jax_fast(g, torch.empty(0, device=device) if device.type != "cpu" else None), shape)
    return t if t.dtype == dtype else t.to(dtype)


class _ValueAndGrad(torch.autograd.Function):
    """Scalar output: the gradient comes with the value (one program); backward scales it."""

    @staticmethod
    def forward(ctx, work, *inputs):
        out, grads = work()
        ctx.grads = grads
        ctx.inputs = [(x.device, x.dtype, x.shape) for x in inputs]
        return from_jax_fast(out, inputs[0])

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        result: list = [None]
        one = grad.device.type == "cpu" and grad.numel() == 1 and grad.item() == 1.0  # loss.backward()
        for g, (device, dtype, shape) in zip(ctx.grads, ctx.inputs):
            t = grad_to_torch(g, device, dtype, shape)
            result.append(t if one else t * grad.to(t.dtype))
        ctx.grads = None
        return tuple(result)


class _Vjp(torch.autograd.Function):
    """Non-scalar output: forward keeps the pullback; backward runs it."""

    @staticmethod
    def forward(ctx, work, *inputs):
        out, pullback = work()
        ctx.pullback = pullback
        ctx.out_dtype = out.dtype
        ctx.inputs = [(x.device, x.dtype, x.shape) for x in inputs]
        return from_jax_fast(out, inputs[0])

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        cot = to_jax_fast(grad.contiguous(), "grad_output")
        cot = jnp.asarray(cot, ctx.out_dtype)
        grads = _interop.apply_vjp(ctx.pullback, cot)
        ctx.pullback = None
        result: list = [None]
        result.extend(grad_to_torch(g, *meta) for g, meta in zip(grads, ctx.inputs))
        return tuple(result)


def _leaf_name(i: int, tmpl: tuple, names: tuple) -> str:
    n_args = len(tmpl) - len(names)
    labels = ["preds", "targets"] + [f"arg{i}" for i in range(2, n_args)] + list(names)
    return next((labels[j] for j, v in enumerate(tmpl) if v.__class__ is _Slot and v.i == i), "array")


def _convert_all(leaves, tmpl, names, pads=None):
    """Every leaf converted (``pads``: leaf index -> the bucket shape to pad it to)."""
    try:
        if not pads:
            out = [to_jax_fast(x, "") for x in leaves]
        else:
            out = [to_jax_fast(x, "", pads.get(i)) for i, x in enumerate(leaves)]
    except ValueError:  # name the argument in the message: convert again, with names
        out = [to_jax_fast(x, _leaf_name(i, tmpl, names), (pads or {}).get(i)) for i, x in enumerate(leaves)]
    return out


def convert_inputs(spec: Spec, leaves: list, tmpl: tuple, names: tuple) -> tuple[list, Any]:
    """``(program inputs, bucket plan or None)``: the leaves converted, padded to their buckets.

    With a plan, the real sizes lead the inputs (the program masks the padding).
    """
    policy = _buckets.current_policy() if spec.bucket else None
    plan = bucket_plan(spec, leaves, tmpl, names, policy) if policy is not None else None
    if plan is None:
        return _convert_all(leaves, tmpl, names), None
    return [plan[1], *_convert_all(leaves, tmpl, names, plan[0])], plan


_SCALAR: dict = {}  # configuration -> False once value_and_grad refused a non-scalar output


def call_loss(spec: Spec, args: tuple, kwargs: dict) -> Any:
    """Run a core loss on torch inputs; differentiable w.r.t. float tensors needing grad."""
    leaves, tmpl, names = split(args, kwargs)
    like = first_tensor(leaves)
    jleaves, plan = convert_inputs(spec, leaves, tmpl, names)
    real = None if plan is None else plan[2]
    bucketed = plan is not None
    diff = ()
    if torch.is_grad_enabled():
        diff = tuple(i for i, x in enumerate(leaves) if isinstance(x, torch.Tensor) and x.requires_grad
                     and (x.is_floating_point() or x.is_complex()))
    key = (spec, tmpl, names, bucketed, False)
    if not diff:
        out = tree_out(run_program(spec, tmpl, names, bucketed, jleaves), like)
    else:
        inputs = [leaves[i] for i in diff]
        off = 1 if bucketed else 0
        out = None
        if _SCALAR.get(key, True) and key not in _EAGER_ONLY:
            try:
                res = program(spec, tmpl, names, bucketed, "value_and_grad", diff)(*jleaves)
                out = _ValueAndGrad.apply(lambda: res, *inputs)
            except _interop._TRACING_ERRORS:
                _EAGER_ONLY.add(key)
            except TypeError as err:  # not a scalar output: the pullback route
                if "scalar" not in str(err):
                    raise
                _SCALAR[key] = False
        if out is None:
            def work():
                if key not in _EAGER_ONLY:
                    return program(spec, tmpl, names, bucketed, "vjp", diff)(*jleaves)
                run = _runner(spec, tmpl, names, bucketed, False)

                def f(*d):
                    full = list(jleaves)
                    for i, v in zip(diff, d):
                        full[i + off] = v
                    return run(*full)
                return jax.vjp(f, *[jleaves[i + off] for i in diff])
            out = _Vjp.apply(work, *inputs)
    if real is not None and isinstance(out, torch.Tensor) and out.ndim == len(real):
        out = unpad(out, real)  # a reduction="none" output of the padded shape
    return out


def loss_vjp(spec: Spec, args: tuple, kwargs: dict, grad: torch.Tensor) -> list[torch.Tensor]:
    """Gradients w.r.t. every floating-point tensor leaf, for ``grad`` (the custom op's backward).

    No torch autograd here (a custom op's implementation runs below autograd):
    the cached ``vjp`` program directly, on the unpadded shapes.
    """
    leaves, tmpl, names = split(args, kwargs)
    shapes = [tuple(x.shape) if isinstance(x, torch.Tensor) else None for x in leaves]
    jleaves, plan = convert_inputs(spec, leaves, tmpl, names)
    bucketed = plan is not None
    diff = tuple(i for i, x in enumerate(leaves) if isinstance(x, torch.Tensor) and x.is_floating_point())
    out, pullback = program(spec, tmpl, names, bucketed, "vjp", diff)(*jleaves)
    if plan is not None and grad.ndim and tuple(grad.shape) != tuple(out.shape):
        grad = _pad(grad, tuple(out.shape))  # a reduction="none" output was sliced to the real shape
    cot = jnp.asarray(to_jax_fast(grad.detach().contiguous(), "grad_output"), out.dtype)
    grads = _interop.apply_vjp(pullback, cot)
    return [grad_to_torch(g, leaves[i].device, leaves[i].dtype, shapes[i]) for g, i in zip(grads, diff)]


def call_metric(spec: Spec, args: tuple, kwargs: dict) -> Any:
    """Run a core metric on torch inputs (detached); results as tensors on the input's device."""
    leaves, tmpl, names = split(args, kwargs)
    like = first_tensor(leaves)
    jleaves, plan = convert_inputs(spec, leaves, tmpl, names)
    return tree_out(run_program(spec, tmpl, names, plan is not None, jleaves), like)


def make_spec(fn: Callable, name: str, kind: str, layout: str | None = None, bucket: bool = False,
              task: str | None = None, ranking: bool = False, index_only_ignore: bool = False,
              core_axis: bool = False, samplewise: bool = False) -> Spec:
    """A :class:`Spec`, registered for the ``torch.compile`` custom ops under ``name``."""
    spec = Spec(fn, name, layout, bucket, task=task, ranking=ranking, kind=kind,
                index_only_ignore=index_only_ignore, core_axis=core_axis, samplewise=samplewise)
    SPECS[name] = spec
    return spec


def check_weights(kwargs: dict) -> None:
    """Eager check of the weight policy (issue 13): NaN or negative ``sample_weight`` raise.

    The front runs the core under ``jax.jit``, where the core's own eager check
    cannot run; the values are concrete here, so they are checked in torch.
    """
    sw = kwargs.get("sample_weight")
    if isinstance(sw, torch.Tensor) and sw.is_floating_point() and sw.numel():
        bad = torch.isnan(sw) | (sw < 0)
        if bool(bad.any()):
            raise ValueError(f"`sample_weight` must be finite and >= 0; got {int(bad.sum())} NaN or "
                             f"negative value(s), e.g. {sw[bad].flatten()[:3].tolist()}.")


def loss(spec: Spec, args: tuple, kwargs: dict) -> Any:
    """Entry of every loss wrapper: the custom op while ``torch.compile`` traces, else eager."""
    if (spec.index_only_ignore and kwargs.get("ignore_index") is not None and len(args) > 1
            and isinstance(args[1], torch.Tensor) and args[1].is_floating_point()):
        kwargs["ignore_index"] = None  # torch: probability targets have no ignore_index
    if spec.index_only_ignore and kwargs.get("axis") == 1 and args and getattr(args[0], "ndim", 2) == 1:
        kwargs["axis"] = 0  # torch's unbatched input [C] (F.cross_entropy): its class axis is 0
    if is_compiling() and COMPILED_CALL:
        return COMPILED_CALL[0](spec, args, kwargs)
    check_weights(kwargs)
    return call_loss(spec, args, kwargs)


def metric(spec: Spec, args: tuple, kwargs: dict) -> Any:
    """Entry of every metric wrapper (inputs detached)."""
    if is_compiling() and COMPILED_CALL:
        return COMPILED_CALL[0](spec, args, kwargs)
    check_weights(kwargs)
    return call_metric(spec, args, kwargs)
