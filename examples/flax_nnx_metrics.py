"""Flax NNX training with maskjax metrics as ``nnx.Metric`` objects (``maskjax.flax.Metric``).

What it shows:

* maskjax metrics inside an ``nnx.MultiMetric`` (the NNX way: ``metrics.update(**batch)``,
  ``metrics.compute()``, ``metrics.reset()``), updated in place inside ``nnx.jit``;
* the weighting contract reaches the metrics: padded rows of the uneven last batch are
  masked out (``mask=``) and rows are weighted (``sample_weight=``), for the loss and for
  every metric alike;
* every batch has one padded shape and ``reset()`` keeps shapes, so each step compiles once;
* the streamed numbers equal the one-shot ``maskjax.metrics`` functions on all rows
  (tests/test_flax.py checks it, and scikit-learn's accuracy and F1).

Run it: ``python examples/flax_nnx_metrics.py``.
"""

from __future__ import annotations

import collections

import jax
import numpy as np
import optax
from flax import nnx

import maskjax
import maskjax.flax
from maskjax import metrics as M

NUM_CLASSES = 4
FEATURES = 8
BATCH = 32
# dtype="float32": the counts are weighted (sample_weight); from_logits: the model outputs logits.
CONF = dict(task="multiclass", num_classes=NUM_CLASSES, from_logits=True, dtype="float32")

TRACES: collections.Counter = collections.Counter()  # Python-side trace counter (the test reads it)


def make_metrics() -> nnx.MultiMetric:
    """Four maskjax metrics in one ``nnx.MultiMetric``; each reads the keywords it needs."""
    return nnx.MultiMetric(
        accuracy=maskjax.flax.Metric(M.Accuracy(**CONF, average="micro")),
        f1=maskjax.flax.Metric(M.F1Score(**CONF, average="macro")),
        auroc=maskjax.flax.Metric(M.AUROC(**CONF, thresholds=200)),     # binned: streams exactly
        loss=maskjax.flax.Metric(M.Mean(), values="loss"),              # per-row losses, same mask/weights
    )


def make_data(n: int, seed: int):
    """Gaussian blobs: ``x [n, F]`` float32, ``y [n]`` int32, ``w [n]`` float32 sample weights."""
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(1234).normal(0.0, 0.6, (NUM_CLASSES, FEATURES))
    y = rng.integers(0, NUM_CLASSES, n).astype(np.int32)
    x = (centers[y] + rng.normal(0.0, 1.0, (n, FEATURES))).astype(np.float32)
    w = rng.choice(np.array([0.5, 1.0, 2.0], np.float32), n)
    return x, y, w


def batches(x, y, w, batch: int = BATCH):
    """Fixed-shape ``(x, y, mask, w)`` batches; the uneven last one is zero-padded and masked out."""
    for start in range(0, len(y), batch):
        xb, yb, wb = x[start:start + batch], y[start:start + batch], w[start:start + batch]
        pad = batch - len(yb)
        mask = np.arange(batch) < len(yb)
        yield np.pad(xb, ((0, pad), (0, 0))), np.pad(yb, (0, pad)), mask, np.pad(wb, (0, pad))


class MLP(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(FEATURES, 32, rngs=rngs)
        self.out = nnx.Linear(32, NUM_CLASSES, rngs=rngs)

    def __call__(self, x):
        return self.out(jax.nn.relu(self.hidden(x)))


def _loss(model, x, y, mask, w):
    logits = model(x)
    # The objective: the masked, weighted mean cross-entropy (Σ w·ℓ / Σ w over kept rows).
    return maskjax.losses.cross_entropy(logits, y, mask=mask, sample_weight=w), logits


@nnx.jit
def train_step(model, optimizer, metrics, x, y, mask, w):
    TRACES["train_step"] += 1
    (loss, logits), grads = nnx.value_and_grad(_loss, has_aux=True)(model, x, y, mask, w)
    optimizer.update(model, grads)
    per_row = maskjax.losses.cross_entropy(logits, y, reduction="none")
    metrics.update(logits=logits, labels=y, mask=mask, sample_weight=w, loss=per_row)
    return loss


@nnx.jit
def eval_step(model, metrics, x, y, mask, w):
    TRACES["eval_step"] += 1
    logits = model(x)
    per_row = maskjax.losses.cross_entropy(logits, y, reduction="none")
    metrics.update(logits=logits, labels=y, mask=mask, sample_weight=w, loss=per_row)


def train(epochs: int = 5, n_train: int = 1000, n_eval: int = 300, seed: int = 0, verbose: bool = True):
    """Train, evaluating after each epoch; returns the history, the model and the eval data."""
    model = MLP(nnx.Rngs(seed))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    metrics = make_metrics()
    train_data, eval_data = make_data(n_train, seed), make_data(n_eval, seed + 1)
    history = []
    for epoch in range(epochs):
        metrics.reset()                      # same shapes and dtypes: no retrace
        for batch in batches(*train_data):
            train_step(model, optimizer, metrics, *batch)
        train_metrics = {k: float(v) for k, v in metrics.compute().items()}
        metrics.reset()
        for batch in batches(*eval_data):
            eval_step(model, metrics, *batch)
        eval_metrics = {k: float(v) for k, v in metrics.compute().items()}
        history.append({"train": train_metrics, "eval": eval_metrics})
        if verbose:
            fmt = lambda d: " ".join(f"{k}={v:.4f}" for k, v in d.items())  # noqa: E731
            print(f"epoch {epoch}: train {fmt(train_metrics)} | eval {fmt(eval_metrics)}")
    return history, model, eval_data


if __name__ == "__main__":
    train()
