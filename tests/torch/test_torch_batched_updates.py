"""Batched updates of the stateful wrapper: a run of same-shaped CPU batches goes in one program.

``maskjax.torch._stateful``: after ``BATCH_AFTER`` updates in a row with the same options,
shapes and dtypes, batches wait (as private host copies) and ``BATCH_SLOTS`` of them are
applied in one program, in order. The state must be the one batch-by-batch updates give,
every read of it must see every batch, and nothing a caller does after ``update()`` may
reach a waiting batch.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchmetrics = pytest.importorskip("torchmetrics")

import jax  # noqa: E402
import sklearn.metrics  # noqa: E402

import maskjax.torch as mt  # noqa: E402
from maskjax.torch import _stateful  # noqa: E402
from tests.torch._counting import count_compiles  # noqa: E402

C = 5


def _batches(n, b=32, seed=0, weights=False):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        kw = {"sample_weight": torch.rand(b, generator=g)} if weights else {}
        out.append(((torch.randn(b, C, generator=g), torch.randint(0, C, (b,), generator=g)), kw))
    return out


def _one_at_a_time(monkeypatch):
    monkeypatch.setattr(_stateful, "BATCH_AFTER", 10**9)


CASES = {
    "f1_macro": (lambda: mt.metrics.F1Score(task="multiclass", num_classes=C, average="macro"), False),
    "accuracy_weighted": (lambda: mt.metrics.Accuracy(task="multiclass", num_classes=C), True),
    "confusion_matrix_weighted": (lambda: mt.metrics.ConfusionMatrix(task="multiclass", num_classes=C), True),
    "mean": (lambda: mt.metrics.Mean(), None),
}


def _feed(m, batches, kind):
    for (preds, target), kw in batches:
        if kind is None:  # Mean: values only
            m.update(preds, **kw)
        else:
            m.update(preds, target, **kw)


@pytest.mark.parametrize("n", [7, 9, 24, 45], ids=lambda n: f"{n}_updates")
@pytest.mark.parametrize("case", list(CASES))
def test_batched_state_is_the_batch_by_batch_state(case, n, monkeypatch):
    make, weights = CASES[case]
    batches = _batches(n, weights=bool(weights))
    batched = make()
    _feed(batched, batches, weights)
    got = batched.state
    with monkeypatch.context() as mp:
        _one_at_a_time(mp)
        serial = make()
        _feed(serial, batches, weights)
        want = serial.state
    assert batched.update_count == serial.update_count == n
    # the same updates in the same order: the same counts; float sums to rounding (XLA may sum a
    # batch in another order inside the loop: seen 2 ulp on a 45-batch Mean of 7200 values)
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        a, b = np.asarray(a), np.asarray(b)
        if np.issubdtype(a.dtype, np.floating):
            np.testing.assert_allclose(a.sum(), b.sum(), rtol=1e-6, atol=1e-6)  # (sum, compensation)
        else:
            np.testing.assert_array_equal(a, b)
    torch.testing.assert_close(batched.compute(), serial.compute(), rtol=1e-6, atol=1e-7)


def test_batched_f1_equals_torchmetrics_at_every_read():
    """Reads in the middle of a run (pending batches) and at its end, against torchmetrics."""
    ours = mt.metrics.F1Score(task="multiclass", num_classes=C, average="macro")
    ref = torchmetrics.classification.MulticlassF1Score(num_classes=C, average="macro")
    for i, ((preds, target), _) in enumerate(_batches(60, seed=1)):
        ours.update(preds, target)
        ref.update(preds, target)
        if i in (8, 11, 23, 40, 59):  # 1, 4, 0 (a full flush at 24), 1 and 12 batches pending
            torch.testing.assert_close(ours.compute(), ref.compute(), rtol=1e-6, atol=1e-6)


def test_shape_changes_and_forward_apply_pending_batches_in_order():
    """Batch sizes that change mid-run, and forward(), against sklearn's confusion matrix."""
    m = mt.metrics.ConfusionMatrix(task="multiclass", num_classes=C)
    seen_p, seen_t = [], []
    sizes = [16] * 20 + [24] * 11 + [16] * 3 + [8] * 30
    g = torch.Generator().manual_seed(2)
    for i, b in enumerate(sizes):
        preds, target = torch.randn(b, C, generator=g), torch.randint(0, C, (b,), generator=g)
        seen_p.append(preds.argmax(1))
        seen_t.append(target)
        if i == 50:
            batch_value = m(preds, target)  # forward: this batch alone, and accumulated
            want_batch = sklearn.metrics.confusion_matrix(target, preds.argmax(1), labels=range(C))
            np.testing.assert_array_equal(batch_value.numpy(), want_batch)
        else:
            m.update(preds, target)
    want = sklearn.metrics.confusion_matrix(torch.cat(seen_t), torch.cat(seen_p), labels=range(C))
    np.testing.assert_array_equal(m.compute().numpy(), want)
    assert m.update_count == len(sizes)


def test_reset_and_state_assignment_drop_pending_batches():
    m = mt.metrics.Accuracy(task="multiclass", num_classes=C)
    batches = _batches(12, seed=3)
    _feed(m, batches, False)  # 8 applied, 4 pending
    m.reset()
    assert m.update_count == 0
    (preds, target), _ = batches[0]
    m.update(preds, target)
    want = (preds.argmax(1) == target).double().mean().item()
    assert m.compute().item() == pytest.approx(want, abs=1e-7)
    fresh = mt.metrics.Accuracy(task="multiclass", num_classes=C)
    _feed(fresh, batches, False)
    fresh.state = m.state  # the 4 pending batches of `fresh` are dropped with its old state
    assert fresh.compute().item() == pytest.approx(want, abs=1e-7)


def test_in_place_writes_after_update_do_not_reach_pending_batches():
    m = mt.metrics.Accuracy(task="multiclass", num_classes=C)
    hits = total = 0
    for (preds, target), _ in _batches(30, seed=4):
        hits += int((preds.argmax(1) == target).sum())
        total += target.numel()
        m.update(preds, target)
        preds.mul_(-1.0)  # written after update() returned, maybe while the batch waits
        target.fill_(0)
    assert m.compute().item() == pytest.approx(hits / total, abs=1e-7)


def test_a_long_run_compiles_one_batched_program_and_never_retraces():
    m = mt.metrics.F1Score(task="multiclass", num_classes=C, average="macro")
    batches = _batches(100, seed=5)
    with count_compiles() as first:
        _feed(m, batches[:40], False)
    with count_compiles() as later:
        _feed(m, batches[40:], False)
        m.compute()
    assert first.n <= 3  # the bucketed update, the exact one (after 4 same-shape calls), the batched one
    assert later.n <= 1  # only compute's program, once


def test_a_new_metric_compiles_its_update_once(monkeypatch):
    # The first state is committed to the CPU device as every later one is: an uncommitted first
    # state made jit compile the update again on the second call. (Shapes no other test uses.)
    _one_at_a_time(monkeypatch)
    m = mt.metrics.F1Score(task="multiclass", num_classes=11, average="macro")
    g = torch.Generator().manual_seed(9)
    batches = [(torch.randn(37, 11, generator=g), torch.randint(0, 11, (37,), generator=g)) for _ in range(3)]
    with count_compiles() as c:
        for p, t in batches:
            m.update(p, t)
    assert c.n == 1
    p, t = torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches])
    want = sklearn.metrics.f1_score(t.numpy(), p.argmax(1).numpy(), average="macro", labels=list(range(11)),
                                    zero_division=0)
    assert m.compute().item() == pytest.approx(want, abs=1e-6)


def test_fast_path_checks_each_batch_and_leaves_it_out_on_error():
    """update(preds, targets) in a run goes straight into the run's slots: the int64 range check
    still raises in that update, and the batch is not counted."""
    m = mt.metrics.Accuracy(task="multiclass", num_classes=C)
    batches = _batches(22, seed=6)
    _feed(m, batches[:20], False)  # one by one (at most 12: 4 bucketed, 8 exact), then the run
    assert m._run is not None and m._run.sig is not None
    n = m._run.n
    (preds, target), _ = batches[20]
    bad = target.clone()
    bad[5] = 2**33 + 1  # would wrap to class 1
    with pytest.raises(ValueError, match="outside the int32 range"):
        m.update(preds, bad)
    assert m.update_count == 20 and m._run.n == n
    _feed(m, batches[21:], False)
    hits = sum(int((p.argmax(1) == t).sum()) for (p, t), _ in batches[:20] + batches[21:])
    assert m.compute().item() == pytest.approx(hits / (21 * 32), abs=1e-7)


@pytest.mark.parametrize("change", ["int32_targets", "float64_preds", "other_batch_size", "keyword"])
def test_a_call_unlike_the_run_goes_the_general_way_in_order(change):
    """Calls that differ from the run (dtype, shape, a keyword) flush it and are applied in order."""
    ours = mt.metrics.ConfusionMatrix(task="multiclass", num_classes=C)
    seen_p, seen_t = [], []
    for i, ((preds, target), _) in enumerate(_batches(40, seed=7)):
        kw = {}
        if i in (12, 13, 31):  # inside a run (the fast path once one exists), twice in a row, later
            if change == "int32_targets":
                target = target.int()
            elif change == "float64_preds":
                preds = preds.double()
            elif change == "other_batch_size":
                preds, target = preds[:20], target[:20]
            else:
                kw = {"sample_weight": torch.ones(target.shape[0])}
        ours.update(preds, target, **kw)
        if i == 11:
            assert ours._run is not None and ours._run.sig is not None and ours._run.n >= 1  # a run, fast
        seen_p.append(preds.argmax(1))
        seen_t.append(target.long())
    want = sklearn.metrics.confusion_matrix(torch.cat(seen_t), torch.cat(seen_p), labels=range(C))
    np.testing.assert_array_equal(ours.compute().numpy(), want)


def test_a_donated_state_leaves_reset_and_forward_working():
    # the core supports donating a state (jax.jit(update, donate_argnums=0)); a state read from the
    # wrapper and donated must not take the wrapper's own empty state with it
    m = mt.metrics.F1Score(task="multiclass", num_classes=C, average="macro")
    ref = torchmetrics.classification.MulticlassF1Score(num_classes=C, average="macro")
    state = m.state
    jax.jit(lambda s: jax.tree_util.tree_map(lambda x: x + 0, s), donate_argnums=0)(state)
    assert jax.tree_util.tree_leaves(state)[0].is_deleted()
    m.reset()  # the donated state was the wrapper's own: a reset gives it a new one
    (preds, target), _ = _batches(1, seed=11)[0]
    torch.testing.assert_close(m(preds, target), ref(preds, target), rtol=1e-6, atol=1e-6)  # forward
    m.reset()
    ref.reset()
    m.update(preds, target)
    ref.update(preds, target)
    torch.testing.assert_close(m.compute(), ref.compute(), rtol=1e-6, atol=1e-6)


def _f1_and_torchmetrics(batches):
    """A maskjax and a torchmetrics macro F1, both fed ``batches`` (a run forms after 8)."""
    ours = mt.metrics.F1Score(task="multiclass", num_classes=C, average="macro")
    ref = torchmetrics.classification.MulticlassF1Score(num_classes=C, average="macro")
    for (preds, target), _ in batches:
        ours.update(preds, target)
        ref.update(preds, target)
    return ours, ref


def test_deepcopy_mid_run_copies_the_whole_state_and_both_go_on_alone():
    """Lightning clones metrics with copy.deepcopy: pending batches are applied first, and the copy
    gets its own lock, slots and torch.compile handle (torchmetrics: the oracle)."""
    import copy

    batches = _batches(50, seed=8)
    ours, ref = _f1_and_torchmetrics(batches[:30])
    twin, ref_twin = copy.deepcopy(ours), copy.deepcopy(ref)
    assert twin._lock is not ours._lock and twin._handle != ours._handle
    for (preds, target), _ in batches[30:40]:
        ours.update(preds, target)
        ref.update(preds, target)
    for (preds, target), _ in batches[40:]:
        twin.update(preds, target)
        ref_twin.update(preds, target)
    torch.testing.assert_close(ours.compute(), ref.compute(), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(twin.compute(), ref_twin.compute(), rtol=1e-6, atol=1e-6)
    assert ours.update_count == twin.update_count == 40


@pytest.mark.parametrize("how", ["pickle", "torch.save"])
def test_pickled_mid_run_metric_goes_on_like_torchmetrics(how, tmp_path):
    """A metric pickled mid-run (torch.save of a module, multiprocessing) holds the whole state.

    It used to fail: the core state's per-metric tag class is made at run time (no import path).
    """
    import pickle

    batches = _batches(40, seed=10)
    ours, ref = _f1_and_torchmetrics(batches[:25])
    if how == "pickle":
        back = pickle.loads(pickle.dumps(ours))
    else:
        torch.save(ours, tmp_path / "m.pt")
        back = torch.load(tmp_path / "m.pt", weights_only=False)
    torch.testing.assert_close(back.compute(), ref.compute(), rtol=1e-6, atol=1e-6)
    for (preds, target), _ in batches[25:]:
        back.update(preds, target)
        ref.update(preds, target)
    torch.testing.assert_close(back.compute(), ref.compute(), rtol=1e-6, atol=1e-6)


def test_fast_path_checks_int64_preds_too():
    """Class-id preds are int64 in torch: in a run, a value beyond int32 raises (would wrap to 1)."""
    m = mt.metrics.Accuracy(task="multiclass", num_classes=C)
    g = torch.Generator().manual_seed(9)
    pairs = [(torch.randint(0, C, (32,), generator=g), torch.randint(0, C, (32,), generator=g)) for _ in range(21)]
    for preds, target in pairs[:20]:
        m.update(preds, target)
    assert m._run is not None and m._run.sig is not None
    preds, target = pairs[20]
    bad = preds.clone()
    bad[0] = 2**32 + 1
    with pytest.raises(ValueError, match="`preds` holds 64-bit integers outside the int32 range"):
        m.update(bad, target)
    assert m.update_count == 20
    hits = sum(int((p == t).sum()) for p, t in pairs[:20])
    assert m.compute().item() == pytest.approx(hits / (20 * 32), abs=1e-7)
