"""maskjax.plot: figures are produced, labelled, draw the numbers given, and the CLI's plots go through it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import maskjax.plot as mp  # noqa: E402
from maskjax import metrics as M  # noqa: E402
from maskjax.app import plots as app_plots  # noqa: E402

from matplotlib.axes import Axes  # noqa: E402


def _binary(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.5 * y + rng.uniform(0.0, 0.6, n), 0.0, 1.0).astype(np.float32)
    return p, y


def test_confusion_matrix_colours_by_row_share_and_writes_counts():
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 0]])
    ax = mp.confusion_matrix(cm, display_labels=["a", "b", "c"], title="cm")
    assert isinstance(ax, Axes)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("predicted", "true", "cm")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.texts] == [str(v) for v in cm.ravel()]
    # Row shares by hand: row 0 = [5, 1, 0] / 6, row 1 = [2, 7, 1] / 10, the empty row stays 0.
    share = np.asarray(ax.images[0].get_array())
    np.testing.assert_allclose(share, [[5 / 6, 1 / 6, 0], [0.2, 0.7, 0.1], [0, 0, 0]])
    assert len(ax.figure.axes) == 2                       # the heatmap and its colour bar


def test_confusion_matrix_of_the_metric_and_weighted_values():
    p, y = _binary()
    cm = M.confusion_matrix(p, y, task="binary", sample_weight=np.full(len(y), 0.5, np.float32))
    ax = mp.confusion_matrix(cm)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1"]
    counts = np.asarray(M.confusion_matrix(p, y, task="binary"))
    assert [t.get_text() for t in ax.texts] == [f"{v / 2:.3g}" for v in counts.ravel()]


def test_multilabel_confusion_matrix_reorders_sklearn_layout():
    y = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    p = np.array([[1, 1], [0, 1], [0, 0], [0, 1]])
    cm = np.asarray(M.confusion_matrix(p, y, task="multilabel", num_classes=2))   # [[tn, fp], [fn, tp]]
    ax = mp.multilabel_confusion_matrix(cm, display_labels=["cat", "dog"])
    # label 0: tp=1 (row 0), fp=0, fn=1 (row 1), tn=2; label 1: tp=2, fp=1 (row 0), fn=0, tn=1.
    assert [t.get_text() for t in ax.texts] == ["1", "0", "1", "2", "2", "1", "0", "1"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog"]
    assert ax.get_xlabel() == "outcome"


def test_roc_curve_draws_the_metric_curves_with_names():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 120)
    s = rng.normal(size=(120, 3)).astype(np.float32)
    s[np.arange(120), y] += 1.0
    curve = M.roc_curve(s, y, task="multiclass", num_classes=3)
    ax = mp.roc_curve(curve, names=["x", "y", "z"])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("false positive rate", "true positive rate (recall)")
    assert [line.get_label() for line in ax.lines] == ["x", "y", "z", "chance"]
    for line, (fpr, tpr, _) in zip(ax.lines, curve.trim()):
        np.testing.assert_array_equal(line.get_xdata(), fpr)
        np.testing.assert_array_equal(line.get_ydata(), tpr)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["x", "y", "z", "chance"]


def test_roc_curve_matches_sklearn_points():
    from sklearn.metrics import roc_curve as sk_roc

    p, y = _binary()
    ax = mp.roc_curve(M.roc_curve(p, y), chance=False)
    fpr, tpr, _ = sk_roc(y, p, drop_intermediate=False)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), fpr, atol=1e-6)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), tpr, atol=1e-6)
    assert ax.get_legend() is None


def test_precision_recall_curve_puts_recall_on_x():
    from sklearn.metrics import precision_recall_curve as sk_pr

    p, y = _binary()
    ax = mp.precision_recall_curve({"model": M.precision_recall_curve(p, y)}, baseline=float(y.mean()))
    precision, recall, _ = sk_pr(y, p)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), recall, atol=1e-6)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), precision, atol=1e-6)
    assert ax.lines[0].get_drawstyle() == "steps-post"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("recall", "precision")
    assert ax.get_legend().get_texts()[1].get_text() == f"prevalence {y.mean():.3f}"


def test_curves_cap_at_max_curves():
    curves = {f"c{i}": (np.linspace(0, 1, 5), np.linspace(0, 1, 5)) for i in range(mp.MAX_CURVES + 3)}
    ax = mp.roc_curve(curves, chance=False)
    assert len(ax.lines) == mp.MAX_CURVES + 1 and ax.lines[-1].get_label() == "(3 more not drawn)"


def test_reliability_diagram_bars_are_bin_accuracies():
    p = np.array([0.05, 0.15, 0.55, 0.65, 0.95, 0.97, 1.0], np.float32)
    y = np.array([0, 1, 1, 0, 1, 1, 1])
    diag = M.reliability_diagram(p, y, n_bins=5)
    ece = float(M.calibration_error(p, y, n_bins=5))
    ax = mp.reliability_diagram(diag, ece=ece)
    assert ax.get_ylabel() == "accuracy" and ax.get_title() == f"Reliability diagram (ECE {ece:.4f})"
    top, bottom = ax.figure.axes
    assert top is ax and bottom.get_xlabel() == "confidence" and bottom.get_ylabel() == "share"
    # Bins [0, .2): {0.05→0, 0.15→1} acc 0.5; [.4, .6): {0.55→1} acc 1; [.6, .8): {0.65→0} acc 0;
    # [.8, 1): {0.95, 0.97} acc 1 (and 1.0 in the last entry, drawn as a dot only).
    assert [round(b.get_height(), 6) for b in ax.patches] == [0.5, 1.0, 0.0, 1.0]
    # Shares below: 2, 0, 1, 1, 2 of 7 elements (the 1.0 entry is not a bar).
    np.testing.assert_allclose([b.get_height() for b in bottom.patches], np.array([2, 0, 1, 1, 2]) / 7)


def test_reliability_diagram_into_a_given_axes():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    p, y = _binary()
    out = mp.reliability_diagram(M.reliability_diagram(p, y))
    assert out is not ax
    assert mp.reliability_diagram(M.reliability_diagram(p, y), ax=ax) is ax
    assert len(fig.axes) == 1 and ax.get_xlabel() == "confidence"


def test_per_class_bars_equal_the_values():
    p, y = np.array([0, 1, 1, 2, 2, 0]), np.array([0, 1, 2, 2, 2, 1])
    kw = dict(task="multiclass", num_classes=3, average=None)
    prec, rec = M.precision(p, y, **kw), M.recall(p, y, **kw)
    ax = mp.per_class({"precision": prec, "recall": rec}, class_names=["a", "b", "c"], ylabel="score")
    heights = [b.get_height() for b in ax.patches]
    np.testing.assert_allclose(heights, np.concatenate([prec, rec]), rtol=1e-6)
    # Hand-derived: precision = [1/2, 1/2, 1] (column hits / column totals), recall = [1, 1/2, 2/3].
    np.testing.assert_allclose(heights, [0.5, 0.5, 1.0, 1.0, 0.5, 2 / 3], rtol=1e-6)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("class", "score")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]


def test_per_group_error_bars_span_the_interval():
    ax = mp.per_group([0.8, 0.6, 0.7], lower=[0.7, 0.5, 0.7], upper=[0.9, 0.65, 0.75],
                      group_names=["A", "B", "C"], ylabel="accuracy")
    assert ax.get_ylabel() == "accuracy" and ax.get_xlabel() == "group"
    np.testing.assert_allclose([b.get_height() for b in ax.patches], [0.8, 0.6, 0.7])
    segments = ax.collections[0].get_segments()          # the error bar lines, one per group
    np.testing.assert_allclose([[s[0][1], s[1][1]] for s in segments], [[0.7, 0.9], [0.5, 0.65], [0.7, 0.75]])


def test_per_group_mapping_without_intervals():
    ax = mp.per_group({"x": 1.0, "y": 2.0})
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y"] and not ax.collections


@pytest.mark.parametrize("call,match", [
    (lambda: mp.confusion_matrix(np.ones((2, 3))), r"cm must be square \[C, C\]; received shape \(2, 3\)"),
    (lambda: mp.confusion_matrix(np.ones(3)), r"cm must be a \[C, C\] matrix"),
    (lambda: mp.confusion_matrix(np.ones((2, 2)), display_labels=["a"]), "display_labels must have 2"),
    (lambda: mp.multilabel_confusion_matrix(np.ones((3, 2))), r"cm must be an \[L, 2, 2\] array"),
    (lambda: mp.roc_curve((np.ones(3), np.ones(4))), "two 1-D arrays of one length"),
    (lambda: mp.reliability_diagram((np.ones(3), np.ones(3), np.ones(2))), "one length"),
    (lambda: mp.per_class({"a": [1, 2], "b": [1]}), r"values\['b'\] must be \[2\]"),
    (lambda: mp.per_group([1.0, 2.0], lower=[0.0, 1.0]), "lower and upper must be given together"),
    (lambda: mp.per_group([1.0, 2.0], lower=[0.0, 3.0], upper=[2.0, 2.5]), "lower must be <= upper"),
    (lambda: mp.per_group([1.0, 2.0], lower=[0.0], upper=[2.0]), r"lower must be \[2\]"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call", [lambda: mp.roc_curve(3.0), lambda: mp.reliability_diagram("x"),
                                  lambda: mp.confusion_matrix(np.eye(2), display_labels="ab")])
def test_wrong_types_raise_type_error(call):
    with pytest.raises(TypeError, match="must be"):
        call()


def test_cli_plots_go_through_maskjax_plot(tmp_path, monkeypatch):
    """maskjax.app.plots (used by `maskjax demo` / `report`) draws with maskjax.plot and writes PNGs."""
    calls = []
    for name in ("confusion_matrix", "multilabel_confusion_matrix", "roc_curve", "precision_recall_curve",
                 "reliability_diagram"):
        real = getattr(mp, name)
        monkeypatch.setattr(mp, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    p, y = _binary()
    fpr, tpr, _ = M.roc_curve(p, y).trim()
    precision, recall, _ = M.precision_recall_curve(p, y).trim()
    diag = M.reliability_diagram(p, y)
    paths = [
        app_plots.confusion_matrix(np.array([[3, 1], [0, 4]]), ["0", "1"], str(tmp_path / "cm.png")),
        app_plots.label_confusion(np.array([[1, 2, 3, 4]]), ["l"], str(tmp_path / "lc.png")),
        app_plots.roc({"m": (fpr, tpr)}, str(tmp_path / "roc.png")),
        app_plots.precision_recall({"m": (recall, precision)}, str(tmp_path / "pr.png"), baseline=0.5),
        app_plots.reliability(diag.confidence, diag.accuracy, diag.weight, str(tmp_path / "rel.png"), ece=0.1),
    ]
    assert calls == ["confusion_matrix", "multilabel_confusion_matrix", "roc_curve", "precision_recall_curve",
                     "reliability_diagram"]
    for path in paths:
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_app_label_confusion_keeps_tp_fp_fn_tn_order(tmp_path, monkeypatch):
    seen = {}
    real = mp.multilabel_confusion_matrix
    monkeypatch.setattr(mp, "multilabel_confusion_matrix", lambda cm, **k: seen.setdefault("ax", real(cm, **k)))
    app_plots.label_confusion(np.array([[1, 2, 3, 4]]), ["l"], str(tmp_path / "lc.png"))
    assert [t.get_text() for t in seen["ax"].texts] == ["1", "2", "3", "4"]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=300)


def test_no_pyplot_and_install_hint_without_matplotlib():
    proc = _run("""
        import sys
        import numpy as np, maskjax.plot as mp
        mp.confusion_matrix(np.eye(2)); mp.per_group([1.0])
        assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
        for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
            del sys.modules[name]
        sys.modules["matplotlib"] = None
        try:
            mp.confusion_matrix(np.eye(2))
        except ImportError as err:
            print("HINT", err)
    """)
    assert proc.returncode == 0, proc.stderr
    assert 'HINT maskjax.plot needs matplotlib: pip install "maskjax[cli]"' in proc.stdout


def test_new_figures_stay_a_readable_size_for_many_classes():
    for ax in (mp.per_class(np.zeros(100)), mp.per_group(np.zeros(60)), mp.confusion_matrix(np.eye(50))):
        width, height = ax.figure.get_size_inches()
        assert 4.0 <= width <= 15.0 and height <= 14.0


def test_per_group_draws_a_grouped_bootstrap_result():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    p = np.clip(0.35 * y + rng.uniform(0, 0.65, 300), 0, 1).astype(np.float32)
    g = rng.integers(0, 3, 300)
    boot = M.Bootstrap(M.Grouped(M.Accuracy(task="binary"), num_groups=3), num_replicates=200, seed=1)
    out = boot.compute(boot.update(boot.init(), p, y, groups=g))
    ax = mp.per_group(out, group_names=["a", "b", "c"], ylabel="accuracy")
    # The bars are each group's accuracy, computed by hand on its slice.
    by_hand = [np.mean((p[g == k] > 0.5) == y[g == k]) for k in range(3)]
    np.testing.assert_allclose([b.get_height() for b in ax.patches], by_hand, rtol=1e-6)
    segments = ax.collections[0].get_segments()
    np.testing.assert_allclose([[s[0][1], s[1][1]] for s in segments],
                               np.stack([out["lower"], out["upper"]], 1), rtol=1e-6)
    assert all(lo <= v <= hi for v, (lo, hi) in zip(by_hand, np.stack([out["lower"], out["upper"]], 1)))


def test_per_group_draws_a_collection_bootstrap_one_bar_per_metric():
    p, y = _binary()
    coll = M.Collection(accuracy=M.Accuracy(task="binary"), f1=M.F1Score(task="binary"))
    boot = M.Bootstrap(coll, num_replicates=100, seed=0)
    out = boot.compute(boot.update(boot.init(), p, y))
    ax = mp.per_group(out)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["accuracy", "f1"]
    np.testing.assert_allclose([b.get_height() for b in ax.patches],
                               [float(M.accuracy(p, y, task="binary")), float(M.f1_score(p, y, task="binary"))],
                               rtol=1e-6)
    with pytest.raises(ValueError, match="lower and upper must be None when values is a Bootstrap result"):
        mp.per_group(out, lower=[0, 0], upper=[1, 1])
    grouped = M.Bootstrap(M.Grouped(M.Collection(acc=M.Accuracy(task="binary")), num_groups=2), num_replicates=10)
    res = grouped.compute(grouped.update(grouped.init(), p, y, groups=(y > 0).astype(np.int32)))
    with pytest.raises(ValueError, match=r"values\['value'\] must hold one number per metric"):
        mp.per_group(res)
