"""Built-in synthetic data for ``maskjax demo`` (deterministic, no downloads)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class SequenceBatch(NamedTuple):
    """A padded sequence-labelling batch: ``[B, T, C]`` logits, ``[B, T]`` labels."""

    logits: np.ndarray
    labels: np.ndarray
    lengths: np.ndarray
    num_classes: int


def sequence_batch(batch: int = 32, maxlen: int = 40, num_classes: int = 5, seed: int = 0) -> SequenceBatch:
    """A tagger's outputs on padded sequences.

    Real steps: labels drawn with a strong class imbalance (class 0 is 60%),
    logits that favour the true class. Padded steps: label 0 (the pad id) and
    logits that confidently predict class 0, so an unmasked metric or loss
    looks much better than the model is.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(maxlen // 4, maxlen + 1, size=batch).astype(np.int32)
    probs = np.array([0.6, 0.2, 0.1, 0.07, 0.03])[:num_classes]
    probs = probs / probs.sum()
    labels = rng.choice(num_classes, size=(batch, maxlen), p=probs).astype(np.int32)
    logits = rng.normal(0.0, 1.0, size=(batch, maxlen, num_classes)).astype(np.float32)
    logits += 1.5 * np.eye(num_classes, dtype=np.float32)[labels]
    pad = np.arange(maxlen)[None, :] >= lengths[:, None]
    labels[pad] = 0
    logits[pad] = 0.0
    logits[pad, 0] = 8.0
    return SequenceBatch(logits, labels, lengths, num_classes)
