"""The engine behind ``maskjax report`` and ``maskjax demo``: streaming metrics, a table, plots.

No maths lives here. The numbers come from ``maskjax.metrics`` streaming
objects gathered in one :class:`maskjax.metrics.Collection` (so accuracy,
precision, recall and F1 share one counting state) and from
``maskjax.losses`` (per-element loss averaged by ``maskjax.metrics.Mean``).
Every chunk is padded to one fixed row count and the padding is masked out,
so the jitted update compiles once however many chunks a file has. States
are flushed to the host leaf by leaf into int64 / float64 NumPy sums (the state's own
structure, so per-group and bootstrap states keep their stacked axes), so counts stay exact
past 2**24 / 2**31; they are computed with 64-bit JAX.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from typing import Any, Iterable, Sequence

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
    num_groups: int = 0  # > 0: per-group headline metrics (maskjax.metrics.Grouped)
    ci: float | None = None  # a confidence level: bootstrap intervals (maskjax.metrics.Bootstrap)
    replicates: int = 1000
    seed: int = 0
    exact: bool = False  # exact AUROC / AP from every score kept in memory (else binned)

    @property
    def k(self) -> int:
        return 1 if self.task == "binary" else int(self.num_classes)


def _metrics():
    import maskjax.metrics as M

    return M


def _count_options(cfg: Config) -> dict[str, Any]:
    """The options of every confusion metric in the report (float32 counts when the rows are
    weighted, else the exact wide default)."""
    opts: dict[str, Any] = dict(task=cfg.task, ignore_index=cfg.ignore_index,
                                dtype="float32" if cfg.weighted else None)
    if cfg.task != "binary":
        opts["num_classes"] = cfg.num_classes
    if cfg.task != "multiclass":
        opts.update(threshold=cfg.threshold, from_logits=cfg.from_logits)
    return opts


@functools.lru_cache(maxsize=None)
def build_collection(cfg: Config):
    """The :class:`maskjax.metrics.Collection` of everything the report shows."""
    M = _metrics()
    counts = _count_options(cfg)
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
    return M.Collection(members)


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


def loss_name(cfg: Config) -> str:
    return "cross_entropy" if cfg.task == "multiclass" else "binary_cross_entropy"


@functools.lru_cache(maxsize=None)
def headline(cfg: Config):
    """The per-group / interval metrics: one ``Collection`` keyed like the report's "overall" numbers."""
    M = _metrics()
    counts = _count_options(cfg)
    members: dict[str, Any] = {"accuracy": M.Accuracy(**counts, average="micro")}
    if cfg.task != "multilabel":
        members["balanced_accuracy"] = M.BalancedAccuracy(**counts)
    if cfg.task == "multilabel":
        members["hamming"] = M.HammingDistance(**counts, average="micro")
        members["exact_match"] = M.ExactMatch(**counts)
    if cfg.task == "binary":
        members["f1"] = M.F1Score(**counts)
    else:
        members["f1_macro"] = M.F1Score(**counts, average="macro")
    if cfg.scores:
        curve = dict(task=cfg.task, from_logits=cfg.from_logits, ignore_index=cfg.ignore_index,
                     thresholds=cfg.curve_thresholds)
        if cfg.task != "binary":
            curve.update(num_classes=cfg.num_classes, average="macro")
        suffix = "" if cfg.task == "binary" else "_macro"
        members["auroc" + suffix] = M.AUROC(**curve)
        members["average_precision" + suffix] = M.AveragePrecision(**curve)
        members[loss_name(cfg)] = M.Mean()
        if cfg.task != "multilabel":
            cal = {k: v for k, v in curve.items() if k not in ("thresholds", "average")}
            members["expected_calibration_error"] = M.CalibrationError(**cal, n_bins=cfg.calibration_bins)
    return M.Collection(members)


@functools.lru_cache(maxsize=None)
def build_metrics(cfg: Config) -> dict:
    """Every streaming metric of a report, by state name (each flushed into its own host sums)."""
    M = _metrics()
    out = {"main": build_collection(cfg)}
    if cfg.scores:
        out["loss"] = loss_metric()
    if cfg.num_groups:
        out["groups"] = M.Grouped(headline(cfg), cfg.num_groups)
    if cfg.ci is not None:
        out["ci"] = M.Bootstrap(headline(cfg), cfg.replicates, cfg.ci, cfg.seed)
        if cfg.num_groups:
            out["groups_ci"] = M.Bootstrap(M.Grouped(headline(cfg), cfg.num_groups), cfg.replicates, cfg.ci,
                                           cfg.seed)
    return out


def _update_impl(cfg: Config, state, preds, targets, mask, weights, groups, ids):
    metrics = build_metrics(cfg)
    new = dict(state)
    new["main"] = metrics["main"].update(state["main"], preds, targets, mask=mask, sample_weight=weights)
    values: dict[str, Any] = {}
    keep = mask
    if cfg.scores:
        # The loss sees the same elements as the metrics (ignore_index folded into its mask).
        loss = _loss_values(cfg, preds, targets)
        keep = _loss_mask(cfg, targets, mask)
        new["loss"] = metrics["loss"].update(state["loss"], loss, mask=keep, sample_weight=weights)
        values[loss_name(cfg)] = loss
    # Headline metrics drop ignored targets themselves, so the loss mask is theirs too.
    if "groups" in metrics:
        new["groups"] = metrics["groups"].update(state["groups"], preds, targets, groups=groups, mask=keep,
                                                 sample_weight=weights, **values)
    if "ci" in metrics:
        new["ci"] = metrics["ci"].update(state["ci"], preds, targets, mask=keep, sample_weight=weights, ids=ids,
                                         **values)
    if "groups_ci" in metrics:
        new["groups_ci"] = metrics["groups_ci"].update(state["groups_ci"], preds, targets, groups=groups, mask=keep,
                                                       sample_weight=weights, ids=ids, **values)
    return new


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
    if not cfg.scores:  # hard predictions: an out-of-range one would drop its element from every count
        kept = keep if preds.shape == keep.shape else np.ones(preds.shape, bool)
        if cfg.task == "multiclass":
            bad = kept & ((preds < 0) | (preds >= cfg.num_classes))
            want, hint = f"class ids in [0, {cfg.num_classes})", "; check --num-classes"
        else:
            bad = kept & (preds != 0) & (preds != 1)
            want, hint = "0 or 1", "; float scores are thresholded instead"
        if np.any(bad):
            raise InputError(f"hard preds must be {want}, found {preds[bad].flat[0]:g} "
                             f"({int(np.sum(bad))} such value(s){hint})")


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


def group_ids(values: np.ndarray, names: Sequence[Any]) -> np.ndarray:
    """Group values of a chunk → ids into ``names`` (sorted unique values of the whole input)."""
    names_arr = np.asarray(list(names))
    vals = np.asarray(values)
    if names_arr.dtype.kind in "US" or vals.dtype.kind in "USO":
        names_arr, vals = names_arr.astype(str), vals.astype(str)
    if vals.ndim != 1:
        raise InputError(f"the group column must hold one value per row, got shape {vals.shape}")
    ids = np.searchsorted(names_arr, vals)
    ids = np.minimum(ids, len(names_arr) - 1)
    if not np.all(names_arr[ids] == vals):
        bad = vals[names_arr[ids] != vals][0]
        raise InputError(f"group value {bad!r} was not seen when the groups were listed")
    return ids.astype(np.int32)


def accumulate(cfg: Config, chunks: Iterable[tuple], *, chunk_rows: int, row_offset: int = 0,
               group_names: Sequence[Any] | None = None, bar: Any = None) -> dict:
    """Accumulate every metric of ``cfg`` over row chunks into host states (a *partial* result).

    ``chunks`` yields ``(preds, targets, mask, weights[, groups])``; every chunk is padded to
    ``chunk_rows`` rows (the padding is masked), so the jitted update compiles once. Row ``i`` of
    the input gets the bootstrap row id ``row_offset + i``. Returns a dict of NumPy arrays and ints
    that :func:`combine` merges and :func:`finish` computes.
    """

    # What the update does not depend on (the AUROC route, the interval's level) stays out of its jit key.
    update_cfg = dataclasses.replace(cfg, exact=False, ci=None if cfg.ci is None else 0.95)
    metrics = build_metrics(update_cfg)
    accs: dict[str, list | None] = {k: None for k in metrics}
    fresh = {k: m.init() for k, m in metrics.items()}
    state = fresh
    group_rows = np.zeros(cfg.num_groups, np.int64)
    kept: list[tuple] = []
    n_rows = n_chunks = since_flush = 0
    flush_every = None
    bar = bar or _NoBar()
    for chunk in chunks:
        preds, targets, mask, weights = chunk[:4]
        groups = chunk[4] if len(chunk) > 4 else None
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
        gids = None
        if cfg.num_groups:
            if groups is None:
                raise InputError("per-group metrics need a group column")
            gids = group_ids(groups, group_names)
            group_rows += np.bincount(gids, minlength=cfg.num_groups)
            gids = np.pad(gids, (0, chunk_rows - rows), constant_values=-1)
        ids = None
        if cfg.ci is not None:
            start = row_offset + n_rows
            ids = np.arange(start, start + chunk_rows, dtype=np.int64).astype(np.uint32)
        if cfg.exact:
            kept.append((preds, targets, mask, weights))
        preds, targets, mask, weights = (_pad_rows(a, chunk_rows) for a in (preds, targets, mask, weights))
        try:
            state = _update(update_cfg, state, preds, targets, mask, weights, gids, ids)
        except (ValueError, TypeError) as err:
            raise InputError(str(err).strip().splitlines()[0]) from None
        n_rows += rows
        n_chunks += 1
        since_flush += 1
        if flush_every is None:
            flush_every = _flush_every(cfg, int(np.prod(targets.shape)))
        if since_flush >= flush_every:
            accs = {k: _host_add(a, state[k]) for k, a in accs.items()}
            state, since_flush = fresh, 0
        bar.update(rows)
    accs = {k: _host_add(a, state[k]) for k, a in accs.items()}
    scores = None
    if cfg.exact and kept:
        scores = tuple(None if kept[0][i] is None else np.concatenate([c[i] for c in kept]) for i in range(4))
    return {"states": accs, "rows": n_rows, "chunks": n_chunks,
            "group_rows": group_rows, "scores": scores}


def _host_add(total: list | None, state: Any) -> list:
    """Add a device state's leaves into host int64 / float64 sums (every leaf of a state is a sum)."""
    import jax

    def wide(x: Any) -> np.ndarray:
        x = np.asarray(x)
        return x.astype(np.int64) if np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_ else \
            x.astype(np.float64)

    leaves = [wide(x) for x in jax.tree.leaves(jax.device_get(state))]
    return leaves if total is None else [t + x for t, x in zip(total, leaves)]


def combine(a: dict, b: dict) -> dict:
    """Merge two partial results (``a`` holds the earlier rows): states add, kept scores concatenate."""
    states = {k: [x + y for x, y in zip(a["states"][k], b["states"][k])] for k in a["states"]}
    scores = a["scores"]
    if scores is not None:
        scores = tuple(None if x is None else np.concatenate([x, y]) for x, y in zip(a["scores"], b["scores"]))
    return {"states": states, "rows": a["rows"] + b["rows"], "chunks": a["chunks"] + b["chunks"],
            "group_rows": a["group_rows"] + b["group_rows"], "scores": scores}


def finish(cfg: Config, partial: dict) -> dict:
    """The report's values (NumPy) from a (merged) partial result."""
    import jax

    if partial["chunks"] == 0:
        raise InputError("the input files hold no rows")
    metrics = build_metrics(cfg)
    states = {k: jax.tree.unflatten(jax.tree.structure(m.init()), partial["states"][k])
              for k, m in metrics.items()}
    coll = metrics["main"]
    values = _regroup(dict(_compute_wide(coll, states["main"])))
    if "ece" in coll.names:
        group = next(g for g, members in coll.groups if "ece" in members)
        diagram = _compute_wide(coll["ece"].reliability, states["main"][group])
        values["calibration"] = {"confidence": diagram.confidence, "accuracy": diagram.accuracy,
                                 "weight": diagram.weight, "ece": values.pop("ece")}
    if cfg.scores:
        values["loss"] = _compute_wide(metrics["loss"], states["loss"])
    for k in ("groups", "ci", "groups_ci"):
        if k in metrics:
            values[k] = _compute_wide(metrics[k], states[k])
    if cfg.num_groups:
        values["group_rows"] = partial["group_rows"]
    values["auroc_route"] = None
    if "curves" in values:
        values["auroc_route"] = "binned"
        if cfg.exact and partial["scores"] is not None:
            values["curves"].update(_exact_curves(cfg, *partial["scores"]))
            values["auroc_route"] = "exact"
    values["rows"] = partial["rows"]
    values["chunks"] = partial["chunks"]
    return values


def _exact_curves(cfg: Config, preds, targets, mask, weights) -> dict:
    """Exact (sort-based, scikit-learn's) AUROC and AP of every kept score, one-shot."""
    M = _metrics()
    kw: dict[str, Any] = dict(task=cfg.task, from_logits=cfg.from_logits, ignore_index=cfg.ignore_index,
                              mask=mask, sample_weight=weights)
    if cfg.task == "binary":
        return {"auroc": np.asarray(M.auroc(preds, targets, **kw)),
                "ap": np.asarray(M.average_precision(preds, targets, **kw))}
    kw["num_classes"] = cfg.num_classes
    out = {}
    for suffix, avg in (("", None), ("_macro", "macro"), ("_micro", "micro")):
        out["auroc" + suffix] = np.asarray(M.auroc(preds, targets, average=avg, **kw))
        out["ap" + suffix] = np.asarray(M.average_precision(preds, targets, average=avg, **kw))
    return out


def stream(cfg: Config, chunks: Iterable[tuple], *, chunk_rows: int, total_rows: int | None = None,
           progress: bool | None = None, group_names: Sequence[Any] | None = None) -> dict:
    """Accumulate the report over ``(preds, targets, mask, weights[, groups])`` row chunks (one process).

    Every chunk is padded to ``chunk_rows`` rows (the padding is masked), so the
    jitted update compiles once. Returns the computed values (NumPy) plus
    ``rows`` and ``chunks``.
    """
    bar = _progress(total_rows, progress)
    try:
        partial = accumulate(cfg, chunks, chunk_rows=chunk_rows, group_names=group_names, bar=bar)
    finally:
        bar.close()
    return finish(cfg, partial)


def _regroup(values: dict) -> dict:
    """Gather the curve members into ``values["curves"]``."""
    if "roc" in values:
        roc, pr = values.pop("roc"), values.pop("pr")
        curves = {"fpr": roc.fpr, "tpr": roc.tpr, "precision": pr.precision, "recall": pr.recall}
        for name in ("auroc", "auroc_macro", "auroc_micro", "ap", "ap_macro", "ap_micro"):
            if name in values:
                curves[name] = values.pop(name)
        values["curves"] = curves
    return values


def _compute_wide(fn, wide_state):
    """``fn(state)`` (a metric's ``compute``, or the metric itself) of a host (int64 / float64) state.

    64-bit JAX, one compiled call.
    """
    import jax

    with jax.enable_x64(True):
        state = jax.tree.map(jax.numpy.asarray, wide_state)
        return jax.tree.map(np.asarray, _jitted_compute(fn)(state))


@functools.lru_cache(maxsize=None)
def _jitted_compute(fn):
    import jax

    return jax.jit(getattr(fn, "compute", fn))


def compute_in_memory(cfg: Config, preds, targets, mask=None, weights=None, groups=None,
                      group_names: Sequence[Any] | None = None) -> dict:
    """One chunk holding everything (the demo): same engine, one compilation."""
    preds, targets = np.asarray(preds), np.asarray(targets)
    mask = None if mask is None else np.asarray(mask)
    weights = None if weights is None else np.asarray(weights)
    chunk = (preds, targets, mask, weights) if groups is None else (preds, targets, mask, weights, np.asarray(groups))
    return stream(cfg, [chunk], chunk_rows=preds.shape[0], progress=False, group_names=group_names)


# The results (summary, tables, plots) live in maskjax.app.summary.
__all__ = ["Config", "accumulate", "combine", "finish", "stream", "compute_in_memory", "build_collection",
           "build_metrics", "headline"]
