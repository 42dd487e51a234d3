"""Writes ``maskjax/torch/losses.py`` and ``metrics.py`` (run once per core API change).

Run: ``python -m maskjax.torch._generate`` — it rewrites both files from the
core's ``__all__`` and signatures, with the torch front's defaults, and runs
each docstring example to record its output. ``tests/torch/test_generated.py``
fails when the committed files differ from what this writes (regenerate then).

Per-name torch conventions live in the tables below (no maths anywhere: each
wrapper converts and delegates to :mod:`maskjax.torch._front`).
"""

from __future__ import annotations

import inspect
import pathlib
import textwrap
from typing import Any

HERE = pathlib.Path(__file__).parent

# ---------------------------------------------------------------------------------- losses
# name -> (layout, bucket, front defaults that differ from the core's)
LOSSES = {
    "cross_entropy": ("class", True, {"axis": 1, "ignore_index": -100}),
    "multi_positive_cross_entropy": ("class", True, {"axis": 1}),
    "cosine_similarity_loss": ("class", True, {"axis": 1}),
    "dice_loss": ("class", False, {"axis": 1}),
    "jaccard_loss": ("class", False, {"axis": 1}),
    "tversky_loss": ("class", False, {"axis": 1}),
    "binary_cross_entropy": ("elementwise", True, {}),
    "focal_loss": ("elementwise", True, {}),
    "mean_squared_error": ("elementwise", True, {}),
    "mean_absolute_error": ("elementwise", True, {}),
    "huber_loss": ("elementwise", True, {}),
    "log_cosh": ("elementwise", True, {}),
    "contrastive_loss": ("elementwise", True, {}),
    "soft_fbeta_loss": (None, False, {}),
    "generalized_dice_loss": ("class", False, {"axis": 1}),
    "softmax_focal_loss": ("class", False, {"axis": 1}),
}
_DEFAULT_NOTES = {
    "axis": "``axis=1``: the class axis of ``[N, C, d...]`` inputs, as ``torch.nn.functional`` "
            "(the core's default is -1)",
    "ignore_index": "``ignore_index=-100``: class-index targets equal to -100 count nowhere, as "
                    "``F.cross_entropy`` (probability targets ignore it, as torch; the core's default is None)",
}
LOSS_EXAMPLES = {
    "cross_entropy": ("torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), torch.tensor([0, -100])", ""),
    "multi_positive_cross_entropy": ("torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), "
                                     "torch.tensor([[True, True, False], [False, False, True]])", ""),
    "cosine_similarity_loss": ("torch.tensor([[1.0, 0.0], [1.0, 1.0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]])", ""),
    "dice_loss": ("torch.tensor([[[2.0, -1.0], [0.0, 1.0]]]), torch.tensor([[0, 1]])", ""),
    "jaccard_loss": ("torch.tensor([[[2.0, -1.0], [0.0, 1.0]]]), torch.tensor([[0, 1]])", ""),
    "tversky_loss": ("torch.tensor([[[2.0, -1.0], [0.0, 1.0]]]), torch.tensor([[0, 1]])", ", alpha=0.3, beta=0.7"),
    "binary_cross_entropy": ("torch.tensor([0.5, -1.0, 2.0]), torch.tensor([1.0, 0.0, 1.0])", ""),
    "focal_loss": ("torch.tensor([0.5, -1.0, 2.0]), torch.tensor([1, 0, 1])", ""),
    "mean_squared_error": ("torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.0, 5.0])", ""),
    "mean_absolute_error": ("torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.0, 5.0])", ""),
    "huber_loss": ("torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.0, 5.0])", ""),
    "log_cosh": ("torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.0, 5.0])", ""),
    "contrastive_loss": ("torch.tensor([0.2, 1.5]), torch.tensor([1, 0])", ""),
    "soft_fbeta_loss": ("torch.tensor([[2.0, -1.0], [0.5, 0.0]]), torch.tensor([[1.0, 0.0], [1.0, 1.0]])", ""),
    "generalized_dice_loss": ("torch.tensor([[[2.0, -1.0], [0.0, 1.0]]]), torch.tensor([[0, 1]])", ""),
    "softmax_focal_loss": ("torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), torch.tensor([0, 2])", ""),
}

# --------------------------------------------------------------------------------- metrics
BUCKETED_METRICS = frozenset({
    "stat_scores", "confusion_matrix", "accuracy", "balanced_accuracy", "precision", "recall",
    "f1_score", "fbeta_score", "specificity", "jaccard_index", "dice_score", "matthews_corrcoef",
    "cohen_kappa", "hamming_distance", "exact_match", "top_k_accuracy"})
RANKING = frozenset({"precision_at_k", "recall_at_k"})
# metrics without ``task`` whose core ``axis=`` takes the torch class axis directly (the core moves it)
CORE_AXIS_METRICS = frozenset({"generalized_dice_score"})
PASS_THROUGH = frozenset({"merge_across_processes", "psum_state"})  # act on JAX states, not data
_MC = "torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0]]), torch.tensor([0, 2, 2])"
_MC_KW = ', task="multiclass", num_classes=3'
_BIN = "torch.tensor([0.9, 0.2, 0.7, 0.4]), torch.tensor([1, 0, 0, 1])"
METRIC_EXAMPLES = {
    "fbeta_score": (_MC, _MC_KW + ", beta=2.0"),
    "top_k_accuracy": (_MC, ", top_k=2, num_classes=3"),
    "precision_at_k": ("torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), "
                       "torch.tensor([[True, False, True], [False, False, True]])", ", k=1"),
    "recall_at_k": ("torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), "
                    "torch.tensor([[True, False, True], [False, False, True]])", ", k=1"),
    **{n: (_BIN, "") for n in ("roc_curve", "precision_recall_curve", "auroc", "average_precision",
                                "best_threshold", "calibration_error", "reliability_diagram",
                                "equal_error_rate")},
    "generalized_dice_score": ("torch.tensor([[[1, 0], [0, 1]]]), torch.tensor([[[1, 0], [0, 1]]])",
                               ", num_classes=2"),
}

HEADER = '''"""{title}

GENERATED by ``python -m maskjax.torch._generate`` from the core's signatures:
each name is written out with its real signature and a docstring stating the
torch front's defaults. Edit the generator, not this file. No maths here:
every function converts and delegates (:mod:`maskjax.torch._front`).

{body}
"""

# fmt: off
from __future__ import annotations

from typing import Any

import torch

import {core} as _core
from maskjax.torch import _front
{extra}
'''


def _params(sig: inspect.Signature, overrides: dict, skip_first: int = 0) -> tuple[str, list[inspect.Parameter]]:
    params = list(sig.parameters.values())[skip_first:]
    out = []
    for p in params:
        if p.name in overrides:
            p = p.replace(default=overrides[p.name])
        out.append(p)
    return ", ".join(_param_text(p, out) for p in out), out


def _param_text(p: inspect.Parameter, all_params: list) -> str:
    ann = p.annotation
    ann_text = "" if ann is inspect.Parameter.empty else f": {ann if isinstance(ann, str) else _type_name(ann)}"
    prefix = ""
    if p.kind is inspect.Parameter.VAR_KEYWORD:
        prefix = "**"
    elif p.kind is inspect.Parameter.VAR_POSITIONAL:
        prefix = "*"
    text = f"{prefix}{p.name}{ann_text}"
    if p.default is not inspect.Parameter.empty:
        text += f" = {_default_text(p.default)}"
    idx = all_params.index(p)
    # insert the markers between parameter kinds
    if p.kind is inspect.Parameter.KEYWORD_ONLY and (idx == 0 or all_params[idx - 1].kind not in (
            inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)):
        text = "*, " + text
    if p.kind is inspect.Parameter.POSITIONAL_ONLY and (idx + 1 == len(all_params) or all_params[idx + 1].kind
                                                        is not inspect.Parameter.POSITIONAL_ONLY):
        text += ", /"
    return text


def _default_text(v: Any) -> str:
    if isinstance(v, float) and v != v:
        return 'float("nan")'
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return f'float("{v}")'
    return repr(v)


def _type_name(t: Any) -> str:
    return getattr(t, "__name__", repr(t))


def _call_args(params: list[inspect.Parameter]) -> tuple[str, str]:
    pos, kw = [], []
    for p in params:
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            pos.append(p.name)
        elif p.kind is inspect.Parameter.VAR_KEYWORD:
            kw.append(f"**{p.name}")
        elif p.kind is inspect.Parameter.VAR_POSITIONAL:
            pos.append(f"*{p.name}")
        else:
            kw.append(f"{p.name}={p.name}")
    return ", ".join(pos), ", ".join(kw)


def _run_example(module: str, expr: str) -> str:
    import torch  # noqa: F401
    import maskjax.torch as mt  # noqa: F401

    value = eval(expr, {"torch": torch, "mt": mt})  # noqa: S307 - our own example table
    return repr(value)


def _example(module_alias: str, name: str, args: str, kw: str) -> str:
    call = f"{module_alias}.{name}({args}{kw})"
    import torch

    try:
        import maskjax.torch as mt

        out = eval(call, {"torch": torch, "mt": mt})  # noqa: S307
    except Exception:  # noqa: BLE001 - first pass (the module being generated does not exist yet)
        return "\n".join([">>> import torch, maskjax.torch as mt", f">>> {call} is not None", "True"])
    if isinstance(out, torch.Tensor) and out.ndim == 0:
        expr = f"round({call}.item(), 4)"
    elif isinstance(out, torch.Tensor):
        expr = f"{call}.shape"
    else:
        expr = f"type({call}).__name__"
    lines = [">>> import torch, maskjax.torch as mt", f">>> {expr}", _run_example("", expr)]
    return "\n".join(lines)


def _doc_args(core_doc: str) -> str:
    """The core docstring's Args/Returns sections (shapes and meanings are the same)."""
    doc = inspect.cleandoc(core_doc or "")
    start = doc.find("Args:")
    if start < 0:
        return "Args:\n  See the core function.\n\nReturns:\n  As the core function, as torch tensors."
    end = min([i for i in (doc.find("Example", start), doc.find("Examples", start)) if i > 0] or [len(doc)])
    return doc[start:end].rstrip()


def _loss_source() -> str:
    import maskjax.losses as core

    lines = [HEADER.format(title="Every ``maskjax.losses`` function for PyTorch tensors.",
                           body=textwrap.dedent("""\
                               torch conventions: logits (``from_logits=True``), the class axis at 1 for
                               ``[N, C, d...]`` (``axis=1``, as ``F.cross_entropy``), int64 labels, and
                               ``ignore_index=-100`` in ``cross_entropy`` as torch. Tensors in (CPU or
                               CUDA), a tensor out on the same device, differentiable: backward uses the
                               gradient JAX computed with the value, and ``torch.compile`` runs each loss
                               as one opaque custom op. Shape buckets pad non-class axes (see
                               :mod:`maskjax._buckets`; ``maskjax.torch.set_buckets(None)`` turns them off).

                               Example:
                                 >>> import torch, maskjax.torch as mt
                                 >>> logits = torch.tensor([[[2.0, 0.0], [0.0, 1.0]]], requires_grad=True)  # [N=1, C=2, T=2]
                                 >>> loss = mt.losses.cross_entropy(logits, torch.tensor([[0, 1]]))
                                 >>> loss.backward(); round(loss.item(), 4), tuple(logits.grad.shape)
                                 (0.2201, (1, 2, 2))"""),
                           core="maskjax.losses", extra="")]
    names = []
    for name in core.__all__:
        obj = getattr(core, name)
        if not inspect.isfunction(obj):
            lines.append(f"{name} = _core.{name}\n")
            names.append(name)
            continue
        layout, bucket, overrides = LOSSES[name]
        sig = inspect.signature(obj)
        text, params = _params(sig, overrides)
        pos, kw = _call_args(params)
        notes = ["``from_logits=True`` (logits)" if "from_logits" in sig.parameters else None]
        notes += [_DEFAULT_NOTES[k] for k in overrides]
        notes.append("shape buckets " + ("on (non-class axes padded, masked; same result)" if bucket
                                          else "off (the result depends on the padded size)"))
        notes = [n for n in notes if n]
        args, kwx = LOSS_EXAMPLES[name]
        doc = (f"PyTorch front of :func:`maskjax.losses.{name}`: tensors in, a differentiable tensor out.\n\n"
               f"torch front defaults: " + "; ".join(notes) + ".\n\n"
               + _doc_args(obj.__doc__) + "\n\nExample:\n" + textwrap.indent(_example("mt.losses", name, args, kwx), "  "))
        const = f"_{name.upper()}"
        extra = ", index_only_ignore=True" if overrides.get("ignore_index") is not None else ""
        lines.append(f"{const} = _front.make_spec(_core.{name}, \"maskjax.losses.{name}\", \"loss\", "
                     f"{layout!r}, {bucket!r}{extra})\n")
        lines.append(f"def {name}({text}) -> torch.Tensor:\n"
                     + textwrap.indent(f'"""{doc}\n"""', "    ") + "\n"
                     f"    return _front.loss({const}, ({pos},), dict({kw}))\n\n")
        names.append(name)
    lines.append("__all__ = [\n" + "".join(f"    {n!r},\n" for n in names) + "]\n")
    return "\n".join(lines)


def _metric_source() -> str:
    import maskjax.metrics as core
    from maskjax import _interop

    lines = [HEADER.format(title="Every ``maskjax.metrics`` name for PyTorch tensors.",
                           body=textwrap.dedent("""\
                               Functions: tensors in (detached), tensors out on the input's device. torch
                               conventions: scores ``[N, C, d...]`` have their class axis at ``axis=1`` (as
                               torchmetrics; moved last for the core, a layout change), int64 labels.
                               Streaming classes are stateful :class:`maskjax.torch.Metric` wrappers
                               (``update`` / ``compute`` / ``reset`` / ``forward``), thread-safe.

                               Example:
                                 >>> import torch, maskjax.torch as mt
                                 >>> scores = torch.tensor([[[2.0, 0.0], [0.0, 1.0]]])   # [N=1, C=2, T=2]
                                 >>> mt.metrics.accuracy(scores, torch.tensor([[0, 1]]), task="multiclass", num_classes=2)
                                 tensor(1.)"""),
                           core="maskjax.metrics", extra="from maskjax.torch._stateful import Metric as _Metric\n")]
    names = []
    for name in core.__all__:
        obj = getattr(core, name)
        names.append(name)
        if isinstance(obj, type):
            if not _interop.is_streaming_class(obj):
                lines.append(f"{name} = _core.{name}\n")
                continue
            sig = inspect.signature(obj)
            axis_p = inspect.Parameter("axis", inspect.Parameter.KEYWORD_ONLY, default=1, annotation="int")
            if "axis" in sig.parameters and "task" not in sig.parameters:
                # the core's axis takes the torch class axis directly
                params = [axis_p if p.name == "axis" else p for p in sig.parameters.values()]
                pos, kw = _call_args(params)
            else:
                # the front's own ``axis`` (class axis of the torch layout, moved last) replaces a core
                # one; the core object is told the class axis is last (axis=-1)
                params = [p for p in sig.parameters.values() if p.name != "axis"]
                pos, kw = _call_args(params)
                if "axis" in sig.parameters:
                    last = '(None if task == "binary" else -1)' if "task" in sig.parameters else "-1"
                    kw = ", ".join(x for x in (kw, f"axis={last}") if x)
                at = next((i for i, p in enumerate(params) if p.kind is inspect.Parameter.VAR_KEYWORD),
                          len(params))
                params.insert(at, axis_p)
            text = ", ".join(_param_text(p, params) for p in params)
            call = ", ".join(x for x in (pos, kw) if x)
            doc = (f"Stateful PyTorch front of :class:`maskjax.metrics.{name}` (update / compute / reset / forward).\n\n"
                   f"``{name}(**config)`` builds the core metric and wraps it in :class:`maskjax.torch.Metric`:\n"
                   f"thread-safe updates, int64 labels, scores ``[N, C, d...]`` with the class axis at\n"
                   f"``axis=1`` (torch front default; moved last for the core), shape buckets where the\n"
                   f"result does not depend on padding. No maths here.\n\n"
                   f"Args:\n  See :class:`maskjax.metrics.{name}`; plus ``axis`` (int, default 1): the\n"
                   f"  class axis of the scores.\n")
            lines.append(f"class {name}(_Metric):\n" + textwrap.indent(f'"""{doc}"""', "    ") + "\n\n"
                         f"    def __init__(self, {text}) -> None:\n"
                         f"        super().__init__(_core.{name}({call}), axis=axis)\n\n")
            continue
        if name in PASS_THROUGH or not inspect.isfunction(obj):
            lines.append(f"{name} = _core.{name}\n")
            continue
        sig = inspect.signature(obj)
        has_task = "task" in sig.parameters
        layout = "class" if name in CORE_AXIS_METRICS else "metric" if (has_task or name in RANKING) else None
        bucket = name in BUCKETED_METRICS
        task_default = sig.parameters["task"].default if has_task else None
        if task_default is inspect.Parameter.empty:
            task_default = None
        params = list(sig.parameters.values())
        if layout in ("metric", "class"):
            axis_p = inspect.Parameter("axis", inspect.Parameter.KEYWORD_ONLY, default=1, annotation="int")
            if "axis" in sig.parameters:  # the core's axis: the front sets 1 and moves it last itself
                params = [axis_p if p.name == "axis" else p for p in params]
            else:
                params.append(axis_p)
        text = ", ".join(_param_text(p, params) for p in params)
        pos, kw = _call_args(params)
        args, kwx = METRIC_EXAMPLES.get(name, (_MC, _MC_KW))
        notes = []
        if layout == "metric":
            notes.append("``axis=1``: the class axis of ``[N, C, d...]`` scores, as torchmetrics "
                         "(moved last for the core)")
        elif layout == "class":
            notes.append("``axis=1``: the class axis of ``[N, C, d...]`` inputs, as torchmetrics "
                         "(the core's ``axis``)")
        notes.append("int64 labels (range-checked)")
        notes.append("shape buckets " + ("on (non-class axes padded, masked; same result)" if bucket
                                          else "off (the output depends on the input length)"))
        doc = (f"PyTorch front of :func:`maskjax.metrics.{name}`: tensors in (detached), tensors out.\n\n"
               f"torch front defaults: " + "; ".join(notes) + ".\n\n"
               + _doc_args(obj.__doc__)
               + ("\n  axis: the class axis of the scores (torch layout; default 1)."
                  if layout and "axis" not in sig.parameters else "")
               + "\n\nExample:\n" + textwrap.indent(_example("mt.metrics", name, args, kwx), "  "))
        const = f"_{name.upper()}"
        lines.append(f"{const} = _front.make_spec(_core.{name}, \"maskjax.metrics.{name}\", \"metric\", "
                     f"{layout!r}, {bucket!r}, task={task_default!r}, ranking={name in RANKING!r}"
                     + (", core_axis=True" if layout == "metric" and "axis" in sig.parameters else "") + ")\n")
        lines.append(f"def {name}({text}) -> Any:\n" + textwrap.indent(f'"""{doc}\n"""', "    ") + "\n"
                     f"    return _front.metric({const}, ({pos},), dict({kw}))\n\n")
    lines.append("__all__ = [\n" + "".join(f"    {n!r},\n" for n in names) + "]\n")
    return "\n".join(lines)


def sources() -> dict[str, str]:
    """``{file name: source}`` as the generator writes them."""
    return {"losses.py": _loss_source(), "metrics.py": _metric_source()}


def main() -> None:
    for fname, src in sources().items():
        (HERE / fname).write_text(src)
        print(f"wrote {HERE / fname}")


if __name__ == "__main__":
    main()
