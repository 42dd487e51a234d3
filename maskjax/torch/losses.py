"""Every ``maskjax.losses`` function for PyTorch tensors (generated; no maths).

Each name mirrors the core loss of the same name: torch tensors in, a torch
tensor out on the same device, differentiable (a ``torch.autograd.Function``
whose backward runs ``jax.vjp``). Options pass through unchanged; tensor
options (``mask``, ``sample_weight``, ``class_weight``, ``pos_weight``) are
converted. :func:`maskjax.torch.wrap_loss` does the same for your own JAX loss.

Example:
  >>> import maskjax.losses, maskjax.torch.losses as tl
  >>> sorted(tl.__all__) == sorted(maskjax.losses.__all__)
  True
"""

import maskjax.losses as _core
from maskjax import _interop
from maskjax.torch._wrap import wrap_loss as _wrap_loss

globals().update(_interop.mirror(_core, _wrap_loss, None, __name__))
__all__ = list(_core.__all__)
