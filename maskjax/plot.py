"""Plots of maskjax results: matplotlib ``Axes`` back, no maths, no pyplot.

Every function draws already-computed numbers (the arrays or named tuples that
``maskjax.metrics`` returns, or plain NumPy arrays) and returns the
``matplotlib.axes.Axes`` it drew on, so a caller can restyle or save it
(``ax.figure.savefig("roc.png")``). Pass ``ax=`` to draw into your own figure
(e.g. ``fig, ax = plt.subplots()`` in a notebook); without it each function
builds a new ``matplotlib.figure.Figure`` on the Agg canvas, never touching
pyplot or the global backend (safe in scripts, servers and the CLI).

| function | draws | input |
|---|---|---|
| `confusion_matrix` | heatmap coloured by row share, counts written | `[C, C]` (true × predicted) |
| `multilabel_confusion_matrix` | one row per label: TP / FP / FN / TN | `[L, 2, 2]` (sklearn layout) |
| `roc_curve`, `precision_recall_curve` | one line per curve | `maskjax.metrics.roc_curve(...)` results, tuples, or `{name: curve}` |
| `reliability_diagram` | accuracy per confidence bin, and bin shares | `maskjax.metrics.reliability_diagram(...)` |
| `per_class` | grouped bars: metrics × classes | `{metric: [C]}` |
| `per_group` | bars with optional `[lower, upper]` intervals | `[G]` values (groups, bootstrap intervals) |

matplotlib is an optional dependency (``pip install "maskjax[cli]"``); it is
imported when a function is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence, Union

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # matplotlib is optional: imported lazily at call time
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "confusion_matrix",
    "multilabel_confusion_matrix",
    "roc_curve",
    "precision_recall_curve",
    "reliability_diagram",
    "per_class",
    "per_group",
]

#: Curves drawn on one plot at most; the rest are left out (a legend note says how many).
MAX_CURVES = 10

#: A curve as returned by ``maskjax.metrics.roc_curve`` / ``precision_recall_curve``
#: (an object with ``.trim()``), a tuple of arrays in the same order, or ``{legend: curve}``.
Curves = Union[Any, Sequence[ArrayLike], Mapping[str, Any]]


def _import_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as err:  # pragma: no cover - exercised in a subprocess test
        raise ImportError(
            'maskjax.plot needs matplotlib: pip install "maskjax[cli]" (or pip install matplotlib)') from err


def _figure(width: float, height: float) -> Figure:
    """A new Figure on the Agg canvas (no pyplot, no global backend)."""
    _import_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _axes(ax: Axes | None, width: float, height: float) -> Axes:
    """``ax`` itself, or the Axes of a new Agg-backed Figure."""
    if ax is not None:
        _import_matplotlib()
        return ax
    return _figure(width, height).add_subplot()


def _matrix(name: str, value: ArrayLike, ndim: int, expected: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {expected}; received an array of shape {arr.shape}")
    return arr


def _labels(name: str, labels: Sequence[str] | None, n: int) -> list[str]:
    if labels is None:
        return [str(i) for i in range(n)]
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise TypeError(f"{name} must be a sequence of {n} strings; received {type(labels).__name__}")
    if len(labels) != n:
        raise ValueError(f"{name} must have {n} entries (one per row); received {len(labels)}")
    return [str(x) for x in labels]


def confusion_matrix(cm: ArrayLike, *, display_labels: Sequence[str] | None = None, ax: Axes | None = None,
                     title: str = "Confusion matrix", cmap: str = "Blues") -> Axes:
    """Heatmap of a confusion matrix, coloured by row share (each class's recall), counts written in.

    Args:
        cm: ``[C, C]`` counts or weights, rows = true class, columns = predicted class
            (``maskjax.metrics.confusion_matrix``, scikit-learn's layout). A binary ``[2, 2]``
            works as is.
        display_labels: ``C`` class names (default ``"0" … "C-1"``).
        ax: Axes to draw on; default: a new figure.
        title: Axes title.
        cmap: matplotlib colormap name.

    Returns:
        The ``Axes``: x = predicted, y = true; cell colour = ``cm[i, j] / Σ_j cm[i, j]``.

    Example:
        >>> import numpy as np, maskjax.plot
        >>> ax = maskjax.plot.confusion_matrix(np.array([[5, 1], [2, 7]]), display_labels=["no", "yes"])
        >>> ax.get_xlabel(), ax.get_ylabel(), [t.get_text() for t in ax.texts]
        ('predicted', 'true', ['5', '1', '2', '7'])
    """
    m = _matrix("cm", cm, 2, "a [C, C] matrix")
    if m.shape[0] != m.shape[1]:
        raise ValueError(f"cm must be square [C, C]; received shape {m.shape}")
    c = m.shape[0]
    names = _labels("display_labels", display_labels, c)
    rows = m.sum(axis=1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    size = min(3.5 + 0.5 * c, 14.0)
    ax = _axes(ax, size + 1.0, size)
    im = ax.imshow(share, cmap=cmap, vmin=0.0, vmax=1.0)
    ax.figure.colorbar(im, ax=ax, label="share of the true class (row)")
    ticks = np.arange(c)
    rotate = c > 6
    ax.set_xticks(ticks, labels=names, rotation=45 if rotate else 0, ha="right" if rotate else "center")
    ax.set_yticks(ticks, labels=names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if c <= 20:
        integral = bool(np.all(m == np.round(m)))
        for i in range(c):
            for j in range(c):
                text = f"{int(m[i, j])}" if integral else f"{m[i, j]:.3g}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.5 else "black")
    return ax


def multilabel_confusion_matrix(cm: ArrayLike, *, display_labels: Sequence[str] | None = None,
                                ax: Axes | None = None,
                                title: str = "Per-label confusion (multi-label)") -> Axes:
    """Multi-label confusion: one row per label, columns TP / FP / FN / TN, coloured by share.

    Args:
        cm: ``[L, 2, 2]`` per-label matrices ``[[tn, fp], [fn, tp]]``
            (``maskjax.metrics.confusion_matrix(..., task="multilabel")``, scikit-learn's
            ``multilabel_confusion_matrix``).
        display_labels: ``L`` label names.
        ax: Axes to draw on; default: a new figure.
        title: Axes title.

    Returns:
        The ``Axes``: rows = labels, columns = ``TP, FP, FN, TN``; colour = cell / row total.

    Example:
        >>> import numpy as np, maskjax.plot
        >>> cm = np.array([[[90, 2], [3, 5]], [[80, 10], [0, 10]]])
        >>> ax = maskjax.plot.multilabel_confusion_matrix(cm, display_labels=["cat", "dog"])
        >>> [t.get_text() for t in ax.get_xticklabels()], [t.get_text() for t in ax.texts][:4]
        (['TP', 'FP', 'FN', 'TN'], ['5', '2', '3', '90'])
    """
    m = _matrix("cm", cm, 3, "an [L, 2, 2] array")
    if m.shape[1:] != (2, 2):
        raise ValueError(f"cm must be an [L, 2, 2] array; received shape {m.shape}")
    n = m.shape[0]
    names = _labels("display_labels", display_labels, n)
    cells = np.stack([m[:, 1, 1], m[:, 0, 1], m[:, 1, 0], m[:, 0, 0]], axis=1)   # tp, fp, fn, tn
    share = cells / np.maximum(cells.sum(axis=1, keepdims=True), 1e-12)
    ax = _axes(ax, 6.0, min(2.0 + 0.35 * n, 14.0))
    im = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.figure.colorbar(im, ax=ax, label="share of the label's elements")
    ax.set_xticks(range(4), labels=["TP", "FP", "FN", "TN"])
    ax.set_yticks(range(n), labels=names)
    ax.set_xlabel("outcome")
    ax.set_ylabel("label")
    ax.set_title(title)
    if n <= 30:
        for i in range(n):
            for j in range(4):
                ax.text(j, i, f"{cells[i, j]:.4g}", ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.5 else "black")
    return ax


def _named_curves(curves: Curves, names: Sequence[str] | None, arg: str) -> list[tuple[str, tuple[Any, ...]]]:
    """``[(legend, (a, b, ...))]`` from a curve result, a tuple of arrays, a list of them, or a mapping."""
    if isinstance(curves, Mapping):
        out = []
        for key, value in curves.items():
            single = _named_curves(value, None, arg)
            if len(single) != 1:
                raise ValueError(f"{arg}[{key!r}] must be one curve; received {len(single)}")
            out.append((str(key), single[0][1]))
        return out
    if hasattr(curves, "trim"):
        curves = curves.trim()
    if isinstance(curves, (tuple, list)) and curves and isinstance(curves[0], (tuple, list)):
        many = [tuple(c) for c in curves]
    elif isinstance(curves, (tuple, list)) and len(curves) >= 2:
        many = [tuple(curves)]
    else:
        raise TypeError(f"{arg} must be a curve from maskjax.metrics, a tuple of arrays, a list of them or "
                        f"a {{name: curve}} mapping; received {type(curves).__name__}")
    for c in many:
        if len(c) < 2 or np.ndim(c[0]) != 1 or np.shape(c[0]) != np.shape(c[1]):
            raise ValueError(f"{arg}: each curve must hold two 1-D arrays of one length; received shapes "
                             f"{[np.shape(a) for a in c]}")
    if names is None:
        labels = [""] if len(many) == 1 else [str(i) for i in range(len(many))]
    else:
        labels = _labels("names", names, len(many))
    return list(zip(labels, many))


def _draw_curves(ax: Axes, curves: list[tuple[str, tuple[np.ndarray, np.ndarray]]], *, steps: bool) -> None:
    for name, (x, y) in curves[:MAX_CURVES]:
        ax.plot(np.asarray(x), np.asarray(y), lw=1.5, label=name or None,
                drawstyle="steps-post" if steps else "default")
    if len(curves) > MAX_CURVES:
        ax.plot([], [], " ", label=f"({len(curves) - MAX_CURVES} more not drawn)")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.grid(alpha=0.3)


def roc_curve(curves: Curves, *, names: Sequence[str] | None = None, ax: Axes | None = None,
              title: str = "ROC curve", chance: bool = True) -> Axes:
    """ROC curves: true positive rate against false positive rate.

    Args:
        curves: ``maskjax.metrics.roc_curve(...)`` (binary, or one curve per class), an
            ``(fpr, tpr[, thresholds])`` tuple of 1-D arrays, a list of them, or
            ``{legend: curve}``.
        names: legends when ``curves`` holds several unnamed curves (e.g. class names).
        ax: Axes to draw on; default: a new figure.
        title: Axes title.
        chance: draw the diagonal of a random classifier.

    Returns:
        The ``Axes`` (x: false positive rate, y: true positive rate), at most
        ``MAX_CURVES`` lines.

    Example:
        >>> import numpy as np, maskjax.plot
        >>> from maskjax import metrics as M
        >>> p, y = np.array([0.1, 0.4, 0.35, 0.8], np.float32), np.array([0, 0, 1, 1])
        >>> ax = maskjax.plot.roc_curve({"model (AUC 0.75)": M.roc_curve(p, y)})
        >>> ax.get_xlabel(), ax.lines[0].get_label()
        ('false positive rate', 'model (AUC 0.75)')
    """
    named = [(n, (c[0], c[1])) for n, c in _named_curves(curves, names, "curves")]
    ax = _axes(ax, 6.0, 5.0)
    _draw_curves(ax, named, steps=False)
    if chance:
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate (recall)")
    ax.set_title(title)
    if any(n for n, _ in named) or chance:
        ax.legend(loc="lower right", fontsize=8)
    return ax


def precision_recall_curve(curves: Curves, *, names: Sequence[str] | None = None, ax: Axes | None = None,
                           baseline: float | None = None, title: str = "Precision-recall curve") -> Axes:
    """Precision-recall curves: precision against recall, drawn as steps (as average precision sums them).

    Args:
        curves: ``maskjax.metrics.precision_recall_curve(...)``, a ``(precision, recall[,
            thresholds])`` tuple of 1-D arrays (scikit-learn's order), a list of them, or
            ``{legend: curve}``.
        names: legends when ``curves`` holds several unnamed curves.
        ax: Axes to draw on; default: a new figure.
        baseline: the prevalence (share of positives) to draw as the random classifier's
            precision, or ``None``.
        title: Axes title.

    Returns:
        The ``Axes`` (x: recall, y: precision).

    Example:
        >>> import numpy as np, maskjax.plot
        >>> from maskjax import metrics as M
        >>> p, y = np.array([0.1, 0.4, 0.35, 0.8], np.float32), np.array([0, 0, 1, 1])
        >>> ax = maskjax.plot.precision_recall_curve(M.precision_recall_curve(p, y), baseline=0.5)
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('recall', 'precision')
    """
    named = [(n, (c[1], c[0])) for n, c in _named_curves(curves, names, "curves")]
    ax = _axes(ax, 6.0, 5.0)
    _draw_curves(ax, named, steps=True)
    if baseline is not None:
        ax.axhline(float(baseline), ls="--", color="grey", lw=1, label=f"prevalence {float(baseline):.3f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(title)
    if any(n for n, _ in named) or baseline is not None:
        ax.legend(loc="lower left", fontsize=8)
    return ax


def reliability_diagram(diagram: Any, *, ece: float | None = None, ax: Axes | None = None,
                        title: str = "Reliability diagram", show_share: bool = True) -> Axes:
    """Reliability diagram: accuracy per confidence bin against perfect calibration.

    Bars: the accuracy of the equal-width bins ``[k/n, (k+1)/n)``; dots: (mean confidence,
    accuracy) of every non-empty bin, including the last entry (confidence exactly 1.0).
    With a new figure and ``show_share``, a second panel below shows each bin's share of
    the weight.

    Args:
        diagram: ``maskjax.metrics.reliability_diagram(...)`` or a ``(confidence, accuracy,
            weight)`` tuple of ``[n_bins + 1]`` arrays.
        ece: expected calibration error to show in the title
            (``maskjax.metrics.calibration_error``), or ``None``.
        ax: Axes to draw on; default: a new figure.
        title: Axes title.
        show_share: draw the bin-share panel (new figures only).

    Returns:
        The reliability ``Axes`` (x: confidence, y: accuracy).

    Example:
        >>> import numpy as np, maskjax.plot
        >>> from maskjax import metrics as M
        >>> p = np.array([0.9, 0.8, 0.3, 0.6, 0.1], np.float32); y = np.array([1, 1, 0, 0, 0])
        >>> ax = maskjax.plot.reliability_diagram(M.reliability_diagram(p, y, n_bins=5))
        >>> ax.get_ylabel(), len(ax.figure.axes)
        ('accuracy', 2)
    """
    if all(hasattr(diagram, f) for f in ("confidence", "accuracy", "weight")):
        parts = (diagram.confidence, diagram.accuracy, diagram.weight)
    elif isinstance(diagram, (tuple, list)) and len(diagram) >= 3:
        parts = tuple(diagram[:3])
    else:
        raise TypeError("diagram must be maskjax.metrics.reliability_diagram(...) or a (confidence, accuracy, "
                        f"weight) tuple; received {type(diagram).__name__}")
    confidence, accuracy, weight = (np.asarray(a, np.float64).reshape(-1) for a in parts)
    if not (len(confidence) == len(accuracy) == len(weight) >= 2):
        raise ValueError("diagram: confidence, accuracy and weight must be [n_bins + 1] arrays of one length; "
                         f"received {len(confidence)}, {len(accuracy)}, {len(weight)}")
    n = len(weight) - 1
    centers = (np.arange(n) + 0.5) / n
    used = weight > 0
    total = weight.sum()
    share = weight / total if total > 0 else weight
    bottom = None
    if ax is None and show_share:
        ax, bottom = _figure(5.5, 6.0).subplots(2, 1, sharex=True, height_ratios=[3, 1])
    else:
        ax = _axes(ax, 5.5, 4.5)
    ax.bar(centers[used[:n]], accuracy[:n][used[:n]], width=1.0 / n, edgecolor="black", alpha=0.6,
           label="accuracy per bin")
    ax.plot(confidence[used], accuracy[used], "o", color="C1", ms=4, label="(mean confidence, accuracy)")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("accuracy")
    ax.set_title(title + (f" (ECE {float(ece):.4f})" if ece is not None else ""))
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    if bottom is not None:
        bottom.bar(centers, share[:n], width=1.0 / n, edgecolor="black", color="C2", alpha=0.7)
        bottom.set_xlabel("confidence")
        bottom.set_ylabel("share")
    else:
        ax.set_xlabel("confidence")
    return ax


def _values(name: str, values: ArrayLike, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values, np.float64)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        want = f"[{n}]" if n is not None else "a 1-D array"
        raise ValueError(f"{name} must be {want}; received shape {arr.shape}")
    return arr


def per_class(values: Mapping[str, ArrayLike] | ArrayLike, *, class_names: Sequence[str] | None = None,
              ax: Axes | None = None, ylabel: str = "value", title: str = "Per-class metrics") -> Axes:
    """Grouped bars: one group per class, one bar per metric.

    Args:
        values: ``{metric name: [C] values}`` (e.g. ``average=None`` results) or one ``[C]``
            array. ``nan`` (a class left out, e.g. ``zero_division=nan``) draws a zero-height bar.
        class_names: ``C`` class names (default ``"0" … "C-1"``).
        ax: Axes to draw on; default: a new figure.
        ylabel: y-axis label.
        title: Axes title.

    Returns:
        The ``Axes`` (x: class, y: ``ylabel``).

    Example:
        >>> import numpy as np, maskjax.plot
        >>> from maskjax import metrics as M
        >>> p, y = np.array([0, 1, 1, 2, 2]), np.array([0, 1, 2, 2, 2])
        >>> kw = dict(task="multiclass", num_classes=3, average=None)
        >>> ax = maskjax.plot.per_class({"precision": M.precision(p, y, **kw), "recall": M.recall(p, y, **kw)})
        >>> ax.get_xlabel(), len(ax.patches), [t.get_text() for t in ax.get_legend().get_texts()]
        ('class', 6, ['precision', 'recall'])
    """
    series = dict(values) if isinstance(values, Mapping) else {"": values}
    if not series:
        raise ValueError("values must hold at least one metric; received an empty mapping")
    arrays = {k: _values(f"values[{k!r}]" if k else "values", v) for k, v in series.items()}
    c = len(next(iter(arrays.values())))
    for k, v in arrays.items():
        if len(v) != c:
            raise ValueError(f"values[{k!r}] must be [{c}] like the first metric; received [{len(v)}]")
    names = _labels("class_names", class_names, c)
    ax = _axes(ax, min(max(4.0, 1.0 + 0.4 * c * len(arrays) ** 0.5), 14.0), 3.5)
    width = 0.8 / len(arrays)
    x = np.arange(c)
    for i, (k, v) in enumerate(arrays.items()):
        ax.bar(x - 0.4 + width * (i + 0.5), np.nan_to_num(v, nan=0.0), width, label=k or None)
    ax.set_xticks(x, labels=names, rotation=45 if c > 8 else 0, ha="right" if c > 8 else "center")
    ax.set_xlabel("class")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if any(arrays.keys() - {""}):
        ax.legend(fontsize=8)
    return ax


def per_group(values: Mapping[str, Any] | ArrayLike, *, lower: ArrayLike | None = None,
              upper: ArrayLike | None = None, group_names: Sequence[str] | None = None,
              ax: Axes | None = None, ylabel: str = "value", title: str = "Per-group results") -> Axes:
    """Bars per group (or per metric) with optional interval error bars ``[lower, upper]``.

    For per-group results (one metric over data subsets, ``maskjax.metrics.Grouped``) and
    interval estimates (``maskjax.metrics.Bootstrap``): the bar is the value, the error bar
    spans ``[lower, upper]``.

    Args:
        values: ``[G]`` values, ``{group name: value}``, or a ``Bootstrap`` result
            ``{"value", "lower", "upper", ...}`` whose value is ``[G]`` (a ``Grouped`` metric;
            name the groups with ``group_names``) or ``{metric: scalar}`` (a ``Collection``:
            one bar per metric). The intervals then come from the result.
        lower: ``[G]`` lower ends of the intervals (with ``upper``), or ``None``.
        upper: ``[G]`` upper ends, or ``None``.
        group_names: ``G`` names when ``values`` is an array.
        ax: Axes to draw on; default: a new figure.
        ylabel: y-axis label.
        title: Axes title.

    Returns:
        The ``Axes`` (x: group, y: ``ylabel``).

    Raises:
        ValueError: only one of ``lower`` / ``upper`` given, a shape other than ``[G]``, or
            ``lower > upper``.

    Example:
        >>> import numpy as np, maskjax.plot
        >>> ax = maskjax.plot.per_group({"site A": 0.81, "site B": 0.74}, lower=[0.78, 0.69],
        ...                             upper=[0.84, 0.80], ylabel="accuracy")
        >>> ax.get_ylabel(), [t.get_text() for t in ax.get_xticklabels()]
        ('accuracy', ['site A', 'site B'])

        Per-group accuracy with bootstrap intervals, straight from the metrics:

        >>> from maskjax import metrics as M
        >>> boot = M.Bootstrap(M.Grouped(M.Accuracy(task="binary"), num_groups=2), num_replicates=100)
        >>> p = np.array([0.9, 0.2, 0.8, 0.7] * 25, np.float32); y = np.array([1, 0, 0, 1] * 25)
        >>> g = np.array([0, 0, 1, 1] * 25)
        >>> ax = maskjax.plot.per_group(boot.compute(boot.update(boot.init(), p, y, groups=g)),
        ...                             group_names=["A", "B"])
        >>> [round(float(b.get_height()), 2) for b in ax.patches]
        [1.0, 0.5]
    """
    data: Any = values
    if isinstance(values, Mapping) and {"value", "lower", "upper"} <= set(values):
        if lower is not None or upper is not None:
            raise ValueError("lower and upper must be None when values is a Bootstrap result (it holds them)")
        result: Mapping[str, Any] = values
        value, lower, upper = result["value"], result["lower"], result["upper"]
        if isinstance(value, Mapping):             # Bootstrap of a Collection: one bar per metric
            if group_names is not None:
                raise ValueError("group_names must be None for a Bootstrap of a Collection (its metric names "
                                 "name the bars)")
            keys = list(value)
            scalars = {}
            for part, d in (("value", value), ("lower", result["lower"]), ("upper", result["upper"])):
                arr = [np.asarray(d[k], np.float64) for k in keys]
                bad = [k for k, a in zip(keys, arr) if a.ndim != 0]
                if bad:
                    raise ValueError(f"values[{part!r}] must hold one number per metric to draw one bar each; "
                                     f"{bad} are arrays (plot them with per_class, or one at a time)")
                scalars[part] = np.array(arr)
            group_names = [str(k) for k in keys]
            data, lower, upper = scalars["value"], scalars["lower"], scalars["upper"]
        else:
            data = value
    elif isinstance(values, Mapping):
        if group_names is not None:
            raise ValueError("group_names must be None when values is a mapping (its keys name the groups)")
        group_names = [str(k) for k in values]
        data = list(values.values())
    v = _values("values", data)
    g = len(v)
    names = _labels("group_names", group_names, g)
    if (lower is None) != (upper is None):
        raise ValueError("lower and upper must be given together (an interval per group); received only "
                         + ("lower" if lower is not None else "upper"))
    ax = _axes(ax, min(max(4.0, 1.5 + 0.6 * g), 14.0), 3.5)
    x = np.arange(g)
    yerr = None
    if lower is not None and upper is not None:
        lo, hi = _values("lower", lower, g), _values("upper", upper, g)
        if np.any(lo > hi):
            raise ValueError(f"lower must be <= upper in every group; received lower={lo}, upper={hi}")
        yerr = np.stack([np.maximum(v - lo, 0.0), np.maximum(hi - v, 0.0)])
    ax.bar(x, np.nan_to_num(v, nan=0.0), 0.6, yerr=yerr, capsize=4 if yerr is not None else 0,
           color="C0", alpha=0.8, ecolor="black")
    ax.set_xticks(x, labels=names, rotation=45 if g > 8 else 0, ha="right" if g > 8 else "center")
    ax.set_xlabel("group")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return ax
