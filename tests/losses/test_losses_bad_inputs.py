"""Issue 13 (losses) and issue 14 item "trailing size-1 channel": every public loss.

* a NaN in a masked element reaches neither the value nor the gradient, eager and jit;
* out-of-range class ids give NaN eagerly *and* under jit (the documented outcome);
* a negative or NaN ``sample_weight`` raises ``ValueError`` naming it when its values are
  concrete, and gives NaN under jit — never a plausible number;
* a ``mask`` / ``sample_weight`` with a trailing size-1 channel (Keras ``[B, H, W, 1]``
  against ``[B, H, W]`` elements) is accepted and equals the squeezed one.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import maskjax
from maskjax import losses

from _loss_cases import B, CASES, inputs_for

IDS = [c[0] for c in CASES]

#: cases whose mask / weight is per element of ``preds`` without its last (class / vector /
#: averaged) axis; the others take a mask of ``preds``' own shape.
_LAST_AXIS_REDUCED = ("cross_entropy", "softmax_focal", "multi_positive", "dice", "tversky",
                      "jaccard", "generalized_dice", "cosine")


def _element_shape(name, x):
    if name.startswith(_LAST_AXIS_REDUCED) or name.endswith("_avg"):
        return x.shape[:-1]
    return x.shape


def test_every_public_loss_is_covered():
    covered = {fn.__name__ for _, fn, _ in CASES}
    public = {n for n in losses.__all__ if callable(getattr(losses, n))}
    assert public <= covered, public - covered


# ------------------------------------------------------------------ NaN in a masked element
@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_nan_in_masked_element_leaks_nowhere(case, mode):
    name, fn, opts = case
    x, y = inputs_for(name)
    keep = [0, 2, 3]
    m = np.zeros(B, bool)
    m[keep] = True
    xn, yn = x.copy(), y.copy()
    xn[1] = np.nan                                        # masked row: NaN scores
    if yn.dtype.kind == "f":
        yn[1] = np.nan                                    # ... and NaN float targets
    vg = jax.value_and_grad(lambda q, t, mm: fn(q, t, mask=mm, **opts))
    vg = jax.jit(vg) if mode == "jit" else vg
    value, grad = vg(jnp.asarray(xn), jnp.asarray(yn), m)
    clean_value, clean_grad = vg(jnp.asarray(x), jnp.asarray(y), m)
    assert np.isfinite(float(value)) and np.all(np.isfinite(grad)), name
    np.testing.assert_allclose(value, clean_value, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grad[jnp.asarray(keep)], clean_grad[jnp.asarray(keep)],
                               rtol=1e-4, atol=1e-6)
    assert np.all(np.asarray(grad)[1] == 0)


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_soft_fbeta_masked_nan_regression(mode):
    """Issue 13's repro: soft_fbeta_loss leaked a masked NaN into value and gradient."""
    p = jnp.array([[2.0, -1.0], [jnp.nan, 0.5], [0.3, 1.0]])
    y = jnp.array([[1, 0], [1, 1], [0, 1]])
    m = jnp.array([True, False, True])
    f = jax.value_and_grad(lambda q: losses.soft_fbeta_loss(q, y, mask=m))
    f = jax.jit(f) if mode == "jit" else f
    value, grad = f(p)
    ref_value = losses.soft_fbeta_loss(p[jnp.array([0, 2])], y[jnp.array([0, 2])])
    np.testing.assert_allclose(value, ref_value, rtol=1e-6)
    assert np.all(np.isfinite(grad)) and np.all(np.asarray(grad[1]) == 0)


def test_nan_score_in_a_kept_element_is_nan():
    """The other half of the policy: a diverging model must show it."""
    x, y = inputs_for("dice_loss")
    x = x.copy()
    x[1, 0, 0, 0] = np.nan
    for fn in (losses.dice_loss, losses.generalized_dice_loss, losses.soft_fbeta_loss):
        if fn is losses.soft_fbeta_loss:
            xx, yy = inputs_for("soft_fbeta_loss")
            xx = xx.copy()
            xx[1, 0] = np.nan
            assert np.isnan(float(fn(xx, yy)))
            continue
        assert np.isnan(float(fn(x, y))), fn.__name__


# ------------------------------------------------------------------ out-of-range class ids
OVERLAP = [losses.dice_loss, losses.jaccard_loss, losses.tversky_loss, losses.generalized_dice_loss]


@pytest.mark.parametrize("fn", OVERLAP + [losses.softmax_focal_loss, losses.cross_entropy],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [3, 7, -2])
def test_out_of_range_class_id_is_nan_eager_and_jit(fn, bad):
    r = np.random.default_rng(0)
    x = r.normal(size=(2, 4, 3)).astype(np.float32)
    y = r.integers(0, 3, size=(2, 4)).astype(np.int32)
    y[1, 2] = bad
    eager = fn(x, y)
    jitted = jax.jit(lambda a, b: fn(a, b))(x, y)
    assert np.isnan(float(eager)) and np.isnan(float(jitted)), (float(eager), float(jitted))
    # a masked-out (or ignored) bad id counts nowhere: finite, equal eager and jit
    m = np.ones((2, 4), bool)
    m[1, 2] = False
    e2, j2 = fn(x, y, mask=m), jax.jit(lambda a, b, mm: fn(a, b, mask=mm))(x, y, m)
    assert np.isfinite(float(e2))
    np.testing.assert_allclose(e2, j2, rtol=1e-6)


# ------------------------------------------------------------------ negative / NaN weights
@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("bad", [-1.0, np.nan])
def test_bad_sample_weight_raises_eagerly_and_is_nan_under_jit(case, bad):
    name, fn, opts = case
    x, y = inputs_for(name)
    w = np.array([1.0, bad, 1.0, 0.5], np.float32)
    with pytest.raises(ValueError, match="sample_weight") as info:
        fn(x, y, sample_weight=w, **opts)
    assert ">= 0" in str(info.value) and ("negative" in str(info.value))
    for red in ("mean", "sum", "sum_over_batch_size"):
        out = jax.jit(lambda a, b, ww: fn(a, b, sample_weight=ww, reduction=red, **opts))(x, y, w)
        assert np.isnan(float(out)), (name, red, float(out))


def test_negative_weight_dice_regression():
    """Issue 13's repro: dice_loss(..., sample_weight=[-1, 1]) gave −6.66."""
    x, y = inputs_for("dice_loss")
    w = np.array([-1.0, 1.0, 1.0, 1.0], np.float32)
    with pytest.raises(ValueError, match=r"`sample_weight` must be >= 0 and not NaN; got 1 negative"):
        losses.dice_loss(x, y, sample_weight=w)
    assert np.isnan(float(jax.jit(lambda ww: losses.dice_loss(x, y, sample_weight=ww))(w)))


def test_reduce_applies_the_same_weight_policy():
    v = np.array([1.0, 2.0, 3.0], np.float32)
    with pytest.raises(ValueError, match="sample_weight"):
        maskjax.reduce(v, sample_weight=[1.0, -0.5, 1.0])
    with pytest.raises(ValueError, match="1 NaN"):
        maskjax.reduce(v, sample_weight=[1.0, np.nan, 1.0])
    assert np.isnan(float(jax.jit(lambda w: maskjax.reduce(v, sample_weight=w))(
        jnp.array([1.0, -0.5, 1.0]))))
    # zero and inf weights are legal values
    assert float(maskjax.reduce(v, sample_weight=[0.0, 1.0, 0.0])) == 2.0
    assert float(maskjax.reduce(v, sample_weight=np.array([1, 1, 2], np.int32))) == 9.0 / 4.0


# ------------------------------------------------------------------ trailing size-1 channel
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_trailing_size1_mask_and_weight_accepted(case):
    name, fn, opts = case
    x, y = inputs_for(name)
    shape = _element_shape(name, x)
    r = np.random.default_rng(1)
    m = r.random(shape) > 0.3
    m.reshape(-1)[0] = True
    w = r.uniform(0.5, 2.0, size=shape).astype(np.float32)
    for red in ("mean", "sum", "none"):
        a = fn(x, y, mask=m, sample_weight=w, reduction=red, **opts)
        b = fn(x, y, mask=m[..., None], sample_weight=w[..., None], reduction=red, **opts)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # and the masked elements really are dropped (the test can fail)
    full = fn(x, y, reduction="sum", **opts)
    assert not np.allclose(fn(x, y, mask=m[..., None], reduction="sum", **opts), full) or m.all()


def test_dice_accepts_keras_mask_regression():
    """Issue 14: dice_loss raised on a Keras [B, H, W, 1] mask against [B, H, W, C] preds."""
    r = np.random.default_rng(2)
    p = r.random((2, 4, 4, 3)).astype(np.float32)
    t = np.eye(3, dtype=np.float32)[r.integers(0, 3, (2, 4, 4))]
    m = r.random((2, 4, 4, 1)) > 0.4
    got = losses.dice_loss(p, t, mask=m, from_logits=False)
    np.testing.assert_allclose(got, losses.dice_loss(p, t, mask=m[..., 0], from_logits=False))
    # hand check of sample 0, class 0 pooled over kept pixels is in the per-class mean:
    k = m[0, ..., 0]
    inter, ps, ts = (p[0, ..., 0] * t[0, ..., 0])[k].sum(), p[0, ..., 0][k].sum(), t[0, ..., 0][k].sum()
    per_class0 = 1 - (2 * inter + 2) / (ps + ts + 2)
    per_class = losses.dice_loss(p[:1], t[:1], mask=m[:1], from_logits=False, reduction="none")
    one_class = losses.dice_loss(p[:1, ..., :1], t[:1, ..., :1], mask=m[:1], from_logits=False,
                                 multilabel=True)
    np.testing.assert_allclose(one_class, per_class0, rtol=1e-5)
    assert per_class.shape == (1,)


def test_trailing_axis_that_is_not_size1_still_raises():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="mask"):
        losses.mean_squared_error(x, x, mask=np.ones((2, 3, 2), bool))
    with pytest.raises(ValueError, match="sample_weight"):
        losses.mean_squared_error(x, x, sample_weight=np.ones((3,), np.float32))


# ------------------------------------------------------------------ int64 labels beyond int32
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_int64_targets_beyond_int32_raise_instead_of_wrapping(case):
    """Issue 13: with x64 off, 2**32 + 1 used to wrap into class 1 (a plausible number)."""
    name, fn, opts = case
    x, y = inputs_for(name)
    wide = np.zeros(y.shape, np.int64)
    wide.reshape(-1)[1] = 2**32 + 1
    with pytest.raises(ValueError, match=r"`targets` holds integers outside the int32 range"):
        fn(x, wide, **opts)
    # in-range int64 targets are fine (narrowed, not refused)
    if np.asarray(y).dtype.kind in "iu":
        np.testing.assert_allclose(fn(x, np.asarray(y).astype(np.int64), **opts), fn(x, y, **opts))


def test_weights_int64_labels_beyond_int32_raise():
    with pytest.raises(ValueError, match="int32"):
        maskjax.weights.balanced(np.array([0, 1, 2**31], np.int64), 3)
    with pytest.raises(ValueError, match="int32"):
        maskjax.weights.class_counts(np.array([0, -(2**31) - 1], np.int64), 3)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_nan_score_in_a_kept_element_is_nan_eager_and_jit(case):
    """Issue 13's policy: a NaN score in a kept element makes the loss NaN (never dropped)."""
    name, fn, opts = case
    x, y = inputs_for(name)
    x = x.copy()
    x.reshape(-1)[0] = np.nan                             # row 0 is kept
    assert np.isnan(float(fn(x, y, **opts)))
    assert np.isnan(float(jax.jit(lambda a, b: fn(a, b, **opts))(x, y)))
