"""Multi-label per-label counts, formatted and summed per block of 32 rows: a CPU cache route.

Tested equal to the dense column sums of :func:`maskjax.metrics._confusion.counts_update` (the
reference maths, which it receives as arguments, so this package never imports the metrics).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax import lax

from maskjax import _checks, _weighting

__all__ = ["multilabel_counts_blocked"]


# Multi-label counts: rows per loop step. XLA:CPU lowers a column sum of a fused [N, L] expression
# to passes over materialised N x L temporaries (344 ms = 25x the read bound at N=20k L=1000); a loop
# whose body formats and sums 32 rows keeps everything in cache: 24-28 ms (bench/README.md, W5).
_ROW_BLOCK = 32


def _rows_of(x: Any, lead: tuple[int, ...], num_labels: int):
    """``mask`` / ``sample_weight`` as ``[N]`` or ``[N, L]`` rows; ``False`` if not row-sliceable."""
    if x is None:
        return None
    x = jnp.asarray(x)
    n = 1
    for d in lead:
        n *= d
    if x.ndim <= len(lead) and tuple(x.shape) == tuple(lead[: x.ndim]):
        return _weighting.broadcast_left(x, lead, "mask").reshape(n)
    if tuple(x.shape) == tuple(lead) + (num_labels,):
        return x.reshape(n, num_labels)
    return False


def multilabel_counts_blocked(raw: dict, num_classes: int | None, *, format_inputs: Callable,
                              dense_counts: Callable, counts_type: type, merge: Callable) -> Any:
    """Multi-label :class:`Counts` from the raw inputs, formatted and summed per block of rows.

    Exactly the formatting and sums of the dense path (each block is passed through
    ``format_inputs`` and ``dense_counts``, the reference maths passed in by
    :func:`maskjax.metrics._confusion.counts_update`); int32 counts are identical, float32 ones
    differ only by summation order. ``None`` when the inputs do not split into rows.
    """
    if jax.default_backend() != "cpu":
        # The row loop is a CPU cache trick; on an H200 it is sequential and slow (W5: 10.1 ms vs
        # 0.74 ms for the dense column sums, bench/RESULTS_gpu.md), so GPUs/TPUs take the dense path.
        return None
    preds, targets = raw["preds"], raw["targets"]
    if _checks.static_size(preds.shape, targets.shape) is None:
        return None  # a symbolic dimension (jax2tf, jax.export): the block count is not static
    lead, num_labels = tuple(preds.shape[:-1]), preds.shape[-1]
    n = 1
    for d in lead:
        n *= d
    k = _ROW_BLOCK
    if n < 2 * k or targets.shape != preds.shape:
        return None
    mask = _rows_of(raw["mask"], lead, num_labels)
    sw = _rows_of(raw["sample_weight"], lead, num_labels)
    if mask is False or sw is False:
        return None
    p2 = preds.reshape(n, num_labels)
    t2 = targets.reshape(n, num_labels)
    opts = dict(task="multilabel", num_classes=num_classes, threshold=raw["threshold"],
                from_logits=raw["from_logits"], lower_is_positive=raw["lower_is_positive"],
                class_weight=raw["class_weight"], ignore_index=raw["ignore_index"])

    def counts_of(take):
        m = None if mask is None else take(mask)
        s = None if sw is None else take(sw)
        fmt = format_inputs(take(p2), take(t2), mask=m, sample_weight=s, **opts)
        if fmt.weight.dtype != jnp.int32 or fmt.preds.shape[0] > 127:
            return dense_counts(fmt, "multilabel")
        # Unweighted (weight == keep, p and t already 0 where dropped): one column sum of the four
        # 0/1 fields packed 8 bits apart (each block sum <= 127), seen = pred + target - tp.
        p, t, keep = fmt.preds, fmt.targets, fmt.keep.astype(jnp.int32)
        packed = jnp.sum((p * t) | (p << 8) | (t << 16) | (keep << 24), axis=0)
        tp, pred, target, total = ((packed >> s) & 0xFF for s in (0, 8, 16, 24))
        return counts_type(tp, pred, target, total, pred + target - tp)

    nb = n // k

    def body(i, acc):
        blk = counts_of(lambda x: lax.dynamic_slice_in_dim(x, i * k, k, 0))
        return merge(acc, blk)

    shapes = jax.eval_shape(lambda: counts_of(lambda x: x[:k]))
    init = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
    acc = lax.fori_loop(0, nb, body, init)
    if nb * k != n:
        acc = merge(acc, counts_of(lambda x: x[nb * k:]))
    return acc
