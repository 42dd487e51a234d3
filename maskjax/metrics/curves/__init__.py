"""Curves, ranking and calibration, one module per metric family.

* :mod:`~maskjax.metrics.curves._roc` — ``roc_curve``, ``auroc``, ``ROC``, ``AUROC``;
* :mod:`~maskjax.metrics.curves._precision_recall_curve` — ``precision_recall_curve``,
  ``average_precision``, ``PRCurve``, ``AveragePrecision``;
* :mod:`~maskjax.metrics.curves._calibration` — ``calibration_error``, ``reliability_diagram``,
  ``CalibrationError``;
* :mod:`~maskjax.metrics.curves._best_threshold` — ``best_threshold``;
* :mod:`~maskjax.metrics.curves._exact` (sort-based maths) and :mod:`~maskjax.metrics.curves._binned`
  (histogram maths), shared by all of them; :mod:`~maskjax.metrics.curves._common` the one-shot runner
  and the streaming base class.

The public names are re-exported from :mod:`maskjax.metrics`.
"""
