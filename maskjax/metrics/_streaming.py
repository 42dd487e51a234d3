"""Streaming metric objects and collections (DESIGN.md, "Streaming state").

The public names live in private modules and are re-exported here:

* :mod:`maskjax.metrics._stream_base` — the ``Metric`` base class, ``Mean``,
  ``Sum``, ``Collection``, ``HostAccumulator`` and the cross-device /
  cross-process reductions.
* :mod:`maskjax.metrics._objects` — one class per functional metric
  (confusion metrics) and :mod:`maskjax.metrics._objects_curves` (curves and
  calibration), each a thin wrapper around the functional
  module's internal update (additive state) and compute: no maths of its own.
"""

from maskjax.metrics import _objects, _objects_curves
from maskjax.metrics._objects import *  # noqa: F401,F403
from maskjax.metrics._objects_curves import *  # noqa: F401,F403
from maskjax.metrics._stream_base import (
    Collection,
    HostAccumulator,
    Mean,
    Metric,
    Sum,
    psum_state,
    merge_across_processes,
)

__all__ = [
    "Metric",
    "Mean",
    "Sum",
    "Collection",
    "HostAccumulator",
    "merge_across_processes",
    "psum_state",
] + list(_objects.__all__) + list(_objects_curves.__all__)
