"""PNG plots for ``maskjax demo`` / ``maskjax report`` (matplotlib, imported lazily).

The functions take plain NumPy arrays (already computed by ``maskjax.metrics``)
and only draw. They build a ``matplotlib.figure.Figure`` with the Agg canvas
directly, so they never touch pyplot or the user's global backend.
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np

MAX_CURVES = 10  # per-class curves drawn on one plot (the rest are summarised by the average)


def available() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str) -> str:
    fig.savefig(path, format="png")
    return path


def confusion_matrix(cm: np.ndarray, names: Sequence[str], path: str, *, title: str = "Confusion matrix") -> str:
    """Heatmap of a ``[C, C]`` (true × predicted) matrix, coloured by row share (recall)."""
    cm = np.asarray(cm, np.float64)
    c = cm.shape[0]
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    size = min(3.5 + 0.5 * c, 14.0)
    fig = _figure(size + 1.0, size)
    ax = fig.add_subplot()
    im = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(im, ax=ax, label="share of the true class (row)")
    ticks = np.arange(c)
    ax.set_xticks(ticks, labels=list(names), rotation=45 if c > 6 else 0, ha="right" if c > 6 else "center")
    ax.set_yticks(ticks, labels=list(names))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if c <= 20:
        integral = np.all(cm == np.round(cm))
        for i in range(c):
            for j in range(c):
                text = f"{int(cm[i, j])}" if integral else f"{cm[i, j]:.3g}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.5 else "black")
    return _save(fig, path)


def label_confusion(cells: np.ndarray, names: Sequence[str], path: str,
                    *, title: str = "Per-label confusion (multi-label)") -> str:
    """Multi-label: one row per label with its tp / fp / fn / tn counts as a heatmap."""
    cells = np.asarray(cells, np.float64)  # [L, 4] = tp, fp, fn, tn
    n = cells.shape[0]
    share = cells / np.maximum(cells.sum(axis=1, keepdims=True), 1e-12)
    fig = _figure(6.0, min(2.0 + 0.35 * n, 14.0))
    ax = fig.add_subplot()
    im = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    fig.colorbar(im, ax=ax, label="share of the label's elements")
    ax.set_xticks(range(4), labels=["TP", "FP", "FN", "TN"])
    ax.set_yticks(range(n), labels=list(names))
    ax.set_title(title)
    if n <= 30:
        for i in range(n):
            for j in range(4):
                ax.text(j, i, f"{cells[i, j]:.4g}", ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.5 else "black")
    return _save(fig, path)


def _curves(path: str, curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, xlabel: str, ylabel: str,
            title: str, diagonal: bool, baseline: float | None = None) -> str:
    fig = _figure(6.0, 5.0)
    ax = fig.add_subplot()
    for i, (name, (x, y)) in enumerate(curves.items()):
        if i >= MAX_CURVES:
            break
        ax.plot(np.asarray(x), np.asarray(y), lw=1.5, label=name, drawstyle="steps-post" if not diagonal else None)
    if diagonal:
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    if baseline is not None:
        ax.axhline(baseline, ls="--", color="grey", lw=1, label=f"prevalence {baseline:.3f}")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right" if diagonal else "lower left", fontsize=8)
    return _save(fig, path)


def roc(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str, *, title: str = "ROC curves") -> str:
    """ROC curves: ``{legend: (fpr, tpr)}``."""
    return _curves(path, curves, xlabel="false positive rate", ylabel="true positive rate (recall)",
                   title=title, diagonal=True)


def precision_recall(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str, *,
                     baseline: float | None = None, title: str = "Precision-recall curves") -> str:
    """PR curves: ``{legend: (recall, precision)}``."""
    return _curves(path, curves, xlabel="recall", ylabel="precision", title=title, diagonal=False,
                   baseline=baseline)


def reliability(confidence: np.ndarray, accuracy: np.ndarray, weight: np.ndarray, path: str, *,
                ece: float | None = None, title: str = "Reliability diagram") -> str:
    """Reliability diagram from ``maskjax.metrics.reliability_diagram`` data (``n_bins + 1`` entries).

    Bars: accuracy of the equal-width bins ``[k/n, (k+1)/n)``; dots: (mean
    confidence, accuracy) of every non-empty bin, including the last entry
    (confidence exactly 1.0); below, each bin's share of the weight.
    """
    confidence = np.asarray(confidence, np.float64)
    accuracy = np.asarray(accuracy, np.float64)
    weight = np.asarray(weight, np.float64)
    n = len(weight) - 1
    centers = (np.arange(n) + 0.5) / n
    used = weight > 0
    share = weight / weight.sum() if weight.sum() > 0 else weight
    fig = _figure(5.5, 6.0)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.bar(centers[used[:n]], accuracy[:n][used[:n]], width=1.0 / n, edgecolor="black", alpha=0.6,
            label="accuracy per bin")
    top.plot(confidence[used], accuracy[used], "o", color="C1", ms=4, label="(mean confidence, accuracy)")
    top.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    top.set_ylim(0, 1.02)
    top.set_ylabel("accuracy")
    top.set_title(title + (f" (ECE {ece:.4f})" if ece is not None else ""))
    top.legend(loc="upper left", fontsize=8)
    top.grid(alpha=0.3)
    bottom.bar(centers, share[:n], width=1.0 / n, edgecolor="black", color="C2", alpha=0.7)
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("share")
    bottom.set_xlim(0, 1.02)
    return _save(fig, path)


def ensure_dir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path
