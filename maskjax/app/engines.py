"""Where ``maskjax report`` runs: one process (``--engine local``) or Dask workers (``--engine dask``).

The input is a list of **partitions** (one file, or the parts of a partitioned
Parquet dataset: a directory or a glob). Each partition is read in row chunks
and accumulated into metric states on the host (:func:`run_partition`, in
:mod:`maskjax.app.report`); the partial results are then merged by a
**pairwise tree** in a fixed order: ``(p0 + p1) + (p2 + p3) ...``. Both
engines run the same functions in the same order, so they give identical
numbers; only *where* a partition is processed differs:

* :class:`LocalEngine` calls them in this process, one partition after the
  other;
* :class:`DaskEngine` submits one task per partition to a Dask cluster (a
  ``dask.distributed.LocalCluster`` of ``workers`` processes by default, or the
  scheduler at ``scheduler``), and the merges as tasks on the workers: only the
  final merged state comes back to the client.

Partial results are plain dicts of NumPy arrays and ints, so they pickle to
any worker. Nothing here does maths.
"""

from __future__ import annotations

import glob
import os
from typing import Any, Callable, Sequence

from maskjax.app.readers import InputError

GLOB_CHARS = "*?["


def expand_parts(path: str, role: str) -> list[str]:
    """The part files of ``path``: itself (a file), its ``*.parquet`` files (a directory), or a glob.

    A directory is walked recursively (a Hive-style ``key=value/part-0.parquet`` layout works);
    parts are sorted by path, which fixes the row order (and the bootstrap's row ids).
    """
    if any(c in path for c in GLOB_CHARS) and not os.path.exists(path):
        parts = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
        if not parts:
            raise InputError(f"--{role}: no file matches {path}")
        return parts
    if os.path.isdir(path):
        parts = sorted(os.path.join(root, f) for root, _, files in os.walk(path) for f in files
                       if f.lower().endswith(".parquet") and not f.startswith((".", "_")))
        if not parts:
            raise InputError(f"--{role}: the directory {path} holds no .parquet parts")
        return parts
    return [path]


def tree_reduce(combine: Callable[[Any, Any], Any], items: Sequence[Any]) -> Any:
    """``combine`` items pairwise, level by level (the order both engines use)."""
    level = list(items)
    if not level:
        raise ValueError("tree_reduce needs at least one item")
    while len(level) > 1:
        nxt = [combine(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


class LocalEngine:
    """Everything in this process (the default)."""

    name = "local"

    def describe(self) -> str:
        return "local (1 process)"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return [fn(x) for x in items]

    def map_reduce(self, fn: Callable[[Any], Any], items: Sequence[Any], combine: Callable[[Any, Any], Any]) -> Any:
        return tree_reduce(combine, self.map(fn, items))

    def close(self) -> None:
        pass


class DaskEngine:
    """One Dask task per partition, merged by a tree of tasks on the workers.

    Args:
      workers: size of the ``LocalCluster`` started when no ``scheduler`` is given (default 2).
      scheduler: address of a running scheduler (``tcp://host:8786``); then ``workers`` is unused.
      processes: ``LocalCluster`` workers as processes (default, ``True``) or threads of this
        process (``False``: starts fast; the ``MASKJAX_DASK_PROCESSES=0`` environment variable
        sets it from the command line).
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 processes: bool | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as err:
            raise InputError(f"--engine dask needs dask.distributed ({err}); pip install 'maskjax[dask]'") from None
        if processes is None:
            processes = os.environ.get("MASKJAX_DASK_PROCESSES", "1").lower() not in ("0", "false", "no")
        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError, ValueError) as err:
                raise InputError(f"--scheduler {scheduler}: cannot connect ({err})") from None
            self.where = f"scheduler {scheduler}"
        else:
            n = 2 if workers is None else int(workers)
            if n < 1:
                raise InputError(f"--workers must be at least 1, got {n}")
            self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
            self.where = f"LocalCluster of {n} {'process' if processes else 'thread'} worker(s)"

    def describe(self) -> str:
        return f"dask ({self.where})"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return self.client.gather(self.client.map(fn, list(items), pure=False))

    def map_reduce(self, fn: Callable[[Any], Any], items: Sequence[Any], combine: Callable[[Any, Any], Any]) -> Any:
        futures = self.client.map(fn, list(items), pure=False)
        submit = lambda a, b: self.client.submit(combine, a, b, pure=False)  # noqa: E731
        return tree_reduce(submit, futures).result()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_engine(name: str, *, workers: int | None = None, scheduler: str | None = None) -> Any:
    """``"local"`` or ``"dask"`` (``workers`` / ``scheduler`` only for Dask)."""
    if name == "local":
        if workers is not None or scheduler is not None:
            raise InputError("--workers / --scheduler apply to --engine dask")
        return LocalEngine()
    if name == "dask":
        if workers is not None and scheduler is not None:
            raise InputError("give --workers (a local cluster) or --scheduler (a running one), not both")
        return DaskEngine(workers=workers, scheduler=scheduler)
    raise InputError(f"--engine must be local or dask, got {name!r}")
