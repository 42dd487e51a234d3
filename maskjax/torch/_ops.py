"""torch.compile support: the front's calls as opaque ``torch.library`` custom ops.

Inside a ``torch.compile``\\ d function the wrappers do not run their Python
(dynamo cannot trace JAX); they call one of these ops instead:

* ``maskjax::call(key, leaves) -> Tensor`` — a loss or a single-tensor metric.
  ``key`` names a registered call template (function + static options);
  ``leaves`` are the tensors. The fake (meta) implementation gets the output
  shape from ``jax.eval_shape``; autograd is registered: backward calls
  ``maskjax::call_vjp``, which runs the front's own differentiable path.
* ``maskjax::metric_update_(key, handle, token, leaves)`` — a stateful
  :class:`maskjax.torch.Metric` update. It mutates ``token`` (the wrapper's
  update counter buffer), so the compiled graph keeps it, in order.

The key is computed while dynamo traces (``assume_constant_result``), so a
compiled step holds no Python of ours: ``fullgraph=True`` works for losses and
metric updates. Static options that are not constants (a Python list of
thresholds, an object) fall back to a graph break around the eager call.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import torch

from maskjax import _interop
from maskjax.torch import _front

_TEMPLATES: dict[str, tuple] = {}
_KEYS: dict[tuple, str] = {}
_SPECS = _front.SPECS
_HANDLES: "weakref.WeakValueDictionary[int, Any]" = weakref.WeakValueDictionary()
_REG_LOCK = threading.Lock()
_CONSTANT_TYPES = (type(None), str, bool, int, float)


@torch.compiler.assume_constant_result
def template_key(name: str, pattern: tuple) -> str:
    """The key of a call template (runs at trace time; the result is baked into the graph)."""
    with _REG_LOCK:
        key = _KEYS.get((name, pattern))
        if key is None:
            key = f"{name}#{len(_TEMPLATES)}"
            _KEYS[(name, pattern)] = key
            _TEMPLATES[key] = (name, pattern)
    return key


def _pattern(args: tuple, kwargs: dict) -> tuple[tuple, list] | None:
    """``(pattern, tensors)``; ``None`` if an option is not a constant (graph break then)."""
    tensors = []
    pattern = []
    for k, v in [*enumerate(args), *kwargs.items()]:
        if isinstance(v, torch.Tensor):
            pattern.append((k, "__tensor__"))
            tensors.append(v)
        elif isinstance(v, float):
            # a float option travels as a 0-d tensor: under torch.compile(dynamic=True) dynamo traces
            # even a constant float as a symbol, which the (constant) key cannot hold
            pattern.append((k, "__float__"))
            tensors.append(torch.tensor(v, dtype=torch.float64))
        elif isinstance(v, _CONSTANT_TYPES):
            pattern.append((k, v))
        else:
            return None
    return tuple(pattern), tensors


def _rebuild(pattern: tuple, tensors: Sequence[Any], spec: Any = None) -> tuple[tuple, dict]:
    """The call's ``(args, kwargs)``; ``tensors`` are real tensors, or shape structs when ``spec``
    is given (fake kernels: a float option, unknown there, takes the core's default for it)."""
    args, kwargs, it = [], {}, iter(tensors)
    for k, v in pattern:
        value = next(it) if v in ("__tensor__", "__float__") else v
        if v == "__float__":
            value = float(value) if spec is None else _placeholder(spec, k)
        if isinstance(k, int):
            args.append(value)
        else:
            kwargs[k] = value
    return tuple(args), kwargs


def _placeholder(spec: Any, name: Any) -> float:
    """A valid value of a float option for shape inference: the core function's default, else 0.5
    (no output shape depends on a float option's value)."""
    try:
        default = inspect.signature(spec.fn).parameters[name].default
    except (KeyError, TypeError, ValueError):
        default = None
    return float(default) if isinstance(default, (int, float)) and not isinstance(default, bool) else 0.5


def _tensor_leaves(key: str) -> list[bool]:
    """Per leaf of ``maskjax::call`` ``key``: a caller's tensor (True) or a float option (False)."""
    return [v == "__tensor__" for _, v in _TEMPLATES[key][1] if v in ("__tensor__", "__float__")]


def _torch_dtype(dt: Any) -> torch.dtype:
    return getattr(torch, np.dtype(dt).name if np.dtype(dt).name != "bool" else "bool")


def _jax_struct(t: torch.Tensor) -> jax.ShapeDtypeStruct:
    name = str(t.dtype).removeprefix("torch.")
    dt = jnp.dtype(name)
    narrow = _interop.narrow_dtype(dt) if dt.itemsize == 8 else None
    return jax.ShapeDtypeStruct(tuple(int(s) for s in t.shape), narrow or dt)


# --------------------------------------------------------------------------- maskjax::call


@torch.library.custom_op("maskjax::call", mutates_args=())
def call_op(key: str, leaves: list[torch.Tensor]) -> torch.Tensor:
    """Run the registered call ``key`` eagerly (no gradient: autograd is registered separately)."""
    name, pattern = _TEMPLATES[key]
    spec = _SPECS[name]
    args, kwargs = _rebuild(pattern, [t.detach() for t in leaves])
    with torch.no_grad():
        out = (_front.call_loss if _is_loss(spec) else _front.call_metric)(spec, args, kwargs)
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"{name} returns {type(out).__name__}, not one tensor: it cannot run as a "
                        f"torch.compile custom op (call it outside the compiled function).")
    return out.contiguous().clone() if out._base is not None or not out.is_contiguous() else out


def _is_loss(spec: Any) -> bool:
    return getattr(spec, "kind", "loss") == "loss"


_PRIMES = (1009, 1013, 1019, 1021, 1031, 1033, 1039, 1049, 1051, 1061, 1063, 1069)


@call_op.register_fake
def _call_fake(key: str, leaves: list[torch.Tensor]) -> torch.Tensor:
    """Output shape and dtype by ``jax.eval_shape``, keeping dynamic (symbolic) sizes symbolic.

    Each symbolic size is evaluated as a distinct large prime; output sizes
    equal to one map back to the symbol (no specialisation, so dynamic shapes
    do not recompile per length). A call whose checks tie a size to an option
    (``num_classes`` = C under ``dynamic=True``) refuses the primes: it is
    evaluated again at the sizes' trace-time values, which map back the same way.
    """
    name, pattern = _TEMPLATES[key]
    spec = _SPECS[name]
    try:
        return _fake_output(spec, pattern, leaves, hints=False)
    except (ValueError, TypeError):
        return _fake_output(spec, pattern, leaves, hints=True)


def _fake_output(spec: Any, pattern: tuple, leaves: list[torch.Tensor], hints: bool) -> torch.Tensor:
    symbols: dict[int, Any] = {}  # substitute value -> symbol
    by_hint: dict[Any, int] = {}  # the trace-time value of a symbol -> its substitute

    def struct(t: torch.Tensor) -> jax.ShapeDtypeStruct:
        dims = []
        for d in t.shape:
            if isinstance(d, int):
                dims.append(d)
                continue
            hint = getattr(getattr(d, "node", None), "hint", None)
            if hint is None:  # no trace-time value: specialise
                dims.append(int(d))
                continue
            value = by_hint.get(hint)
            if value is None:  # sizes equal now are taken as the same size (e.g. T of preds and targets)
                value = int(hint) if hints else \
                    _PRIMES[len(symbols) % len(_PRIMES)] + 1100 * (len(symbols) // len(_PRIMES))
                by_hint[hint] = value
                symbols[value] = d
            dims.append(value)
        base = _jax_struct_dtype(t)
        return jax.ShapeDtypeStruct(tuple(dims), base)

    args, kwargs = _rebuild(pattern, [struct(t) for t in leaves], spec)
    jleaves, tmpl, names = _front.split(args, kwargs)
    out = jax.eval_shape(_front._runner(spec, tmpl, names, False, False), *jleaves)
    shape = [symbols.get(d, d) for d in out.shape]
    device = leaves[0].device if leaves else torch.device("cpu")
    return torch.empty(shape, dtype=_torch_dtype(out.dtype), device=device)


def _jax_struct_dtype(t: torch.Tensor) -> Any:
    dt = jnp.dtype(str(t.dtype).removeprefix("torch."))
    narrow = _interop.narrow_dtype(dt) if dt.itemsize == 8 else None
    return narrow or dt


@torch.library.custom_op("maskjax::call_vjp", mutates_args=())
def call_vjp_op(key: str, leaves: list[torch.Tensor], grad: torch.Tensor) -> list[torch.Tensor]:
    """Gradients of ``maskjax::call`` w.r.t. its floating-point leaves (one per such leaf)."""
    name, pattern = _TEMPLATES[key]
    spec = _SPECS[name]
    args, kwargs = _rebuild(pattern, [t.detach() for t in leaves])
    return [g.contiguous() for g in _front.loss_vjp(spec, args, kwargs, grad)]


@call_vjp_op.register_fake
def _call_vjp_fake(key: str, leaves: list[torch.Tensor], grad: torch.Tensor) -> list[torch.Tensor]:
    # contiguous, as the implementation returns them (empty_like would copy a view's strides)
    return [torch.empty(t.shape, dtype=t.dtype, device=t.device)
            for t, real in zip(leaves, _tensor_leaves(key)) if real and t.is_floating_point()]


def _setup_context(ctx, inputs, output):
    key, leaves = inputs
    ctx.key = key
    ctx.float_mask = [real and t.is_floating_point() for t, real in zip(leaves, _tensor_leaves(key))]
    ctx.save_for_backward(*leaves)


def _backward(ctx, grad):
    leaves = ctx.saved_tensors
    grads = iter(call_vjp_op(ctx.key, list(leaves), grad))
    return None, [next(grads) if f else None for f in ctx.float_mask]


call_op.register_autograd(_backward, setup_context=_setup_context)


def compiled_call(spec: Any, args: tuple, kwargs: dict) -> Any:
    """What a wrapper does while dynamo traces it: one ``maskjax::call`` node."""
    got = _pattern(args, kwargs)
    if got is None:
        return _graph_break_call(spec, args, kwargs)
    pattern, tensors = got
    if _is_loss(spec):
        return call_op(template_key(spec.name, pattern), tensors)
    return call_op(template_key(spec.name, pattern), [t.detach() for t in tensors])


@torch.compiler.disable
def _graph_break_call(spec: Any, args: tuple, kwargs: dict) -> Any:
    fn = _front.call_loss if _is_loss(spec) else _front.call_metric
    return fn(spec, args, kwargs)


# --------------------------------------------------------------------------- metric updates


def register_handle(metric: Any) -> int:
    handle = id(metric)
    _HANDLES[handle] = metric
    return handle


@torch.library.custom_op("maskjax::metric_update_", mutates_args=("token",))
def metric_update_op(key: str, handle: int, token: torch.Tensor, leaves: list[torch.Tensor]) -> None:
    """Accumulate a batch into the stateful wrapper ``handle``; bumps its ``token`` counter."""
    _name, pattern = _TEMPLATES[key]
    metric = _HANDLES[handle]
    args, kwargs = _rebuild(pattern, [t.detach() for t in leaves])
    metric._accumulate(args, kwargs)
    token.add_(1)


@metric_update_op.register_fake
def _metric_update_fake(key: str, handle: int, token: torch.Tensor, leaves: list[torch.Tensor]) -> None:
    return None


def compiled_update(metric: Any, args: tuple, kwargs: dict) -> None:
    got = _pattern(args, kwargs)
    if got is None:
        return _graph_break_update(metric, args, kwargs)
    pattern, tensors = got
    metric_update_op(template_key(f"update:{metric._spec.name}", pattern), metric._handle, metric._token,
                     [t.detach() for t in tensors])
    return None


@torch.compiler.disable
def _graph_break_update(metric: Any, args: tuple, kwargs: dict) -> None:
    metric._accumulate(args, kwargs)
    metric._token.add_(1)


_front.COMPILED_CALL[:] = [compiled_call]
