"""Every ``maskjax.metrics`` name for PyTorch tensors (generated; no maths).

Functions mirror the core one-shot metrics (tensors in, detached; tensors out
on the same device). Streaming metric classes become stateful
:class:`maskjax.torch.Metric` wrappers with ``update`` / ``compute`` /
``reset``: ``maskjax.torch.metrics.F1Score(task=..., num_classes=...)``.

Example:
  >>> import maskjax.metrics, maskjax.torch.metrics as tm
  >>> sorted(tm.__all__) == sorted(maskjax.metrics.__all__)
  True
"""

import maskjax.metrics as _core
from maskjax import _interop
from maskjax.torch._stateful import stateful_class as _stateful_class
from maskjax.torch._wrap import wrap_metric as _wrap_metric

globals().update(_interop.mirror(_core, _wrap_metric, _stateful_class, __name__))
__all__ = list(_core.__all__)
