"""The report's results: a JSON-able summary, the text tables and the plots.

No maths: numbers come computed from :mod:`maskjax.app.report`; this module only arranges them
(per-class rows, averages, overall numbers, per-group objects, intervals) and draws them with
:mod:`maskjax.app.plots` / :mod:`maskjax.plot`.
"""

from __future__ import annotations

import json
import math
import os
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from maskjax.app.readers import InputError
if TYPE_CHECKING:
    from maskjax.app.report import Config

# --------------------------------------------------------------------------------------------
# Results: a plain dict (JSON), a text table, plots
# --------------------------------------------------------------------------------------------


def _f(x: Any) -> float | None:
    x = float(np.asarray(x))
    return None if math.isnan(x) else x


def summarize(cfg: Config, values: Mapping[str, Any], class_names: Sequence[str] | None = None, *,
              group_names: Sequence[Any] | None = None, group_column: str | None = None) -> dict:
    """The JSON-able summary of a report: per-class rows, averages, overall numbers, confusion.

    With groups (``cfg.num_groups``): ``"group_column"`` and ``"groups"``, one object per group
    ``{"group": name, "rows": n, "accuracy": ..., ...}``. With intervals (``cfg.ci``): every
    number of ``"overall"`` and of each group is ``{"value", "lower", "upper"}``.
    """
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
    if cfg.task == "binary":
        overall["f1"] = per_class[0]["f1"]
    else:
        overall["f1_macro"] = averages["macro"]["f1"]
    ci = values.get("ci")
    if ci is not None:
        for key in list(overall):
            if key in ci["value"]:
                overall[key] = {"value": overall[key], "lower": _f(ci["lower"][key]), "upper": _f(ci["upper"][key])}
    extra: dict[str, Any] = {}
    if "groups" in values:
        grouped, gci = values["groups"], values.get("groups_ci")
        names = list(group_names) if group_names is not None else list(range(cfg.num_groups))
        rows = []
        for i, name in enumerate(names):
            row = {"group": name.item() if isinstance(name, np.generic) else name,
                   "rows": int(values["group_rows"][i])}
            for key in sorted(grouped, key=lambda k: (list(overall).index(k) if k in overall else len(overall), k)):
                v: Any = _f(grouped[key][i])
                if gci is not None:
                    v = {"value": v, "lower": _f(gci["lower"][key][i]), "upper": _f(gci["upper"][key][i])}
                row[key] = v
            rows.append(row)
        extra.update(group_column=group_column, groups=rows)
    if ci is not None:
        extra["ci"] = {"level": cfg.ci, "replicates": cfg.replicates, "seed": cfg.seed,
                       "method": "Poisson bootstrap, percentile interval"}
    return {
        "task": cfg.task,
        "num_classes": cfg.num_classes,
        "threshold": cfg.threshold if cfg.task != "multiclass" else None,
        "from_logits": cfg.from_logits,
        "rows": int(values["rows"]),
        "chunks": int(values["chunks"]),
        "curve_thresholds": cfg.curve_thresholds if curves is not None else None,
        "auroc_route": values.get("auroc_route"),
        "support_total": _num(stats[:, 4].sum()),
        "per_class": per_class,
        "averages": averages,
        "overall": overall,
        "confusion_matrix": np.asarray(values["confusion"]).tolist(),
        **extra,
    }


def _num(x: Any) -> float | int:
    x = float(np.asarray(x))
    return int(x) if x.is_integer() else x


def _fmt(x: Any, width: int = 9) -> str:
    if isinstance(x, Mapping):   # an interval: value [lower, upper]
        lo, hi = (("-" if x[k] is None else f"{x[k]:.4f}") for k in ("lower", "upper"))
        return f"{_fmt(x['value'], 0).strip()} [{lo}, {hi}]".rjust(width)
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
        if summary.get("auroc_route") == "exact":
            lines.append(f"(AUROC / AP exact, from all {summary['rows']} rows' scores in memory; "
                         f"ROC / PR plots binned at {summary['curve_thresholds']} thresholds)")
        else:
            lines.append(f"(AUROC / AP from curves binned at {summary['curve_thresholds']} thresholds)")
    if "ci" in summary:
        c = summary["ci"]
        lines.append(f"({c['level']:.0%} intervals: {c['method']}, {c['replicates']} replicates, seed {c['seed']}"
                     + ("; their AUROC / AP binned" if summary.get("curve_thresholds") else "") + ")")
    if "groups" in summary:
        lines.append("")
        lines.append(format_groups(summary))
    return "\n".join(lines)


def format_groups(summary: Mapping[str, Any]) -> str:
    """The per-group table (one row per value of the group column)."""
    groups = summary["groups"]
    cols = [c for c in groups[0] if c != "group"] if groups else ["rows"]
    heads = {"average_precision": "AP", "average_precision_macro": "AP macro", "auroc": "AUROC",
             "auroc_macro": "AUROC macro", "f1": "F1", "f1_macro": "F1 macro", "balanced_accuracy": "bal. acc",
             "cross_entropy": "CE", "binary_cross_entropy": "BCE", "expected_calibration_error": "ECE"}
    cells = [[str(g["group"])] + [_fmt(g[c], 0).strip() for c in cols] for g in groups]
    head = [str(summary.get("group_column") or "group")] + [heads.get(c, c) for c in cols]
    widths = [max(len(r[i]) for r in [head] + cells) for i in range(len(head))]
    line = lambda r: "  ".join(v.ljust(widths[0]) if i == 0 else v.rjust(widths[i]) for i, v in enumerate(r))  # noqa: E731
    out = [f"Per group ({summary.get('group_column')}):", line(head), "-" * len(line(head))]
    out += [line(r) for r in cells]
    if summary.get("curve_thresholds") and any(c.startswith(("auroc", "average_precision")) for c in cols):
        out.append(f"(per-group AUROC / AP binned at {summary['curve_thresholds']} thresholds)")
    return "\n".join(out)


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
                *, prefix: str = "", group_names: Sequence[Any] | None = None) -> dict[str, str]:
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
    if "groups" in values and group_names is not None:
        paths["per_group"] = _per_group_plot(values, group_names, p("per_group_accuracy"))
    return paths


def _per_group_plot(values: Mapping[str, Any], group_names: Sequence[Any], path: str) -> str:
    """Accuracy per group (with its interval when the report has ``--ci``): ``maskjax.plot.per_group``."""
    from maskjax import plot

    acc = np.asarray(values["groups"]["accuracy"], np.float64)
    kw: dict[str, Any] = {}
    gci = values.get("groups_ci")
    if gci is not None:
        lo, hi = (np.asarray(gci[k]["accuracy"], np.float64) for k in ("lower", "upper"))
        kw = dict(lower=np.minimum(lo, acc), upper=np.maximum(hi, acc))
    ax = plot.per_group(acc, group_names=[str(g) for g in group_names], ylabel="accuracy",
                        title="Accuracy per group" + (" (bootstrap interval)" if gci is not None else ""), **kw)
    ax.get_figure(root=True).savefig(path, format="png")  # type: ignore[union-attr]
    return path


def to_json(summary: Mapping[str, Any]) -> str:
    return json.dumps(summary, indent=2, allow_nan=False, default=_json_default)


def _json_default(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(type(x).__name__)
