"""maskjax.metrics.Grouped: one pass per group ≡ slicing the data per group (sklearn / torchmetrics oracles)."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import metrics as skm

import maskjax.metrics as M
from maskjax.metrics import Grouped
from oracles import curves as oc

G = 4
N = 600
C = 3


def _data(seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, C, N)
    logits = rng.normal(size=(N, C)).astype(np.float32) + 1.2 * np.eye(C, dtype=np.float32)[t]
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    # ids -1 and G are out of range: those rows must count in no group.
    groups = rng.integers(-1, G + 1, N)
    mask = rng.random(N) > 0.1
    w = rng.uniform(0.2, 2.0, N).astype(np.float32)
    return probs.astype(np.float32), t, groups, mask, w


def _slice(g, groups, mask):
    return (groups == g) & mask


def test_confusion_metrics_per_group_equal_sklearn_on_slices():
    p, t, groups, mask, w = _data()
    coll = M.Collection(
        accuracy=M.Accuracy(task="multiclass", num_classes=C),
        f1=M.F1Score(task="multiclass", num_classes=C, average="macro"),
        precision=M.Precision(task="multiclass", num_classes=C, average=None),
        confusion=M.ConfusionMatrix(task="multiclass", num_classes=C),
    )
    grouped = Grouped(coll, G)
    out = grouped(p, t, groups=groups, mask=mask, sample_weight=w)
    assert set(out) == {"accuracy", "f1", "precision", "confusion"}
    assert out["accuracy"].shape == (G,) and out["precision"].shape == (G, C) and out["confusion"].shape == (G, C, C)
    yhat = p.argmax(-1)
    for g in range(G):
        s = _slice(g, groups, mask)
        kw = dict(sample_weight=w[s])
        np.testing.assert_allclose(out["accuracy"][g], skm.accuracy_score(t[s], yhat[s], **kw), rtol=1e-5)
        np.testing.assert_allclose(out["f1"][g], skm.f1_score(t[s], yhat[s], average="macro", **kw), rtol=1e-5)
        np.testing.assert_allclose(out["precision"][g], skm.precision_score(t[s], yhat[s], average=None,
                                                                            labels=range(C), zero_division=0, **kw),
                                   rtol=1e-5)
        np.testing.assert_allclose(out["confusion"][g], skm.confusion_matrix(t[s], yhat[s], labels=range(C), **kw),
                                   rtol=1e-5)


def test_out_of_range_groups_are_dropped():
    p, t, groups, mask, w = _data(1)
    cm = Grouped(M.ConfusionMatrix(task="multiclass", num_classes=C), G)
    total = np.asarray(cm(p, t, groups=groups)).sum()
    assert total == np.sum((groups >= 0) & (groups < G))       # rows with ids -1 and G counted nowhere
    assert np.sum((groups < 0) | (groups >= G)) > 0


def test_binned_curves_per_group_equal_torchmetrics_on_slices():
    p, t, groups, mask, _ = _data(2)
    s = p[:, 1]
    y = (t == 1).astype(np.int32)
    coll = M.Collection(auroc=M.AUROC(task="binary", thresholds=50), ap=M.AveragePrecision(task="binary", thresholds=50),
                        roc=M.ROC(task="binary", thresholds=50))
    out = Grouped(coll, G)(s, y, groups=groups, mask=mask)
    for g in range(G):
        k = _slice(g, groups, mask)
        np.testing.assert_allclose(out["auroc"][g], oc.tm_binned("auroc", "binary", y[k], s[k], 50), atol=1e-5)
        np.testing.assert_allclose(out["ap"][g], oc.tm_binned("average_precision", "binary", y[k], s[k], 50), atol=1e-5)
        fpr, tpr, _ = oc.tm_binned("roc", "binary", y[k], s[k], 50)
        np.testing.assert_allclose(out["roc"].fpr[g], fpr, atol=1e-6)
        np.testing.assert_allclose(out["roc"].tpr[g], tpr, atol=1e-6)


def test_exact_auroc_per_group_equals_sklearn_on_slices():
    p, t, groups, mask, w = _data(3)
    s, y = p[:, 0], (t == 0).astype(np.int32)
    out = Grouped(M.AUROC(task="binary", capacity=N), G)(s, y, groups=groups, mask=mask, sample_weight=w)
    for g in range(G):
        k = _slice(g, groups, mask)
        np.testing.assert_allclose(out[g], skm.roc_auc_score(y[k], s[k], sample_weight=w[k]), rtol=1e-5)


def test_mean_per_group_equals_numpy_weighted_average_streamed():
    p, t, groups, mask, w = _data(4)
    v = -np.log(p[np.arange(N), t])
    mean = Grouped(M.Mean(), G)
    update = jax.jit(mean.update)
    state = mean.init()
    for lo in range(0, N, 128):   # streamed in uneven batches (the last is shorter)
        sl = slice(lo, lo + 128)
        state = update(state, v[sl], groups=groups[sl], mask=mask[sl], sample_weight=w[sl])
    out = mean.compute(state)
    for g in range(G):
        k = _slice(g, groups, mask)
        np.testing.assert_allclose(out[g], np.average(v[k], weights=w[k]), rtol=1e-5)


def test_streamed_and_merged_equal_one_pass_with_a_collection():
    p, t, groups, mask, w = _data(5)
    coll = M.Collection(acc=M.Accuracy(task="multiclass", num_classes=C),
                        auroc=M.AUROC(task="multiclass", num_classes=C, thresholds=20), loss=M.Mean())
    grouped = Grouped(coll, G)
    loss = -np.log(p[np.arange(N), t])
    one = grouped.compute(grouped.update(grouped.init(), p, t, groups=groups, mask=mask, loss=loss))
    a = grouped.update(grouped.init(), p[:250], t[:250], groups=groups[:250], mask=mask[:250], loss=loss[:250])
    b = grouped.update(grouped.init(), p[250:], t[250:], groups=groups[250:], mask=mask[250:], loss=loss[250:])
    merged = grouped.compute(grouped.merge(a, b))
    streamed = grouped.compute(grouped.update(a, p[250:], t[250:], groups=groups[250:], mask=mask[250:],
                                              loss=loss[250:]))
    for name in ("acc", "auroc", "loss"):
        np.testing.assert_allclose(merged[name], one[name], rtol=1e-6)
        np.testing.assert_allclose(streamed[name], one[name], rtol=1e-6)
    # and each group equals the ungrouped collection on that group's slice
    for g in range(G):
        k = _slice(g, groups, mask)
        ref = coll(p[k], t[k], loss=loss[k])
        for name in ("acc", "auroc", "loss"):
            np.testing.assert_allclose(one[name][g], ref[name], rtol=1e-5)


def test_psum_across_devices_equals_one_pass():
    p, t, groups, mask, _ = _data(6)
    acc = Grouped(M.Accuracy(task="multiclass", num_classes=C), G)

    def per_device(pp, tt, gg):
        return acc.all_reduce(acc.update(acc.init(), pp, tt, groups=gg), "d")

    shards = [x.reshape(4, N // 4, *x.shape[1:]) for x in (p, t, groups)]
    out = jax.vmap(per_device, axis_name="d")(*shards)
    first = jax.tree.map(lambda x: x[0], out)
    np.testing.assert_allclose(acc.compute(first), acc(p, t, groups=groups), rtol=1e-6)


def test_row_groups_broadcast_from_the_left_and_empty_groups():
    rng = np.random.default_rng(7)
    p = rng.random((8, 5)).astype(np.float32)
    y = (rng.random((8, 5)) > 0.5).astype(np.int32)
    rows = np.array([0, 0, 1, 1, 0, 1, 0, 1])        # one group per row of [8, 5] elements
    out = Grouped(M.Accuracy(task="binary"), 3)(p, y, groups=rows)
    for g in range(2):
        np.testing.assert_allclose(out[g], skm.accuracy_score(y[rows == g].ravel(), (p[rows == g] > 0.5).ravel()),
                                   rtol=1e-6)
    assert out[2] == M.Accuracy(task="binary")(p[:0], y[:0])   # a group without elements: the empty value


def test_bad_arguments_raise_naming_them():
    acc = M.Accuracy(task="binary")
    with pytest.raises(TypeError, match="groups"):
        Grouped(acc, 2).update(Grouped(acc, 2).init(), jnp.ones(3), jnp.ones(3, jnp.int32), groups=jnp.ones(3))
    with pytest.raises(ValueError, match="num_groups"):
        Grouped(acc, 0)
    with pytest.raises(TypeError, match="num_groups"):
        Grouped(acc, 2.5)
    with pytest.raises(TypeError, match="metric"):
        Grouped(skm.accuracy_score, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert hash(Grouped(acc, 2)) == hash(Grouped(acc, 2))   # a static, hashable config
