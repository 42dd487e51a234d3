"""Counts a user never sizes (exact wide sums), donation, and states that know who built them."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from maskjax import metrics as M
from maskjax.metrics._wide import Wide, is_wide, narrow, tag
from tests.metrics.streaming import _cases

CASES = _cases.build_cases()
IDS = [c[0] for c in CASES]


def _exact(state):
    """Every wide sum as float64 hi + lo: the exact value it holds."""
    return jax.tree.map(lambda w: np.float64(w.hi) + np.float64(w.lo) if is_wide(w) else np.asarray(w),
                        state, is_leaf=is_wide)


def _prefill(state, value):
    """A state whose every wide sum holds ``value`` (a float64 integer), split exactly into two words."""
    hi = np.float32(value)
    lo = np.float32(value - np.float64(hi))
    assert np.float64(hi) + np.float64(lo) == value
    return jax.tree.map(lambda w: Wide.pair(jnp.full(w.hi.shape, hi), jnp.full(w.lo.shape, lo)) if is_wide(w) else w,
                        state, is_leaf=is_wide)


# --------------------------------------------------------------------------- wide counts
def test_counts_stay_exact_past_2_to_the_31_and_46():
    # Accuracy with every count already at 2**46 (as if 2**46 elements had been seen), then 8 more
    # elements, 7 right: int32 would have wrapped long ago, float32 stops counting at 2**24.
    acc = M.Accuracy(task="multiclass", num_classes=2)
    start = 2.0**46
    state = _prefill(acc.init(), start)
    preds = jnp.array([0, 0, 1, 1, 0, 1, 1, 0])
    target = jnp.array([0, 0, 1, 1, 0, 1, 1, 1])          # 7 of 8 right; class 1 four times
    state = acc.update(state, preds, target)
    exact = _exact(state)
    # tp: class 0 +3 (positions 0, 1, 4), class 1 +4; target: class 0 +3, class 1 +5
    np.testing.assert_array_equal(exact.tp, [start + 3, start + 4])
    np.testing.assert_array_equal(exact.target, [start + 3, start + 5])
    assert exact.total == start + 8


def test_the_wrap_the_issue_measured_is_gone():
    # 2.2e9 elements at 87.5 % accuracy: int32 counts read -0.90. Prefilled tp / totals, then a batch.
    acc = M.Accuracy(task="binary")
    state = acc.init()
    n = 2**31 + 2**29                                     # 2.68e9 elements seen
    counts = {"tp": 0.875 * n / 2, "pred": n / 2, "target": n / 2, "total": n, "seen": n}
    state = tag(type(state.value)(**{k: _prefill(getattr(state.value, k), v) for k, v in counts.items()}),
                state.key, state.owner)
    # binary accuracy = (tp + tn) / total, tn = total - target - fp = n/2 - n/16
    want = (0.875 * n / 2 + (n - n / 2 - (n / 2 - 0.875 * n / 2))) / n
    np.testing.assert_allclose(float(acc.compute(state)), want, rtol=1e-7)
    assert float(acc.compute(state)) > 0


def test_weighted_sum_of_1e10_unit_weights_is_exact_where_float32_stalls():
    # A Sum that has seen 1e10 unit values, then 1000 batches of 1000 more: exact with the wide
    # default; a float32 sum rounds each step (its ulp at 1e10 is 1024).
    total = M.Sum()
    narrow32 = M.Sum(dtype="float32")
    state = _prefill(total.init(), 1e10)
    s32 = narrow32.update(narrow32.init(), jnp.full((1,), 1e10, jnp.float32))
    step = jax.jit(total.update)
    step32 = jax.jit(narrow32.update)
    ones = jnp.ones((1000,), jnp.float32)
    for _ in range(1000):
        state, s32 = step(state, ones), step32(s32, ones)
    assert _exact(state)["total"] == 1e10 + 1e6
    assert abs(float(total.compute(state)) - (1e10 + 1e6)) / 1e10 <= 1e-6
    # float32 rounds every step at 1e10 (ulp 1024): a relative error the wide default avoids
    assert abs(float(narrow32.compute(s32)) - (1e10 + 1e6)) / 1e10 > 1e-6


def test_wide_sums_psum_exactly_across_devices():
    mean = M.Mean()
    big = _prefill(mean.init(), 2.0**40)

    def per_device(v):
        return M.psum_state(mean.update(big, v), "d")

    out = jax.vmap(per_device, axis_name="d")(jnp.ones((4, 3), jnp.float32))
    first = jax.tree.map(lambda x: x[0], out)
    assert _exact(first)["weight"] == 4 * 2.0**40 + 12


def test_host_accumulator_reads_both_words():
    s = M.Sum()
    acc = M.HostAccumulator(s)
    acc.add(s.update(_prefill(s.init(), 2.0**40), jnp.ones((3,), jnp.float32)))
    assert float(acc.compute()) == 2.0**40 + 3


# --------------------------------------------------------------------------- donation
@pytest.mark.parametrize("case_id,metric,make", CASES, ids=IDS)
def test_update_with_a_donated_state(case_id, metric, make):
    args, kwargs = make(np.random.default_rng(0), 16)
    update = jax.jit(lambda st, *a, **k: _cases.call_update(metric, st, a, k), donate_argnums=0)
    donated = update(metric.init(), *args, **kwargs)
    plain = _cases.call_update(metric, metric.init(), args, kwargs)
    _cases.assert_states_match(metric, donated, plain, case_id)


def test_collection_update_with_a_donated_state():
    coll = M.Collection(acc=M.Accuracy(task="multiclass", num_classes=3), f1=M.F1Score(task="multiclass", num_classes=3),
                        loss=M.Mean())
    p, y = jnp.array([0, 1, 2, 2]), jnp.array([0, 1, 1, 2])
    update = jax.jit(lambda st, a, b, v: coll.update(st, a, b, loss=v), donate_argnums=0)
    out = coll.compute(update(coll.init(), p, y, jnp.ones(4)))
    assert float(out["acc"]) == 0.75


# --------------------------------------------------------------------------- mismatched states
def test_a_state_of_another_configuration_raises_naming_both():
    three = M.F1Score(task="multiclass", num_classes=3)
    binary = M.F1Score(task="binary")
    state3 = three.update(three.init(), jnp.array([0, 1, 2]), jnp.array([0, 1, 1]))
    for call in (lambda: binary.merge(binary.init(), state3), lambda: binary.compute(state3),
                 lambda: binary.update(state3, jnp.array([0.2]), jnp.array([1]))):
        with pytest.raises(ValueError, match="another metric or configuration") as err:
            call()
        assert "task='binary'" in str(err.value) and "task='multiclass'" in str(err.value)


def test_states_built_with_different_thresholds_are_told_apart():
    a, b = M.Precision(task="binary", threshold=0.3), M.Precision(task="binary", threshold=0.7)
    with pytest.raises(ValueError, match="threshold=0.3"):
        b.compute(a.init())


def test_metrics_that_share_a_state_accept_each_others_state():
    # Accuracy, Precision and F1 of one task count the same statistics: one state serves all.
    acc, f1 = M.Accuracy(task="multiclass", num_classes=3), M.F1Score(task="multiclass", num_classes=3)
    state = acc.update(acc.init(), jnp.array([0, 1, 2, 2]), jnp.array([0, 1, 1, 2]))
    np.testing.assert_allclose(float(f1.compute(state)),
                               float(M.f1_score(jnp.array([0, 1, 2, 2]), jnp.array([0, 1, 1, 2]),
                                                task="multiclass", num_classes=3)), rtol=1e-6)


def test_the_default_state_reads_like_before():
    # Field access goes through the tag, and narrow() gives one float32 array per wide sum.
    mean = M.Mean()
    state = mean.update(mean.init(), jnp.array([1.0, 3.0]))
    assert float(narrow(state)["total"]) == 4.0 and is_wide(state["weight"])


@pytest.mark.parametrize("bound", [None, 8], ids=["split-any-int32", "one-add-below-2^24"])
def test_wide_add_of_int_counts_is_exact(bound):
    from maskjax.metrics._wide import wide_add
    w = Wide.pair(jnp.full((3,), 2.0**40), jnp.zeros((3,)))
    inc = jnp.array([1, 3, 7] if bound else [1, 3, 2**30 + 7], jnp.int32)   # 2**30 + 7 needs the split
    for _ in range(1000):
        w = wide_add(w, inc, bound)
    want = 2.0**40 + 1000 * np.asarray(inc, np.float64)
    np.testing.assert_array_equal(np.float64(w.hi) + np.float64(w.lo), want)


def test_nan_scores_add_one_per_bad_batch_and_masked_nans_none():
    # The invalid total counts bad batches (a 0/1 flag each), so a long stream of all-NaN
    # batches cannot overflow int32 back to "valid"; masked / ignored NaNs count nowhere.
    from maskjax.metrics._invalid import any_invalid

    f1 = M.F1Score(task="multiclass", num_classes=4, average="macro", ignore_index=-1)
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(6, 8, 4)).astype(np.float32)
    labels = rng.integers(0, 4, (6, 8)).astype(np.int32)
    all_nan = np.full_like(scores, np.nan)
    masked_nan = scores.copy()
    masked_nan[:, 0, :] = np.nan          # position 0 masked below
    ignored_nan = scores.copy()
    ignored_nan[1, 3, 2] = np.nan
    ignored_labels = labels.copy()
    ignored_labels[1, 3] = -1              # its target is ignore_index
    mask = np.ones((6, 8), bool)
    mask[:, 0] = False
    assert int(any_invalid(all_nan, labels)) == 1           # 192 NaN scores: one flag
    assert int(any_invalid(masked_nan, labels, mask=mask)) == 0
    assert int(any_invalid(ignored_nan, ignored_labels, ignore_index=-1)) == 0
    assert int(any_invalid(np.array([np.nan, 1.0, np.nan]))) == 1  # 1-D (binary) scores
    state = f1.init()
    for _ in range(3):
        state = f1.update(state, all_nan, labels)
    state = f1.update(state, masked_nan, labels, mask=mask)
    state = f1.update(state, ignored_nan, ignored_labels)
    assert int(state.invalid) == 3
    assert np.isnan(float(f1.compute(state)))
    clean = f1.update(f1.update(f1.init(), masked_nan, labels, mask=mask), ignored_nan, ignored_labels)
    assert int(clean.invalid) == 0 and np.isfinite(float(f1.compute(clean)))


_AXIS1_CASES = {
    "f1-multiclass": (M.F1Score, M.f1_score, dict(task="multiclass", num_classes=4, average="macro"), "ids"),
    "f1-multiclass-ignore": (M.F1Score, M.f1_score, dict(task="multiclass", num_classes=4, ignore_index=-1), "ids"),
    "accuracy-multilabel": (M.Accuracy, M.accuracy, dict(task="multilabel", num_classes=4), "multi"),
    "precision_at_k": (M.PrecisionAtK, M.precision_at_k, dict(k=2), "multi"),
}


@pytest.mark.parametrize("case", sorted(_AXIS1_CASES))
def test_masked_nan_in_torch_layout_axis1_counts_nowhere(case):
    # torch layout [N, C, T] with axis=1 and an element-shaped [N, T] mask: a NaN score in a masked
    # (or ignored) element must count nowhere, exactly as in the class-last layout. It used to poison
    # the result: the NaN check broadcast the [N, T] mask against [N, C, T] from the left, did not
    # fit, and so ignored it.
    cls, fn, config, kind = _AXIS1_CASES[case]
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(3, 4, 5)).astype(np.float32)          # [N, C, T]
    if kind == "ids":
        targets = rng.integers(0, 4, (3, 5)).astype(np.int32)        # [N, T]
        targets_last = targets
    else:
        targets = rng.integers(0, 2, (3, 4, 5)).astype(np.int32)     # [N, C, T]
        targets_last = np.moveaxis(targets, 1, -1)
    mask = np.ones((3, 5), bool)
    mask[2, 4] = False
    scores[2, 1, 4] = np.nan                                          # in the masked element only
    kw = dict(mask=mask)
    if config.get("ignore_index") is not None:
        targets = targets.copy()
        targets[0, 0] = -1                                            # an ignored element with a NaN too
        targets_last = targets
        scores[0, 3, 0] = np.nan
    last = fn(np.moveaxis(scores, 1, -1), targets_last, **config, **kw)
    got = fn(scores, targets, axis=1, **config, **kw)
    assert np.isfinite(float(last))
    np.testing.assert_allclose(float(got), float(last), rtol=1e-6)
    metric = cls(axis=1, **config)
    state = metric.update(metric.init(), scores, targets, **kw)
    assert int(state.invalid) == 0
    np.testing.assert_allclose(float(metric.compute(state)), float(last), rtol=1e-6)
    kept = scores.copy()
    kept[0, 2, 1] = np.nan                                            # a kept element: NaN, both ways
    assert np.isnan(float(fn(kept, targets, axis=1, **config, **kw)))
    assert np.isnan(float(metric.compute(metric.update(metric.init(), kept, targets, **kw))))


@pytest.mark.parametrize("case", ["roc_multiclass", "calibration_multiclass", "generalized_dice_onehot"])
def test_masked_nan_axis1_streaming_curves_calibration_dice(case):
    # the same rule for every streaming metric with an axis= option (one hook on the base class);
    # generalized Dice also multiplied a masked NaN by 0 (NaN) in any layout
    rng = np.random.default_rng(4)
    scores = rng.random((3, 4, 5)).astype(np.float32)
    scores /= scores.sum(1, keepdims=True)                            # probabilities over axis 1
    labels = rng.integers(0, 4, (3, 5)).astype(np.int32)
    mask = np.ones((3, 5), bool)
    mask[1, 2] = False
    bad = scores.copy()
    bad[1, 0, 2] = np.nan                                             # masked element only
    if case == "roc_multiclass":
        metric = M.AUROC(task="multiclass", num_classes=4, thresholds=10, axis=1)
    elif case == "calibration_multiclass":
        metric = M.CalibrationError(task="multiclass", num_classes=4, axis=1)
    else:
        metric = M.GeneralizedDiceScore(num_classes=4, axis=1)
        labels = np.moveaxis(np.eye(4, dtype=np.float32)[labels], -1, 1)  # one-hot [N, C, T]
    clean = metric.compute(metric.update(metric.init(), scores, labels, mask=mask))
    state = metric.update(metric.init(), bad, labels, mask=mask)
    assert int(state.invalid) == 0
    np.testing.assert_allclose(np.asarray(metric.compute(state)), np.asarray(clean), rtol=1e-6)
    kept = scores.copy()
    kept[0, 0, 0] = np.nan
    assert int(metric.update(metric.init(), kept, labels, mask=mask).invalid) == 1


def test_generalized_dice_masked_nan_counts_nowhere_class_last():
    # one-shot, class axis last: the masked element's NaN was multiplied by its 0 weight (NaN)
    rng = np.random.default_rng(5)
    scores = rng.random((2, 6, 3)).astype(np.float32)
    onehot = np.eye(3, dtype=np.float32)[rng.integers(0, 3, (2, 6))]
    mask = np.ones((2, 6), bool)
    mask[:, 5] = False
    bad = scores.copy()
    bad[0, 5, 1] = np.nan
    want = M.generalized_dice_score(scores[:, :5], onehot[:, :5], num_classes=3)  # masking = slicing
    got = M.generalized_dice_score(bad, onehot, num_classes=3, mask=mask)
    np.testing.assert_allclose(float(got), float(want), rtol=1e-6)


def test_a_tagged_state_pickles_to_the_same_tag():
    # the per-metric tag class is made at run time: pickling goes through the factory, and the
    # state comes back with the same class (so jit sees the same pytree) and the same counts
    import pickle

    f1 = M.F1Score(task="multiclass", num_classes=3, average="macro")
    rng = np.random.default_rng(6)
    preds, labels = rng.random((9, 3)).astype(np.float32), rng.integers(0, 3, 9).astype(np.int32)
    state = f1.update(f1.init(), preds, labels)
    back = pickle.loads(pickle.dumps(state))
    assert type(back) is type(state)
    assert jax.tree_util.tree_structure(back) == jax.tree_util.tree_structure(state)
    np.testing.assert_allclose(float(f1.compute(back)), float(f1.compute(state)))
    np.testing.assert_allclose(float(f1.compute(f1.update(back, preds, labels))),
                               float(f1.compute(f1.update(state, preds, labels))))
