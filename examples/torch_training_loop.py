"""A plain PyTorch training loop that logs maskjax metrics per epoch.

What it shows:

* torch conventions, as a torch user writes them: logits ``[B, C, T]`` with the
  class axis at 1, int64 labels, padded time steps marked ``-100`` — the same
  call ``F.cross_entropy`` takes, here ``maskjax.torch.losses.cross_entropy``
  (differentiable; the gradient comes from JAX);
* streaming metrics as torchmetrics-style objects (``update`` per step,
  ``compute`` per epoch, ``reset``): macro F1 and accuracy over the real
  tokens only (``ignore_index=-100``), and the loss as a weighted ``Mean``;
* dynamic padding: every batch has its own length, and the shape buckets of
  ``maskjax.torch`` keep the number of compiled programs small (printed);
* ``--compile``: the forward, loss and metric update under
  ``torch.compile(fullgraph=True)`` (maskjax calls are opaque custom ops with
  autograd registered; ``backward`` and the optimizer step stay outside, as
  usual).

Run it: ``python examples/torch_training_loop.py [--epochs 3] [--compile]``.
"""

from __future__ import annotations

import argparse

import jax
import numpy as np
import torch

import maskjax.torch as mt

NUM_CLASSES = 5
FEATURES = 16


def make_data(n_batches: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Token-tagging batches ``x [B, T, F]``, ``y [B, T]`` (int64, -100 on padding), T varies."""
    rng = np.random.default_rng(seed)
    proj = np.random.default_rng(0).normal(size=(FEATURES, NUM_CLASSES))
    batches = []
    for _ in range(n_batches):
        b, t = 16, int(rng.integers(10, 60))
        x = rng.normal(size=(b, t, FEATURES)).astype(np.float32)
        y = (x @ proj + 0.5 * rng.normal(size=(b, t, NUM_CLASSES))).argmax(-1)
        lengths = rng.integers(t // 2, t + 1, size=b)
        y[np.arange(t)[None, :] >= lengths[:, None]] = -100
        batches.append((torch.from_numpy(x), torch.from_numpy(y)))
    return batches


class Tagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(FEATURES, 32), torch.nn.ReLU(),
                                       torch.nn.Linear(32, NUM_CLASSES))

    def forward(self, x):  # [B, T, F] -> logits [B, C, T], the torch layout
        return self.net(x).transpose(1, 2)


def main(epochs: int = 3, compile_step: bool = False, n_batches: int = 30) -> dict:
    torch.manual_seed(0)
    model = Tagger()
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    train, val = make_data(n_batches, 1), make_data(max(n_batches // 3, 2), 2)
    # streaming metrics: ignore_index=-100 drops padded tokens from every count
    f1 = mt.metrics.F1Score(task="multiclass", num_classes=NUM_CLASSES, average="macro", ignore_index=-100)
    acc = mt.metrics.Accuracy(task="multiclass", num_classes=NUM_CLASSES, ignore_index=-100)
    train_loss = mt.metrics.Mean()

    def train_step(x, y):  # forward, loss and metric update: one graph under --compile
        logits = model(x)
        loss = mt.losses.cross_entropy(logits, y)  # class axis 1, ignore_index=-100: torch's defaults
        f1.update(logits.detach(), y)
        return loss

    step = torch.compile(train_step, fullgraph=True) if compile_step else train_step
    compiles = [0]

    def count(event, _duration, **_kw):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles[0] += 1
    jax.monitoring.register_event_duration_secs_listener(count)
    history = {}
    for epoch in range(epochs):
        model.train()
        for x, y in train:
            opt.zero_grad()
            loss = step(x, y)
            loss.backward()
            opt.step()
            n_real = (y != -100).sum()
            train_loss.update(loss.detach().reshape(1), sample_weight=n_real.reshape(1).float())
        train_f1 = f1.compute().item()
        model.eval()
        with torch.no_grad():
            for x, y in val:
                acc.update(model(x), y)
        history[epoch] = dict(loss=train_loss.compute().item(), train_f1=train_f1, val_acc=acc.compute().item())
        print(f"epoch {epoch}: loss {history[epoch]['loss']:.4f}  train F1 {train_f1:.4f}  "
              f"val accuracy {history[epoch]['val_acc']:.4f}  (XLA programs compiled so far: {compiles[0]})")
        for m in (f1, acc, train_loss):
            m.reset()
    return history


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--compile", action="store_true")
    a = ap.parse_args()
    main(a.epochs, a.compile)
