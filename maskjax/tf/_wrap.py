"""tf.Tensor fronts of core functions: eager via DLPack, graph mode via tf.py_function."""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import numpy as np
import tensorflow as tf

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
    return tf.convert_to_tensor(np.asarray(x))


def _jax_dtype(dtype: tf.DType):
    if dtype == tf.bfloat16:
        return jax.numpy.bfloat16
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    return _interop.narrow_dtype(np_dtype) or np_dtype


def _out_spec(call: _interop.Call, leaves: list[tf.Tensor]):
    """Output tree structure, dtypes and (when input shapes are static) shapes, by eval_shape."""
    static = all(x.shape.is_fully_defined() for x in leaves)
    specs = [jax.ShapeDtypeStruct(tuple(d if d is not None else 2 for d in x.shape.as_list()),
                                  _jax_dtype(x.dtype)) for x in leaves]
    out = jax.eval_shape(lambda *ls: call.run(ls), *specs)
    flat, treedef = jax.tree_util.tree_flatten(out)
    return flat, treedef, static


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


@tf.autograph.experimental.do_not_convert
def _run(fn: Callable, args: tuple, kwargs: dict, differentiable: bool) -> Any:
    call = _interop.Call(fn, args, kwargs, _is_data)
    leaves = [_as_tf(x) for x in call.leaves]
    if tf.executing_eagerly():
        return _eager(call, leaves, differentiable)
    # Graph mode (tf.function, Keras fit on the TF backend): the core runs eagerly inside
    # tf.py_function. The gradient is a tf.custom_gradient whose backward is a second
    # py_function (forward + jax.vjp again: py_function's own gradient cannot handle int inputs).
    flat, treedef, static = _out_spec(call, leaves)
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


def wrap_loss(fn: Callable, public: str | None = None) -> Callable:
    """A TensorFlow front of a JAX loss: tensors in, a differentiable tensor out.

    Eagerly, inputs go to JAX through DLPack and the loss is a
    ``tf.custom_gradient`` whose gradient runs the ``jax.vjp`` pullback (forward
    and vjp under one cached ``jax.jit``). Inside ``tf.function`` (Keras
    ``fit`` on the TF backend) the same runs through ``tf.py_function``, which
    cannot be XLA-compiled: compile Keras models with ``jit_compile=False``.

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
        return _run(fn, args, kwargs, differentiable=True)

    loss.__doc__ = _interop.wrapper_doc("TensorFlow", public or getattr(fn, "__name__", "fn"),
                                        "differentiable: tf.custom_gradient over jax.vjp")
    return loss


def wrap_metric(fn: Callable, public: str | None = None) -> Callable:
    """A TensorFlow front of a JAX metric: tensors in, tensors out (no gradient).

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
        return _run(fn, args, kwargs, differentiable=False)

    metric.__doc__ = _interop.wrapper_doc("TensorFlow", public or getattr(fn, "__name__", "fn"),
                                          "no gradient")
    return metric
