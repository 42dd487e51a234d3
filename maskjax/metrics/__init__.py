"""Metrics: one-shot functions and streaming metric objects (see DESIGN.md).

Each private module defines ``__all__``; the names are re-exported here.
"""

from maskjax.metrics import _classification, _curves, _streaming
from maskjax.metrics._classification import *  # noqa: F401,F403
from maskjax.metrics._curves import *  # noqa: F401,F403
from maskjax.metrics._streaming import *  # noqa: F401,F403

__all__ = list(_classification.__all__) + list(_curves.__all__) + list(_streaming.__all__)
