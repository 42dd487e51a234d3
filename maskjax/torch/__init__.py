"""PyTorch adapter: tensors in, tensors out, on the tensors' device. No maths.

* :func:`to_jax` / :func:`from_jax` — zero-copy through DLPack where the data
  allows (see :func:`to_jax` for what copies: non-contiguous tensors, int64
  labels with x64 off — range-checked and cast to int32 —, misaligned slices);
  :func:`copy_reason` says in advance.
* :mod:`maskjax.torch.losses` — every core loss as a differentiable torch
  function (backward by ``jax.vjp``); :func:`wrap_loss` for your own.
* :mod:`maskjax.torch.metrics` — every core metric; streaming metric classes
  as stateful :class:`Metric` wrappers (``update`` / ``compute`` / ``reset``).

Import on demand: ``import maskjax.torch as mt``.

Example:
  >>> import torch, maskjax, maskjax.torch as mt
  >>> values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
  >>> mask = torch.tensor([[1, 1, 0], [1, 0, 0]], dtype=torch.bool)
  >>> mt.from_jax(maskjax.reduce(mt.to_jax(values), mask=mt.to_jax(mask)))
  tensor(2.3333)
"""

from maskjax.torch._convert import copy_reason, from_jax, to_jax
from maskjax.torch._stateful import Metric
from maskjax.torch._wrap import wrap_loss, wrap_metric
from maskjax.torch import losses, metrics  # noqa: E402  (after the helpers they use)

__all__ = ["to_jax", "from_jax", "copy_reason", "wrap_loss", "wrap_metric", "Metric",
           "losses", "metrics"]
