"""examples/flax_training_loop.py: trains, compiles each step once, and its streamed metrics are exact."""

import importlib.util
from pathlib import Path

import jax
import numpy as np

import maskjax
from maskjax.metrics._wide import narrow

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "flax_training_loop.py"


def _load():
    spec = importlib.util.spec_from_file_location("flax_training_loop", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_trains_with_one_compilation_and_exact_streamed_metrics():
    ex = _load()
    history, model, (x, y, w) = ex.train(epochs=3, n_train=128, n_eval=70, verbose=False)
    train_loss = [h["train"]["loss"] for h in history]
    assert train_loss[-1] < train_loss[0], train_loss
    # Equal-shape padded batches over 3 epochs, metric resets between epochs: one trace each.
    assert ex.TRACES["train_step"] == 1 and ex.TRACES["eval_step"] == 1, ex.TRACES

    # The last eval pass (70 rows: batches of 32, 32 and a padded, masked 6) ≡ one-shot on all rows.
    logits = model(x)
    conf = dict(task="multiclass", num_classes=ex.NUM_CLASSES, sample_weight=w)
    want = {
        "accuracy": maskjax.metrics.accuracy(logits, y, average="micro", **conf),
        "precision": maskjax.metrics.precision(logits, y, average="macro", **conf),
        "recall": maskjax.metrics.recall(logits, y, average="macro", **conf),
        "f1": maskjax.metrics.f1_score(logits, y, average="macro", **conf),
        "loss": maskjax.losses.cross_entropy(logits, y, sample_weight=w),
    }
    got = history[-1]["eval"]
    for name, value in want.items():
        np.testing.assert_allclose(got[name], float(value), rtol=2e-5, err_msg=name)
    # The collection keeps one counting state for the four confusion metrics.
    assert [len(m) for _, m in ex.METRICS.groups] == [4, 1]
    # 5 per-class count leaves + the loss Mean's 2 sums (narrow() reads each wide sum as one leaf),
    # + one bad-element counter per state (maskjax.metrics._invalid)
    assert jax.tree.structure(narrow(ex.METRICS.init())).num_leaves == 5 + 2 + 2
