"""The ``maskjax`` command line: ``maskjax demo`` and ``maskjax report``.

``maskjax demo`` runs on built-in synthetic data (a padded sequence tagger)
and shows what masking changes. ``maskjax report`` reads predictions and
targets from ``.npy`` / ``.npz`` / ``.csv`` / ``.parquet`` files, streams them
in fixed-size chunks through ``maskjax.metrics`` streaming objects, prints a
per-class table (or JSON) and writes PNG plots. No maths lives here: see
``maskjax/_report.py`` (engine), ``maskjax/_readers.py`` and ``maskjax/_plots.py``.

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
    from maskjax.app import demo_data as _demo_data, plots as _plots, report as _report

    _enable_compilation_cache()
    data = _demo_data.sequence_batch(seed=args.seed)
    mask = np.asarray(maskjax.masks.from_lengths(data.lengths, data.logits.shape[1]))
    everything = np.ones_like(mask)  # the naive run: same shapes, so no second compilation
    class_weight = maskjax.weights.balanced(data.labels, data.num_classes, mask=mask)
    n_real, n_all = int(np.sum(mask)), mask.size

    # One engine (the one behind `maskjax report`), run on every step and on the real steps only.
    cfg = _report.Config(task="multiclass", num_classes=data.num_classes, from_logits=True, curve_thresholds=100)
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
    summary = _report.summarize(cfg, masked, names)
    print()
    print("Per-class report on the real steps (what `maskjax report` prints):")
    print(_report.format_table(summary))
    print()
    if args.no_plots:
        print("Plots skipped (--no-plots).")
    elif not _plots.available():
        print(PLOTS_MISSING)
    else:
        paths = _report.write_plots(cfg, masked, args.out, names)
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


def _open_sources(args: argparse.Namespace):
    from maskjax.app import readers as _readers

    try:
        columns = _role_options(args.column, "--column", multi=True)
        keys = _role_options(args.key, "--key", multi=False)
    except ValueError as err:
        raise _readers.InputError(str(err)) from None
    paths = {"preds": args.preds, "targets": args.targets, "mask": args.mask, "weights": args.weights}
    for role in set(columns) | set(keys):
        if paths[role] is None:
            raise _readers.InputError(f"--column/--key given for {role}, but no --{role} file")
    sources = {}
    taken: list[str] = []
    for role in ("targets", "mask", "weights", "preds"):  # preds last: it may take the other columns
        if paths[role] is None:
            continue
        same_file = [r for r in ROLES if r != role and paths[r] is not None
                     and os.path.abspath(paths[r]) == os.path.abspath(paths[role])]
        src = _readers.open_source(paths[role], role, key=(keys.get(role) or [None])[0],
                                   columns=columns.get(role), taken=taken if same_file else ())
        taken.extend(getattr(src, "columns", ()))
        sources[role] = src
    n = {r: s.n_rows for r, s in sources.items() if s.n_rows is not None}
    if "preds" in n:
        for role, rows in n.items():
            if rows != n["preds"]:
                raise _readers.InputError(f"--preds has {n['preds']} rows but --{role} has {rows} rows")
    return sources


def _lockstep(sources, chunk_size: int):
    """Yield ``(preds, targets, mask, weights)`` row chunks, checking the files end together."""
    from maskjax.app import readers as _readers

    roles = [r for r in ROLES if r in sources]
    iters = {r: sources[r].chunks(chunk_size) for r in roles}
    while True:
        got = {r: next(iters[r], None) for r in roles}
        ended = [r for r in roles if got[r] is None]
        if len(ended) == len(roles):
            return
        if ended:
            raise _readers.InputError(f"--{ended[0]} has fewer rows than --{[r for r in roles if r not in ended][0]}")
        rows = {r: len(a) for r, a in got.items()}
        if len(set(rows.values())) > 1:
            longer = max(rows, key=rows.get)
            shorter = min(rows, key=rows.get)
            raise _readers.InputError(f"--{shorter} has fewer rows than --{longer}")
        yield got["preds"], got["targets"], got.get("mask"), got.get("weights")


def _check_shapes(task: str, num_classes: int | None, preds, targets, mask, weights) -> int | None:
    """Check one chunk's shapes; returns num_classes (C or L). Raises InputError with one line."""
    import numpy as np

    from maskjax.app.readers import InputError

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


def _report(args: argparse.Namespace) -> int:
    prog = "maskjax report"
    from maskjax.app import plots as _plots, readers as _readers, report as _report

    _enable_compilation_cache()
    if args.chunk_size < 1:
        return _fail(prog, f"--chunk-size must be at least 1, got {args.chunk_size}")
    if args.num_classes is not None and args.num_classes < (1 if args.task == "multilabel" else 2):
        return _fail(prog, f"--num-classes must be at least 2, got {args.num_classes}")
    if args.task == "binary" and args.num_classes not in (None, 2):
        return _fail(prog, f"--num-classes {args.num_classes} does not fit --task binary")
    try:
        sources = _open_sources(args)
        chunks = _lockstep(sources, args.chunk_size)
        first = next(chunks, None)
        if first is None:
            raise _readers.InputError("the input files hold no rows")
        num_classes = _check_shapes(args.task, None if args.task == "binary" else args.num_classes, *first)
        import numpy as np

        cfg = _report.Config(task=args.task, num_classes=num_classes, threshold=args.threshold,
                             from_logits=args.from_logits, scores=bool(np.issubdtype(first[0].dtype, np.floating)),
                             weighted=first[3] is not None, ignore_index=args.ignore_index,
                             curve_thresholds=args.curve_thresholds, calibration_bins=args.bins)
        names = _report.class_names_for(cfg, args.class_names.split(",") if args.class_names else None)

        def checked():
            yield first
            for chunk in chunks:
                _check_shapes(args.task, num_classes if args.task != "binary" else None, *chunk)
                yield chunk

        total = sources["preds"].approx_rows
        values = _report.stream(cfg, checked(), chunk_rows=first[0].shape[0], total_rows=total,
                                progress=False if args.no_progress else None)
    except _readers.InputError as err:
        return _fail(prog, str(err))
    summary = _report.summarize(cfg, values, names)
    plots_note = None
    if args.no_plots:
        summary["plots"] = {}
    elif not _plots.available():
        summary["plots"] = {}
        plots_note = PLOTS_MISSING
    else:
        try:
            summary["plots"] = _report.write_plots(cfg, values, args.out, names)
        except OSError as err:
            return _fail(prog, f"cannot write plots to {args.out}: {err.strerror or err}")
    if args.json:
        print(_report.to_json(summary))
        if plots_note:
            print(plots_note, file=sys.stderr)
        return 0
    files = ", ".join(f"{r}={os.path.basename(s.path)}" for r, s in sources.items())
    print(f"maskjax report: task={cfg.task}"
          + (f", {cfg.k} {'labels' if cfg.task == 'multilabel' else 'classes'}" if cfg.task != "binary" else "")
          + f", {summary['rows']} rows in {summary['chunks']} chunk(s) ({files})")
    print()
    print(_report.format_table(summary))
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
    rep.add_argument("--preds", required=True, metavar="FILE", help="scores, probabilities, logits or hard labels")
    rep.add_argument("--targets", required=True, metavar="FILE", help="class ids (multiclass) or 0/1")
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
