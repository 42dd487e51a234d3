"""Every ``maskjax.metrics`` function for TensorFlow tensors (generated; no maths).

Streaming metric classes are re-exported unchanged; for a stateful metric in
TF / Keras use :class:`maskjax.keras.Metric` (state kept as Keras variables).

Example:
  >>> import maskjax.metrics, maskjax.tf.metrics as tfm
  >>> sorted(tfm.__all__) == sorted(maskjax.metrics.__all__)
  True
"""

import maskjax.metrics as _core
from maskjax import _interop
from maskjax.tf._wrap import wrap_metric as _wrap_metric

globals().update(_interop.mirror(_core, _wrap_metric, None, __name__))
__all__ = list(_core.__all__)
