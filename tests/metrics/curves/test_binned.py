"""Binned (thresholds=n or array) curves: torchmetrics parity, accuracy vs exact, streaming, no retrace."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from curves_data import binary_targets, tied_data
from maskjax import metrics as M
from maskjax.metrics.curves import _binned
from oracles import curves as oc


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=tol, atol=tol)


def test_binned_auroc_close_to_exact_20k():
    rng = np.random.default_rng(0)
    s = rng.random(20_000).astype(np.float32)
    y = (rng.random(20_000) < s).astype(np.int32)
    w = rng.random(20_000).astype(np.float32)
    exact = float(M.auroc(s, y, sample_weight=w))
    binned = float(M.auroc(s, y, sample_weight=w, thresholds=1000))
    assert abs(exact - binned) < 2e-3
    assert abs(float(M.average_precision(s, y, thresholds=1000)) - float(M.average_precision(s, y))) < 2e-3


def test_thresholds_int_is_torch_linspace():
    import torch
    for n in (15, 200, 1000):
        np.testing.assert_array_equal(np.asarray(_binned.binned_thresholds(n)), torch.linspace(0, 1, n).numpy())


@pytest.mark.parametrize("levels", [11, 1000])
def test_binary_matches_torchmetrics(levels):
    rng, s, _ = tied_data(1, 500, levels=levels)
    s[:5] = [0.0, 1.0, 0.5, 1 / 3, 2 / 3]                # scores on / near thresholds
    y = binary_targets(rng, s)
    for thr in (10, 101, np.array([0.05, 0.2, 0.5, 0.51, 0.9], np.float32)):
        close(M.auroc(s, y, thresholds=thr), oc.tm_binned("auroc", "binary", y, s, thr))
        close(M.average_precision(s, y, thresholds=thr), oc.tm_binned("average_precision", "binary", y, s, thr))
        for ours, ref in zip(M.roc_curve(s, y, thresholds=thr)[:3], oc.tm_binned("roc", "binary", y, s, thr)):
            close(ours, ref)
        pr = M.precision_recall_curve(s, y, thresholds=thr)
        for ours, ref in zip(pr[:3], oc.tm_binned("precision_recall_curve", "binary", y, s, thr)):
            close(ours, ref)


@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_multi_matches_torchmetrics(task):
    n, k, thr = 300, 4, 50
    rng, s, _ = tied_data(2, n, k, levels=30)
    if task == "multiclass":
        s = s / s.sum(1, keepdims=True).clip(1e-3)
        y = rng.integers(0, k, n)
    else:
        y = binary_targets(rng, s)
    averages = ["macro", "weighted", None] + (["micro"] if task == "multilabel" else [])
    for avg in averages:
        kw = dict(task=task, thresholds=thr, average=avg)
        close(M.auroc(s, y, **kw), oc.tm_binned("auroc", task, y, s, thr, avg, k))
        close(M.average_precision(s, y, **kw), oc.tm_binned("average_precision", task, y, s, thr, avg, k))
    p, r, t = M.precision_recall_curve(s, y, task=task, thresholds=thr)[:3]
    rp, rr, rt = oc.tm_binned("precision_recall_curve", task, y, s, thr, num_classes=k)
    close(p, rp), close(r, rr)


def test_streaming_update_merge_equals_one_shot():
    rng, s, w = tied_data(3, 400, 3, levels=50)
    y = rng.integers(0, 3, 400)
    thr = _binned.binned_thresholds(64)
    update = jax.jit(lambda st, a, b, c: _binned.binned_update(st, a, b, thr, task="multiclass",
                                                               sample_weight=c, evenly_spaced=True))
    st1 = update(_binned.binned_init(64, 3), s[:200], y[:200], w[:200])
    st2 = update(_binned.binned_init(64, 3), s[200:], y[200:], w[200:])
    merged = _binned.binned_merge(st1, st2)
    for avg in ("macro", "micro", "weighted", None):
        close(_binned.binned_auroc(merged, avg, "multiclass"),
              M.auroc(s, y, task="multiclass", thresholds=64, average=avg, sample_weight=w))
        close(_binned.binned_average_precision(merged, avg, "multiclass"),
              M.average_precision(s, y, task="multiclass", thresholds=64, average=avg, sample_weight=w))


def test_evenly_spaced_buckets_are_exact():
    thr = _binned.binned_thresholds(1000)
    s = jnp.concatenate([thr, jnp.nextafter(thr, 2.0), jnp.nextafter(thr[1:], -1.0),  # (thr[0] = 0: its neighbour is a denormal, flushed by XLA)
                         jnp.asarray(np.random.default_rng(4).random(5000), jnp.float32), jnp.array([-0.5, 1.5])])
    np.testing.assert_array_equal(np.asarray(_binned._buckets(s, thr, True)),
                                  np.searchsorted(np.asarray(thr), np.asarray(s), side="right"))


def test_changing_threshold_values_does_not_retrace():
    traces = []

    @jax.jit
    def f(s, y, thr):
        traces.append(1)
        return M.auroc(s, y, thresholds=thr), M.precision_recall_curve(s, y, thresholds=thr)

    rng, s, _ = tied_data(5, 100, levels=20)
    y = binary_targets(rng, s)
    for thr in (np.linspace(0, 1, 7), np.linspace(0.1, 0.9, 7), np.sort(rng.random(7))):
        auc, _ = f(s, y, jnp.asarray(thr, jnp.float32))
        close(auc, oc.tm_binned("auroc", "binary", y, s, np.asarray(thr, np.float32)))
    assert len(traces) == 1


def test_masked_equals_sliced_and_degenerate():
    rng, s, w = tied_data(6, 120, levels=30)
    y = binary_targets(rng, s)
    m = rng.random(120) < 0.6
    close(M.auroc(s, y, thresholds=25, mask=m, sample_weight=w),
          M.auroc(s[m], y[m], thresholds=25, sample_weight=w[m]))
    assert np.isnan(float(M.auroc(s, np.zeros_like(y), thresholds=25)))    # torchmetrics gives 0
    assert float(M.average_precision(s, np.zeros_like(y), thresholds=25)) == 0.0
    assert np.isnan(float(M.auroc(s, y, thresholds=25, mask=np.zeros(120, bool))))
