"""Partitions of ``maskjax report``'s input: what one engine task reads and accumulates.

A :class:`Part` names one file per role (the parts of a partitioned Parquet dataset are paired
by sorted order); a :class:`Job` is a part plus the report's configuration: everything a Dask
worker needs, and picklable. :func:`run_partition` opens the part's files, checks each chunk
and accumulates it with :func:`maskjax.app.report.accumulate`.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping

import numpy as np

from maskjax.app.readers import InputError
from maskjax.app.report import Config, accumulate


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
                raise InputError(f"--preds has {n['preds']} rows ({paths['preds']}) but --{role} has {rows} "
                                 f"rows ({paths[role]})")
    return sources


def lockstep(sources: Mapping[str, Any], chunk_size: int):
    """Yield ``(preds, targets, mask, weights, groups)`` row chunks, checking the files end together."""
    roles = [r for r in ROLES + ("groups",) if r in sources]
    iters = {r: sources[r].chunks(chunk_size) for r in roles}
    start = 0
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
        if got.get("weights") is not None:
            check_weights(got["weights"], sources["weights"].path, start)
        if got.get("mask") is not None:
            check_mask(got["mask"], sources["mask"].path, start)
        start += len(got["preds"])
        yield got["preds"], got["targets"], got.get("mask"), got.get("weights"), got.get("groups")


def check_mask(mask: np.ndarray, path: str, start: int = 0) -> None:
    """A mask holds 0 / 1 (or False / True): 0.5 or NaN would silently count as 'keep'."""
    m = np.asarray(mask)
    if m.dtype == bool:
        return
    hit = ~((m == 0) | (m == 1))
    if np.any(hit):
        first = np.argwhere(hit)[0]
        raise InputError(f"--mask: {path} holds {int(np.sum(hit))} value(s) other than 0 / 1 (first: "
                         f"{m[tuple(first)]!r} in data row {start + int(first[0])}, counting from 0)")


def check_weights(weights: np.ndarray, path: str, start: int = 0) -> None:
    """The core's weight policy, told as one line: NaN, infinite or negative weights are refused.

    (The core raises ValueError for NaN / negative concrete weights; here the file and row are named.)
    """
    w = np.asarray(weights)
    if not np.issubdtype(w.dtype, np.floating) and not np.issubdtype(w.dtype, np.integer):
        return  # bool weights: 0 / 1
    bad = np.isnan(w) if np.issubdtype(w.dtype, np.floating) else np.zeros(w.shape, bool)
    for what, hit in (("NaN", bad), ("negative", w < 0),
                      ("infinite", np.isinf(w) if np.issubdtype(w.dtype, np.floating) else bad)):
        if np.any(hit):
            first = np.argwhere(hit)[0]
            raise InputError(f"--weights: {path} holds {int(np.sum(hit))} {what} weight(s) (first in data row "
                             f"{start + int(first[0])}, counting from 0); weights must be finite and >= 0")


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
        out.update(rows=rows, groups=sorted(seen, key=group_order))
    else:
        srcs = open_sources(Part(paths=((("preds", paths["preds"]),)), columns=tuple(
            (r, c) for r, c in part.columns if r == "preds"), keys=tuple((r, k) for r, k in part.keys if r == "preds")))
        out["rows"] = srcs["preds"].n_rows
        if out["rows"] is None:
            out["rows"] = sum(len(b) for b in srcs["preds"].chunks(1 << 16))
    return out


def group_order(v: Any) -> tuple:
    """Sort numbers numerically and before strings (a column holds one kind)."""
    return (0, v, "") if isinstance(v, (int, float, bool)) else (1, 0, str(v))


