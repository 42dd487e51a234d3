"""RESULTS.md and the ratio plot."""

from __future__ import annotations

import datetime

from bench._timing import Stat, fmt_time
from bench.machine import machine_info


def _dict(sec) -> dict[str, Stat]:
    d = {s.name: s for s in sec.stats}
    d["__one_second__"] = Stat("__one_second__", "bound", times=[1.0])
    return d


def write_markdown(path, sections, scale_rows, *, size, elapsed, device) -> None:
    L = ["# maskjax benchmark results", "",
         f"Generated {datetime.datetime.now().isoformat(timespec='seconds')} by `bench/run.py` "
         f"(size `{size}`, device `{device}`, {elapsed:.0f} s).", "", machine_info(markdown=True), "",
         "Medians of round-robin repeats in one process, [min–max]; warm-up (jit compile) excluded except W7. "
         "Ratios are against the row marked **ref** in the same run. Rows `n/a` are maskjax entry points that "
         "do not exist yet (or raised: the error is shown); they are never faked.", ""]
    summary = ["## Targets (PERF.md), this run", "", "| workload | target | measured ratio | met |", "|---|---|---:|---|"]
    for sec in sections:
        d = _dict(sec)
        for tg in sec.targets:
            r, ok = tg.evaluate(d)
            summary.append(f"| {sec.wid} | {tg.text} (`{tg.num}` / `{tg.den if tg.den != '__one_second__' else '1 s'}`) | {r} | {ok} |")
    L += summary + [""]
    for sec in sections:
        ref = next((s for s in sec.stats if s.name == sec.ref and s.ok), None)
        L += [f"## {sec.title}", "", "| row | kind | median | min–max | × ref | note |", "|---|---|---:|---:|---:|---|"]
        for s in sec.stats:
            if not s.ok:
                L.append(f"| {s.name} | {s.kind} | n/a | | | {s.note} |")
                continue
            ratio = f"{s.median / ref.median:.3g}" if ref else ""
            mark = " **ref**" if ref is s else ""
            L.append(f"| {s.name}{mark} | {s.kind} | {fmt_time(s.median)} | {fmt_time(s.lo)}–{fmt_time(s.hi)} | {ratio} | {s.note} |")
        for n in sec.notes:
            L.append(f"\n_{n}_")
        L.append("")
    if scale_rows is not None:
        L += ["## Scale: C=5000 classes, L=1000 labels (fresh process per case)", "",
              "peak = VmHWM after the op with the high-water mark reset (`/proc/self/clear_refs` 5) once the "
              "input is resident; extra = peak − RSS with the input resident; ratios vs the input bytes.", "",
              "| case | input | time (1st / 2nd call) | peak RSS | extra over input | extra / input | note |",
              "|---|---:|---:|---:|---:|---:|---|"]
        for r in scale_rows:
            if "error" in r:
                L.append(f"| {r['case']} | | | | | | {r['error']} |")
                continue
            L.append(f"| {r['case']} | {r['input_gb']:.2f} GB | {r['t1']:.2f} s / {r['t2']:.2f} s | "
                     f"{r['peak_gb']:.2f} GB | {r['extra_gb']:.2f} GB | {r['extra_ratio']:.2f} | {r.get('note', '')} |")
        L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def plot_ratios(path, sections) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    secs = [s for s in sections if s.ref and any(x.ok for x in s.stats)]
    fig, axes = plt.subplots(len(secs), 1, figsize=(10, 2.1 + 0.0 * len(secs)) if False else (10, 1.0 + 1.7 * len(secs)),
                             squeeze=False)
    colors = {"maskjax": "tab:blue", "proto": "tab:cyan", "peer": "tab:orange", "bound": "tab:gray"}
    for ax, sec in zip(axes[:, 0], secs):
        ref = next((s for s in sec.stats if s.name == sec.ref and s.ok), None)
        rows = [s for s in sec.stats if s.ok]
        if not ref:
            continue
        vals = [s.median / ref.median for s in rows]
        ax.barh(range(len(rows)), vals, color=[colors.get(s.kind, "k") for s in rows])
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([s.name[:60] for s in rows], fontsize=7)
        ax.set_xscale("log")
        ax.axvline(1.0, color="k", lw=0.8)
        ax.set_title(f"{sec.title}  (× {sec.ref}, log scale)", fontsize=8)
        ax.invert_yaxis()
        for i, v in enumerate(vals):
            ax.text(v, i, f" {v:.3g}×", va="center", fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
