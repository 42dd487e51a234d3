"""A Flax NNX + optax training loop with a masked, weighted maskjax loss and streaming metrics.

What it shows:

* the loss: ``maskjax.losses.cross_entropy`` with a ``mask`` (padded rows of
  the uneven last batch) and a ``sample_weight``, inside one jitted step;
* the metrics: one static ``maskjax.metrics.Collection`` (accuracy, precision,
  recall, F1 share one confusion state; the loss is a weighted ``Mean``) whose
  state — a small pytree of sums — is carried through the jitted train and
  eval steps, reset per epoch without recompiling, and computed on the host;
* every batch has the same padded shape, so each step compiles exactly once.

Run it: ``python examples/flax_training_loop.py``.
"""

from __future__ import annotations

import collections

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import maskjax
from maskjax.metrics import Accuracy, Collection, F1Score, Mean, Precision, Recall

NUM_CLASSES = 4
FEATURES = 8
BATCH = 32

# Static metric configuration: hashable, closed over by the jitted steps.
# dtype="float32": the counts are weighted (sample_weight), so they accumulate in float32.
_CONF = dict(task="multiclass", num_classes=NUM_CLASSES, dtype="float32")
METRICS = Collection(
    accuracy=Accuracy(**_CONF, average="micro"),
    precision=Precision(**_CONF, average="macro"),
    recall=Recall(**_CONF, average="macro"),
    f1=F1Score(**_CONF, average="macro"),
    loss=Mean(),
)

TRACES: collections.Counter = collections.Counter()  # Python-side trace counter (tests read it)


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
        mask = np.concatenate([np.ones(len(yb), bool), np.zeros(pad, bool)])
        yield np.pad(xb, ((0, pad), (0, 0))), np.pad(yb, (0, pad)), mask, np.pad(wb, (0, pad))


class MLP(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(FEATURES, 32, rngs=rngs)
        self.out = nnx.Linear(32, NUM_CLASSES, rngs=rngs)

    def __call__(self, x):
        return self.out(jax.nn.relu(self.hidden(x)))


def _losses(model, x, y, mask, w):
    logits = model(x)
    # The training objective: the masked, weighted mean cross-entropy (Σ w·ℓ / Σ w over kept rows).
    loss = maskjax.losses.cross_entropy(logits, y, mask=mask, sample_weight=w)
    # Per-row losses for the streaming Mean, which applies the same mask and weights itself.
    per_row = maskjax.losses.cross_entropy(logits, y, reduction="none")
    return loss, (logits, per_row)


@nnx.jit
def train_step(model, optimizer, metric_state, x, y, mask, w):
    TRACES["train_step"] += 1
    grad_fn = nnx.value_and_grad(_losses, has_aux=True)
    (loss, (logits, per_row)), grads = grad_fn(model, x, y, mask, w)
    optimizer.update(model, grads)
    metric_state = METRICS.update(metric_state, logits, y, mask=mask, sample_weight=w, loss=per_row)
    return loss, metric_state


@nnx.jit
def eval_step(model, metric_state, x, y, mask, w):
    TRACES["eval_step"] += 1
    _, (logits, per_row) = _losses(model, x, y, mask, w)
    return METRICS.update(metric_state, logits, y, mask=mask, sample_weight=w, loss=per_row)


def train(epochs: int = 5, n_train: int = 1000, n_eval: int = 300, seed: int = 0, verbose: bool = True):
    """Train, then evaluate; returns the history and the final model (for the tests)."""
    model = MLP(nnx.Rngs(seed))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    train_data, eval_data = make_data(n_train, seed), make_data(n_eval, seed + 1)
    history = []
    for epoch in range(epochs):
        state = METRICS.init()           # a reset: same shapes and dtypes, no retrace
        for batch in batches(*train_data):
            _, state = train_step(model, optimizer, state, *batch)
        train_metrics = {k: float(v) for k, v in METRICS.compute(state).items()}
        state = METRICS.init()
        for batch in batches(*eval_data):
            state = eval_step(model, state, *batch)
        eval_metrics = {k: float(v) for k, v in METRICS.compute(state).items()}
        history.append({"train": train_metrics, "eval": eval_metrics})
        if verbose:
            fmt = lambda d: " ".join(f"{k}={v:.4f}" for k, v in d.items())  # noqa: E731
            print(f"epoch {epoch}: train {fmt(train_metrics)} | eval {fmt(eval_metrics)}")
    return history, model, eval_data


if __name__ == "__main__":
    train()
