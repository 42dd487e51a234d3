"""Issue 14 (losses): the options the peers' users reach for, against the REAL peers.

* ``average_axis=-1`` on element-wise losses = Keras in every reduction mode (cause 3);
* Tversky α/β against the installed Keras, whichever convention it has (cause 4);
* ``pool_classes=True`` = Keras ``dice`` / ``Tversky`` with ``axis=None`` (cause 5);
* ``softmax_focal_loss`` = Keras ``CategoricalFocalCrossentropy(from_logits=True)``;
* ``generalized_dice_loss`` = optax ``multiclass_generalized_dice_loss``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from maskjax import losses

try:
    from tests.oracles import losses as ref
except ImportError:  # tests/ itself is on sys.path (rootdir conftest, no tests/__init__.py)
    from oracles import losses as ref

RTOL, ATOL = 2e-5, 2e-6

#: Keras reduction → the maskjax reduction that equals it once values are per sample
#: (``average_axis=-1``). ``mean_with_sample_weight`` divides by the sum of the merged
#: mask·weight in the shape of the per-sample values: maskjax ``"mean"``.
KERAS_TO_MASKJAX = {"sum": "sum", "sum_over_batch_size": "sum_over_batch_size",
                    "mean_with_sample_weight": "mean", "none": "none"}


def _close(a, b, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol,
                               atol=atol)


def _rng(seed=0):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ cause 3: average_axis
# (Keras class, keras kwargs, maskjax fn, maskjax kwargs, kind of inputs)
ELEMENTWISE = [
    ("MeanSquaredError", {}, losses.mean_squared_error, {}, "real"),
    ("MeanAbsoluteError", {}, losses.mean_absolute_error, {}, "real"),
    ("Huber", dict(delta=0.5), losses.huber_loss, dict(delta=0.5), "real"),
    ("LogCosh", {}, losses.log_cosh, {}, "real"),
    ("BinaryCrossentropy", dict(label_smoothing=0.1), losses.binary_cross_entropy,
     dict(from_logits=False, label_smoothing=0.1), "prob"),
    ("BinaryCrossentropy", dict(from_logits=True), losses.binary_cross_entropy, {}, "logit"),
    ("BinaryFocalCrossentropy", dict(gamma=2.0), losses.focal_loss,
     dict(from_logits=False, gamma=2.0), "prob"),
    ("BinaryFocalCrossentropy", dict(apply_class_balancing=True, alpha=0.3, gamma=1.5),
     losses.focal_loss, dict(from_logits=False, alpha=0.3, gamma=1.5), "prob"),
]


def _elementwise_inputs(kind, shape, seed):
    r = _rng(seed)
    if kind == "real":
        return r.normal(size=shape).astype(np.float32), r.normal(size=shape).astype(np.float32)
    y = (r.random(shape) > 0.5).astype(np.float32)
    if kind == "logit":
        return y, (r.normal(size=shape) * 2).astype(np.float32)
    return y, r.uniform(0.02, 0.98, size=shape).astype(np.float32)


@pytest.mark.parametrize("case", ELEMENTWISE, ids=lambda c: f"{c[0]}{sorted(c[1])}")
@pytest.mark.parametrize("keras_red", list(KERAS_TO_MASKJAX))
def test_average_axis_equals_keras_2d_row_weights(case, keras_red):
    """[B, D] inputs, a [B] sample weight: the everyday Keras call, every reduction."""
    ref.require("keras")
    kname, kkw, fn, mkw, kind = case
    y, p = _elementwise_inputs(kind, (5, 3), 1)
    sw = np.array([1.0, 0.0, 2.0, 0.5, 1.0], np.float32)
    red = KERAS_TO_MASKJAX[keras_red]
    for weight in (None, sw):
        exp = ref.keras_loss_masked(kname, y, p, sample_weight=weight, reduction=keras_red, **kkw)
        got = fn(p, y, sample_weight=weight, reduction=red, average_axis=-1, **mkw)
        _close(got, exp)
        # and jitted, the way the Keras front calls it (average_axis is static config)
        jitted = jax.jit(lambda a, b, w: fn(a, b, sample_weight=w, reduction=red,
                                            average_axis=-1, **mkw))
        _close(jitted(p, y, weight), exp)


@pytest.mark.parametrize("case", ELEMENTWISE, ids=lambda c: f"{c[0]}{sorted(c[1])}")
@pytest.mark.parametrize("keras_red", list(KERAS_TO_MASKJAX))
def test_average_axis_equals_keras_3d_mask_and_weight(case, keras_red):
    """[B, T, D] inputs, a Keras [B, T] mask (on y_pred) and a [B, T] weight."""
    ref.require("keras")
    kname, kkw, fn, mkw, kind = case
    y, p = _elementwise_inputs(kind, (3, 4, 2), 2)
    mask = np.array([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 0, 1]], bool)
    sw = _rng(3).uniform(0.0, 2.0, size=(3, 4)).astype(np.float32)
    red = KERAS_TO_MASKJAX[keras_red]
    for m, w in [(mask, None), (None, sw), (mask, sw)]:
        exp = ref.keras_loss_masked(kname, y, p, mask=m, sample_weight=w, reduction=keras_red,
                                    **kkw)
        got = fn(p, y, mask=m, sample_weight=w, reduction=red, average_axis=-1, **mkw)
        _close(got, exp)
    # a Keras [B, T, 1] weight is a trailing size-1 channel: accepted, same result
    exp = ref.keras_loss_masked(kname, y, p, mask=mask, sample_weight=sw[..., None],
                                reduction=keras_red, **kkw)
    _close(fn(p, y, mask=mask[..., None], sample_weight=sw[..., None], reduction=red,
              average_axis=-1, **mkw), exp)


@pytest.mark.parametrize("keras_red", ["sum", "sum_over_batch_size", "none"])
def test_average_axis_row_weight_broadcasts_from_the_left_like_keras_column(keras_red):
    """maskjax's [B] weight against [B, T] per-sample values = Keras' [B, 1] weight."""
    ref.require("keras")
    y, p = _elementwise_inputs("real", (3, 4, 2), 4)
    mask = np.array([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 0, 1]], bool)
    sw = np.array([2.0, 0.5, 1.0], np.float32)
    exp = ref.keras_loss_masked("MeanSquaredError", y, p, mask=mask, sample_weight=sw[:, None],
                                reduction=keras_red)
    _close(losses.mean_squared_error(p, y, mask=mask, sample_weight=sw, average_axis=-1,
                                     reduction=KERAS_TO_MASKJAX[keras_red]), exp)


def test_average_axis_sum_is_not_the_element_sum():
    """The regression of cause 3: Keras "sum" on [B, 3] is 1/3 of the element sum."""
    ref.require("keras")
    y, p = _elementwise_inputs("real", (4, 3), 5)
    exp = ref.keras_loss_masked("MeanSquaredError", y, p, reduction="sum")
    element_sum = float(losses.mean_squared_error(p, y, reduction="sum"))
    _close(element_sum / 3.0, exp)                     # hand: Σ_b mean_d = Σ_bd / D
    _close(losses.mean_squared_error(p, y, reduction="sum", average_axis=-1), exp)
    assert abs(element_sum - float(exp)) > 0.5


def test_average_axis_leaves_ignored_elements_out_and_other_axes():
    # hand-derived: BCE with probabilities, row 0 = [ℓ(0.8|1), ignored, ℓ(0.4|0)]
    p = np.array([[0.8, 0.3, 0.4], [0.6, 0.9, 0.5]], np.float32)
    y = np.array([[1, -1, 0], [-1, -1, -1]], np.int32)
    got = losses.binary_cross_entropy(p, y, from_logits=False, ignore_index=-1, average_axis=-1,
                                      reduction="none")
    row0 = (-np.log(0.8) - np.log(0.6)) / 2            # mean over the 2 valid elements
    _close(got, [row0, 0.0])
    # the all-ignored row counts nowhere in "mean"
    _close(losses.binary_cross_entropy(p, y, from_logits=False, ignore_index=-1,
                                       average_axis=-1), row0)
    # average_axis=0 averages over the leading axis instead
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    _close(losses.mean_absolute_error(x, np.zeros_like(x), average_axis=0, reduction="none"),
           [1.5, 2.5, 3.5])


def test_average_axis_bad_values_raise():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="average_axis"):
        losses.mean_squared_error(x, x, average_axis=2)
    with pytest.raises(TypeError, match="average_axis"):
        losses.mean_squared_error(x, x, average_axis=True)
    with pytest.raises(ValueError, match="average_axis"):
        losses.log_cosh(np.float32(1.0), np.float32(0.0), average_axis=-1)


# ------------------------------------------------------------------ cause 4: Tversky vs installed Keras
def test_tversky_alpha_beta_against_installed_keras():
    ref.require("keras")
    from packaging.version import Version

    swaps = ref.keras_tversky_swaps_alpha_beta()
    # the documented version rule: swapped up to 3.15, fixed in 3.16 (keras-team/keras#23333)
    assert swaps == (ref.keras_version() < Version("3.16")), (str(ref.keras_version()), swaps)
    r = _rng(10)
    p = r.random((2, 4, 4, 3)).astype(np.float32)
    t = (r.random((2, 4, 4, 3)) > 0.5).astype(np.float32)
    a, b = 0.3, 0.7
    opts = dict(smooth=0.0, per_sample=False, pool_classes=True, from_logits=False)
    ours = dict(alpha=b, beta=a) if swaps else dict(alpha=a, beta=b)
    exp = ref.keras_fn("tversky", t, p, alpha=a, beta=b)
    _close(losses.tversky_loss(p, t, **ours, **opts), exp, rtol=1e-5)
    # and it is really a different number with the other convention (the test can fail)
    other = dict(alpha=a, beta=b) if swaps else dict(alpha=b, beta=a)
    assert abs(float(losses.tversky_loss(p, t, **other, **opts)) - float(exp)) > 1e-3
    # maskjax's alpha weighs false positives, by hand: p=[.5, 0], t=[1, 0] → FP 0, FN .5
    pp, tt = np.array([[0.5], [0.0]], np.float32), np.array([[1.0], [0.0]], np.float32)
    _close(losses.tversky_loss(pp, tt, alpha=1.0, beta=0.0, smooth=0.0, per_sample=False,
                               from_logits=False), 0.0)
    _close(losses.tversky_loss(pp, tt, alpha=0.0, beta=1.0, smooth=0.0, per_sample=False,
                               from_logits=False), 0.5)


# ------------------------------------------------------------------ cause 5: pooled classes
@pytest.mark.parametrize("channels", [1, 3])
def test_pool_classes_equals_keras_dice_and_tversky_axis_none(channels):
    ref.require("keras")
    r = _rng(11)
    p = r.random((2, 4, 5, channels)).astype(np.float32)
    t = (r.random((2, 4, 5, channels)) > 0.5).astype(np.float32)
    pooled = dict(smooth=0.0, per_sample=False, pool_classes=True, from_logits=False)
    _close(losses.dice_loss(p, t, **pooled), ref.keras_fn("dice", t, p), rtol=1e-5)
    _close(losses.dice_loss(p, t, **pooled), ref.keras_loss("Dice", t, p), rtol=1e-5)
    swaps = ref.keras_tversky_swaps_alpha_beta()
    ab = dict(alpha=0.8, beta=0.2) if swaps else dict(alpha=0.2, beta=0.8)
    _close(losses.tversky_loss(p, t, **ab, **pooled),
           ref.keras_loss("Tversky", t, p, alpha=0.2, beta=0.8), rtol=1e-5)
    per_class = losses.dice_loss(p, t, smooth=0.0, per_sample=False, from_logits=False)
    if channels == 3:   # the old README recipe (per-class mean) is not Keras for C > 1
        assert abs(float(per_class) - float(ref.keras_fn("dice", t, p))) > 1e-3
    else:
        _close(per_class, ref.keras_fn("dice", t, p), rtol=1e-5)


def test_pool_classes_per_sample_equals_keras_axis_tuple():
    ref.require("keras")
    r = _rng(12)
    p = r.random((3, 4, 4, 2)).astype(np.float32)
    t = (r.random((3, 4, 4, 2)) > 0.5).astype(np.float32)
    opts = dict(smooth=0.0, per_sample=True, pool_classes=True, from_logits=False)
    _close(losses.dice_loss(p, t, reduction="none", **opts),
           ref.keras_fn("dice", t, p, axis=(1, 2, 3)), rtol=1e-5)
    _close(losses.dice_loss(p, t, **opts),
           ref.keras_loss("Dice", t, p, axis=(1, 2, 3)), rtol=1e-5)
    _close(losses.jaccard_loss(p, t, reduction="none", **opts),
           1 - np.array([(p[i] * t[i]).sum() / (p[i].sum() + t[i].sum() - (p[i] * t[i]).sum())
                         for i in range(3)]), rtol=1e-5)   # hand: 1 − I/(P + T − I)


def test_pool_classes_with_class_weight_raises():
    x = np.zeros((2, 3, 2), np.float32)
    with pytest.raises(ValueError, match="pool_classes"):
        losses.dice_loss(x, x, pool_classes=True, class_weight=[1.0, 2.0])


# ------------------------------------------------------------------ softmax_focal_loss = Keras
@pytest.mark.parametrize("alpha", [0.25, [0.1, 0.5, 0.2, 0.2], None])
@pytest.mark.parametrize("gamma", [0.0, 2.0, 3.5])
@pytest.mark.parametrize("target_kind", ["ids", "onehot"])
def test_softmax_focal_equals_keras(alpha, gamma, target_kind):
    ref.require("keras")
    r = _rng(13)
    x = (r.normal(size=(6, 4)) * 3).astype(np.float32)
    x[0] = [30.0, -30.0, 0.0, 1.0]                          # saturated: Keras' clipping
    y = r.integers(0, 4, size=6)
    t = np.eye(4, dtype=np.float32)[y]
    tg = y.astype(np.int32) if target_kind == "ids" else t
    k_alpha = 1.0 if alpha is None else alpha
    for smoothing in (0.0, 0.1):
        exp = ref.keras_loss("CategoricalFocalCrossentropy", t, x, alpha=k_alpha, gamma=gamma,
                             from_logits=True, label_smoothing=smoothing, reduction="none")
        got = losses.softmax_focal_loss(x, tg, alpha=alpha, gamma=gamma,
                                        label_smoothing=smoothing, reduction="none")
        _close(got, exp)


@pytest.mark.parametrize("keras_red", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_softmax_focal_equals_keras_with_mask_and_weight(keras_red):
    ref.require("keras")
    r = _rng(14)
    x = (r.normal(size=(3, 5, 4)) * 2).astype(np.float32)    # [B, T, C]
    y = r.integers(0, 4, size=(3, 5))
    t = np.eye(4, dtype=np.float32)[y]
    mask = r.random((3, 5)) > 0.3
    sw = r.uniform(0.1, 2.0, size=(3, 5)).astype(np.float32)
    alpha = np.array([0.4, 0.1, 0.3, 0.2], np.float32)
    exp = ref.keras_loss_masked("CategoricalFocalCrossentropy", t, x, mask=mask, sample_weight=sw,
                                reduction=keras_red, alpha=alpha, from_logits=True)
    got = losses.softmax_focal_loss(x, y.astype(np.int32), alpha=alpha, mask=mask,
                                    sample_weight=sw, reduction=KERAS_TO_MASKJAX[keras_red])
    _close(got, exp)


def test_softmax_focal_probabilities_ignore_index_and_errors():
    ref.require("keras")
    r = _rng(15)
    p = r.uniform(0.05, 1.0, size=(5, 3)).astype(np.float32)   # renormalised inside, as Keras
    y = r.integers(0, 3, size=5).astype(np.int32)
    t = np.eye(3, dtype=np.float32)[y]
    _close(losses.softmax_focal_loss(p, y, from_logits=False, reduction="none"),
           ref.keras_loss("CategoricalFocalCrossentropy", t, p, reduction="none"))
    yi = y.copy()
    yi[[1, 3]] = -100
    keep = yi != -100
    _close(losses.softmax_focal_loss(p, yi, from_logits=False, ignore_index=-100),
           losses.softmax_focal_loss(p[keep], y[keep], from_logits=False))
    with pytest.raises(ValueError, match="alpha"):
        losses.softmax_focal_loss(p, y, alpha=[0.5, 0.5])
    with pytest.raises(TypeError, match="targets"):
        losses.softmax_focal_loss(p, t.astype(bool))
    with pytest.raises(ValueError, match="ignore_index"):
        losses.softmax_focal_loss(p, t, ignore_index=0)


# ------------------------------------------------------------------ generalized_dice_loss = optax
@pytest.mark.parametrize("ignore_background", [False, True])
@pytest.mark.parametrize("smooth", [1.0, 0.0, 0.3])
def test_generalized_dice_equals_optax(ignore_background, smooth):
    ref.require("optax")
    r = _rng(16)
    x = (r.normal(size=(3, 5, 4, 4)) * 2).astype(np.float32)
    lab = r.integers(0, 4, size=(3, 5, 4))
    lab[lab == 3] = 2                                        # class 3 absent: weight 1/1e-7
    t = np.eye(4, dtype=np.float32)[lab]
    exp = ref.optax_fn("multiclass_generalized_dice_loss", x, t, smooth=smooth,
                       ignore_background=ignore_background)
    for targets in (t, lab.astype(np.int32)):
        _close(losses.generalized_dice_loss(x, targets, smooth=smooth,
                                            ignore_background=ignore_background), exp, rtol=1e-4)
    probs = np.asarray(jax.nn.softmax(x, -1))
    exp = ref.optax_fn("multiclass_generalized_dice_loss", probs, t, smooth=smooth,
                       apply_softmax=False, ignore_background=ignore_background)
    _close(losses.generalized_dice_loss(probs, t, smooth=smooth, from_logits=False,
                                        ignore_background=ignore_background), exp, rtol=1e-4)


def test_generalized_dice_mask_torch_layout_and_grads():
    r = _rng(17)
    x = (r.normal(size=(4, 6, 3)) * 2).astype(np.float32)
    lab = r.integers(0, 3, size=(4, 6)).astype(np.int32)
    keep = [0, 2]
    m = np.zeros(4, bool)
    m[keep] = True
    _close(losses.generalized_dice_loss(x, lab, mask=m),
           losses.generalized_dice_loss(x[keep], lab[keep]))
    # ignore_index ≡ masking those elements (frequencies included)
    li = lab.copy()
    li[1, :3] = 255
    _close(losses.generalized_dice_loss(x, li, ignore_index=255),
           losses.generalized_dice_loss(x, lab, mask=li != 255))
    # torch's [N, C, d] layout with axis=1
    _close(losses.generalized_dice_loss(np.moveaxis(x, -1, 1), lab, axis=1),
           losses.generalized_dice_loss(x, lab))
    g = jax.grad(lambda q: losses.generalized_dice_loss(q, lab, mask=m))(jnp.asarray(x))
    assert np.all(np.isfinite(g)) and np.any(np.asarray(g) != 0)
    assert np.all(np.asarray(g)[[1, 3]] == 0)                # masked samples get no gradient


def test_contrastive_average_axis_and_traced_focal_alpha():
    # contrastive_loss is element-wise too: average_axis=-1 = the per-row mean, then the reduction
    r = _rng(18)
    d = np.abs(r.normal(size=(4, 3))).astype(np.float32)
    y = (r.random((4, 3)) > 0.5).astype(np.float32)
    per = losses.contrastive_loss(d, y, margin=1.5, reduction="none")
    sw = np.array([1.0, 0.0, 2.0, 0.5], np.float32)
    _close(losses.contrastive_loss(d, y, margin=1.5, average_axis=-1, sample_weight=sw,
                                   reduction="sum"), np.sum(np.mean(per, -1) * sw))
    # a per-class alpha may be traced (a jit argument), same value as the constant
    x = (r.normal(size=(5, 3)) * 2).astype(np.float32)
    lab = r.integers(0, 3, size=5).astype(np.int32)
    alpha = np.array([0.2, 0.5, 0.3], np.float32)
    _close(jax.jit(lambda a: losses.softmax_focal_loss(x, lab, alpha=a))(alpha),
           losses.softmax_focal_loss(x, lab, alpha=alpha))
