"""The engine behind ``maskjax report`` and ``maskjax demo``: streaming metrics, a table, plots.

No maths lives here. The numbers come from ``maskjax.metrics`` streaming
objects gathered in one :class:`maskjax.metrics.Collection` (so accuracy,
precision, recall and F1 share one counting state) and from
``maskjax.losses`` (per-element loss averaged by ``maskjax.metrics.Mean``).
Every chunk is padded to one fixed row count and the padding is masked out,
so the jitted update compiles once however many chunks a file has. States
are flushed into a :class:`maskjax.metrics.HostAccumulator` (int64 / float64
on the host), so counts stay exact past 2**24 / 2**31.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import sys
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from maskjax.app.readers import InputError

@dataclasses.dataclass(frozen=True)
class Config:
    """What the report computes (all static: one compiled update per config and chunk shape)."""

    task: str
    num_classes: int | None  # C (multiclass), L (multi-label), None (binary)
    threshold: float = 0.5
    from_logits: bool = False
    scores: bool = True  # float predictions: curves, calibration and loss are available
    weighted: bool = False  # a sample weight is given: float32 counts
    ignore_index: int | None = None
    curve_thresholds: int = 200  # binned curves: streamable, additive
    calibration_bins: int = 10

    @property
    def k(self) -> int:
        return 1 if self.task == "binary" else int(self.num_classes)


def _metrics():
    import maskjax.metrics as M

    return M


@functools.lru_cache(maxsize=None)
def build_collection(cfg: Config):
    """The :class:`maskjax.metrics.Collection` of everything the report shows."""
    M = _metrics()
    common: dict[str, Any] = dict(task=cfg.task, ignore_index=cfg.ignore_index)
    if cfg.task != "binary":
        common["num_classes"] = cfg.num_classes
    if cfg.task != "multiclass":
        common.update(threshold=cfg.threshold, from_logits=cfg.from_logits)
    counts = dict(common, dtype="float32" if cfg.weighted else None)
    members: dict[str, Any] = {}
    members["accuracy"] = M.Accuracy(**counts, average="micro")
    if cfg.task == "binary":
        for name, cls in (("precision", M.Precision), ("recall", M.Recall), ("f1", M.F1Score)):
            members[name] = cls(**counts)
    else:
        averages = {"per_class": None, "micro": "micro", "macro": "macro", "weighted": "weighted"}
        for name, cls in (("precision", M.Precision), ("recall", M.Recall), ("f1", M.F1Score)):
            for suffix, avg in averages.items():
                members[f"{name}_{suffix}"] = cls(**counts, average=avg)
        if cfg.task == "multilabel":
            members["accuracy_per_class"] = M.Accuracy(**counts, average=None)
            members["hamming"] = M.HammingDistance(**counts, average="micro")
            members["exact_match"] = M.ExactMatch(**counts)
    if cfg.task != "multilabel":
        members["balanced_accuracy"] = M.BalancedAccuracy(**counts)
    members["stats"] = M.StatScores(**counts, average=None)
    members["confusion"] = M.ConfusionMatrix(**counts)
    if cfg.scores:
        curve = dict(task=cfg.task, from_logits=cfg.from_logits, ignore_index=cfg.ignore_index,
                     thresholds=cfg.curve_thresholds)
        if cfg.task != "binary":
            curve["num_classes"] = cfg.num_classes
        members["roc"] = M.ROC(**curve)
        members["pr"] = M.PRCurve(**curve)
        if cfg.task == "binary":
            members["auroc"] = M.AUROC(**curve)
            members["ap"] = M.AveragePrecision(**curve)
        else:
            for suffix, avg in (("", None), ("_macro", "macro"), ("_micro", "micro")):
                members["auroc" + suffix] = M.AUROC(**curve, average=avg)
                members["ap" + suffix] = M.AveragePrecision(**curve, average=avg)
        if cfg.task != "multilabel":
            cal = {k: v for k, v in curve.items() if k != "thresholds"}
            members["ece"] = M.CalibrationError(**cal, n_bins=cfg.calibration_bins)
            members["reliability"] = _Reliability(**cal, n_bins=cfg.calibration_bins)
    return M.Collection(members)


# Reliability-diagram data for the plot: a ``CalibrationError`` of the same configuration whose compute
# returns the diagram, so the Collection shares one calibration state with the "ece" member.
from maskjax.metrics import CalibrationError as _CalibrationError  # noqa: E402


class _Reliability(_CalibrationError):
    def compute(self, state):
        d = self.reliability(state)
        return {"confidence": d.confidence, "accuracy": d.accuracy, "weight": d.weight}


def _loss_values(cfg: Config, preds, targets):
    """Per-element loss (``reduction="none"``), averaged by the ``Mean`` member with the mask."""
    import jax.numpy as jnp

    import maskjax

    if cfg.task == "multiclass":
        t = targets
        if cfg.ignore_index is not None:
            t = jnp.where(targets == cfg.ignore_index, 0, targets)  # weight 0 through the mask below
        return maskjax.losses.cross_entropy(preds, t, from_logits=cfg.from_logits, reduction="none")
    return maskjax.losses.binary_cross_entropy(preds, targets.astype(preds.dtype), from_logits=cfg.from_logits,
                                               reduction="none")


def _loss_mask(cfg: Config, targets, mask):
    import jax.numpy as jnp

    if cfg.ignore_index is None:
        return mask
    keep = targets != cfg.ignore_index
    m = jnp.asarray(mask)
    m = m.reshape(m.shape + (1,) * (keep.ndim - m.ndim))
    return m.astype(bool) & keep


def _update_impl(cfg: Config, state, preds, targets, mask, weights):
    metrics_state, loss_state = state
    new_metrics = build_collection(cfg).update(metrics_state, preds, targets, mask=mask, sample_weight=weights)
    if cfg.scores:
        # The loss sees the same elements as the metrics (ignore_index folded into its mask).
        loss = _loss_values(cfg, preds, targets)
        loss_state = loss_metric().update(loss_state, loss, mask=_loss_mask(cfg, targets, mask),
                                          sample_weight=weights)
    return new_metrics, loss_state


_update = __import__("jax").jit(_update_impl, static_argnums=0)


def loss_metric():
    return _metrics().Mean()


# --------------------------------------------------------------------------------------------
# Streaming driver
# --------------------------------------------------------------------------------------------


def _pad_rows(a: np.ndarray | None, rows: int) -> np.ndarray | None:
    if a is None or a.shape[0] == rows:
        return a
    pad = [(0, rows - a.shape[0])] + [(0, 0)] * (a.ndim - 1)
    return np.pad(a, pad)


def _as_device_dtype(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.float64 or a.dtype == np.float16:
        return a.astype(np.float32)
    if np.issubdtype(a.dtype, np.integer) and a.dtype != np.int32:
        return a.astype(np.int32)
    return a


def _check_values(cfg: Config, preds: np.ndarray, targets: np.ndarray) -> None:
    """Eager value checks on one chunk (jitted metrics drop bad labels silently; a report should not)."""
    t = targets
    if np.issubdtype(t.dtype, np.floating) and not np.all(np.isfinite(t)):
        raise InputError("targets contain NaN or infinite values")
    keep = np.ones(t.shape, bool) if cfg.ignore_index is None else t != cfg.ignore_index
    class_ids = cfg.task == "multiclass" and not (np.issubdtype(preds.dtype, np.floating) and t.shape == preds.shape)
    if class_ids:
        bad = keep & ((t < 0) | (t >= cfg.num_classes))
        if np.any(bad):
            v = t[bad].flat[0]
            raise InputError(f"targets hold class id {v:g} outside [0, {cfg.num_classes}) "
                             f"(check --num-classes, or pass --ignore-index {v:g})")
    elif cfg.task != "multiclass":
        bad = keep & (t != 0) & (t != 1)
        if np.any(bad):
            v = t[bad].flat[0]
            raise InputError(f"{cfg.task} targets must be 0 or 1, found {v:g}"
                             + ("" if cfg.ignore_index is not None else " (or pass --ignore-index)"))
    if cfg.scores and not np.all(np.isfinite(preds)):
        raise InputError("preds contain NaN or infinite values")


def _flush_every(cfg: Config, elements_per_chunk: int) -> int:
    """Chunks between host flushes: keep every device count below 2**23 (exact in float32)."""
    return max(1, (1 << 23) // max(1, elements_per_chunk * (cfg.k if cfg.task != "multiclass" else 1)))


def _progress(total: int | None, enabled: bool | None):
    """A tqdm (or rich) progress bar on stderr; a no-op when neither is installed or disabled."""
    if enabled is False:
        return _NoBar()
    try:
        from tqdm.auto import tqdm

        return tqdm(total=total, unit=" rows", unit_scale=True, desc="maskjax report", file=sys.stderr,
                    disable=None if enabled is None else not enabled, leave=False, dynamic_ncols=True)
    except ImportError:
        pass
    try:
        from rich.progress import Progress

        if enabled is None and not sys.stderr.isatty():
            return _NoBar()
        return _RichBar(Progress(transient=True), total)
    except ImportError:
        return _NoBar()


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class _RichBar:
    def __init__(self, progress, total):
        self.progress = progress
        progress.start()
        self.task = progress.add_task("maskjax report", total=total)

    def update(self, n: int) -> None:
        self.progress.advance(self.task, n)

    def close(self) -> None:
        self.progress.stop()


def stream(cfg: Config, chunks: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]],
           *, chunk_rows: int, total_rows: int | None = None, progress: bool | None = None) -> dict:
    """Accumulate the collection over ``(preds, targets, mask, weights)`` row chunks.

    Every chunk is padded to ``chunk_rows`` rows (the padding is masked), so the
    jitted update compiles once. Returns the computed values (NumPy) plus
    ``rows`` and ``chunks``.
    """
    import jax

    from maskjax.metrics import HostAccumulator

    coll = build_collection(cfg)
    accs = (HostAccumulator(coll), HostAccumulator(loss_metric()))
    fresh = (coll.init(), loss_metric().init())
    state = fresh
    n_rows = n_chunks = since_flush = 0
    flush_every = None
    bar = _progress(total_rows, progress)
    try:
        for preds, targets, mask, weights in chunks:
            rows = preds.shape[0]
            if rows > chunk_rows:
                raise ValueError(f"chunk of {rows} rows exceeds chunk_rows={chunk_rows}")
            preds = _as_device_dtype(preds)
            targets = _as_device_dtype(targets)
            if (cfg.task == "multiclass" and np.issubdtype(targets.dtype, np.floating)
                    and targets.shape != preds.shape):
                if np.any(targets != np.round(targets)):
                    raise InputError("multiclass targets must be integer class ids, got fractional values")
                targets = targets.astype(np.int32)
            _check_values(cfg, preds, targets)
            mask = np.ones((rows,), bool) if mask is None else mask.astype(bool)
            if weights is not None:
                weights = weights.astype(np.float32)
            preds, targets, mask, weights = (_pad_rows(a, chunk_rows) for a in (preds, targets, mask, weights))
            try:
                state = _update(cfg, state, preds, targets, mask, weights)
            except (ValueError, TypeError) as err:
                raise InputError(str(err).strip().splitlines()[0]) from None
            n_rows += rows
            n_chunks += 1
            since_flush += 1
            if flush_every is None:
                flush_every = _flush_every(cfg, int(np.prod(targets.shape)))
            if since_flush >= flush_every:
                for a, s in zip(accs, state):
                    a.add(s)
                state, since_flush = fresh, 0
            bar.update(rows)
    finally:
        bar.close()
    if n_chunks == 0:
        raise InputError("the input files hold no rows")
    for a, s in zip(accs, state):
        a.add(s)
    values = _regroup(dict(_compute_wide(coll, accs[0].state)))
    if cfg.scores:
        values["loss"] = _compute_wide(loss_metric(), accs[1].state)
    values["rows"] = n_rows
    values["chunks"] = n_chunks
    return values


def _regroup(values: dict) -> dict:
    """Gather the curve members into ``values["curves"]`` and calibration into ``values["calibration"]``."""
    if "roc" in values:
        roc, pr = values.pop("roc"), values.pop("pr")
        curves = {"fpr": roc.fpr, "tpr": roc.tpr, "precision": pr.precision, "recall": pr.recall}
        for name in ("auroc", "auroc_macro", "auroc_micro", "ap", "ap_macro", "ap_micro"):
            if name in values:
                curves[name] = values.pop(name)
        values["curves"] = curves
    if "ece" in values:
        values["calibration"] = dict(values.pop("reliability"), ece=values.pop("ece"))
    return values


def _compute_wide(metric, wide_state):
    """``metric.compute`` of a host (int64 / float64) state: 64-bit JAX, one compiled call.

    (``HostAccumulator.compute`` does the same eagerly, one compilation per operation.)
    """
    import jax

    with jax.enable_x64(True):
        state = jax.tree.map(jax.numpy.asarray, wide_state)
        return jax.tree.map(np.asarray, _jitted_compute(metric)(state))


@functools.lru_cache(maxsize=None)
def _jitted_compute(metric):
    import jax

    return jax.jit(metric.compute)


def compute_in_memory(cfg: Config, preds, targets, mask=None, weights=None) -> dict:
    """One chunk holding everything (the demo): same engine, one compilation."""
    preds, targets = np.asarray(preds), np.asarray(targets)
    mask = None if mask is None else np.asarray(mask)
    weights = None if weights is None else np.asarray(weights)
    return stream(cfg, [(preds, targets, mask, weights)], chunk_rows=preds.shape[0], progress=False)


# --------------------------------------------------------------------------------------------
# Results: a plain dict (JSON), a text table, plots
# --------------------------------------------------------------------------------------------


def _f(x: Any) -> float | None:
    x = float(np.asarray(x))
    return None if math.isnan(x) else x


def summarize(cfg: Config, values: Mapping[str, Any], class_names: Sequence[str] | None = None) -> dict:
    """The JSON-able summary of a report: per-class rows, averages, overall numbers, confusion."""
    k = cfg.k
    class_names = list(class_names) if class_names else class_names_for(cfg, None)
    stats = np.asarray(values["stats"]).reshape(k, 5)  # tp, fp, tn, fn, support
    curves = values.get("curves")
    per_class = []
    for i in range(k):
        row: dict[str, Any] = {"class": class_names[i]}
        if cfg.task == "binary":
            row.update(precision=_f(values["precision"]), recall=_f(values["recall"]), f1=_f(values["f1"]))
        else:
            row.update(precision=_f(values["precision_per_class"][i]), recall=_f(values["recall_per_class"][i]),
                       f1=_f(values["f1_per_class"][i]))
        if cfg.task == "multilabel":
            row["accuracy"] = _f(values["accuracy_per_class"][i])
        tp, fp, tn, fn, support = stats[i]
        row.update(support=_num(support), tp=_num(tp), fp=_num(fp), fn=_num(fn), tn=_num(tn))
        if curves is not None:
            row.update(auroc=_f(np.reshape(curves["auroc"], -1)[i]),
                       average_precision=_f(np.reshape(curves["ap"], -1)[i]))
        per_class.append(row)
    averages: dict[str, dict] = {}
    if cfg.task != "binary":
        for avg in ("micro", "macro", "weighted"):
            averages[avg] = {m: _f(values[f"{m}_{avg}"]) for m in ("precision", "recall", "f1")}
            if curves is not None and avg != "weighted":
                averages[avg].update(auroc=_f(curves[f"auroc_{avg}"]), average_precision=_f(curves[f"ap_{avg}"]))
    overall: dict[str, Any] = {"accuracy": _f(values["accuracy"])}
    for name in ("balanced_accuracy", "hamming", "exact_match"):
        if name in values:
            overall[name] = _f(values[name])
    if cfg.task == "binary" and curves is not None:
        overall.update(auroc=per_class[0]["auroc"], average_precision=per_class[0]["average_precision"])
    elif curves is not None:
        overall.update(auroc_macro=averages["macro"]["auroc"],
                       average_precision_macro=averages["macro"]["average_precision"])
    if "loss" in values:
        overall["cross_entropy" if cfg.task == "multiclass" else "binary_cross_entropy"] = _f(values["loss"])
    if "calibration" in values:
        overall["expected_calibration_error"] = _f(values["calibration"]["ece"])
    return {
        "task": cfg.task,
        "num_classes": cfg.num_classes,
        "threshold": cfg.threshold if cfg.task != "multiclass" else None,
        "from_logits": cfg.from_logits,
        "rows": int(values["rows"]),
        "chunks": int(values["chunks"]),
        "curve_thresholds": cfg.curve_thresholds if curves is not None else None,
        "support_total": _num(stats[:, 4].sum()),
        "per_class": per_class,
        "averages": averages,
        "overall": overall,
        "confusion_matrix": np.asarray(values["confusion"]).tolist(),
    }


def _num(x: Any) -> float | int:
    x = float(np.asarray(x))
    return int(x) if x.is_integer() else x


def _fmt(x: Any, width: int = 9) -> str:
    if x is None:
        return f"{'-':>{width}}"
    if isinstance(x, int):
        return f"{x:>{width}d}"
    return f"{x:>{width}.4f}"


def format_table(summary: Mapping[str, Any]) -> str:
    """The human-readable report: a per-class table, the averages and overall numbers."""
    rows = summary["per_class"]
    cols = ["precision", "recall", "f1", "support"]
    if rows and "accuracy" in rows[0]:
        cols.insert(0, "accuracy")
    if rows and "auroc" in rows[0]:
        cols += ["auroc", "average_precision"]
    heads = {"average_precision": "AP", "auroc": "AUROC", "f1": "F1"}
    name_w = max([len("class")] + [len(str(r["class"])) for r in rows] + [len("weighted avg")])
    header = f"{'class':<{name_w}}  " + "  ".join(f"{heads.get(c, c):>9}" for c in cols)
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{str(r['class']):<{name_w}}  " + "  ".join(_fmt(r.get(c)) for c in cols))
    if summary["averages"]:
        lines.append("-" * len(header))
        for avg, vals in summary["averages"].items():
            cells = [_fmt(summary["support_total"] if c == "support" else vals.get(c)) for c in cols]
            lines.append(f"{avg + ' avg':<{name_w}}  " + "  ".join(cells))
    lines.append("")
    overall = summary["overall"]
    w = max(len(k) for k in overall)
    for key, val in overall.items():
        lines.append(f"{key.replace('_', ' '):<{w}}  {_fmt(val, 0).strip()}")
    if summary.get("curve_thresholds"):
        lines.append(f"(AUROC / AP from curves binned at {summary['curve_thresholds']} thresholds)")
    return "\n".join(lines)


def class_names_for(cfg: Config, names: Sequence[str] | None) -> list[str]:
    if names:
        if cfg.task == "binary":
            if len(names) not in (1, 2):
                raise InputError(f"--class-names gives {len(names)} names for a binary task (give 1 or 2)")
            return [names[-1]]
        if len(names) != cfg.k:
            raise InputError(f"--class-names gives {len(names)} names for {cfg.k} classes")
        return list(names)
    return ["1"] if cfg.task == "binary" else [str(i) for i in range(cfg.k)]


def write_plots(cfg: Config, values: Mapping[str, Any], out: str, class_names: Sequence[str],
                *, prefix: str = "") -> dict[str, str]:
    """Write the PNGs; returns ``{plot name: path}`` (empty when matplotlib is missing)."""
    from maskjax.app import plots as _plots

    if not _plots.available():
        return {}
    os.makedirs(out, exist_ok=True)
    paths: dict[str, str] = {}
    p = lambda name: os.path.join(out, prefix + name + ".png")  # noqa: E731
    cm = np.asarray(values["confusion"])
    if cfg.task == "multiclass":
        paths["confusion_matrix"] = _plots.confusion_matrix(cm, class_names, p("confusion_matrix"))
    elif cfg.task == "binary":
        paths["confusion_matrix"] = _plots.confusion_matrix(cm.reshape(2, 2), ["0", "1"], p("confusion_matrix"))
    else:
        stats = np.asarray(values["stats"]).reshape(cfg.k, 5)
        paths["confusion_matrix"] = _plots.label_confusion(stats[:, [0, 1, 3, 2]], class_names,
                                                           p("confusion_matrix"))
    curves = values.get("curves")
    if curves is not None:
        k = cfg.k
        fpr, tpr = (np.asarray(curves[n]).reshape(k, -1) for n in ("fpr", "tpr"))
        precision, recall = (np.asarray(curves[n]).reshape(k, -1) for n in ("precision", "recall"))
        auroc, ap = (np.asarray(curves[n]).reshape(-1) for n in ("auroc", "ap"))
        label = (lambda i: "") if cfg.task == "binary" else (lambda i: f"{class_names[i]} ")
        roc = {f"{label(i)}(AUC {auroc[i]:.3f})": (fpr[i], tpr[i]) for i in range(k)}
        pr = {f"{label(i)}(AP {ap[i]:.3f})": (recall[i], precision[i]) for i in range(k)}
        base = None
        if cfg.task == "binary":
            tp, fp, tn, fn, support = np.asarray(values["stats"]).reshape(5)
            base = float(support / (tp + fp + tn + fn)) if tp + fp + tn + fn else None
        paths["roc_curve"] = _plots.roc(roc, p("roc_curve"))
        paths["pr_curve"] = _plots.precision_recall(pr, p("pr_curve"), baseline=base)
    cal = values.get("calibration")
    if cal is not None:
        paths["reliability"] = _plots.reliability(cal["confidence"], cal["accuracy"], cal["weight"],
                                                  p("reliability"), ece=_f(cal["ece"]))
    return paths


def to_json(summary: Mapping[str, Any]) -> str:
    return json.dumps(summary, indent=2, allow_nan=False, default=_json_default)


def _json_default(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(type(x).__name__)
