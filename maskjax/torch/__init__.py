"""PyTorch front: torch's conventions, tensors in, tensors out on the tensors' device. No maths.

torch conventions, explicitly: losses take **logits** (``from_logits=True``);
the **class axis is 1** for ``[N, C, d...]`` in losses and metrics (as
``F.cross_entropy`` and torchmetrics); **int64** labels (range-checked, never
wrapped); ``cross_entropy`` ignores **-100** as torch does. float64 tensors are
computed in float32 while JAX's 64-bit mode is off (a ``UserWarning`` says so
once; ``jax.config.update("jax_enable_x64", True)`` keeps float64).

* :mod:`maskjax.torch.losses` — every core loss as a differentiable torch
  function (the gradient JAX computes with the value flows back into the torch
  graph); :func:`wrap_loss` for your own JAX loss.
* :mod:`maskjax.torch.metrics` — every core metric; streaming metric classes
  as thread-safe stateful :class:`Metric` wrappers (``update`` / ``compute`` /
  ``reset``).
* **Shape buckets** (on by default): non-class axes are padded to a few sizes
  (powers of two and 1.5×) with the padding masked, so a dynamic-padding loop
  compiles a handful of programs; results are unchanged.
  ``mt.set_buckets(None)`` (or ``"pow2"``), ``with mt.buckets(None): ...``, or
  the environment variable ``MASKJAX_BUCKETS=off`` switch them. A bucket-shaped
  shape called 4 times in a row gets its own exact program.
* **Batched updates** (CPU): after 8 same-shaped updates in a row, a stateful
  metric copies each small batch into host slots and applies 16 at a time in
  one program (same updates, same order); any read of the state applies what
  is pending (``maskjax.torch._stateful.BATCH_AFTER``).
* **Pooled updates** (CPU, dynamic shapes): for metrics whose updates commute
  (exact integer counts, no ``sample_weight``: ``updates_commute()``), each
  shape bucket's batches wait in that bucket's slots and go up to 16 at a time
  in one program, the bucket's only update program (``POOL_SLOTS``).
* **One copy of a step's logits**: the padded / transposed copy the loss makes
  of an autograd output is reused by the next update on the same unchanged
  tensor (same memory, strides and torch version counter).
* **torch.compile**: losses, one-tensor metrics and metric updates run as
  opaque ``torch.library`` custom ops (``maskjax::call``,
  ``maskjax::metric_update_``) with fake implementations and autograd
  registered; ``fullgraph=True`` works.
* **JAX CPU defaults**: importing ``maskjax.torch`` before anything has
  started JAX makes CPU programs run in the calling thread and on one XLA
  thread (a torch loop reads every result at once, and torch's threads run
  the model): W8 1.9× → 1.6×, W9 1.8× → 1.5× native. ``MASKJAX_CPU_ASYNC_DISPATCH=1``
  / ``PJRT_NPROC=<n>`` keep JAX's own (:mod:`maskjax.torch._dispatch`).
* :func:`to_jax` / :func:`from_jax` — zero-copy through DLPack where the data
  allows; :func:`copy_reason` says in advance.

Install: ``pip install "maskjax[torch]"``. Import on demand: ``import maskjax.torch as mt``.

Example:
  >>> import torch, maskjax, maskjax.torch as mt
  >>> values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
  >>> mask = torch.tensor([[1, 1, 0], [1, 0, 0]], dtype=torch.bool)
  >>> mt.from_jax(maskjax.reduce(mt.to_jax(values), mask=mt.to_jax(mask)))
  tensor(2.3333)
"""

try:
    import torch as _torch  # noqa: F401
except ImportError as _err:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        'maskjax.torch needs PyTorch, which is not installed. Install it with: pip install "maskjax[torch]" '
        "(or pip install torch)."
    ) from _err

from maskjax.torch import _dispatch as _dispatch

_dispatch.configure_cpu_client()  # synchronous, one-thread CPU programs if JAX has not started

from maskjax._buckets import current_policy as bucket_policy  # noqa: E402
from maskjax._buckets import policy_scope as buckets
from maskjax._buckets import set_policy as set_buckets
from maskjax.torch._convert import copy_reason
from maskjax.torch._convert import from_jax
from maskjax.torch._convert import to_jax
from maskjax.torch._stateful import Metric
from maskjax.torch._wrap import wrap_loss
from maskjax.torch._wrap import wrap_metric
from maskjax.torch import _front as _front

if _front.HAVE_OPS:  # torch >= 2.4: register the torch.compile custom ops
    from maskjax.torch import _ops  # noqa: F401
from maskjax.torch import losses  # noqa: E402
from maskjax.torch import metrics  # noqa: E402

__all__ = [
    "Metric",
    "bucket_policy",
    "buckets",
    "copy_reason",
    "from_jax",
    "losses",
    "metrics",
    "set_buckets",
    "to_jax",
    "wrap_loss",
    "wrap_metric",
]
