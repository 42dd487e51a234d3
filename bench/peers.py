"""Plain ``jax.numpy`` formulations timed beside maskjax: the obvious code a user would write.

Each is a *peer* row in bench/RESULTS.md (what maskjax must beat), not a route for the library
to adopt: the prototypes the library adopted (blocked arg-max, host sorts, bucketed curves,
row-block multi-label counts) now live in ``maskjax._kernels`` / ``maskjax.metrics`` and are
timed there, so their drifted copies were removed from bench/.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax


def confusion_counts(preds: jax.Array, target: jax.Array, num_classes: int,
                     mask: jax.Array | None = None) -> jax.Array:
    """int32 ``[C, C]`` counts: one flat key ``t*C+p``; dropped rows go to bin C*C."""
    c = num_classes
    key = target.astype(jnp.int32) * c + preds.astype(jnp.int32)
    ok = (target >= 0) & (target < c) & (preds >= 0) & (preds < c)
    if mask is not None:
        ok = ok & mask
    key = jnp.where(ok, key, c * c)
    return jnp.bincount(key, length=c * c + 1)[: c * c].reshape(c, c)


def f1_macro_from_confmat(cm: jax.Array) -> jax.Array:
    tp = jnp.diag(cm).astype(jnp.float32)
    fp = cm.sum(0).astype(jnp.float32) - tp
    fn = cm.sum(1).astype(jnp.float32) - tp
    den = 2 * tp + fp + fn
    return jnp.mean(jnp.where(den > 0, 2 * tp / jnp.where(den > 0, den, 1), 0.0))


@functools.partial(jax.jit, static_argnames=("num_classes",))
def w1_plain(logits, target, num_classes):
    p = jnp.argmax(logits, -1)
    cm = jnp.bincount(target * num_classes + p, length=num_classes * num_classes).reshape(num_classes, num_classes)
    return cm, f1_macro_from_confmat(cm)


def ce_optax_mask(x, y, m):
    import optax

    loss = optax.softmax_cross_entropy_with_integer_labels(x, y)
    w = m.astype(x.dtype)
    return jnp.sum(loss * w) / jnp.maximum(jnp.sum(w), 1)


def _auroc_from_sorted_desc(ks, pos, neg):
    tps = jnp.cumsum(pos)
    last = jnp.concatenate([ks[1:] != ks[:-1], jnp.ones((1,), bool)])
    tp_end = lax.cummin(jnp.where(last, tps, jnp.inf), reverse=True)
    tp_prev = jnp.concatenate([jnp.zeros((1,), tps.dtype), lax.cummax(jnp.where(last, tps, 0.0))[:-1]])
    return jnp.sum(neg * (tp_end + tp_prev)) * 0.5 / (tps[-1] * jnp.sum(neg))


@jax.jit
def auroc_argsort(s, y, w):
    """Baseline: argsort + gathers (PERF.md: slow on XLA:CPU)."""
    o = jnp.argsort(-s)
    pos = (y.astype(jnp.float32) * w)[o]
    return _auroc_from_sorted_desc(-s[o], pos, w[o] - pos)


@jax.jit
def multilabel_f1_three_sums(p, t):
    pred = p > 0.5
    tt = t.astype(bool)
    tp = jnp.sum(pred & tt, 0, dtype=jnp.int32)
    fp = jnp.sum(pred & ~tt, 0, dtype=jnp.int32)
    fn = jnp.sum(~pred & tt, 0, dtype=jnp.int32)
    den = 2 * tp + fp + fn
    return jnp.mean(jnp.where(den > 0, 2 * tp / jnp.where(den > 0, den, 1), 0.0))


@jax.jit
def multilabel_f1_tp_sums(p, t):
    """tp = Σ pred·t, then fp = Σ pred − tp, fn = Σ t − tp (3 reductions, 1 compare)."""
    pred = (p > 0.5).astype(jnp.int32)
    ti = t.astype(jnp.int32)
    tp = jnp.sum(pred * ti, 0)
    ps = jnp.sum(pred, 0)
    ts = jnp.sum(ti, 0)
    den = ps + ts
    return jnp.mean(jnp.where(den > 0, 2 * tp / jnp.where(den > 0, den, 1), 0.0))


def make_streaming(num_classes: int):
    """A jitted collection update: one int32 [C,C] confusion + loss sums."""
    c = num_classes

    @jax.jit
    def update(state, logits, target):
        cm, loss_sum, n = state
        p = jnp.argmax(logits, -1)
        cm = cm + confusion_counts(p, target, c)
        lse = jax.nn.logsumexp(logits, -1)
        picked = jnp.take_along_axis(logits, target[:, None], -1)[:, 0]
        return cm, loss_sum + jnp.sum(lse - picked), n + target.shape[0]

    @jax.jit
    def compute(state):
        cm, loss_sum, n = state
        tp = jnp.diag(cm).astype(jnp.float32)
        prec = tp / jnp.maximum(cm.sum(0), 1)
        rec = tp / jnp.maximum(cm.sum(1), 1)
        f1 = jnp.where(prec + rec > 0, 2 * prec * rec / jnp.where(prec + rec > 0, prec + rec, 1), 0.0)
        return {"accuracy": tp.sum() / jnp.maximum(cm.sum(), 1), "precision": prec.mean(),
                "recall": rec.mean(), "f1": f1.mean(), "loss": loss_sum / jnp.maximum(n, 1)}

    def init():
        return (jnp.zeros((c, c), jnp.int32), jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    return init, update, compute
