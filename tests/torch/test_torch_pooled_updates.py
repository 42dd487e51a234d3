"""Pooled updates: a dynamic-shape loop's batches wait by shape bucket and go in one program each.

``maskjax.torch._stateful``: a metric whose updates commute (exact integer counts, no
``sample_weight``: ``Metric.updates_commute()``) keeps each bucket's converted batches, with their
real sizes, in that bucket's slots; a full pool, and every read of the state, applies them in one
program. The state must equal the batch-by-batch state bit for bit, every read must see every batch,
bad input must still raise at its own ``update()``, and nothing a caller does after ``update()`` may
reach a waiting batch.
"""

import copy
import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchmetrics = pytest.importorskip("torchmetrics")

import jax  # noqa: E402
import sklearn.metrics  # noqa: E402

import maskjax.metrics as core  # noqa: E402
import maskjax.torch as mt  # noqa: E402
from maskjax.torch import _stateful  # noqa: E402
from tests.torch._counting import count_compiles  # noqa: E402

B, C = 4, 5
LENGTHS = (7, 11, 12, 20, 5, 9, 30, 13, 8, 19, 25, 6)  # several shape buckets, no length twice in a row


def _batches(lengths=LENGTHS, seed=0):
    """``[B, C, T]`` scores and ``[B, T]`` labels with -100 padding, T changing every step (as W8)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for t in lengths:
        preds = torch.randn(B, C, t, generator=g)
        labels = torch.randint(0, C, (B, t), generator=g)
        labels[0, t // 2:] = -100
        out.append((preds, labels))
    return out


def _unpooled(monkeypatch):
    monkeypatch.setattr(_stateful, "POOL_BYTES", 0)  # no batch fits a pool: every update runs in order


CASES = {
    "f1_macro": (lambda: mt.metrics.F1Score(task="multiclass", num_classes=C, average="macro", ignore_index=-100),
                 lambda: torchmetrics.classification.MulticlassF1Score(C, average="macro", ignore_index=-100)),
    "accuracy_micro": (lambda: mt.metrics.Accuracy(task="multiclass", num_classes=C, average="micro",
                                                   ignore_index=-100),
                       lambda: torchmetrics.classification.MulticlassAccuracy(C, average="micro", ignore_index=-100)),
    "confusion_matrix": (lambda: mt.metrics.ConfusionMatrix(task="multiclass", num_classes=C, ignore_index=-100),
                         lambda: torchmetrics.classification.MulticlassConfusionMatrix(C, ignore_index=-100)),
    "matthews": (lambda: mt.metrics.MatthewsCorrCoef(task="multiclass", num_classes=C, ignore_index=-100),
                 lambda: torchmetrics.classification.MulticlassMatthewsCorrCoef(C, ignore_index=-100)),
}


def _check_like(ours, ref):
    torch.testing.assert_close(ours.compute().to(torch.float64), ref.compute().to(torch.float64),
                               rtol=1e-5, atol=1e-6)


def _assert_same_state(a, b):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))  # integer counts: bit for bit


@pytest.mark.parametrize("case", list(CASES))
def test_pooled_state_is_the_batch_by_batch_state_and_torchmetrics(case, monkeypatch):
    make, make_ref = CASES[case]
    batches = _batches()
    pooled, ref = make(), make_ref()
    for p, t in batches:
        pooled.update(p, t)
        ref.update(p, t)
    assert pooled._commute and pooled._pools, "the batches did not wait in pools"
    with monkeypatch.context() as mp:
        _unpooled(mp)
        serial = make()
        for p, t in batches:
            serial.update(p, t)
        assert not serial._pools
        want = serial.state
    _assert_same_state(pooled.state, want)
    assert pooled.update_count == serial.update_count == len(batches)
    _check_like(pooled, ref)


def test_every_read_sees_every_pooled_batch_against_sklearn():
    ours = mt.metrics.ConfusionMatrix(task="multiclass", num_classes=C, ignore_index=-100)
    seen_p, seen_t = [], []
    for i, (p, t) in enumerate(_batches(LENGTHS * 2, seed=1)):
        ours.update(p, t)
        keep = t != -100
        seen_p.append(p.argmax(1)[keep])
        seen_t.append(t[keep])
        if i % 5 == 4:  # compute(), .state and forward() apply what waits
            want = sklearn.metrics.confusion_matrix(torch.cat(seen_t), torch.cat(seen_p), labels=range(C))
            np.testing.assert_array_equal(ours.compute().numpy(), want)
            assert not any(pool.n for pool in ours._pools.values())


def test_a_bucket_compiles_one_program_and_a_full_pool_reuses_its_slots(monkeypatch):
    monkeypatch.setattr(_stateful, "POOL_SLOTS", 2)  # a pool fills every second batch of its bucket
    ours = mt.metrics.F1Score(task="multiclass", num_classes=C, average="macro", ignore_index=-100)
    ref = torchmetrics.classification.MulticlassF1Score(C, average="macro", ignore_index=-100)
    lengths = (17, 18, 19, 20, 21, 22, 23, 24) * 3  # one bucket (24 wide at buckets "1.5x"), 24 batches
    with count_compiles() as c:
        for p, t in _batches(lengths, seed=2):
            ours.update(p, t)
            ref.update(p, t)
        _check_like(ours, ref)
    (pool,) = ours._pools.values()
    assert len(pool.slots[0]) == 2
    assert c.n <= 2  # the bucket's pooled update (its only update program) and compute


def test_a_new_bucket_raises_bad_input_at_its_own_update():
    ours = mt.metrics.F1Score(task="multiclass", num_classes=C, average="macro", ignore_index=-100)
    good = _batches((7, 20))
    ours.update(*good[0])
    with pytest.raises(ValueError, match="int64 values do not fit int32|out of range|targets"):
        bad = good[1][1].clone()
        bad[1, 0] = 2**40
        ours.update(good[1][0], bad)
    with pytest.raises(ValueError):  # scores whose class axis is not num_classes
        ours.update(torch.randn(B, C + 2, 20), good[1][1])
    assert ours.update_count == 1
    ref = torchmetrics.classification.MulticlassF1Score(C, average="macro", ignore_index=-100)
    ref.update(*good[0])
    _check_like(ours, ref)


def test_reset_and_state_assignment_drop_pooled_batches():
    make, make_ref = CASES["f1_macro"]
    ours = make()
    batches = _batches()
    for p, t in batches[:6]:
        ours.update(p, t)
    ours.reset()
    ref = make_ref()
    for p, t in batches[6:]:
        ours.update(p, t)
        ref.update(p, t)
    _check_like(ours, ref)
    fresh = make()
    for p, t in batches[:3]:
        ours.update(p, t)
    ours.state = fresh.state  # an empty state: the waiting batches go with the old one
    ours.update(*batches[3])
    ref = make_ref()
    ref.update(*batches[3])
    _check_like(ours, ref)


def test_in_place_writes_after_update_do_not_reach_pooled_batches():
    make, make_ref = CASES["confusion_matrix"]
    ours, ref = make(), make_ref()
    for p, t in _batches():
        ours.update(p, t)
        ref.update(p, t)
        p.mul_(-1.0)  # after update(): a waiting batch must keep what it was given
        t.fill_(0)
    _check_like(ours, ref)


@pytest.mark.parametrize("kind", ["sample_weight", "samplewise", "class_weight"])
def test_updates_that_do_not_commute_are_never_pooled(kind, monkeypatch):
    batches = _batches()
    if kind == "sample_weight":
        make = lambda: mt.metrics.Accuracy(task="multiclass", num_classes=C, ignore_index=-100)  # noqa: E731
        kws = [{"sample_weight": torch.rand(B, t.shape[1], generator=torch.Generator().manual_seed(i))}
               for i, (_, t) in enumerate(batches)]
    elif kind == "samplewise":
        make = lambda: mt.metrics.Accuracy(task="multiclass", num_classes=C, ignore_index=-100,  # noqa: E731
                                           multidim_average="samplewise", capacity=64)
        kws = [{}] * len(batches)
    else:
        make = lambda: mt.metrics.Accuracy(task="multiclass", num_classes=C, ignore_index=-100,  # noqa: E731
                                           class_weight=(1.0, 2.0, 0.5, 1.0, 3.0))
        kws = [{}] * len(batches)
    ours = make()
    assert ours.metric.updates_commute() == (kind == "sample_weight")  # weights come per call
    for (p, t), kw in zip(batches, kws):
        ours.update(p, t, **kw)
    assert not ours._pools
    with monkeypatch.context() as mp:
        _unpooled(mp)
        serial = make()
        for (p, t), kw in zip(batches, kws):
            serial.update(p, t, **kw)
    torch.testing.assert_close(ours.compute(), serial.compute(), equal_nan=True)  # samplewise: NaN past the rows seen


def test_more_buckets_than_pool_keys_apply_the_oldest(monkeypatch):
    monkeypatch.setattr(_stateful, "POOL_KEYS", 2)
    make, make_ref = CASES["matthews"]
    ours, ref = make(), make_ref()
    for p, t in _batches(LENGTHS * 2, seed=3):
        ours.update(p, t)
        ref.update(p, t)
        assert len(ours._pools) <= 2
    _check_like(ours, ref)


def _fed_pair(case, batches):
    """``(ours, torchmetrics)`` of ``case``, both updated with ``batches``."""
    make, make_ref = CASES[case]
    ours, ref = make(), make_ref()
    for p, t in batches:
        ours.update(p, t)
        ref.update(p, t)
    return ours, ref


def test_deepcopy_with_pooled_batches_copies_them_and_both_go_on_alone():
    batches = _batches(LENGTHS * 2, seed=4)
    ours, ref = _fed_pair("f1_macro", batches[:9])
    twin, ref_twin = copy.deepcopy(ours), copy.deepcopy(ref)
    for p, t in batches[9:]:
        ours.update(p, t)
        ref.update(p, t)
    twin.update(*batches[-1])
    ref_twin.update(*batches[-1])
    _check_like(ours, ref)
    _check_like(twin, ref_twin)


def test_four_threads_of_dynamic_shapes_keep_every_count():
    ours = mt.metrics.ConfusionMatrix(task="multiclass", num_classes=C, ignore_index=-100)
    per_thread = [_batches(LENGTHS * 2, seed=10 + i) for i in range(4)]

    def work(batches):
        for p, t in batches:
            ours.update(p, t)
    threads = [threading.Thread(target=work, args=(b,)) for b in per_thread]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    everything = [b for bs in per_thread for b in bs]
    keep = [t != -100 for _, t in everything]
    want = sklearn.metrics.confusion_matrix(torch.cat([t[k] for (_, t), k in zip(everything, keep)]),
                                            torch.cat([p.argmax(1)[k] for (p, _), k in zip(everything, keep)]),
                                            labels=range(C))
    np.testing.assert_array_equal(ours.compute().numpy(), want)
    assert ours.update_count == len(everything)


@pytest.mark.parametrize("metric, commutes", [
    (core.F1Score(task="multiclass", num_classes=3), True),
    (core.ConfusionMatrix(task="binary", dtype="int32"), True),
    (core.Accuracy(task="multiclass", num_classes=3, dtype="float32"), False),  # float counts round
    (core.Accuracy(task="multiclass", num_classes=3, multidim_average="samplewise", capacity=4), False),
    (core.Mean(), False),
    (core.F1Score(task="multilabel", num_classes=3, average="samples"), False),  # per-sample float scores
    (core.ExactMatch(task="multilabel", num_classes=3), False),
], ids=["f1", "int32_counts", "float32_counts", "samplewise_rows", "mean_float_sum", "f1_samples_scores",
        "exact_match_float_sums"])
def test_updates_commute_only_for_exact_integer_counts(metric, commutes):
    assert metric.updates_commute() is commutes


def _task_batches(task, seed=7):
    g = torch.Generator().manual_seed(seed)
    out = []
    for t in LENGTHS:
        if task == "binary":
            preds, target = torch.rand(B, t, generator=g), torch.randint(0, 2, (B, t), generator=g)
        elif task == "multilabel":
            preds, target = torch.rand(B, C, t, generator=g), torch.randint(0, 2, (B, C, t), generator=g)
        else:
            preds, target = torch.randn(B, C, t, generator=g), torch.randint(0, C, (B, t), generator=g)
        out.append(((preds, target), {"mask": torch.rand(B, t, generator=g) > 0.3}))
    return out


OTHER_TASKS = {  # name: (task, metric, pooled?)
    "binary_accuracy_masked": ("binary", lambda: mt.metrics.Accuracy(task="binary"), True),
    "multilabel_f1_axis1_masked": ("multilabel", lambda: mt.metrics.F1Score(task="multilabel", num_classes=C,
                                                                             average="macro"), True),
    "cohen_kappa_masked": ("multiclass", lambda: mt.metrics.CohenKappa(task="multiclass", num_classes=C), True),
    "stat_scores_masked": ("multiclass", lambda: mt.metrics.StatScores(task="multiclass", num_classes=C,
                                                                       average="macro"), True),
    # per-sample float scores summed: the order of the sums matters, so never pooled
    "multilabel_f1_samples_masked": ("multilabel", lambda: mt.metrics.F1Score(task="multilabel", num_classes=C,
                                                                               average="samples"), False),
    "multilabel_exact_match_masked": ("multilabel", lambda: mt.metrics.ExactMatch(task="multilabel",
                                                                                  num_classes=C), False),
}


@pytest.mark.parametrize("case", list(OTHER_TASKS))
def test_other_tasks_and_a_mask_pool_like_batch_by_batch(case, monkeypatch):
    task, make, pooled_expected = OTHER_TASKS[case]
    batches = _task_batches(task)
    pooled = make()
    for args, kw in batches:
        pooled.update(*args, **kw)
    assert bool(pooled._pools) is pooled_expected
    with monkeypatch.context() as mp:
        _unpooled(mp)
        serial = make()
        for args, kw in batches:
            serial.update(*args, **kw)
        want = serial.state
    _assert_same_state(pooled.state, want)
    torch.testing.assert_close(pooled.compute(), serial.compute())


def test_a_metric_pickled_before_pooled_updates_existed_goes_on_pooling():
    import pickle

    batches = _batches(LENGTHS * 2, seed=5)
    ours, ref = _fed_pair("f1_macro", batches[:6])
    state = ours.__getstate__()
    del state["_commute"], state["_pools"]  # what the session-7 wrapper pickled
    old = pickle.loads(pickle.dumps(state))
    back = type(ours).__new__(type(ours))
    back.__setstate__(old)
    for p, t in batches[6:]:
        back.update(p, t)
        ref.update(p, t)
    assert back._pools
    _check_like(back, ref)
