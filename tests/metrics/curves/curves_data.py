"""Shared test data for tests/curves (heavily tied scores, random weights)."""

import numpy as np


def tied_data(seed, n, k=None, levels=7, weighted=True):
    """Scores rounded to `levels` values in [0, 1] (heavy ties), random positive weights [n]."""
    rng = np.random.default_rng(seed)
    shape = (n,) if k is None else (n, k)
    s = (np.round(rng.random(shape) * (levels - 1)) / (levels - 1)).astype(np.float32)
    w = (rng.random(n) + 0.05).astype(np.float32) if weighted else None
    return rng, s, w


def binary_targets(rng, s, noise=0.7):
    """Targets correlated with the scores (so AUROC is far from 0.5 and curves are interesting)."""
    return (rng.random(s.shape) < noise * s + (1 - noise) * 0.5).astype(np.int32)
