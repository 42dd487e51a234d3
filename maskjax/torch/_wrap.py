"""Torch fronts of your own JAX functions: :func:`wrap_loss`, :func:`wrap_metric`."""

from __future__ import annotations

import functools
from typing import Any, Callable

from maskjax.torch import _front


def wrap_loss(fn: Callable, public: str | None = None) -> Callable:
    """A torch front of a JAX loss: tensors in, a differentiable tensor out.

    ``fn(preds, targets, *, ...)`` is any JAX-traceable function returning
    one array. Forward runs ``fn`` under one ``jax.jit`` cached per set of
    static options (Python values); a scalar loss gets its gradient from the
    same program (``jax.value_and_grad``), other outputs keep a ``jax.vjp``
    pullback for backward. Tensor arguments anywhere (``mask=``,
    ``sample_weight=`` …) are converted; float tensors that require grad are
    differentiated. Under ``torch.no_grad()`` only the forward program runs.
    No layout change and no shape buckets (your function's layout is yours).

    Args:
      fn: the JAX loss.
      public: the name shown in messages.

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
    spec = _front.make_spec(fn, public or f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', 'fn')}",
                            "loss")

    @functools.wraps(fn)
    def loss(*args: Any, **kwargs: Any) -> Any:
        return _front.loss(spec, args, kwargs)

    loss.__doc__ = (f"PyTorch front of {spec.name} (a differentiable torch function; gradients by JAX).\n\n"
                    + (fn.__doc__ or ""))
    return loss


def wrap_metric(fn: Callable, public: str | None = None) -> Callable:
    """A torch front of a JAX metric: tensors in (detached), tensors out.

    Results keep their structure (a scalar, a per-class vector, a tuple of
    curves, a NamedTuple …) with every array as a tensor on the input's device.

    Args:
      fn: the JAX metric function.
      public: the name shown in messages.

    Returns:
      The torch metric function.

    Example:
      >>> import torch, maskjax, maskjax.torch as mt
      >>> mean_kept = mt.wrap_metric(maskjax.reduce)
      >>> mean_kept(torch.tensor([[1.0, 5.0], [3.0, 7.0]]), mask=torch.tensor([1, 0]))
      tensor(3.)
    """
    spec = _front.make_spec(fn, public or f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', 'fn')}",
                            "metric")

    @functools.wraps(fn)
    def metric(*args: Any, **kwargs: Any) -> Any:
        return _front.metric(spec, args, kwargs)

    metric.__doc__ = (f"PyTorch front of {spec.name} (no gradient; inputs are detached).\n\n"
                      + (fn.__doc__ or ""))
    return metric
