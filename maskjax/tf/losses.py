"""Every ``maskjax.losses`` function for TensorFlow tensors (generated; no maths).

Tensors in, a differentiable tensor out (``tf.custom_gradient`` over
``jax.vjp``); works eagerly and inside ``tf.function`` (via
``tf.py_function``; not XLA-compilable).

Example:
  >>> import maskjax.losses, maskjax.tf.losses as tfl
  >>> sorted(tfl.__all__) == sorted(maskjax.losses.__all__)
  True
"""

import maskjax.losses as _core
from maskjax import _interop
from maskjax.tf._wrap import wrap_loss as _wrap_loss

globals().update(_interop.mirror(_core, _wrap_loss, None, __name__))
__all__ = list(_core.__all__)
