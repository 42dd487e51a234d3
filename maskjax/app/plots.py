"""PNG files for ``maskjax demo`` / ``maskjax report``: thin wrappers over :mod:`maskjax.plot`.

There is one plotting module, :mod:`maskjax.plot`; these functions only fix the
report's layout (legend names, inputs as the report computes them) and write
the figure to ``path``. They never touch pyplot or the user's global backend.
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np

from maskjax import plot

MAX_CURVES = plot.MAX_CURVES  # per-class curves drawn on one plot


def available() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _save(ax, path: str) -> str:
    ax.figure.savefig(path, format="png")
    return path


def confusion_matrix(cm: np.ndarray, names: Sequence[str], path: str, *, title: str = "Confusion matrix") -> str:
    """Heatmap of a ``[C, C]`` (true × predicted) matrix, coloured by row share (recall)."""
    return _save(plot.confusion_matrix(cm, display_labels=list(names), title=title), path)


def label_confusion(cells: np.ndarray, names: Sequence[str], path: str,
                    *, title: str = "Per-label confusion (multi-label)") -> str:
    """Multi-label: one row per label with its ``[L, 4]`` tp / fp / fn / tn counts as a heatmap."""
    tp, fp, fn, tn = np.asarray(cells, np.float64).T
    cm = np.stack([np.stack([tn, fp], -1), np.stack([fn, tp], -1)], 1)     # [L, 2, 2] = [[tn, fp], [fn, tp]]
    return _save(plot.multilabel_confusion_matrix(cm, display_labels=list(names), title=title), path)


def roc(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str, *, title: str = "ROC curves") -> str:
    """ROC curves: ``{legend: (fpr, tpr)}``."""
    return _save(plot.roc_curve(dict(curves), title=title), path)


def precision_recall(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str, *,
                     baseline: float | None = None, title: str = "Precision-recall curves") -> str:
    """PR curves: ``{legend: (recall, precision)}``."""
    pr = {name: (precision, recall) for name, (recall, precision) in curves.items()}   # maskjax.plot: sklearn order
    return _save(plot.precision_recall_curve(pr, baseline=baseline, title=title), path)


def reliability(confidence: np.ndarray, accuracy: np.ndarray, weight: np.ndarray, path: str, *,
                ece: float | None = None, title: str = "Reliability diagram") -> str:
    """Reliability diagram from ``maskjax.metrics.reliability_diagram`` data (``n_bins + 1`` entries)."""
    return _save(plot.reliability_diagram((confidence, accuracy, weight), ece=ece, title=title), path)


def ensure_dir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path
