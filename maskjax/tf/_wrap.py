"""tf.Tensor fronts of core functions: eager via DLPack, graph mode via jax2tf.

Three routes, chosen per call:

* **eager** (``tf.executing_eagerly()``): the tensors go to JAX through
  DLPack, the core runs under one cached ``jax.jit``, the results come back
  through DLPack; a loss is a ``tf.custom_gradient`` whose gradient is the
  ``jax.vjp`` pullback.
* **graph** (inside ``tf.function``, Keras ``fit`` on the TF backend): the
  core is converted by ``jax.experimental.jax2tf`` into a native TF op
  (``XlaCallModule``, the serialized StableHLO of the core), so the step can
  be compiled with ``jit_compile=True``, differentiated by
  ``tf.GradientTape`` (jax2tf's custom gradient: the converted ``jax.vjp``)
  and saved in a SavedModel. Unknown dimensions (``None`` in the TF shape)
  become symbolic dimensions named by their axis position (``d0``, ``d1``,
  ...), which follows maskjax's left-aligned broadcasting (``preds [B, T, C]``,
  ``targets`` / ``mask [B, T]``, ``sample_weight [B]`` share ``d0``).
* **fallback** (documented): what jax2tf cannot convert — today the exact
  curve metrics on a CPU runtime, whose host kernels are ``buffer_callback``
  custom calls that StableHLO serialization does not support — runs through
  ``tf.py_function``. That route works in ``tf.function`` and ``fit`` with
  ``jit_compile=False`` only, and not in a SavedModel; a warning on the
  ``maskjax.interop`` logger names the function and the reason. Binned curves
  (``thresholds=int``) convert.

The converted op is lowered for JAX's default platform
(``jax.default_backend()``): run TF on the same one (TF CPU with a CPU JAX,
TF GPU with ``jax[cuda]``).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import numpy as np
import tensorflow as tf
from jax.experimental import jax2tf

from maskjax import _interop
from maskjax.tf._convert import from_jax, to_jax


def _is_data(x: Any) -> bool:
    return isinstance(x, (tf.Tensor, tf.Variable, np.ndarray, jax.Array))


def tree_from_jax(tree: Any) -> Any:
    """Every ``jax.Array`` in a pytree as an eager ``tf.Tensor``."""
    return jax.tree_util.tree_map(lambda x: from_jax(x) if isinstance(x, jax.Array) else x, tree)


def _as_tf(x: Any) -> tf.Tensor:
    if isinstance(x, tf.Variable):
        return x.read_value()
    if isinstance(x, tf.Tensor):
        return x
    if isinstance(x, jax.Array):
        x = np.asarray(x)
    x = np.asarray(x)
    narrow = _interop.narrow_dtype(x.dtype)
    return tf.convert_to_tensor(x.astype(narrow) if narrow is not None else x)


def _saturate_int64(x: tf.Tensor) -> tf.Tensor:
    """In a graph (no eager range check), int64 becomes int32 by saturating, never wrapping.

    jax2tf would wrap 2³² + 1 to class 1, a plausible loss; clipped to ±(2³¹ − 1) the label is
    out of range for any class count, so losses give NaN and metrics drop it (the documented
    out-of-range rule; eagerly such a value raises ``ValueError``).
    """
    if x.dtype != tf.int64 or _interop.x64_enabled():
        return x
    info = np.iinfo(np.int32)
    return tf.cast(tf.clip_by_value(x, info.min, info.max), tf.int32)


def _jax_dtype(dtype: tf.DType):
    if dtype == tf.bfloat16:
        return jax.numpy.bfloat16
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    return _interop.narrow_dtype(np_dtype) or np_dtype


def _eager(call: _interop.Call, leaves: list[tf.Tensor], differentiable: bool) -> Any:
    jleaves = [to_jax(x, name=n) for x, n in zip(leaves, call.names)]
    diff = tuple(i for i, x in enumerate(leaves) if x.dtype.is_floating) if differentiable else ()
    if not diff:
        return tree_from_jax(call.run_jit(jleaves))

    @tf.custom_gradient
    def f(*xs):
        out, pullback = call.vjp(jleaves, diff)

        def grad(upstream):
            grads = pullback(to_jax(upstream, name="upstream").astype(out.dtype))
            result = [None] * len(xs)
            for i, g in zip(diff, grads):
                result[i] = tf.cast(from_jax(g), xs[i].dtype)
            return result
        return from_jax(out), grad

    return f(*leaves)


def polymorphic_shape(shape: tf.TensorShape) -> str | None:
    """jax2tf's shape spec for a TF static shape: ``None`` if known, else ``"(d0, 3)"``-style.

    Unknown dimensions are named by axis position, so ``[B, T]`` and ``[B]``
    operands share ``d0`` (maskjax broadcasts from the left).

    Example:
      >>> import tensorflow as tf
      >>> from maskjax.tf._wrap import polymorphic_shape
      >>> polymorphic_shape(tf.TensorShape([None, 5])), polymorphic_shape(tf.TensorShape([2, 5]))
      ('(d0, 5)', None)
    """
    if shape.is_fully_defined():
        return None
    return "(" + ", ".join(f"d{i}" if d is None else str(d) for i, d in enumerate(shape.as_list())) + ("," if shape.rank == 1 else "") + ")"


def _converted(call: _interop.Call, leaves: list[tf.Tensor], differentiable: bool) -> Any:
    """The core as native TF ops (jax2tf / XlaCallModule), inside a TF graph."""
    if any(x.shape.rank is None for x in leaves):
        raise NotImplementedError("an input of unknown rank")
    diff = differentiable and any(x.dtype.is_floating for x in leaves)
    fn = jax2tf.convert(lambda *ls: call.run(ls),
                        polymorphic_shapes=[polymorphic_shape(x.shape) for x in leaves],
                        with_gradient=diff)
    return fn(*leaves)


def _out_spec(call: _interop.Call, leaves: list[tf.Tensor]):
    """Output tree structure, dtypes and (when input shapes are static) shapes, by eval_shape."""
    static = all(x.shape.is_fully_defined() for x in leaves)
    specs = [jax.ShapeDtypeStruct(tuple(d if d is not None else 2 for d in x.shape.as_list()),
                                  _jax_dtype(x.dtype)) for x in leaves]
    out = jax.eval_shape(lambda *ls: call.run(ls), *specs)
    flat, treedef = jax.tree_util.tree_flatten(out)
    return flat, treedef, static


_WARNED: set = set()


def _py_function(call: _interop.Call, leaves: list[tf.Tensor], differentiable: bool, fn: Callable,
                 reason: BaseException) -> Any:
    """The documented fallback: the core runs eagerly inside ``tf.py_function`` (no XLA)."""
    flat, treedef, static = _out_spec(call, leaves)  # re-raises the user's own errors first
    key = getattr(fn, "__qualname__", repr(fn))
    if key not in _WARNED:
        _WARNED.add(key)
        _interop.log.warning("maskjax.tf: %s cannot be converted by jax2tf (%s: %s); it runs "
                             "through tf.py_function (use jit_compile=False; not in a SavedModel).",
                             key, type(reason).__name__, str(reason).strip().splitlines()[-1][:200])
    tout = [tf.as_dtype(s.dtype.name) for s in flat]

    def shaped(outs):
        for o, s in zip(outs, flat):
            o.set_shape(s.shape if static else [None] * len(s.shape))
        return outs

    def forward(*xs):
        return jax.tree_util.tree_leaves(_eager(call, list(xs), False))

    diff = tuple(i for i, x in enumerate(leaves) if x.dtype.is_floating) if differentiable else ()
    if not diff:
        return jax.tree_util.tree_unflatten(treedef, shaped(tf.py_function(forward, leaves, tout)))
    if len(flat) != 1:
        raise TypeError(f"{fn!r} must return one array to be used as a loss, got {treedef}.")

    def backward(upstream, *xs):
        jleaves = [to_jax(x, name=n) for x, n in zip(xs, call.names)]
        out, pullback = call.vjp(jleaves, diff)
        return [from_jax(g) for g in pullback(to_jax(upstream).astype(out.dtype))]

    @tf.custom_gradient
    def f(*xs):
        (out,) = shaped(tf.py_function(forward, list(xs), tout))

        def grad(upstream):
            grads = tf.py_function(backward, [upstream, *xs], [xs[i].dtype for i in diff])
            result = [None] * len(xs)
            for i, g in zip(diff, grads):
                g.set_shape(xs[i].shape)
                result[i] = g
            return result
        return out, grad

    return f(*leaves)


@tf.autograph.experimental.do_not_convert
def run(fn: Callable, args: tuple, kwargs: dict, differentiable: bool) -> Any:
    """Call the JAX function ``fn(*args, **kwargs)`` on TF tensors; TF tensors out.

    Eagerly through DLPack, in a TF graph through jax2tf (see the module
    docstring); ``differentiable`` gives float inputs a gradient.
    """
    call = _interop.Call(fn, args, kwargs, _is_data)
    leaves = [_as_tf(x) for x in call.leaves]
    if tf.executing_eagerly():
        return _eager(call, leaves, differentiable)
    leaves = [_saturate_int64(x) for x in leaves]
    try:
        return _converted(call, leaves, differentiable)
    except Exception as err:  # noqa: BLE001 - what jax2tf cannot convert takes the documented fallback
        return _py_function(call, leaves, differentiable, fn, err)


def run_bound(fn: Callable, bound: dict, n_positional: int, differentiable: bool) -> Any:
    """:func:`run` with the arguments as a generated wrapper's ``locals()`` (in signature order).

    The first ``n_positional`` entries are passed positionally, the rest by keyword.
    """
    names = list(bound)
    return run(fn, tuple(bound[n] for n in names[:n_positional]),
               {n: bound[n] for n in names[n_positional:]}, differentiable)


def wrap_loss(fn: Callable, public: str | None = None) -> Callable:
    """A TensorFlow front of a JAX loss: tensors in, a differentiable tensor out.

    Eagerly, inputs go to JAX through DLPack and the loss is a
    ``tf.custom_gradient`` whose gradient runs the ``jax.vjp`` pullback
    (forward and vjp under one cached ``jax.jit``). Inside ``tf.function``
    (Keras ``fit`` on the TF backend) the loss is converted by jax2tf into a
    native TF op: it compiles with ``jit_compile=True``, differentiates with
    ``tf.GradientTape`` and saves in a SavedModel.

    Args:
      fn: the JAX loss ``fn(preds, targets, *, ...)``.
      public: the name shown in the docstring.

    Returns:
      The TensorFlow loss function.

    Example:
      >>> import tensorflow as tf, maskjax, maskjax.tf as mtf
      >>> sq = mtf.wrap_loss(lambda p, t, mask=None: maskjax.reduce((p - t) ** 2, mask=mask))
      >>> p = tf.Variable([1.0, 2.0, 3.0])
      >>> with tf.GradientTape() as tape:
      ...     loss = sq(p, tf.zeros(3), mask=tf.constant([True, True, False]))
      >>> float(loss), tape.gradient(loss, p).numpy().tolist()
      (2.5, [1.0, 2.0, 0.0])
    """
    @tf.autograph.experimental.do_not_convert
    @functools.wraps(fn, assigned=("__name__", "__qualname__"))
    def loss(*args, **kwargs):
        return run(fn, args, kwargs, differentiable=True)

    loss.__doc__ = _interop.wrapper_doc("TensorFlow", public or getattr(fn, "__name__", "fn"),
                                        "differentiable: tf.GradientTape through jax.vjp")
    return loss


def wrap_metric(fn: Callable, public: str | None = None) -> Callable:
    """A TensorFlow front of a JAX metric: tensors in, tensors out (no gradient).

    Same routes as :func:`wrap_loss` (DLPack eagerly, jax2tf in a graph).

    Args:
      fn: the JAX metric function.
      public: the name shown in the docstring.

    Returns:
      The TensorFlow metric function.

    Example:
      >>> import tensorflow as tf, maskjax, maskjax.tf as mtf
      >>> mean_kept = mtf.wrap_metric(maskjax.reduce)
      >>> float(mean_kept(tf.constant([[1.0, 5.0], [3.0, 7.0]]), mask=tf.constant([1, 0])))
      3.0
    """
    @tf.autograph.experimental.do_not_convert
    @functools.wraps(fn, assigned=("__name__", "__qualname__"))
    def metric(*args, **kwargs):
        return run(fn, args, kwargs, differentiable=False)

    metric.__doc__ = _interop.wrapper_doc("TensorFlow", public or getattr(fn, "__name__", "fn"),
                                          "no gradient")
    return metric
