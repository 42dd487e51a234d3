"""``multidim_average="samplewise"``: one result per sample along the leading axis (torchmetrics).

One-shot: the state spec's increment vmapped over the samples (a leading ``[N]`` axis). Streaming:
the per-sample states are written into a :class:`SampleRows` buffer of ``capacity`` rows.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from maskjax.metrics._format import Formatted
from maskjax.metrics._state_merge import merged_not_summed

__all__ = ["samplewise_increment", "SampleRows", "append_rows"]


def samplewise_increment(spec: Any, fmt: Formatted) -> Any:
    """``multidim_average="samplewise"``: the spec's increment of each sample along the leading axis.

    The state gets a leading ``[N]`` axis (torchmetrics' samplewise stat scores); per-sample weights
    and class weights are already folded into ``fmt.weight``.
    """
    if fmt.preds.ndim < 1 or (spec.task == "multilabel" and fmt.preds.ndim < 2):
        raise ValueError("multidim_average='samplewise' needs a leading sample axis [N, ...] in `preds`, got "
                         f"element shape {tuple(fmt.preds.shape)}.")

    def one(p, t, w, k, s):
        return spec.increment(Formatted(p, t, w, k, None, None, s))

    return jax.vmap(one)(fmt.preds, fmt.targets, fmt.weight, fmt.keep, fmt.scores)


@merged_not_summed  # rows of different samples: psum_state / HostAccumulator refuse them
class SampleRows(NamedTuple):
    """Streaming ``multidim_average="samplewise"`` state: ``capacity`` rows of per-sample state, rows written."""

    rows: Any
    n: jax.Array


def append_rows(buf: SampleRows, inc: Any, n_valid: Any = None) -> SampleRows:
    """Write the ``[N, ...]`` per-sample increments at rows ``n, n+1, ...`` (rows past capacity dropped)."""
    n_new = jax.tree_util.tree_leaves(inc)[0].shape[0]
    cap = jax.tree_util.tree_leaves(buf.rows)[0].shape[0]
    idx = buf.n + jnp.arange(n_new, dtype=jnp.int32)
    if n_valid is not None:
        idx = jnp.where(jnp.arange(n_new) < n_valid, idx, cap)
    rows = jax.tree.map(lambda r, x: r.at[idx].set(x.astype(r.dtype), mode="drop"), buf.rows, inc)
    return SampleRows(rows, buf.n + (n_new if n_valid is None else n_valid))
