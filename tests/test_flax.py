"""maskjax.flax: an nnx.Metric around maskjax metrics — equals the core one-shot numbers (and sklearn),
works in nnx.MultiMetric and nnx.jit without retracing, with batch-sharded inputs, and hints the install."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

nnx = pytest.importorskip("flax.nnx")

import maskjax  # noqa: E402
import maskjax.flax as mf  # noqa: E402
from maskjax import metrics as M  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "flax_nnx_metrics.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("flax_nnx_metrics", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_trains_and_equals_core_one_shot_and_sklearn():
    from sklearn.metrics import accuracy_score, f1_score

    ex = _load_example()
    history, model, (x, y, w) = ex.train(epochs=3, n_train=160, n_eval=70, verbose=False)
    train_loss = [h["train"]["loss"] for h in history]
    assert train_loss[-1] < train_loss[0], train_loss
    # 3 epochs, metric resets between passes, equal padded shapes: one trace per step.
    assert ex.TRACES["train_step"] == 1 and ex.TRACES["eval_step"] == 1, ex.TRACES

    # The last eval pass (70 rows: batches of 32, 32 and a padded, masked 6) = one shot on all rows.
    logits = model(x)
    conf = dict(task="multiclass", num_classes=ex.NUM_CLASSES, from_logits=True, sample_weight=w)
    want = {
        "accuracy": M.accuracy(logits, y, average="micro", **conf),
        "f1": M.f1_score(logits, y, average="macro", **conf),
        "auroc": M.auroc(logits, y, thresholds=200, **conf),
        "loss": maskjax.losses.cross_entropy(logits, y, sample_weight=w),
    }
    got = history[-1]["eval"]
    assert set(got) == set(want)
    for name, value in want.items():
        np.testing.assert_allclose(got[name], float(value), rtol=2e-5, err_msg=name)
    pred = np.asarray(logits).argmax(-1)
    np.testing.assert_allclose(got["accuracy"], accuracy_score(y, pred, sample_weight=w), rtol=2e-5)
    np.testing.assert_allclose(got["f1"], f1_score(y, pred, average="macro", sample_weight=w), rtol=2e-5)


def _data(n=50, c=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n).astype(np.int32)
    logits = rng.normal(size=(n, c)).astype(np.float32)
    logits[np.arange(n), y] += 0.8
    return logits, y, rng.uniform(0.2, 2.0, n).astype(np.float32)


def test_collection_in_nnx_jit_equals_one_shot_and_resets():
    logits, y, w = _data()
    conf = dict(task="multiclass", num_classes=3, dtype="float32")
    coll = M.Collection(acc=M.Accuracy(**conf), recall=M.Recall(**conf, average=None), loss=M.Mean())
    metric = mf.Metric(coll, preds="scores", targets="y")
    per_row = maskjax.losses.cross_entropy(logits, y, reduction="none")
    traces = []

    @nnx.jit
    def step(metric, s, t, mask, sw, loss):
        traces.append(1)
        metric.update(scores=s, y=t, mask=mask, sample_weight=sw, loss=loss, unused=t)

    mask = np.arange(60) < 50                       # 50 rows padded to 3 batches of 20
    pad = lambda a: np.concatenate([a, np.zeros((10,) + a.shape[1:], a.dtype)])  # noqa: E731
    lp, yp, wp, lossp = pad(logits), pad(y), pad(w), pad(np.asarray(per_row))
    for rnd in range(2):
        metric.reset()
        for s in range(0, 60, 20):
            step(metric, lp[s:s + 20], yp[s:s + 20], mask[s:s + 20], wp[s:s + 20], lossp[s:s + 20])
    assert len(traces) == 1
    got = metric.compute()
    want = coll(logits, y, sample_weight=w, loss=per_row)
    for k in want:
        np.testing.assert_allclose(np.asarray(got[k]), np.asarray(want[k]), rtol=1e-5, err_msg=k)
    np.testing.assert_allclose(float(got["acc"]), float(M.accuracy(logits, y, task="multiclass", num_classes=3,
                                                                   sample_weight=w)), rtol=1e-6)
    metric.reset()
    assert all(float(jnp.sum(leaf)) == 0 for leaf in __import__("jax").tree.leaves(metric.state.get_value()))


def test_positional_update_value_metric_and_merge():
    logits, y, _ = _data()
    a = mf.Metric(M.F1Score(task="multiclass", num_classes=3, average="macro"))
    b = mf.Metric(M.F1Score(task="multiclass", num_classes=3, average="macro"))
    a.update(logits[:20], y[:20])
    b.update(logits=logits[20:], labels=y[20:])
    a.merge(b)
    np.testing.assert_allclose(float(a.compute()), float(M.f1_score(logits, y, task="multiclass", num_classes=3)),
                               rtol=1e-6)
    mean = mf.Metric(M.Mean())
    mean.update(values=jnp.array([1.0, 3.0, 5.0]), mask=jnp.array([True, True, False]))
    mean.update(jnp.array([8.0]))
    assert float(mean.compute()) == 4.0             # (1 + 3 + 8) / 3: the masked 5 counts nowhere


def test_multimetric_next_to_nnx_metrics():
    logits, y, _ = _data(n=12)
    metrics = nnx.MultiMetric(ours=mf.Metric(M.Accuracy(task="multiclass", num_classes=3)),
                              nnx_acc=nnx.metrics.Accuracy())
    metrics.update(logits=jnp.asarray(logits), labels=jnp.asarray(y))
    out = metrics.compute()
    np.testing.assert_allclose(float(out["ours"]), float(out["nnx_acc"]), rtol=1e-6)   # flax's own Accuracy
    np.testing.assert_allclose(float(out["ours"]), np.mean(logits.argmax(-1) == y), rtol=1e-6)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: mf.Metric("f1"), TypeError, r"metric must be a maskjax.metrics streaming metric .*; received str"),
    (lambda: mf.Metric(M.Mean(), values=3), TypeError, "values must be a keyword name"),
    (lambda: mf.Metric(M.Accuracy(task="binary")).update(preds=jnp.ones(2)), TypeError,
     r"expected `logits=` and `labels=`.*received 0 positional and keywords \['preds'\]"),
    (lambda: mf.Metric(M.Mean()).update(loss=jnp.ones(2)), TypeError, r"expected the values as `values=`"),
    (lambda: mf.Metric(M.Collection(a=M.Accuracy(task="binary"), loss=M.Mean())).update(
        jnp.ones(2), jnp.ones(2, jnp.int32)), TypeError, r"missing values for the value members \['loss'\]"),
    (lambda: mf.Metric(M.Mean()).merge(mf.Metric(M.Sum())), TypeError, "must wrap the same metric"),
])
def test_bad_use_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=1200, cwd=ROOT, env={**os.environ, **env})


def test_batch_sharded_update_under_nnx_jit_equals_one_shot():
    """Four CPU devices; inputs sharded along the batch; the state stays replicated and exact."""
    proc = _run("""
        import jax, jax.numpy as jnp, numpy as np
        from flax import nnx
        from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
        import maskjax.flax as mf
        from maskjax import metrics as M
        assert jax.device_count() == 4
        mesh = Mesh(np.array(jax.devices()), ("batch",))
        rows = NamedSharding(mesh, P("batch"))
        rng = np.random.default_rng(0)
        y = rng.integers(0, 3, 64).astype(np.int32); s = rng.normal(size=(64, 3)).astype(np.float32)
        conf = dict(task="multiclass", num_classes=3)
        metric = mf.Metric(M.Collection(f1=M.F1Score(**conf), auroc=M.AUROC(**conf, thresholds=50)))
        step = nnx.jit(lambda m, a, b: m.update(logits=a, labels=b))
        for k in range(0, 64, 32):
            a, b = jax.device_put(s[k:k + 32], rows), jax.device_put(y[k:k + 32], rows)
            assert len(a.sharding.device_set) == 4
            step(metric, a, b)
        got = metric.compute()
        np.testing.assert_allclose(float(got["f1"]), float(M.f1_score(s, y, **conf)), rtol=1e-6)
        np.testing.assert_allclose(float(got["auroc"]), float(M.auroc(s, y, **conf, thresholds=50)), rtol=1e-6)
        print("OK", float(got["f1"]))
    """, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr[-3000:]


def test_install_hint_without_flax():
    proc = _run("""
        import sys
        sys.modules["flax"] = None           # as if Flax were not installed
        import maskjax                       # the core does not need Flax
        try:
            import maskjax.flax
        except ImportError as err:
            print("HINT", err)
    """)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'HINT maskjax.flax needs Flax (NNX): pip install "maskjax[flax]"' in proc.stdout


def test_bootstrap_ids_and_grouped_groups_reach_the_metric():
    """``ids=`` (Bootstrap) and ``groups=`` (Grouped) are the wrapped update's own keywords: the
    wrapper once dropped them, so two parts merged with reused row ids gave std 0.0912 where one
    pass gives 0.0781, and Grouped raised "missing ... 'groups'"."""
    from sklearn.metrics import accuracy_score
    rng = np.random.default_rng(0)
    p = jnp.asarray(rng.random(40).astype(np.float32))
    y = jnp.asarray((rng.random(40) < 0.6).astype(np.int32))
    b = M.Bootstrap(M.Accuracy(task="binary"), num_replicates=200, confidence=0.9, seed=0)
    one = b.compute(b.update(b.init(), p, y))
    wa, wb = mf.Metric(b), mf.Metric(b)
    wa.update(logits=p[:20], labels=y[:20], ids=jnp.arange(20))
    wb.update(logits=p[20:], labels=y[20:], ids=jnp.arange(20, 40))
    wa.merge(wb)
    for k, v in wa.compute().items():
        np.testing.assert_allclose(float(v), float(one[k]), rtol=1e-6, err_msg=k)
    grp = jnp.asarray(rng.integers(0, 3, 40))
    w = mf.Metric(M.Grouped(M.Accuracy(task="binary"), 3))
    w.update(logits=p, labels=y, groups=grp, unused=1)
    want = [accuracy_score(np.asarray(y)[np.asarray(grp) == k], np.asarray(p)[np.asarray(grp) == k] > 0.5)
            for k in range(3)]
    np.testing.assert_allclose(np.asarray(w.compute()), want, rtol=1e-6)
