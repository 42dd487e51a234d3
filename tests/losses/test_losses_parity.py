"""Parity with the REAL libraries: torch, Keras 3, optax, TF1 (oracles in tests/oracles/losses.py)."""

from __future__ import annotations

import numpy as np
import pytest

from maskjax import losses

try:
    from tests.oracles import losses as ref
except ImportError:  # tests/ itself is on sys.path (rootdir conftest, no tests/__init__.py)
    from oracles import losses as ref

RTOL, ATOL = 2e-5, 2e-6
REDUCTIONS_TORCH = ["none", "sum", "mean"]


def _close(a, b, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol,
                               atol=atol)


def _rng(seed=0):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ torch cross_entropy
@pytest.fixture(scope="module")
def torch_mod():
    return ref.require("torch")


CW = np.array([0.5, 2.0, 1.0, 3.0], np.float32)


@pytest.mark.parametrize("layout", ["2d", "kdim"])
@pytest.mark.parametrize("weight", [None, "cw"])
@pytest.mark.parametrize("ignore", [None, -100, 1])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
def test_cross_entropy_matches_torch_index_targets(torch_mod, layout, weight, ignore, smoothing):
    r = _rng(1)
    shape = (6, 4) if layout == "2d" else (3, 4, 2, 3)        # torch [N, C, d1, d2]
    x = (r.normal(size=shape) * 2).astype(np.float32)
    y_shape = (shape[0],) + shape[2:]
    y = r.integers(0, 4, size=y_shape).astype(np.int64)
    if ignore is not None:
        flat = y.reshape(-1)
        flat[[0, 3]] = ignore
    w = None if weight is None else CW
    for red in REDUCTIONS_TORCH:
        expected = ref.torch_cross_entropy(x, y, weight=w, label_smoothing=smoothing,
                                           ignore_index=-100 if ignore is None else ignore,
                                           reduction=red)
        got = losses.cross_entropy(x, y, axis=1, class_weight=w, ignore_index=ignore,
                                   label_smoothing=smoothing, reduction=red)
        _close(got, expected)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_matches_torch_probability_targets(torch_mod, smoothing):
    r = _rng(2)
    x = (r.normal(size=(3, 4, 5)) * 2).astype(np.float32)     # [N, C, d1], axis=1
    t = r.random((3, 4, 5)).astype(np.float32)
    t /= t.sum(1, keepdims=True)
    for red in REDUCTIONS_TORCH:
        _close(losses.cross_entropy(x, t, axis=1, label_smoothing=smoothing, reduction=red),
               ref.torch_cross_entropy(x, t, label_smoothing=smoothing, reduction=red))
    # with class weights torch's "sum"/"none" agree; its "mean" divides by the row count,
    # maskjax divides by Σ_i Σ_c w_c t_ic (so one-hot ≡ class ids, documented)
    for red in ["none", "sum"]:
        _close(losses.cross_entropy(x, t, axis=1, class_weight=CW, label_smoothing=smoothing,
                                    reduction=red),
               ref.torch_cross_entropy(x, t, weight=CW, label_smoothing=smoothing, reduction=red))
    total = ref.torch_cross_entropy(x, t, weight=CW, label_smoothing=smoothing, reduction="sum")
    omega = (t * CW[None, :, None]).sum()
    _close(losses.cross_entropy(x, t, axis=1, class_weight=CW, label_smoothing=smoothing),
           total / omega)


# ------------------------------------------------------------------ torch BCE / regression
@pytest.mark.parametrize("red", REDUCTIONS_TORCH)
def test_bce_matches_torch_pos_weight_and_weight(torch_mod, red):
    r = _rng(3)
    x = (r.normal(size=(5, 3)) * 3).astype(np.float32)
    y = (r.random((5, 3)) > 0.5).astype(np.float32)
    pw = np.array([3.0, 1.0, 0.25], np.float32)
    w = np.array([1.0, 0.5, 2.0], np.float32)
    _close(losses.binary_cross_entropy(x, y, pos_weight=pw, reduction=red),
           ref.torch_bce_with_logits(x, y, pos_weight=pw, reduction=red))
    # torch's weight= does not enter the mean's denominator: maskjax sum_over_batch_size
    mj_red = {"mean": "sum_over_batch_size"}.get(red, red)
    _close(losses.binary_cross_entropy(x, y, pos_weight=pw, class_weight=w, reduction=mj_red),
           ref.torch_bce_with_logits(x, y, pos_weight=pw, weight=w, reduction=red))


@pytest.mark.parametrize("name,fn,kw", [("mse", losses.mean_squared_error, {}),
                                        ("l1", losses.mean_absolute_error, {}),
                                        ("huber", losses.huber_loss, {"delta": 0.7})])
def test_regression_matches_torch(torch_mod, name, fn, kw):
    r = _rng(4)
    x, y = r.normal(size=(2, 3, 4)).astype(np.float32), r.normal(size=(2, 3, 4)).astype(np.float32)
    for red in REDUCTIONS_TORCH:
        _close(fn(x, y, reduction=red, **kw), ref.torch_regression(name, x, y, reduction=red, **kw))


@pytest.mark.parametrize("shift", [1e4, 1e6, 1e7])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_large_logits_match_torch(torch_mod, shift, smoothing):
    """Softmax ignores a shift: unshifted ``x_y − logsumexp(x)`` gave 0.69336 / 0.6875 / 1.0
    at these shifts (float32 cancellation) where torch's log-softmax stays at log 2."""
    torch = torch_mod
    x = (_rng(7).normal(size=(6, 5)) + shift).astype(np.float32)
    x[0] = shift  # a tie row: exactly log 5 (+ smoothing)
    y = np.array([1, 0, 4, 2, 3, 1])
    for multi in (False, True):
        expected = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(y),
                                                     label_smoothing=smoothing, reduction="none").numpy()
        if multi:  # a one-class acceptable set is cross_entropy with that class
            if smoothing:
                continue
            got = losses.multi_positive_cross_entropy(x, np.eye(5, dtype=bool)[y], reduction="none")
        else:
            got = losses.cross_entropy(x, y, label_smoothing=smoothing, reduction="none")
        _close(got, expected, rtol=1e-5, atol=1e-5)


def test_l1_gradient_at_ties_matches_torch(torch_mod):
    """|e| has the subgradient 0 at e = 0 in torch's ``F.l1_loss`` (and TF's ``abs``); JAX's
    ``abs`` gives 1 there, which a model at an exact fit would follow."""
    import jax
    torch = torch_mod
    p = np.array([1.0, 2.0, 3.5, 4.0], np.float32)
    y = np.array([1.0, 2.5, 3.0, 4.0], np.float32)
    tp = torch.from_numpy(p.copy()).requires_grad_()
    torch.nn.functional.l1_loss(tp, torch.from_numpy(y)).backward()
    got = jax.grad(lambda a: losses.mean_absolute_error(a, y))(p)
    _close(got, tp.grad.numpy())   # [0, -0.25, 0.25, 0]
    assert float(np.abs(np.asarray(got)).sum()) == 0.5


@pytest.mark.parametrize("alpha", [0.25, -1.0])
def test_focal_matches_torchvision_formula(torch_mod, alpha):
    r = _rng(5)
    x = (r.normal(size=(4, 3)) * 3).astype(np.float32)
    y = (r.random((4, 3)) > 0.5).astype(np.float32)
    for red in REDUCTIONS_TORCH:
        _close(losses.focal_loss(x, y, alpha=None if alpha < 0 else alpha, reduction=red),
               ref.torchvision_sigmoid_focal_loss(x, y, alpha=alpha, reduction=red))


# ------------------------------------------------------------------ Keras 3
V = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
M = np.array([[1, 1, 0], [1, 0, 0]], bool)
W = np.array([[2.0], [0.5]], np.float32)


@pytest.mark.parametrize("red,expected", [("sum", (7.0, 19.5, 8.0)),
                                          ("sum_over_batch_size", (7 / 3, 3.25, 8 / 3))])
def test_keras_semantics_example(red, expected):
    """SEMANTICS.md's mask + weight example, through Keras' own Loss.__call__ and maskjax."""
    ref.require("keras")
    zeros = np.zeros_like(V)
    for (mask, sw), exp in zip([(M, None), (None, W), (M, W)], expected):
        keras_value = ref.keras_reduce(V, mask=mask, sample_weight=sw, reduction=red)
        _close(keras_value, exp, rtol=1e-6)
        # maskjax: a [B] weight broadcasts from the left; mean_absolute_error(v, 0) = v
        row_w = None if sw is None else sw[:, 0]
        _close(losses.mean_absolute_error(V, zeros, mask=mask, sample_weight=row_w, reduction=red),
               exp, rtol=1e-6)


def test_keras_mean_with_sample_weight_agrees_when_weight_is_full_shape():
    ref.require("keras")
    # Keras divides by Σ w before broadcasting: equal to maskjax "mean" with a full-shape weight
    full_w = np.broadcast_to(W, V.shape)
    exp = ref.keras_reduce(V, mask=M, sample_weight=full_w, reduction="mean_with_sample_weight")
    _close(losses.mean_absolute_error(V, np.zeros_like(V), mask=M, sample_weight=full_w), exp)
    _close(exp, 8 / 4.5, rtol=1e-6)


def test_keras_sparse_ce_ignore_class():
    ref.require("keras")
    r = _rng(6)
    x = (r.normal(size=(3, 4, 5)) * 2).astype(np.float32)
    y = r.integers(0, 5, size=(3, 4)).astype(np.int32)
    y[0, :2] = 2
    sw = np.array([1.0, 0.5, 2.0], np.float32)
    for k in [2, -1]:
        yy = y.copy()
        if k == -1:
            yy[1, 1] = -1
        exp = ref.keras_loss("SparseCategoricalCrossentropy", yy, x, from_logits=True,
                             ignore_class=k)
        _close(losses.cross_entropy(x, yy, ignore_index=k, reduction="sum_over_batch_size"), exp)
    # Keras does not broadcast a [B] weight against [B, T] losses: give it [B, 1]
    exp = ref.keras_loss("SparseCategoricalCrossentropy", y, x, from_logits=True, ignore_class=2,
                         sample_weight=sw[:, None])
    _close(losses.cross_entropy(x, y, ignore_index=2, sample_weight=sw,
                                reduction="sum_over_batch_size"), exp)


def test_keras_categorical_ce_probabilities_and_smoothing():
    ref.require("keras")
    r = _rng(7)
    p = r.random((6, 4)).astype(np.float32) + 0.05
    p[0, 1] = 0.0                                     # exercised clipping
    t = np.eye(4, dtype=np.float32)[r.integers(0, 4, 6)]
    sw = np.array([1, 2, 0, 1, 0.5, 1], np.float32)
    exp = ref.keras_loss("CategoricalCrossentropy", t, p, label_smoothing=0.1, sample_weight=sw)
    _close(losses.cross_entropy(p, t, from_logits=False, label_smoothing=0.1, sample_weight=sw,
                                reduction="sum_over_batch_size"), exp)
    exp = ref.keras_loss("SparseCategoricalCrossentropy", t.argmax(-1), p)
    _close(losses.cross_entropy(p, t.argmax(-1).astype(np.int32), from_logits=False,
                                reduction="sum_over_batch_size"), exp)


@pytest.mark.parametrize("name,fn,kw,mj", [
    ("BinaryCrossentropy", losses.binary_cross_entropy, dict(label_smoothing=0.1),
     dict(from_logits=False, label_smoothing=0.1)),
    ("MeanSquaredError", losses.mean_squared_error, {}, {}),
    ("MeanAbsoluteError", losses.mean_absolute_error, {}, {}),
    ("Huber", losses.huber_loss, dict(delta=0.5), dict(delta=0.5)),
    ("LogCosh", losses.log_cosh, {}, {}),
])
@pytest.mark.parametrize("red", ["sum_over_batch_size", "sum"])
def test_keras_elementwise_losses_with_row_weights(name, fn, kw, mj, red):
    ref.require("keras")
    r = _rng(8)
    if name == "BinaryCrossentropy":
        y = (r.random((5, 3)) > 0.5).astype(np.float32)
        p = r.random((5, 3)).astype(np.float32)
        p[0, 0] = 1.0
    else:
        y, p = r.normal(size=(5, 3)).astype(np.float32), r.normal(size=(5, 3)).astype(np.float32)
    sw = np.array([1.0, 0.0, 2.0, 0.5, 1.0], np.float32)
    exp = ref.keras_loss(name, y, p, sample_weight=sw, reduction=red, **kw)
    got = fn(p, y, sample_weight=sw, reduction=red, **mj)
    if red == "sum":                       # Keras averages the last axis before summing
        got = got / y.shape[-1]
    _close(got, exp)


def test_keras_cosine_similarity():
    ref.require("keras")
    r = _rng(9)
    x, y = r.normal(size=(4, 3)).astype(np.float32), r.normal(size=(4, 3)).astype(np.float32)
    x[2] = 0.0
    _close(losses.cosine_similarity_loss(x, y, reduction="none"),
           ref.keras_fn("cosine_similarity", y, x))


def test_keras_dice_and_tversky_global():
    ref.require("keras")
    r = _rng(10)
    p = r.random((2, 4, 4, 1)).astype(np.float32)
    t = (r.random((2, 4, 4, 1)) > 0.5).astype(np.float32)
    opts = dict(smooth=0.0, per_sample=False, from_logits=False)
    _close(losses.dice_loss(p, t, **opts), ref.keras_fn("dice", t, p), rtol=1e-5)
    # Keras' `alpha` multiplies Σ t(1−p) — a false *negative* count: alpha/beta swap
    _close(losses.tversky_loss(p, t, alpha=0.7, beta=0.3, **opts),
           ref.keras_fn("tversky", t, p, alpha=0.3, beta=0.7), rtol=1e-5)


# ------------------------------------------------------------------ optax
def test_optax_cross_entropies():
    ref.require("optax")
    r = _rng(11)
    x = (r.normal(size=(4, 3, 6)) * 2).astype(np.float32)
    y = r.integers(0, 6, size=(4, 3)).astype(np.int32)
    t = r.random((4, 3, 6)).astype(np.float32)
    t /= t.sum(-1, keepdims=True)
    _close(losses.cross_entropy(x, t, reduction="none"),
           ref.optax_fn("softmax_cross_entropy", x, t))
    _close(losses.cross_entropy(x, y, reduction="none"),
           ref.optax_fn("softmax_cross_entropy_with_integer_labels", x, y))
    yb = (r.random((4, 6)) > 0.5).astype(np.float32)
    _close(losses.binary_cross_entropy(x[:, 0], yb, reduction="none"),
           ref.optax_fn("sigmoid_binary_cross_entropy", x[:, 0], yb))


@pytest.mark.parametrize("alpha", [None, 0.3])
def test_optax_focal(alpha):
    ref.require("optax")
    r = _rng(12)
    x = (r.normal(size=(5, 4)) * 4).astype(np.float32)
    y = (r.random((5, 4)) > 0.5).astype(np.float32)
    _close(losses.focal_loss(x, y, alpha=alpha, reduction="none"),
           ref.optax_fn("sigmoid_focal_loss", x, y, alpha=alpha))


def test_optax_regression():
    ref.require("optax")
    r = _rng(13)
    x, y = r.normal(size=(4, 5)).astype(np.float32) * 3, r.normal(size=(4, 5)).astype(np.float32)
    _close(losses.huber_loss(x, y, delta=0.8, reduction="none"),
           ref.optax_fn("huber_loss", x, y, delta=0.8))
    _close(losses.log_cosh(x, y, reduction="none"), ref.optax_fn("log_cosh", x, y))
    _close(losses.mean_squared_error(x, y, reduction="none"), ref.optax_fn("squared_error", x, y))
    _close(losses.cosine_similarity_loss(x, y, reduction="none") + 1.0,
           ref.optax_fn("cosine_distance", x, y), atol=1e-6)


@pytest.mark.parametrize("kind", ["softmax", "sigmoid1", "tversky", "jaccard", "cw", "probs"])
def test_optax_dice(kind):
    ref.require("optax")
    r = _rng(14)
    c = 1 if kind == "sigmoid1" else 3
    x = (r.normal(size=(2, 4, 3, c)) * 2).astype(np.float32)
    lab = r.integers(0, max(c, 2), size=(2, 4, 3))
    t = (lab[..., None] == 1).astype(np.float32) if c == 1 else np.eye(3, dtype=np.float32)[lab]
    if kind == "tversky":
        got, kw = losses.tversky_loss(x, t, alpha=0.3, beta=0.7, reduction="none"), dict(alpha=0.3, beta=0.7)
    elif kind == "jaccard":
        got, kw = losses.jaccard_loss(x, t, smooth=0.5, reduction="none"), dict(alpha=1.0, beta=1.0, smooth=0.5)
    elif kind == "cw":
        cw = np.array([0.2, 1.0, 2.0], np.float32)
        got, kw = losses.dice_loss(x, t, class_weight=cw, reduction="none"), dict(class_weights=cw)
    elif kind == "probs":
        import jax

        x = np.asarray(jax.nn.softmax(x, -1))
        got, kw = losses.dice_loss(x, t, from_logits=False, reduction="none"), dict(apply_softmax=False)
    else:
        got, kw = losses.dice_loss(x, t, reduction="none"), {}
    _close(got, ref.optax_fn("dice_loss", x, t, **kw))


# ------------------------------------------------------------------ TF1 reduction rules
def test_tf1_compute_weighted_loss_rules():
    ref.require("tensorflow")
    r = _rng(15)
    v = r.random((3, 4)).astype(np.float32)
    w = np.array([[1.0, 0.0, 2.0, 0.5], [0.0, 0.0, 0.0, 0.0], [3.0, 1.0, 0.0, 1.0]], np.float32)
    zeros = np.zeros_like(v)
    for tf_red, mj_red in [("SUM_BY_NONZERO_WEIGHTS", "sum_by_nonzero_weights"), ("SUM", "sum"),
                           ("MEAN", "mean"), ("SUM_OVER_BATCH_SIZE", "sum_over_batch_size")]:
        _close(losses.mean_absolute_error(v, zeros, sample_weight=w, reduction=mj_red),
               ref.tf1_compute_weighted_loss(v, w, tf_red))
    # a [B] weight broadcasts from the left; TF1 needs it as [B, 1]
    wb = np.array([2.0, 0.0, 1.0], np.float32)
    _close(losses.mean_absolute_error(v, zeros, sample_weight=wb, reduction="sum_by_nonzero_weights"),
           ref.tf1_compute_weighted_loss(v, wb[:, None], "SUM_BY_NONZERO_WEIGHTS"))


# ------------------------------------------------------------------ sklearn (soft F-beta on hard inputs)
@pytest.mark.parametrize("average", ["micro", "macro"])
def test_soft_fbeta_on_hard_predictions_is_one_minus_sklearn(average):
    sk = ref.require("sklearn.metrics")
    r = _rng(16)
    y = (r.random((20, 4)) > 0.5).astype(np.int32)
    p = (r.random((20, 4)) > 0.4).astype(np.float32)
    for beta in [0.5, 1.0, 2.0]:
        exp = 1.0 - sk.fbeta_score(y, p.astype(int), beta=beta, average=average, zero_division=1)
        _close(losses.soft_fbeta_loss(p, y, beta=beta, average=average, from_logits=False), exp)
