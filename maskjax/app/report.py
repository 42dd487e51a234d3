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
    common: dict[str, Any] = dict(task=cfg.task, ignore_index=cfg.ignore_index)
    if cfg.task != "binary":
        common["num_classes"] = cfg.num_classes
    if cfg.task != "multiclass":
        common.update(threshold=cfg.threshold, from_logits=cfg.from_logits)
    counts = dict(common, dtype="float32" if cfg.weighted else None)
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
    """Every streaming metric of a report, by state name (each flushed into its own HostAccumulator)."""
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
    import jax

    from maskjax.metrics import HostAccumulator

    # What the update does not depend on (the AUROC route, the interval's level) stays out of its jit key.
    update_cfg = dataclasses.replace(cfg, exact=False, ci=None if cfg.ci is None else 0.95)
    metrics = build_metrics(update_cfg)
    accs = {k: HostAccumulator(m) for k, m in metrics.items()}
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
            for k, a in accs.items():
                a.add(state[k])
            state, since_flush = fresh, 0
        bar.update(rows)
    for k, a in accs.items():
        a.add(state[k])
    scores = None
    if cfg.exact and kept:
        scores = tuple(None if kept[0][i] is None else np.concatenate([c[i] for c in kept]) for i in range(4))
    return {"states": {k: jax.tree.leaves(a.state) for k, a in accs.items()}, "rows": n_rows, "chunks": n_chunks,
            "group_rows": group_rows, "scores": scores}


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

    from maskjax.metrics import HostAccumulator

    if partial["chunks"] == 0:
        raise InputError("the input files hold no rows")
    metrics = build_metrics(cfg)
    states = {k: jax.tree.unflatten(jax.tree.structure(HostAccumulator(m).state), partial["states"][k])
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

    64-bit JAX, one compiled call. (``HostAccumulator.compute`` does the same eagerly, one
    compilation per operation.)
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


# --------------------------------------------------------------------------------------------
# Partitions: what one engine task reads and accumulates
# --------------------------------------------------------------------------------------------

ROLES = ("preds", "targets", "mask", "weights")


@dataclasses.dataclass(frozen=True)
class Part:
    """One partition of the input: a file per role (``groups``: the file holding the group column)."""

    paths: tuple[tuple[str, str], ...]  # (role, path)
    columns: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (role, column patterns)
    keys: tuple[tuple[str, str], ...] = ()  # (role, npz key)
    offset: int = 0  # row id of the partition's first row (bootstrap ids)


@dataclasses.dataclass(frozen=True)
class Job:
    """A partition and everything needed to accumulate it on any worker (picklable)."""

    cfg: Config
    part: Part
    chunk_size: int
    chunk_rows: int
    group_names: tuple[Any, ...] | None = None


def open_sources(part: Part) -> dict:
    """Open every role's file of a partition; checks that they hold the same number of rows."""
    from maskjax.app import readers as _readers

    paths = dict(part.paths)
    columns = {r: list(c) for r, c in part.columns}
    keys = dict(part.keys)
    sources = {}
    taken: list[str] = list(columns.get("groups", ()))
    for role in ("targets", "mask", "weights", "groups", "preds"):  # preds last: it may take the other columns
        if paths.get(role) is None:
            continue
        same_file = [r for r in paths if r != role and paths[r] is not None
                     and os.path.abspath(paths[r]) == os.path.abspath(paths[role])]
        src = _readers.open_source(paths[role], role, key=keys.get(role), columns=columns.get(role),
                                   taken=taken if same_file else ())
        taken.extend(getattr(src, "columns", ()))
        sources[role] = src
    n = {r: s.n_rows for r, s in sources.items() if s.n_rows is not None}
    if "preds" in n:
        for role, rows in n.items():
            if rows != n["preds"]:
                raise InputError(f"--preds has {n['preds']} rows but --{role} has {rows} rows"
                                 + (f" ({paths['preds']})" if role != "preds" else ""))
    return sources


def lockstep(sources: Mapping[str, Any], chunk_size: int):
    """Yield ``(preds, targets, mask, weights, groups)`` row chunks, checking the files end together."""
    roles = [r for r in ROLES + ("groups",) if r in sources]
    iters = {r: sources[r].chunks(chunk_size) for r in roles}
    while True:
        got = {r: next(iters[r], None) for r in roles}
        ended = [r for r in roles if got[r] is None]
        if len(ended) == len(roles):
            return
        if ended:
            raise InputError(f"--{ended[0]} has fewer rows than --{[r for r in roles if r not in ended][0]}")
        rows = {r: len(a) for r, a in got.items()}
        if len(set(rows.values())) > 1:
            longer = max(rows, key=rows.get)
            shorter = min(rows, key=rows.get)
            raise InputError(f"--{shorter} has fewer rows than --{longer}")
        yield got["preds"], got["targets"], got.get("mask"), got.get("weights"), got.get("groups")


def check_shapes(task: str, num_classes: int | None, preds, targets, mask, weights) -> int | None:
    """Check one chunk's shapes; returns num_classes (C or L). Raises InputError with one line."""
    p, t = preds.shape[1:], targets.shape[1:]
    float_preds = np.issubdtype(preds.dtype, np.floating)
    if task == "multiclass":
        if float_preds:
            if not p:
                raise InputError(f"multiclass float preds need a class axis [N, ..., C]; got shape {preds.shape} "
                                 "(pass integer class ids for hard predictions)")
            if num_classes is None:
                num_classes = p[-1]
            elif p[-1] != num_classes:
                raise InputError(f"preds have {p[-1]} score columns but --num-classes is {num_classes}")
            if t not in (p[:-1], p):
                raise InputError(f"targets of shape {targets.shape} do not match preds of shape {preds.shape} "
                                 f"(expected class ids {(targets.shape[0],) + p[:-1]})")
        else:
            if num_classes is None:
                raise InputError("integer (hard) multiclass preds need --num-classes")
            if t != p:
                raise InputError(f"targets of shape {targets.shape} do not match preds of shape {preds.shape}")
        element = t if t == p[:-1] or not float_preds else p[:-1]
    else:
        if t != p:
            raise InputError(f"targets of shape {targets.shape} do not match preds of shape {preds.shape} "
                             f"(task={task} needs the same shape)")
        if task == "multilabel":
            if not p:
                raise InputError(f"multilabel preds need a label axis [N, ..., L]; got shape {preds.shape}")
            if num_classes is not None and num_classes != p[-1]:
                raise InputError(f"preds have {p[-1]} labels but --num-classes is {num_classes}")
            num_classes = p[-1]
        element = p
    for role, arr in (("mask", mask), ("weights", weights)):
        if arr is None:
            continue
        s = arr.shape[1:]
        if s != element[:len(s)]:
            raise InputError(f"--{role} of shape {arr.shape} does not match the elements "
                             f"{(preds.shape[0],) + tuple(element)} (it must match their leading axes)")
    return num_classes


def _checked_chunks(job: Job, sources: Mapping[str, Any]):
    cfg = job.cfg
    for chunk in lockstep(sources, job.chunk_size):
        check_shapes(cfg.task, cfg.num_classes if cfg.task != "binary" else None, *chunk[:4])
        yield chunk


def run_partition(job: Job, bar: Any = None) -> dict:
    """Read one partition in chunks and accumulate it (the task an engine runs per partition)."""
    sources = open_sources(job.part)
    return accumulate(job.cfg, _checked_chunks(job, sources), chunk_rows=job.chunk_rows,
                      row_offset=job.part.offset, group_names=job.group_names, bar=bar)


def scan_partition(part: Part) -> dict:
    """Rows of a partition and the sorted distinct values of its group column (a cheap first pass)."""
    paths = dict(part.paths)
    from maskjax.app import readers as _readers

    out: dict[str, Any] = {"rows": None, "groups": None}
    if "groups" in paths:
        src = _readers.open_source(paths["groups"], "groups", columns=list(dict(part.columns)["groups"]))
        seen: set = set()
        rows = 0
        for block in src.chunks(1 << 20):
            rows += len(block)
            seen.update(np.unique(block).tolist())
        out.update(rows=rows, groups=sorted(seen, key=_group_order))
    else:
        srcs = open_sources(Part(paths=((("preds", paths["preds"]),)), columns=tuple(
            (r, c) for r, c in part.columns if r == "preds"), keys=tuple((r, k) for r, k in part.keys if r == "preds")))
        out["rows"] = srcs["preds"].n_rows
        if out["rows"] is None:
            out["rows"] = sum(len(b) for b in srcs["preds"].chunks(1 << 16))
    return out


def _group_order(v: Any) -> tuple:
    """Sort numbers numerically and before strings (a column holds one kind)."""
    return (0, v, "") if isinstance(v, (int, float, bool)) else (1, 0, str(v))


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
