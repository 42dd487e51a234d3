"""Exact (sort-based) ROC / PR / AUROC / AP against scikit-learn.

Heavy ties (scores rounded to a few values), random sample weights, all three
tasks, all averages. Masked ≡ sliced: maskjax sees padded, masked arrays and
the oracle only the kept elements.
"""

from __future__ import annotations

import math

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

from curves_data import binary_targets, tied_data
from maskjax import metrics as M
from oracles import curves as oc

N = 64                    # fixed padded length for the hypothesis tests (one compile)


def close(a, b, tol=2e-5):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=tol, atol=tol)


# ----------------------------------------------------------------- binary
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_matches_sklearn(seed, weighted):
    rng, s, w = tied_data(seed, 200, weighted=weighted)
    y = binary_targets(rng, s)
    close(M.auroc(s, y, sample_weight=w), oc.sk_auroc("binary", y, s, w))
    close(M.average_precision(s, y, sample_weight=w), oc.sk_ap("binary", y, s, w))
    for ours, ref in zip(M.roc_curve(s, y, sample_weight=w).trim(), oc.sk_roc_curve(y, s, w)):
        close(ours, ref)
    for ours, ref in zip(M.precision_recall_curve(s, y, sample_weight=w).trim(), oc.sk_pr_curve(y, s, w)):
        close(ours, ref)


def test_roc_drop_intermediate_matches_sklearn():
    rng, s, _ = tied_data(3, 300, levels=40, weighted=False)
    y = binary_targets(rng, s)
    for ours, ref in zip(M.roc_curve(s, y).trim(drop_intermediate=True),
                         oc.sk_roc_curve(y, s, drop_intermediate=True)):
        close(ours, ref)


@jax.jit
def _binary_all(s, y, m, w):
    kw = dict(mask=m, sample_weight=w)
    return (M.auroc(s, y, **kw), M.average_precision(s, y, **kw),
            M.roc_curve(s, y, **kw), M.precision_recall_curve(s, y, **kw))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n_kept=st.integers(2, N), levels=st.sampled_from([2, 3, 5, 50]),
       zero_w=st.booleans())
def test_binary_masked_equals_sliced(seed, n_kept, levels, zero_w):
    rng, s, w = tied_data(seed, N, levels=levels)
    y = binary_targets(rng, s)
    if zero_w:
        w[rng.random(N) < 0.2] = 0.0          # zero weights count nowhere (sklearn drops them)
    m = np.zeros(N, bool)
    m[rng.permutation(N)[:n_kept]] = True
    auc, ap, roc, pr = _binary_all(s, y, m, w)
    ys, ss, ws = y[m], s[m], w[m]
    close(auc, oc.sk_auroc("binary", ys, ss, ws))
    close(ap, oc.sk_ap("binary", ys, ss, ws))
    for ours, ref in zip(roc.trim(), oc.sk_roc_curve(ys, ss, ws)):
        close(ours, ref)
    for ours, ref in zip(pr.trim(), oc.sk_pr_curve(ys, ss, ws)):
        close(ours, ref)
    # The fixed-length arrays: padding repeats points, so areas over the full arrays agree.
    if not math.isnan(float(auc)):
        close(np.trapezoid(np.asarray(roc.tpr), np.asarray(roc.fpr)), auc)
    close(-np.sum(np.diff(np.asarray(pr.recall)) * np.asarray(pr.precision)[:-1]), ap)


@jax.jit
def _unweighted_auroc(s, y, m):
    return M.auroc(s, y, mask=m)


@jax.jit
def _unweighted_ap(s, y, m):
    return M.average_precision(s, y, mask=m)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_kept=st.integers(0, N), levels=st.sampled_from([2, 5, 50, 10_000]),
       sign=st.sampled_from(["probabilities", "non-positive", "mixed"]))
def test_unweighted_host_route_masked_equals_sliced(seed, n_kept, levels, sign):
    # No sample_weight: on a single-device CPU runtime AUROC and AP take the uint32 route
    # (non-negative scores packed by XLA, negative ones on the host), exact ±0 ties across signs.
    rng, s, _ = tied_data(seed, N, levels=levels, weighted=False)
    y = binary_targets(rng, s)
    if sign == "non-positive":
        s = -s
    elif sign == "mixed":
        s = (s - 0.5) * np.float32(40)
        s[rng.random(N) < 0.1] = -0.0
    m = np.zeros(N, bool)
    m[rng.permutation(N)[:n_kept]] = True
    ys, ss = y[m], s[m]
    ref = oc.sk_auroc("binary", ys, ss) if 0 < ys.sum() < len(ys) else np.nan   # one class: nan
    close(_unweighted_auroc(s, y, m), ref)
    close(_unweighted_auroc(np.full(N, s[0]), y, m), 0.5 if 0 < ys.sum() < len(ys) else np.nan)   # one tie group
    close(_unweighted_ap(s, y, m), oc.sk_ap("binary", ys, ss) if ys.sum() > 0 else 0.0)   # no positives: 0
    close(_unweighted_ap(np.full(N, s[0]), y, m), ys.mean() if ys.sum() > 0 else 0.0)      # one tie group: P/M


def test_unweighted_host_route_agrees_with_weighted_routes():
    from maskjax.metrics.curves import _exact
    from maskjax.metrics.curves._roc import auroc_from_counts
    from maskjax.metrics.curves._precision_recall_curve import average_precision_from_counts
    rng, s, _ = tied_data(12, 3000, k=3, levels=30, weighted=False)
    s = (s - 0.3).T.copy()          # [K, M], mixed signs
    y = binary_targets(rng, s + 0.3)
    w = (rng.random(s.shape) < 0.9).astype(np.float32)     # 0/1 weights: masked elements
    args = jnp.asarray(s), jnp.asarray(y), jnp.asarray(w)
    for stat, ref in ((auroc_from_counts, oc.sk_auroc), (average_precision_from_counts, oc.sk_ap)):
        unit = stat(_exact.sorted_counts(*args, unit_weights=True))
        cosort = stat(_exact.sorted_counts(*args))
        xla = stat(_exact.sorted_counts(*args, "xla"))
        close(unit, [ref("binary", y[k][w[k] > 0], s[k][w[k] > 0]) for k in range(3)], 1e-6)
        close(unit, cosort, 1e-6)
        close(unit, xla, 1e-6)


@pytest.mark.parametrize("n", [0, 1, 1023, 1024, 1025, 3 * 256 * 1024 + 7])
def test_position_sum_is_exact_across_blocks(n):
    from maskjax._kernels import exact_host
    bits = np.random.default_rng(n).random(n) < 0.5
    pos = np.flatnonzero(bits)
    assert exact_host._count_and_position_sum(bits) == (len(pos), int(pos.sum()))


def test_host_chunks_match_sklearn(monkeypatch):
    # Shrink the host's chunk sizes so that tie groups straddle chunk boundaries,
    # on data sklearn checks quickly.
    from maskjax._kernels import exact_host
    monkeypatch.setattr(exact_host, "_AUROC_CHUNK", 37)
    monkeypatch.setattr(exact_host, "_CHUNK", 41)
    rng, s, w = tied_data(13, 3000, levels=300)
    y = binary_targets(rng, s)
    m = rng.random(3000) < 0.9
    close(M.auroc(s, y, mask=m, sample_weight=w), oc.sk_auroc("binary", y[m], s[m], w[m]))
    close(M.auroc(s - 0.5, y, mask=m), oc.sk_auroc("binary", y[m], s[m]))
    close(M.average_precision(s, y, mask=m, sample_weight=w), oc.sk_ap("binary", y[m], s[m], w[m]))


def test_host_kernels_without_buffer_callback(monkeypatch):
    # JAX < 0.7 has no buffer_callback: the host kernels fall back to pure_callback (with
    # copies). An odd length gives fresh traces, so the patched helper is the one traced.
    from maskjax._kernels import host_call as _host_call
    monkeypatch.setattr(_host_call, "_buffer_callback", None)
    rng, s, w = tied_data(14, 37, levels=6)
    y = binary_targets(rng, s)
    close(M.auroc(s, y), oc.sk_auroc("binary", y, s))
    close(M.auroc(s - 0.5, y, sample_weight=w), oc.sk_auroc("binary", y, s, w))
    close(M.average_precision(s, y, sample_weight=w), oc.sk_ap("binary", y, s, w))
    for ours, ref in zip(M.roc_curve(s, y, sample_weight=w).trim(), oc.sk_roc_curve(y, s, w)):
        close(ours, ref)


@pytest.mark.parametrize("fn", [M.auroc, M.average_precision])
@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
def test_scalar_metrics_run_one_host_kernel(fn, average):
    # On a single-device CPU, AUROC / AP are one host kernel (one sort): "weighted" averaging
    # must not pull in the per-element kernel (a second sort) just for the class support.
    if jax.default_backend() != "cpu" or jax.device_count() != 1:
        pytest.skip("the NumPy backend runs on a single-device CPU runtime")
    s, y = jnp.zeros((50, 3)), jnp.zeros(50, jnp.int32)
    f = jax.jit(lambda a, b: fn(a, b, task="multiclass", num_classes=3, average=average))
    hlo = f.lower(s, y).compile().as_text()
    assert hlo.count("custom_call_target=") == 1, hlo


def test_vmap_over_targets_or_mask_only():
    # The host kernels get the unbatched scores with a size-1 batch axis: broadcast, not indexed.
    p = jnp.array([.1, .4, .35, .8])
    t = np.array([[0, 0, 1, 1], [1, 0, 0, 1]])
    want = [oc.sk_auroc("binary", t[0], np.asarray(p)), oc.sk_auroc("binary", t[1], np.asarray(p))]
    close(jax.vmap(lambda b: M.auroc(p, b))(jnp.asarray(t)), want)
    masks = jnp.array([[1, 1, 1, 1], [1, 1, 0, 1]], bool)
    close(jax.vmap(lambda m: M.auroc(p, t[0], mask=m))(masks),
          [want[0], oc.sk_auroc("binary", t[0][[0, 1, 3]], np.asarray(p)[[0, 1, 3]])])
    close(jax.vmap(lambda b: M.auroc(p - 0.5, b))(jnp.asarray(t)), want)      # negative scores too


def test_empty_input_behaves_as_all_masked():
    empty, no_targets = jnp.zeros(0), jnp.zeros(0, jnp.int32)
    assert math.isnan(float(M.auroc(empty, no_targets)))
    assert float(M.average_precision(empty, no_targets)) == 0.0
    assert float(M.average_precision(empty, no_targets, sample_weight=empty)) == 0.0
    assert math.isnan(float(M.auroc(jnp.zeros((0, 3)), no_targets, task="multiclass", num_classes=3)))
    roc = M.roc_curve(empty, no_targets)
    assert roc.valid.tolist() == [True, False] and np.isnan(np.asarray(roc.tpr)).all()


def test_denormal_scores_rank_above_zero():
    # XLA:CPU (and the host kernels, which run under its denormals-are-zero flag) compare a
    # denormal as 0; the sort keys come from the bits, so ranks match scikit-learn.
    tiny = np.float32(1e-40)
    for s, y in (([tiny, 0.0], [1, 0]), ([-tiny, 0.0], [0, 1]), ([-0.0, 0.5, -tiny], [0, 1, 1])):
        s, y = np.asarray(s, np.float32), np.asarray(y)
        close(M.auroc(s, y), oc.sk_auroc("binary", y, s))
        close(M.auroc(s, y, sample_weight=np.ones(len(s), np.float32)), oc.sk_auroc("binary", y, s))
        close(M.average_precision(s, y), oc.sk_ap("binary", y, s))
    for ours, ref in zip(M.roc_curve(np.float32([tiny, 0.0]), np.array([1, 0])).trim(),
                         oc.sk_roc_curve(np.array([1, 0]), np.float32([tiny, 0.0]))):
        close(ours, ref, 0)


def test_gradients_are_zero_on_every_route():
    from maskjax.metrics.curves import _exact
    from maskjax.metrics.curves._roc import auroc_from_counts
    from maskjax.metrics.curves._precision_recall_curve import average_precision_from_counts
    s, y, w = jnp.array([.1, .4, .35, .8]), jnp.array([0, 0, 1, 1]), jnp.array([1., 2., 3., 4.])
    for backend in ("numpy", "xla"):
        def f(s, w):
            c = _exact.sorted_counts(s[None], y[None], w[None], backend)
            return auroc_from_counts(c)[0] + average_precision_from_counts(c)[0]
        gs, gw = jax.grad(f, argnums=(0, 1))(s, w)
        assert not np.asarray(gs).any() and not np.asarray(gw).any(), backend


def test_padded_layout():
    s = jnp.array([.1, .4, .35, .8, .4, .9])
    y = jnp.array([0, 0, 1, 1, 1, 0])
    m = jnp.array([1, 1, 1, 1, 1, 0], bool)
    roc = M.roc_curve(s, y, mask=m)
    assert roc.fpr.shape == (7,)
    assert roc.valid.tolist() == [True, True, False, True, True, True, False]
    assert roc.fpr[-1] == 1 and roc.tpr[-1] == 1 and roc.thresholds[-1] == np.float32(.1)
    pr = M.precision_recall_curve(s, y, mask=m)
    assert pr.precision.shape == (7,) and pr.thresholds.shape == (6,)
    assert pr.valid.tolist() == [False, True, True, True, False, True, True]


def test_ignore_index_and_invalid_targets_count_nowhere():
    rng, s, w = tied_data(7, 100)
    y = binary_targets(rng, s)
    y_ign = np.where(rng.random(100) < 0.3, -100, y)
    keep = y_ign != -100
    close(M.auroc(s, y_ign, sample_weight=w, ignore_index=-100), oc.sk_auroc("binary", y[keep], s[keep], w[keep]))
    y_255 = np.where(keep, y, 255)      # not 0/1 and not the ignore value: dropped too
    close(M.average_precision(s, y_255, sample_weight=w), oc.sk_ap("binary", y[keep], s[keep], w[keep]))


def test_from_logits_is_explicit():
    rng, s, w = tied_data(8, 100, levels=20)
    y = binary_targets(rng, s)
    logits = (s - 0.5) * 8
    close(M.auroc(logits, y, from_logits=True), oc.sk_auroc("binary", y, s))
    assert M.roc_curve(logits, y, from_logits=True).thresholds[1:].max() <= 1.0


def test_degenerate_inputs():
    s = jnp.array([.2, .5, .7])
    ones, zeros = jnp.ones(3, jnp.int32), jnp.zeros(3, jnp.int32)
    assert math.isnan(float(M.auroc(s, ones)))            # one class only: nan (sklearn)
    assert math.isnan(float(M.auroc(s, zeros)))
    assert float(M.average_precision(s, zeros)) == 0.0      # no positives: 0 (sklearn)
    assert float(M.average_precision(s, ones)) == 1.0
    none = jnp.zeros(3, bool)
    assert math.isnan(float(M.auroc(s, ones, mask=none)))   # all masked
    assert float(M.average_precision(s, ones, mask=none)) == 0.0
    w = jnp.array([.5, 2., 1.])
    assert math.isnan(float(M.auroc(s, ones.at[0].set(0), mask=none, sample_weight=w)))   # weighted route
    assert math.isnan(float(M.auroc(s, ones, sample_weight=w)))
    assert float(M.average_precision(s, ones.at[0].set(0), mask=none, sample_weight=w)) == 0.0
    roc = M.roc_curve(s, zeros)
    assert np.isnan(np.asarray(roc.tpr)).all() and (np.asarray(roc.fpr)[1:] >= 0).all()
    close(roc.trim()[0], oc.sk_roc_curve(np.zeros(3), np.asarray(s))[0])
    close(M.precision_recall_curve(s, zeros).trim()[1], oc.sk_pr_curve(np.zeros(3), np.asarray(s))[1])


def test_signed_zero_and_negative_scores_tie_as_numpy():
    s = np.array([0.0, -0.0, -1.5, 2.0, -1.5], np.float32)
    y = np.array([1, 0, 0, 1, 1])
    close(M.auroc(s, y), oc.sk_auroc("binary", y, s))
    for ours, ref in zip(M.roc_curve(s, y).trim(), oc.sk_roc_curve(y, s)):
        close(ours, ref)


def test_sort_backends_agree():
    from maskjax.metrics.curves import _exact
    from maskjax.metrics.curves._roc import auroc_from_counts
    from maskjax.metrics.curves._precision_recall_curve import average_precision_from_counts
    rng, s, w = tied_data(9, 500)
    y = binary_targets(rng, s).astype(np.float32)
    a = _exact.sorted_counts(jnp.asarray(s)[None], jnp.asarray(y)[None], jnp.asarray(w)[None], "xla")
    b = _exact.sorted_counts(jnp.asarray(s)[None], jnp.asarray(y)[None], jnp.asarray(w)[None], "numpy")
    close(auroc_from_counts(a), auroc_from_counts(b))
    close(average_precision_from_counts(a), average_precision_from_counts(b))
    np.testing.assert_array_equal(np.asarray(a.last), np.asarray(b.last))


def test_jit_equals_eager_and_vmap():
    rng, s, w = tied_data(10, 80)
    y = binary_targets(rng, s)
    eager = M.auroc(s, y, sample_weight=w)
    close(jax.jit(lambda a, b, c: M.auroc(a, b, sample_weight=c))(s, y, w), eager, 1e-6)
    batched = jax.vmap(lambda a, b: M.average_precision(a, b))(jnp.stack([s, s[::-1]]), jnp.stack([y, y]))
    close(batched, [oc.sk_ap("binary", y, s), oc.sk_ap("binary", y, s[::-1])])
    batched = jax.vmap(lambda a, b: M.auroc(a, b))(jnp.stack([s, s[::-1]]), jnp.stack([y, y]))
    close(batched, [oc.sk_auroc("binary", y, s), oc.sk_auroc("binary", y, s[::-1])])


# ----------------------------------------------------------------- multiclass / multilabel
AVERAGES = ["macro", "weighted", "micro", None]


@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_multi_matches_sklearn(task, average):
    n, k = 150, 4
    rng, s, w = tied_data(11, n, k, levels=5)
    if task == "multiclass":
        y = rng.integers(0, k, n)
        y = np.where(rng.random(n) < 0.5, s.argmax(1), y)
    else:
        y = binary_targets(rng, s)
    kw = dict(task=task, num_classes=k, average=average, sample_weight=w)
    close(M.auroc(s, y, **kw), oc.sk_auroc(task, y, s, w, average, k))
    close(M.average_precision(s, y, **kw), oc.sk_ap(task, y, s, w, average, k))


@jax.jit
def _multi_all(s, y, m, w):
    out = {}
    for task, yy in (("multiclass", y), ("multilabel", jax.nn.one_hot(y, s.shape[-1], dtype=jnp.int32))):
        for avg in AVERAGES:
            kw = dict(task=task, average=avg, mask=m, sample_weight=w)
            out[f"{task}/{avg}"] = (M.auroc(s, yy, **kw), M.average_precision(s, yy, **kw))
    return out


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), n_kept=st.integers(8, N))
def test_multi_masked_equals_sliced(seed, n_kept):
    rng, s, w = tied_data(seed, N, 3, levels=4)
    y = rng.integers(0, 3, N)
    m = np.zeros(N, bool)
    m[rng.permutation(N)[:n_kept]] = True
    out = _multi_all(s, y, m, w)
    present = np.bincount(y[m], minlength=3) > 0
    for key, (auc, ap) in out.items():
        task, avg = key.split("/")
        avg = None if avg == "None" else avg
        yk = y[m] if task == "multiclass" else np.eye(3, dtype=int)[y[m]]
        ref_ap = oc.sk_ap(task, yk, s[m], w[m], avg, 3)
        close(ap, ref_ap)
        if present.all() and n_kept > 3:
            ref = oc.sk_auroc(task, yk, s[m], w[m], avg, 3)
            if not np.isnan(ref).any():
                close(auc, ref)


def test_multiclass_ignore_index_softmax_and_curves():
    n, k = 120, 3
    rng, s, w = tied_data(12, n, k, levels=6)
    logits = np.log(s + 0.1)
    probs = np.asarray(jax.nn.softmax(jnp.asarray(logits), -1))
    y = rng.integers(0, k, n)
    y_ign = np.where(rng.random(n) < 0.2, 255, y)
    keep = y_ign != 255
    got = M.auroc(logits, y_ign, task="multiclass", from_logits=True, ignore_index=255, average=None)
    close(got, oc.sk_auroc("multiclass", y[keep], probs[keep], None, None, k), 1e-5)
    curves = M.roc_curve(logits, y_ign, task="multiclass", from_logits=True, ignore_index=255).trim()
    yb = np.eye(k)[y[keep]]
    for c, (f, t, th) in enumerate(curves):
        rf, rt, rth = oc.sk_roc_curve(yb[:, c], probs[keep][:, c])
        close(f, rf), close(t, rt), close(th, rth, 1e-5)
    micro = M.precision_recall_curve(logits, y_ign, task="multiclass", from_logits=True, ignore_index=255,
                                     average="micro").trim()
    ref = oc.sk_pr_curve(yb.ravel(), probs[keep].ravel())
    close(micro[0], ref[0]), close(micro[1], ref[1])


def test_nan_classes_are_dropped_from_averages():
    s = np.array([[.9, .1], [.2, .8], [.6, .4]], np.float32)
    y = np.array([[1, 1], [0, 1], [1, 1]])          # label 1 has no negatives → nan
    per = M.auroc(s, y, task="multilabel", average=None)
    assert math.isnan(float(per[1])) and float(per[0]) == 1.0
    assert float(M.auroc(s, y, task="multilabel")) == 1.0
    assert math.isnan(float(M.auroc(s, np.ones_like(y), task="multilabel")))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="task"):
        M.auroc([.1], [1], task="binaryy")
    with pytest.raises(ValueError, match="average"):
        M.auroc(np.zeros((2, 3)), [0, 1], task="multiclass", average="samples")
    with pytest.raises(ValueError, match="num_classes"):
        M.auroc(np.zeros((2, 3)), [0, 1], task="multiclass", num_classes=4)
    with pytest.raises(TypeError, match="from_logits"):
        M.auroc([.1], [1], from_logits="yes")
