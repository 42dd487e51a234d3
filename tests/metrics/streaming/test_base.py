"""Mean, Sum, Collection, HostAccumulator: semantics of the streaming base."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import maskjax
from maskjax.metrics import Collection, HostAccumulator, Mean, Metric, Sum, psum_state

V = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
M = np.array([[1, 1, 0], [1, 0, 0]], np.float32)
W = np.array([2.0, 0.5], np.float32)


@pytest.mark.parametrize("mask,weight", [(None, None), (M, None), (None, W), (M, W)])
def test_mean_and_sum_equal_maskjax_reduce(mask, weight):
    for metric, reduction in ((Mean(), "mean"), (Sum(), "sum")):
        got = metric(V, mask=mask, sample_weight=weight)
        want = maskjax.reduce(V, mask=mask, sample_weight=weight, reduction=reduction)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_mean_streams_rows_as_global_mean_not_mean_of_means():
    mean = Mean()
    state = mean.init()
    for i in range(2):
        state = mean.update(state, V[i : i + 1], mask=M[i : i + 1], sample_weight=W[i : i + 1])
    np.testing.assert_allclose(mean.compute(state), 8 / 4.5, rtol=1e-6)  # SEMANTICS.md example


def test_mean_all_masked_is_zero_and_masked_nan_does_not_leak():
    mean = Mean()
    assert float(mean(V, mask=np.zeros_like(M))) == 0.0
    v = V.copy()
    v[0, 2] = np.nan
    np.testing.assert_allclose(mean(v, mask=M), 7 / 3, rtol=1e-6)


def test_state_is_strongly_typed_arrays():
    for m in (Mean(), Sum()):
        state = m.init()
        for leaf in jax.tree.leaves(state.value):           # the sums (float32 double words)
            assert isinstance(leaf, jax.Array) and not leaf.weak_type and leaf.dtype == jnp.float32
        # and the number of bad batches seen (maskjax.metrics._invalid)
        assert state.invalid.dtype == jnp.int32 and not state.invalid.weak_type


def test_config_is_frozen_and_hashable():
    m = Mean()
    assert hash(m) == hash(Mean()) and m == Mean()
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.dtype = "float64"
    c = Collection(loss=Mean(), total=Sum())
    assert hash(c) == hash(Collection({"loss": Mean(), "total": Sum()}))


def test_bad_config_raises_naming_argument():
    with pytest.raises(ValueError, match="dtype"):
        Mean(dtype="int32")
    with pytest.raises(ValueError, match="jax_enable_x64"):
        Mean(dtype="float64")
    with pytest.raises(TypeError, match="streaming metric"):
        Collection(loss=lambda x: x)
    with pytest.raises(ValueError, match="reserved"):
        Collection(mask=Mean())


def test_collection_routes_values_and_rejects_unknown():
    c = Collection(loss=Mean(), total=Sum())
    s = c.update(c.init(), loss=V, total=V, mask=M)
    out = c.compute(s)
    np.testing.assert_allclose(out["loss"], 7 / 3, rtol=1e-6)
    np.testing.assert_allclose(out["total"], 7.0)
    with pytest.raises(ValueError, match="missing `total=`"):
        c.update(c.init(), loss=V)
    with pytest.raises(ValueError, match="not value metrics"):
        c.update(c.init(), loss=V, total=V, other=V)


def test_merge_associative_commutative_and_jit_equals_eager():
    mean = Mean()
    a, b, c = (mean.update(mean.init(), V[:, i], sample_weight=W) for i in range(3))
    left = mean.merge(mean.merge(a, b), c)
    right = mean.merge(a, mean.merge(c, b))
    jax.tree.map(np.testing.assert_allclose, left, right)
    jitted = jax.jit(mean.update)(mean.init(), V, mask=M, sample_weight=W)
    jax.tree.map(np.testing.assert_allclose, jitted, mean.update(mean.init(), V, mask=M, sample_weight=W))


def test_host_accumulator_is_exact_past_float32():
    s = Sum()
    acc = HostAccumulator(s)
    big = jnp.full((4,), 2.0**23, jnp.float32)  # each flush: 2**25, exact in float32
    for _ in range(8):  # total 2**28 + 8: not representable in float32
        acc.add(s.update(s.init(), big))
        acc.add(s.update(s.init(), jnp.ones((1,), jnp.float32)))
    assert acc.state["total"].dtype == np.float64
    assert float(acc.compute()) == 2.0**28 + 8


def test_psum_state_under_vmap_axis():
    mean = Mean()
    f = lambda v, m: psum_state(mean.update(mean.init(), v, mask=m), "d")  # noqa: E731
    out = jax.vmap(f, axis_name="d")(V, M)
    np.testing.assert_allclose(mean.compute(jax.tree.map(lambda x: x[1], out)), 7 / 3, rtol=1e-6)


def test_metric_base_is_abstract():
    with pytest.raises(NotImplementedError):
        Metric().init()


ROWS_AND_BUFFERS = {
    "samplewise": lambda: maskjax.metrics.F1Score(task="binary", multidim_average="samplewise", capacity=8),
    "exact_auroc": lambda: maskjax.metrics.AUROC(task="binary", capacity=64),
    "collection": lambda: Collection({"f1": maskjax.metrics.F1Score(task="binary"),
                                      "auc": maskjax.metrics.AUROC(task="binary", capacity=64)}),
}


@pytest.mark.parametrize("name", sorted(ROWS_AND_BUFFERS))
def test_row_and_buffer_states_are_refused_by_additions_and_merged_right(name):
    """Rows of samples and score buffers are merged, not added: HostAccumulator once gave AUROC
    0.3333 for sklearn's 0.31868, and psum_state added two devices' rows into one sample."""
    from sklearn.metrics import roc_auc_score
    metric = ROWS_AND_BUFFERS[name]()
    rng = np.random.default_rng(18)
    p, y = rng.random((4, 5)).astype(np.float32), rng.integers(0, 2, (4, 5))
    a, b = metric.update(metric.init(), p[:2], y[:2]), metric.update(metric.init(), p[2:], y[2:])
    acc = HostAccumulator(metric)
    acc.add(a)  # once, to the empty accumulator: exact (e.g. an already merged state)
    jax.tree.map(np.testing.assert_allclose, acc.compute(), metric.compute(a))
    with pytest.raises(TypeError, match="merged, not added"):
        acc.add(b)
    with pytest.raises(TypeError, match="merged, not added"):
        jax.vmap(lambda s: psum_state(s, "d"), axis_name="d")(jax.tree.map(lambda u, v: jnp.stack([u, v]), a, b))
    merged = metric.compute(metric.merge(a, b))
    if name == "exact_auroc":
        np.testing.assert_allclose(merged, roc_auc_score(y.ravel(), p.ravel()), rtol=1e-6)
    elif name == "samplewise":
        want = maskjax.metrics.f1_score(p, y, task="binary", multidim_average="samplewise")
        np.testing.assert_allclose(np.asarray(merged)[:4], want, rtol=1e-6)
    else:
        np.testing.assert_allclose(merged["auc"], roc_auc_score(y.ravel(), p.ravel()), rtol=1e-6)


def test_collection_members_with_different_capacities_keep_their_own_rows():
    """``state_key`` now includes a samplewise ``capacity``: members of capacity 4 and 8 once shared
    the first one's 4-row buffer (6 rows: all NaN for the capacity-8 member)."""
    from maskjax.metrics import F1Score, Precision, precision
    rng = np.random.default_rng(3)
    p, y = rng.random((6, 5)).astype(np.float32), rng.integers(0, 2, (6, 5))
    col = Collection({"f1": F1Score(task="binary", multidim_average="samplewise", capacity=4),
                      "prec": Precision(task="binary", multidim_average="samplewise", capacity=8)})
    out = col.compute(col.update(col.init(), p, y))
    np.testing.assert_allclose(np.asarray(out["prec"])[:6],
                               precision(p, y, task="binary", multidim_average="samplewise"), rtol=1e-6)
    assert np.isnan(np.asarray(out["prec"])[6:]).all()
    assert np.isnan(np.asarray(out["f1"])).all()  # 6 rows > capacity 4: the documented overflow NaN
