"""Tensor-in/tensor-out fronts of core functions; losses as torch.autograd.Function."""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import numpy as np
import torch

from maskjax import _interop
from maskjax.torch._convert import from_jax, to_jax


def _is_data(x: Any) -> bool:
    return isinstance(x, (torch.Tensor, np.ndarray, jax.Array))


def _first_tensor(leaves) -> torch.Tensor | None:
    return next((x for x in leaves if isinstance(x, torch.Tensor)), None)


def _convert(call: _interop.Call) -> list[jax.Array]:
    return [to_jax(x, name=n) for x, n in zip(call.leaves, call.names)]


def tree_from_jax(tree: Any, like: torch.Tensor | None) -> Any:
    """Every ``jax.Array`` in a pytree (tuple, dict, NamedTuple, …) as a torch tensor."""
    if isinstance(tree, jax.Array):  # the common case: one array (skip the tree walk)
        return from_jax(tree, like)
    return jax.tree_util.tree_map(
        lambda x: from_jax(x, like) if isinstance(x, jax.Array) else x, tree)


class _JaxVjp(torch.autograd.Function):
    """Forward runs the core (jitted with its ``jax.vjp``); backward runs the pullback."""

    @staticmethod
    def forward(ctx, call, diff, like, *leaves):
        out, pullback = call.vjp(_convert(call), diff)
        if not isinstance(out, jax.Array):
            raise TypeError(f"{call.fn!r} must return one array to be used as a torch loss, "
                            f"got {type(out).__name__}.")
        ctx.pullback = pullback
        ctx.out_dtype = out.dtype
        ctx.diff = diff
        ctx.n = len(leaves)
        ctx.targets = [(leaves[i].device, leaves[i].dtype) for i in diff]
        return from_jax(out, like)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        cotangent = to_jax(grad.contiguous(), name="grad_output")
        if cotangent.dtype != ctx.out_dtype:
            cotangent = cotangent.astype(ctx.out_dtype)
        grads = ctx.pullback(cotangent)  # the residuals saved by forward's jax.vjp: no re-run
        ctx.pullback = None  # free the residuals
        result: list[Any] = [None] * (3 + ctx.n)
        for i, g, (device, dtype) in zip(ctx.diff, grads, ctx.targets):
            t = from_jax(g, device)
            result[3 + i] = t if t.dtype == dtype else t.to(dtype)
        return tuple(result)


def call_loss(fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Run core loss ``fn`` on torch inputs; differentiable w.r.t. float tensors needing grad."""
    call = _interop.Call(fn, args, kwargs, _is_data)
    like = _first_tensor(call.leaves)
    diff = ()
    if torch.is_grad_enabled():
        diff = tuple(i for i, x in enumerate(call.leaves)
                     if isinstance(x, torch.Tensor) and x.requires_grad
                     and (x.is_floating_point() or x.is_complex()))
    if not diff:
        return tree_from_jax(call.run_jit(_convert(call)), like)
    return _JaxVjp.apply(call, diff, like, *call.leaves)


def call_metric(fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Run core metric ``fn`` on torch inputs (detached); results as tensors."""
    call = _interop.Call(fn, args, kwargs, _is_data)
    return tree_from_jax(call.run_jit(_convert(call)), _first_tensor(call.leaves))


def wrap_loss(fn: Callable, public: str | None = None) -> Callable:
    """A torch front of a JAX loss: tensors in, a differentiable tensor out.

    ``fn(preds, targets, *, ...)`` is any JAX-traceable function returning
    one array (every ``maskjax.losses`` function, or your own). The result is a
    ``torch.autograd.Function``: forward runs ``fn`` and its ``jax.vjp`` under
    one ``jax.jit`` cached per set of static options (Python values), backward
    runs the pullback, so gradients computed by JAX flow into the torch
    graph. Tensor arguments anywhere (``mask=``, ``sample_weight=``,
    ``class_weight=``, ``pos_weight=`` …) are converted; float tensors that
    require grad are differentiated. Under ``torch.no_grad()`` the core runs
    directly.

    Args:
      fn: the JAX loss.
      public: the name shown in the docstring.

    Returns:
      The torch loss function.

    Example:
      >>> import torch, maskjax, maskjax.torch as mt
      >>> def masked_sq(preds, targets, *, mask=None, reduction="mean"):
      ...     return maskjax.reduce((preds - targets) ** 2, mask=mask, reduction=reduction)
      >>> loss_fn = mt.wrap_loss(masked_sq)
      >>> p = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
      >>> loss = loss_fn(p, torch.zeros(3), mask=torch.tensor([True, True, False]))
      >>> loss.backward()
      >>> loss.item(), p.grad.tolist()
      (2.5, [1.0, 2.0, 0.0])
    """
    @functools.wraps(fn, assigned=("__name__", "__qualname__"))
    def loss(*args, **kwargs):
        return call_loss(fn, args, kwargs)

    loss.__doc__ = _interop.wrapper_doc("PyTorch", public or getattr(fn, "__name__", "fn"),
                                        "a torch.autograd.Function; gradients by jax.vjp")
    loss.__wrapped__ = fn
    return loss


def wrap_metric(fn: Callable, public: str | None = None) -> Callable:
    """A torch front of a JAX metric: tensors in (detached), tensors out.

    Results keep their structure (a scalar, a per-class vector, a tuple of
    curves, a NamedTuple …) with every array as a tensor on the input's device.

    Args:
      fn: the JAX metric function.
      public: the name shown in the docstring.

    Returns:
      The torch metric function.

    Example:
      >>> import torch, maskjax, maskjax.torch as mt
      >>> mean_kept = mt.wrap_metric(maskjax.reduce)
      >>> mean_kept(torch.tensor([[1.0, 5.0], [3.0, 7.0]]), mask=torch.tensor([1, 0]))
      tensor(3.)
    """
    @functools.wraps(fn, assigned=("__name__", "__qualname__"))
    def metric(*args, **kwargs):
        return call_metric(fn, args, kwargs)

    metric.__doc__ = _interop.wrapper_doc("PyTorch", public or getattr(fn, "__name__", "fn"),
                                          "no gradient; inputs are detached")
    metric.__wrapped__ = fn
    return metric
