"""The ``maskjax`` command line: ``maskjax demo`` and ``maskjax report``.

``maskjax demo`` runs on built-in synthetic data (a padded sequence tagger)
and shows what masking changes. ``maskjax report`` reads predictions and
targets from ``.npy`` / ``.npz`` / ``.csv`` / ``.parquet`` files, streams them
in fixed-size chunks through ``maskjax.metrics`` streaming objects, prints a
per-class table (or JSON) and writes PNG plots; ``--group-column``, ``--ci`` and
``--engine dask`` add per-group metrics, bootstrap intervals and Dask workers. No
maths lives here: see :mod:`maskjax.app.report` (the report), :mod:`maskjax.app.engines`
(local / Dask), :mod:`maskjax.app.readers` and :mod:`maskjax.app.plots`.

User errors (missing files, unknown columns, shape mismatches) print one line
on stderr and exit with status 2, as argparse does.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

EXIT_USAGE = 2
PLOTS_MISSING = "matplotlib is not installed: plots skipped (pip install 'maskjax[cli]')."


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``maskjax report: error: ...`` (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _fail(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


# --------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    import numpy as np

    import maskjax
    from maskjax.app import demo_data as _demo_data, plots as _plots, report as _report, summary as _summary

    _enable_compilation_cache()
    data = _demo_data.sequence_batch(seed=args.seed)
    mask = np.asarray(maskjax.masks.from_lengths(data.lengths, data.logits.shape[1]))
    everything = np.ones_like(mask)  # the naive run: same shapes, so no second compilation
    class_weight = maskjax.weights.balanced(data.labels, data.num_classes, task="multiclass", mask=mask)
    n_real, n_all = int(np.sum(mask)), mask.size

    # One engine (the one behind `maskjax report`), run on every step and on the real steps only.
    cfg = _report.Config(task="multiclass", num_classes=data.num_classes, from_logits=True, curve_thresholds=100,
                         exact=True)  # in memory: exact AUROC / AP
    naive = _report.compute_in_memory(cfg, data.logits, data.labels, everything)
    masked = _report.compute_in_memory(cfg, data.logits, data.labels, mask)
    ce = maskjax.losses.cross_entropy
    weighted = [ce(data.logits, data.labels, mask=m, class_weight=class_weight) for m in (everything, mask)]
    rare = data.num_classes - 1

    rows = [
        ("cross-entropy (mean)", naive["loss"], masked["loss"]),
        ("cross-entropy, balanced class weights", *weighted),
        ("accuracy", naive["accuracy"], masked["accuracy"]),
        ("macro F1", naive["f1_macro"], masked["f1_macro"]),
        ("recall of class 0 (the pad id)", naive["recall_per_class"][0], masked["recall_per_class"][0]),
        ("precision of class 0", naive["precision_per_class"][0], masked["precision_per_class"][0]),
        (f"recall of class {rare} (the rarest)", naive["recall_per_class"][rare],
         masked["recall_per_class"][rare]),
        ("macro AUROC", naive["curves"]["auroc_macro"], masked["curves"]["auroc_macro"]),
        ("expected calibration error", naive["calibration"]["ece"], masked["calibration"]["ece"]),
    ]

    print("maskjax demo: a 5-class sequence tagger on built-in synthetic data")
    print(f"{data.logits.shape[0]} sequences padded to {data.logits.shape[1]} steps: "
          f"{n_real} real steps, {n_all - n_real} padding steps (label 0, predicted 0 with confidence).")
    print("Balanced class weights (sklearn 'balanced', real steps only): "
          + ", ".join(f"{w:.2f}" for w in np.asarray(class_weight)))
    print()
    width = max(len(r[0]) for r in rows)
    print(f"{'quantity':<{width}}  {'naive (unmasked)':>17}  {'masked':>10}")
    for name, a, b in rows:
        print(f"{name:<{width}}  {float(a):>17.4f}  {float(b):>10.4f}")
    print()
    print("The naive numbers count the padding, which the model 'predicts' perfectly.")

    names = [f"class {i}" for i in range(data.num_classes)]
    summary = _summary.summarize(cfg, masked, names)
    print()
    print("Per-class report on the real steps (what `maskjax report` prints):")
    print(_summary.format_table(summary))
    print()
    if args.no_plots:
        print("Plots skipped (--no-plots).")
    elif not _plots.available():
        print(PLOTS_MISSING)
    else:
        paths = _summary.write_plots(cfg, masked, args.out, names)
        print(f"Plots written to {os.path.abspath(args.out)}:")
        for path in paths.values():
            print(f"  {os.path.basename(path)}")
    return 0


def _enable_compilation_cache() -> None:
    """Persist compiled XLA programs under ~/.cache/maskjax (later runs skip compilation).

    Opt out with MASKJAX_NO_CACHE=1; a user who set JAX_COMPILATION_CACHE_DIR keeps theirs.
    """
    if os.environ.get("MASKJAX_NO_CACHE") or os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return
    import jax

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    try:
        path = os.path.join(base, "maskjax", "jax")
        os.makedirs(path, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        # Dask worker processes started by this run inherit the environment: the same cache.
        os.environ["JAX_COMPILATION_CACHE_DIR"] = path
        os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    except (OSError, AttributeError, ValueError):  # read-only home, older jax: compile every time
        pass


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------

ROLES = ("preds", "targets", "mask", "weights")


def _role_options(entries: Sequence[str] | None, option: str, multi: bool) -> dict[str, list[str]]:
    """``--column preds=p0,p1 targets=label`` → ``{"preds": ["p0", "p1"], "targets": ["label"]}``.

    A bare name (no ``ROLE=``) belongs to ``preds``.
    """
    out: dict[str, list[str]] = {}
    for entry in entries or ():
        role, sep, names = entry.partition("=")
        if not sep:
            role, names = "preds", entry
        role = {"weight": "weights", "sample_weight": "weights", "pred": "preds", "target": "targets",
                "labels": "targets"}.get(role, role)
        if role not in ROLES:
            raise ValueError(f"{option} {entry!r}: the role must be one of {', '.join(ROLES)} (ROLE=NAME)")
        parts = [n for n in names.split(",") if n] if multi else [names]
        if not parts or not all(parts):
            raise ValueError(f"{option} {entry!r}: no name given")
        out.setdefault(role, []).extend(parts)
    if not multi:
        for role, names in out.items():
            if len(names) > 1:
                raise ValueError(f"{option}: {role} given {len(names)} times")
    return out


EXACT_MAX_SCORES = 20_000_000  # auto route: exact AUROC / AP when the whole input holds at most this many scores


def _input_parts(args: argparse.Namespace):
    """The input's partitions (one per part file), with row offsets; raises InputError."""
    from maskjax.app import engines as _engines, partitions as _partitions, readers as _readers

    try:
        columns = _role_options(args.column, "--column", multi=True)
        keys = _role_options(args.key, "--key", multi=False)
    except ValueError as err:
        raise _readers.InputError(str(err)) from None
    paths = {"preds": args.preds, "targets": args.targets, "mask": args.mask, "weights": args.weights}
    for role in set(columns) | set(keys):
        if paths[role] is None:
            raise _readers.InputError(f"--column/--key given for {role}, but no --{role} file")
    parts = {r: _engines.expand_parts(p, r) for r, p in paths.items() if p is not None}
    n = len(parts["preds"])
    for role, files in parts.items():
        if len(files) != n:
            raise _readers.InputError(f"--preds has {n} part file(s) but --{role} has {len(files)}")
    if args.group_column:
        columns["groups"] = [args.group_column]
        group_role = "targets"
        if not parts["targets"][0].lower().endswith((".csv", ".parquet")):
            if parts["preds"][0].lower().endswith((".csv", ".parquet")):
                group_role = "preds"
            else:
                raise _readers.InputError("--group-column reads a column of the --targets (or --preds) "
                                          ".csv / .parquet file; these inputs are .npy / .npz")
        parts["groups"] = parts[group_role]
    col = tuple((r, tuple(c)) for r, c in columns.items())
    key = tuple((r, k[0]) for r, k in keys.items())
    return [_partitions.Part(paths=tuple((r, files[i]) for r, files in parts.items()), columns=col, keys=key)
            for i in range(n)]


def _say_column_order(prog: str, part, sources) -> None:
    """Print on stderr the columns a glob (``--column preds=p*``) matched, in the order used.

    Matches are taken in natural order (``p2`` before ``p10``), not in the file's column order.
    """
    from maskjax.app import readers as _readers

    for role, patterns in part.columns:
        src = sources.get(role)
        if role == "groups" or src is None or not any(_readers.is_glob(p) for p in patterns):
            continue
        cols = list(getattr(src, "columns", ()))
        if len(cols) > 1:
            print(f"{prog}: --column {role}={','.join(patterns)} matched {len(cols)} columns, used in this order "
                  f"(natural order of their numbers): {', '.join(cols)}", file=sys.stderr)
    cols = list(getattr(sources.get("preds"), "columns", ()))
    if "preds" not in dict(part.columns) and len(cols) > 1:  # chosen as "every column no other role uses"
        print(f"{prog}: --preds: score columns {', '.join(cols)} (every column no other role uses, in file "
              f"order; a pandas index column is left out); name them with --column preds=...", file=sys.stderr)


def _ci_level(text: str) -> float:
    try:
        level = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--ci takes a confidence level such as 0.95 or 95, got {text!r}") from None
    if 1.0 < level < 100.0:
        level /= 100.0
    if not 0.0 < level < 1.0:
        raise argparse.ArgumentTypeError(f"--ci takes a confidence level in (0, 1) or (0, 100), got {text!r}")
    return level


def _report(args: argparse.Namespace) -> int:
    prog = "maskjax report"
    import dataclasses

    import numpy as np

    from maskjax.app import engines as _engines, partitions as _partitions, plots as _plots, readers as _readers
    from maskjax.app import report as _report, summary as _summary

    _enable_compilation_cache()
    if args.chunk_size < 1:
        return _fail(prog, f"--chunk-size must be at least 1, got {args.chunk_size}")
    if args.num_classes is not None and args.num_classes < (1 if args.task == "multilabel" else 2):
        return _fail(prog, f"--num-classes must be at least 2, got {args.num_classes}")
    if args.task == "binary" and args.num_classes not in (None, 2):
        return _fail(prog, f"--num-classes {args.num_classes} does not fit --task binary")
    if args.replicates < 2:
        return _fail(prog, f"--replicates must be at least 2, got {args.replicates}")
    if not 0.0 <= args.threshold <= 1.0:  # also NaN and inf: the threshold applies to probabilities
        return _fail(prog, f"--threshold must be a probability in [0, 1] (applied after the sigmoid with "
                           f"--from-logits), got {args.threshold!r}")
    engine = None
    try:
        parts = _input_parts(args)
        # The first chunk of the first part fixes the configuration (classes, dtypes, weights).
        first_sources = _partitions.open_sources(parts[0])
        _say_column_order(prog, parts[0], first_sources)
        first = next(_partitions.lockstep(first_sources, args.chunk_size), None)
        if first is None:
            raise _readers.InputError("the input files hold no rows")
        num_classes = _partitions.check_shapes(args.task, None if args.task == "binary" else args.num_classes, *first[:4])
        engine = _engines.make_engine(args.engine, workers=args.workers, scheduler=args.scheduler)
        # A cheap first pass when needed: rows per part (bootstrap row ids, the auto route) and group values.
        rows = [s.n_rows for s in (_partitions.open_sources(p)["preds"] for p in parts)] if len(parts) > 1 else \
            [first_sources["preds"].n_rows]
        group_names = None
        scores = bool(np.issubdtype(first[0].dtype, np.floating))
        # rows unknown (CSV): counted when the route depends on them, so a CSV gets the exact curves
        # that the same data as Parquet gets (and --ci / --group-column no longer change the route)
        if args.group_column or (None in rows and (args.ci is not None or (args.exact is None and scores))):
            scans = engine.map(_partitions.scan_partition, parts)
            rows = [sc["rows"] for sc in scans]
            if args.group_column:
                group_names = tuple(sorted({v for sc in scans for v in sc["groups"]}, key=_partitions.group_order))
                if not group_names:
                    raise _readers.InputError(f"--group-column {args.group_column}: no values")
        if None not in rows:
            offsets = np.concatenate([[0], np.cumsum(rows)[:-1]]).tolist()
            parts = [dataclasses.replace(p, offset=int(o)) for p, o in zip(parts, offsets)]
        elif args.ci is not None:
            raise _readers.InputError("--ci needs the row count of every part")
        per_row = int(np.prod(first[0].shape[1:], dtype=np.int64))
        if args.exact is None:
            exact = scores and None not in rows and sum(rows) * per_row <= EXACT_MAX_SCORES
        else:
            exact = bool(args.exact) and scores
        cfg = _report.Config(task=args.task, num_classes=num_classes, threshold=args.threshold,
                             from_logits=args.from_logits, scores=scores,
                             weighted=first[3] is not None, ignore_index=args.ignore_index,
                             curve_thresholds=args.curve_thresholds, calibration_bins=args.bins,
                             num_groups=len(group_names) if group_names else 0, ci=args.ci,
                             replicates=args.replicates, seed=args.seed, exact=exact)
        names = _summary.class_names_for(cfg, args.class_names.split(",") if args.class_names else None)
        chunk_rows = args.chunk_size
        if None not in rows:
            chunk_rows = max(1, min(args.chunk_size, max(rows)))
        jobs = [_partitions.Job(cfg, p, args.chunk_size, chunk_rows, group_names) for p in parts]
        if isinstance(engine, _engines.LocalEngine):
            bar = _report._progress(sum(rows) if None not in rows else None,
                                    False if args.no_progress else None)
            try:
                partial = engine.map_reduce(lambda job: _partitions.run_partition(job, bar), jobs, _report.combine)
            finally:
                bar.close()
        else:
            partial = engine.map_reduce(_partitions.run_partition, jobs, _report.combine)
        values = _report.finish(cfg, partial)
    except _readers.InputError as err:
        return _fail(prog, str(err))
    finally:
        if engine is not None:
            engine.close()
    summary = _summary.summarize(cfg, values, names, group_names=group_names, group_column=args.group_column)
    summary["engine"] = engine.describe()
    summary["partitions"] = len(parts)
    plots_note = None
    if args.no_plots:
        summary["plots"] = {}
    elif not _plots.available():
        summary["plots"] = {}
        plots_note = PLOTS_MISSING
    else:
        try:
            summary["plots"] = _summary.write_plots(cfg, values, args.out, names, group_names=group_names)
        except OSError as err:
            return _fail(prog, f"cannot write plots to {args.out}: {err.strerror or err}")
    if args.json:
        print(_summary.to_json(summary))
        if plots_note:
            print(plots_note, file=sys.stderr)
        return 0
    inputs = ", ".join(f"{r}={os.path.basename(p)}" for r, p in parts[0].paths if r != "groups") \
        if len(parts) == 1 else f"{len(parts)} parts of {args.preds}"
    print(f"maskjax report: task={cfg.task}"
          + (f", {cfg.k} {'labels' if cfg.task == 'multilabel' else 'classes'}" if cfg.task != "binary" else "")
          + f", {summary['rows']} rows in {summary['chunks']} chunk(s) ({inputs}); engine: {summary['engine']}")
    print()
    print(_summary.format_table(summary))
    print()
    if plots_note:
        print(plots_note)
    elif summary["plots"]:
        print(f"Plots written to {os.path.abspath(args.out)}: "
              + ", ".join(os.path.basename(p) for p in summary["plots"].values()))
    return 0


# --------------------------------------------------------------------------------------------
# parser
# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="maskjax", description="Masked, weighted metrics and losses on JAX.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo", help="run on built-in synthetic data and print a report",
                          description="Run on a built-in padded sequence tagger: naive vs masked losses and "
                                      "metrics, a per-class table, and plots.")
    demo.add_argument("--seed", type=int, default=0, help="seed of the synthetic data (default 0)")
    demo.add_argument("--out", default="maskjax-demo-output", metavar="DIR",
                      help="folder for the plots (default ./maskjax-demo-output)")
    demo.add_argument("--no-plots", action="store_true", help="print the report only")
    demo.set_defaults(func=_demo)

    rep = sub.add_parser(
        "report", help="metrics table and plots from prediction/target files",
        description="Stream predictions and targets from .npy, .npz, .csv or .parquet files through maskjax "
                    "streaming metrics; print a per-class table (or JSON) and write PNG plots. Row i of every "
                    "file is the same example; arrays may have more axes (e.g. [N, T, C] scores with [N, T] "
                    "targets and a [N, T] mask).")
    rep.add_argument("--preds", required=True, metavar="FILE",
                     help="scores, probabilities, logits or hard labels; a file, or a directory / glob of "
                          ".parquet parts (a partitioned dataset)")
    rep.add_argument("--targets", required=True, metavar="FILE",
                     help="class ids (multiclass) or 0/1 (a file, directory or glob like --preds)")
    rep.add_argument("--mask", metavar="FILE", help="1/True keeps an element (broadcast from the left)")
    rep.add_argument("--weights", metavar="FILE", help="sample weights (broadcast from the left)")
    rep.add_argument("--task", required=True, choices=("binary", "multiclass", "multilabel"))
    rep.add_argument("--num-classes", type=int, metavar="C",
                     help="number of classes (default: the last axis of float multiclass preds)")
    rep.add_argument("--from-logits", action="store_true",
                     help="preds are logits (sigmoid / softmax applied); default: probabilities")
    rep.add_argument("--threshold", type=float, default=0.5, metavar="T",
                     help="binary / multi-label: positive iff score > T (default 0.5)")
    rep.add_argument("--ignore-index", type=int, metavar="ID", help="a target value that counts nowhere (e.g. -100)")
    rep.add_argument("--column", nargs="+", action="extend", metavar="[ROLE=]NAME[,NAME...]",
                     help="csv/parquet columns per role (preds, targets, mask, weights); globs allowed "
                          "(preds=p*); a bare NAME is a preds column")
    rep.add_argument("--key", nargs="+", action="extend", metavar="[ROLE=]KEY",
                     help="npz array per role (default: the array named like the role, or the only one)")
    rep.add_argument("--class-names", metavar="A,B,...", help="names for the table and plots")
    rep.add_argument("--chunk-size", type=int, default=65536, metavar="N",
                     help="rows per streamed chunk (default 65536)")
    rep.add_argument("--curve-thresholds", type=int, default=200, metavar="K",
                     help="bins of the streamed ROC / PR curves and AUROC / AP (default 200)")
    rep.add_argument("--bins", type=int, default=10, help="bins of the reliability diagram (default 10)")
    rep.add_argument("--out", default="maskjax-report", metavar="DIR",
                     help="folder for the plots (default ./maskjax-report)")
    route = rep.add_mutually_exclusive_group()
    route.add_argument("--exact", dest="exact", action="store_const", const=True, default=None,
                       help="exact (scikit-learn) AUROC / AP from every score held in memory (default when the "
                            f"input holds at most {EXACT_MAX_SCORES:,} scores)")
    route.add_argument("--binned", dest="exact", action="store_const", const=False,
                       help="AUROC / AP from curves binned at --curve-thresholds (streams; default for larger inputs)")
    rep.add_argument("--group-column", metavar="COL",
                     help="per-group metrics by the values of column COL of the --targets (or --preds) "
                          ".csv / .parquet file: a table, and 'groups' in the JSON")
    rep.add_argument("--ci", type=_ci_level, metavar="LEVEL",
                     help="bootstrap confidence intervals (e.g. 0.95) on the overall and per-group metrics: "
                          "each value becomes {value, lower, upper}")
    rep.add_argument("--replicates", type=int, default=1000, metavar="R",
                     help="bootstrap replicates for --ci (default 1000; the cost grows with R)")
    rep.add_argument("--seed", type=int, default=0, help="seed of the bootstrap weights (default 0)")
    rep.add_argument("--engine", choices=("local", "dask"), default="local",
                     help="local: this process (default); dask: one task per partition on Dask workers, "
                          "states tree-reduced (same numbers)")
    rep.add_argument("--workers", type=int, metavar="N",
                     help="--engine dask: workers of the LocalCluster started (default 2)")
    rep.add_argument("--scheduler", metavar="ADDRESS",
                     help="--engine dask: address of a running Dask scheduler (tcp://host:8786)")
    rep.add_argument("--json", action="store_true", help="print machine-readable JSON instead of the table")
    rep.add_argument("--no-plots", action="store_true", help="do not write plots")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    rep.set_defaults(func=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover - `maskjax report ... | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
