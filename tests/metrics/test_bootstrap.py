"""maskjax.metrics.Bootstrap: coverage by simulation, width vs the normal approximation, merge ≡ one pass."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

import maskjax.metrics as M
from maskjax.metrics import Bootstrap, Grouped
from maskjax.metrics.bootstrap import poisson_weights


def _binary(n, acc, seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    right = rng.random(n) < acc
    p = np.where(right, t, 1 - t).astype(np.float32) * 0.8 + 0.1   # scores 0.1 / 0.9
    return p, t


def test_poisson_weights_follow_poisson_1_and_are_counter_based():
    w = np.asarray(jax.vmap(lambda r: poisson_weights(0, r, jnp.arange(20_000)))(jnp.arange(10))).ravel()
    counts = np.bincount(w.astype(int), minlength=8)[:8]
    expected = stats.poisson.pmf(np.arange(8), 1.0) * w.size
    # chi-square over k = 0..5 (expected counts >= 100); 5 dof, p=0.001 critical value 20.5
    chi2 = np.sum((counts[:6] - expected[:6]) ** 2 / expected[:6])
    assert chi2 < 20.5, (counts, expected)
    # counter-based: a row's weight depends on (seed, replicate, id) only, not on its batch
    ids = jnp.array([5, 17, 123456, 3])
    np.testing.assert_array_equal(poisson_weights(0, 7, ids)[1:3], poisson_weights(0, 7, ids[1:3]))
    assert not np.array_equal(poisson_weights(0, 7, jnp.arange(64)), poisson_weights(1, 7, jnp.arange(64)))
    assert not np.array_equal(poisson_weights(0, 7, jnp.arange(64)), poisson_weights(0, 8, jnp.arange(64)))


def test_coverage_of_true_accuracy_by_simulation():
    """100 simulated data sets (vmapped), true accuracy 0.7: the 95% interval covers it in >= 90%."""
    sims, n, true_acc = 100, 400, 0.7
    keys = jax.random.split(jax.random.PRNGKey(2024), sims)

    def one(key):
        kt, kr = jax.random.split(key)
        t = jax.random.bernoulli(kt, 0.5, (n,)).astype(jnp.int32)
        right = jax.random.bernoulli(kr, true_acc, (n,))
        p = jnp.where(right, t, 1 - t).astype(jnp.float32)
        return boot(p, t)

    boot = Bootstrap(M.Accuracy(task="binary"), num_replicates=300, confidence=0.95, seed=0)
    out = jax.jit(jax.vmap(one))(keys)
    covered = np.mean((np.asarray(out["lower"]) <= true_acc) & (true_acc <= np.asarray(out["upper"])))
    assert covered >= 0.90, covered
    # the interval is not trivially wide: about 2·1.96·sqrt(.21/400) = 0.0898
    width = np.median(np.asarray(out["upper"] - out["lower"]))
    assert 0.07 < width < 0.11, width


def test_width_matches_normal_approximation_on_20k_samples():
    n = 20_000
    p, t = _binary(n, 0.8, seed=1)
    out = Bootstrap(M.Accuracy(task="binary"), num_replicates=1000, seed=3)(p, t)
    a = skm.accuracy_score(t, p > 0.5)
    np.testing.assert_allclose(out["value"], a, rtol=1e-6)
    normal = 2 * stats.norm.ppf(0.975) * math.sqrt(a * (1 - a) / n)
    width = float(out["upper"] - out["lower"])
    assert abs(width / normal - 1) < 0.25, (width, normal)
    np.testing.assert_allclose(float(out["std"]), math.sqrt(a * (1 - a) / n), rtol=0.25)


def test_interval_is_the_percentile_of_the_replicates():
    p, t = _binary(500, 0.75, seed=2)
    boot = Bootstrap(M.F1Score(task="binary"), num_replicates=200, confidence=0.9, seed=5)
    state = boot.update(boot.init(), p, t)
    reps = np.asarray(boot.replicate_values(state))
    out = boot.compute(state)
    np.testing.assert_allclose(out["lower"], np.percentile(reps, 5), rtol=1e-6)
    np.testing.assert_allclose(out["upper"], np.percentile(reps, 95), rtol=1e-6)
    np.testing.assert_allclose(out["std"], np.std(reps, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(out["value"], skm.f1_score(t, p > 0.5), rtol=1e-6)
    # replicate r is the metric under the Poisson weights of replicate r (sklearn with those weights)
    w = np.asarray(poisson_weights(5, 17, jnp.arange(500)))
    np.testing.assert_allclose(reps[17], skm.f1_score(t, p > 0.5, sample_weight=w), rtol=1e-5)


def test_streaming_and_merge_equal_one_pass():
    p, t = _binary(3000, 0.8, seed=3)
    coll = M.Collection(acc=M.Accuracy(task="binary"), auroc=M.AUROC(task="binary", thresholds=30), loss=M.Mean())
    boot = Bootstrap(coll, num_replicates=64, seed=1)
    loss = np.abs(p - t).astype(np.float32)
    one = boot.update(boot.init(), p, t, loss=loss)
    # streamed: the state carries the row offset, so batches get the ids of one pass
    update = jax.jit(boot.update)   # equal batch shapes: one compilation
    s = boot.init()
    for lo in range(0, 3000, 1000):
        s = update(s, p[lo:lo + 1000], t[lo:lo + 1000], loss=loss[lo:lo + 1000])
    # merged: parts updated independently, with their global row ids
    parts = [update(boot.init(), p[a:b], t[a:b], loss=loss[a:b], ids=jnp.arange(a, b))
             for a, b in ((2000, 3000), (0, 1000), (1000, 2000))]
    merged = boot.merge(parts[0], boot.merge(parts[1], parts[2]))
    ref = boot.compute(one)
    for state in (s, merged):
        got = boot.compute(state)
        for k in ("value", "lower", "upper", "std"):
            for name in ("acc", "auroc", "loss"):
                np.testing.assert_allclose(got[k][name], ref[k][name], rtol=1e-6, err_msg=f"{k}/{name}")
    assert int(merged["offset"]) == 3000


def test_composes_with_grouped_both_ways():
    p, t = _binary(2000, 0.8, seed=4)
    groups = np.arange(2000) % 3
    inner = M.Accuracy(task="binary")
    outer = Bootstrap(Grouped(inner, 3), num_replicates=100, seed=0)(p, t, groups=groups)
    per_group = Grouped(Bootstrap(inner, num_replicates=100, seed=0), 3)(p, t, groups=groups)
    for g in range(3):
        k = groups == g
        a = skm.accuracy_score(t[k], p[k] > 0.5)
        np.testing.assert_allclose(outer["value"][g], a, rtol=1e-6)
        np.testing.assert_allclose(per_group["value"][g], a, rtol=1e-6)
        assert outer["lower"][g] < a < outer["upper"][g]
        assert per_group["lower"][g] < a < per_group["upper"][g]
    # same row ids and seed: a row has the same weight in both, so the intervals coincide
    np.testing.assert_allclose(outer["lower"], per_group["lower"], rtol=1e-6)
    np.testing.assert_allclose(outer["upper"], per_group["upper"], rtol=1e-6)


def test_sample_weight_multiplies_the_poisson_weights():
    p, t = _binary(400, 0.7, seed=6)
    w = np.random.default_rng(0).uniform(0.5, 2, 400).astype(np.float32)
    boot = Bootstrap(M.Accuracy(task="binary", dtype="float32"), num_replicates=20, seed=2)
    state = boot.update(boot.init(), p, t, sample_weight=w)
    np.testing.assert_allclose(boot.compute(state)["value"], skm.accuracy_score(t, p > 0.5, sample_weight=w), rtol=1e-5)
    pw = np.asarray(poisson_weights(2, 3, jnp.arange(400)))
    np.testing.assert_allclose(boot.replicate_values(state)[3], skm.accuracy_score(t, p > 0.5, sample_weight=w * pw),
                               rtol=1e-5)


def test_bad_arguments_raise_naming_them():
    acc = M.Accuracy(task="binary")
    with pytest.raises(ValueError, match="dtype"):
        Bootstrap(M.Accuracy(task="binary", dtype="int32"))
    with pytest.raises(ValueError, match="dtype"):
        Bootstrap(M.Collection(a=M.Accuracy(task="binary", dtype="int32")))
    with pytest.raises(ValueError, match="confidence"):
        Bootstrap(acc, confidence=1.5)
    with pytest.raises(ValueError, match="num_replicates"):
        Bootstrap(acc, num_replicates=1)
    with pytest.raises(TypeError, match="metric"):
        Bootstrap("accuracy")
    boot = Bootstrap(acc, num_replicates=4)
    with pytest.raises(ValueError, match="ids"):
        boot.update(boot.init(), jnp.ones(3), jnp.ones(3, jnp.int32), ids=jnp.arange(4))
