"""One compilation for a whole loop of equal-shape batches; resets between epochs do not retrace."""

import collections

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from maskjax import metrics as M

C = 5


def collection():
    members = {"loss": M.Mean(), "count": M.Sum()}
    conf = dict(task="multiclass", num_classes=C)
    for name, cls, kw in (("accuracy", "Accuracy", dict(average="micro")),
                          ("precision", "Precision", dict(average="macro")),
                          ("recall", "Recall", dict(average="macro")),
                          ("f1", "F1Score", dict(average="macro")),
                          ("mcc", "MatthewsCorrCoef", {}),
                          ("auroc", "AUROC", dict(thresholds=20, average="macro"))):
        if hasattr(M, cls):
            members[name] = getattr(M, cls)(**conf, **kw)
    return M.Collection(members)


def batches(rng, n_batches, batch=16):
    for i in range(n_batches):
        logits = rng.normal(size=(batch, C)).astype(np.float32)
        labels = rng.integers(0, C, batch).astype(np.int32)
        k = batch if i < n_batches - 1 else batch // 3  # uneven last batch: padded + masked
        yield logits, labels, np.arange(batch) < k, rng.random(batch).astype(np.float32)


def test_training_loop_compiles_once_and_reset_does_not_retrace():
    coll = collection()
    traces = collections.Counter()

    @jax.jit
    def step(state, logits, labels, mask, loss):
        traces["step"] += 1
        return coll.update(state, jax.nn.softmax(logits), labels, mask=mask, loss=loss, count=mask)

    compute = jax.jit(coll.compute)
    rng = np.random.default_rng(0)
    for _epoch in range(3):
        state = coll.init()  # reset
        for batch in batches(rng, 5):
            state = step(state, *batch)
        compute(state)
    assert traces["step"] == 1
    # the same through chex.assert_max_traces
    chex.clear_trace_counter()

    @jax.jit
    @chex.assert_max_traces(n=1)
    def step2(state, logits, labels, mask, loss):
        return coll.update(state, jax.nn.softmax(logits), labels, mask=mask, loss=loss, count=mask)

    for _epoch in range(2):
        state = coll.init()
        for batch in batches(rng, 4):
            state = step2(state, *batch)


def test_scan_over_batches_equals_python_loop():
    coll = collection()
    rng = np.random.default_rng(1)
    data = list(batches(rng, 6))
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *data)

    def body(state, b):
        logits, labels, mask, loss = b
        return coll.update(state, jax.nn.softmax(logits), labels, mask=mask, loss=loss, count=mask), None

    scanned, _ = jax.lax.scan(body, coll.init(), stacked)
    state = coll.init()
    for b in data:
        state, _ = body(state, b)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), scanned, state)


def test_collection_shares_one_state_for_confusion_metrics():
    coll = collection()
    groups = dict(coll.groups)
    confusion = [n for n in ("accuracy", "precision", "recall", "f1", "mcc") if n in coll.names]
    if len(confusion) < 2:
        pytest.skip("confusion metric classes not available")
    owners = {g for g, members in groups.items() for n in confusion if n in members}
    assert len(owners) == 1, coll.groups
