"""maskjax.masks and maskjax.weights. Oracles: scikit-learn and hand-derived values."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import maskjax
from tests.oracles import reference


def test_from_lengths_matches_tf_sequence_mask():
    import tensorflow as tf

    lengths = np.array([0, 3, 5, 1], np.int32)
    expected = tf.sequence_mask(lengths, maxlen=5).numpy()
    np.testing.assert_array_equal(maskjax.masks.from_lengths(lengths, 5), expected)


def test_from_lengths_is_jittable_with_static_maxlen():
    f = jax.jit(maskjax.masks.from_lengths, static_argnames="maxlen")
    assert f(jnp.array([1, 2]), maxlen=3).tolist() == [[True, False, False], [True, True, False]]


def test_from_lengths_rejects_bad_arguments():
    with pytest.raises(TypeError, match="lengths"):
        maskjax.masks.from_lengths(np.array([1.5]), 3)
    with pytest.raises(TypeError, match="maxlen"):
        maskjax.masks.from_lengths(np.array([1]), 3.0)


def test_from_padding_pad_vector():
    pad = np.array([1, 0, 0])  # a one-hot "pad character" code
    targets = np.array([[[0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 0]]])
    # Steps 1 and 3 equal the pad vector in every feature.
    assert maskjax.masks.from_padding(targets, pad).tolist() == [[True, False, True, False]]


def test_from_padding_rejects_wrong_pad_length():
    with pytest.raises(ValueError, match="pad_value"):
        maskjax.masks.from_padding(np.zeros((2, 3, 4)), np.zeros(3))


@given(y=hnp.arrays(np.int32, (40,), elements=st.integers(0, 3)))
def test_balanced_matches_sklearn_when_all_classes_present(y):
    y = np.concatenate([y, np.arange(4, dtype=np.int32)])  # every class present
    np.testing.assert_allclose(
        maskjax.weights.balanced(y, 4), reference.sklearn_balanced(y, np.arange(4)), rtol=1e-5
    )


def test_balanced_ignores_masked_and_ignored_targets():
    y = np.array([0, 0, 1, 255, 1, 2, 0])
    mask = np.array([1, 1, 1, 1, 1, 1, 0], bool)
    got = maskjax.weights.balanced(y, 3, mask=mask, ignore_index=255)
    kept = np.array([0, 0, 1, 1, 2])
    np.testing.assert_allclose(got, reference.sklearn_balanced(kept, np.arange(3)), rtol=1e-6)


def test_balanced_absent_class_gets_zero():
    # n=4 kept targets, k=2 present classes: w0 = 4/(2·3), w1 = 4/(2·1), w2 absent → 0.
    np.testing.assert_allclose(maskjax.weights.balanced([0, 0, 0, 1], 3), [2 / 3, 2.0, 0.0], rtol=1e-6)


def test_median_frequency_hand_derived():
    # counts 4,2,1 of 7 → f = 4/7, 2/7, 1/7; median f = 2/7 → w = .5, 1, 2.
    np.testing.assert_allclose(maskjax.weights.median_frequency([0, 0, 0, 0, 1, 1, 2], 3), [0.5, 1, 2], rtol=1e-6)


def test_class_counts_with_weights_and_out_of_range():
    # Label 7 is outside [0, 3): counted nowhere. Row weights broadcast from the left.
    got = maskjax.weights.class_counts([[0, 1], [2, 7]], 3, sample_weight=[2.0, 0.5])
    np.testing.assert_allclose(got, [2.0, 2.0, 0.5])


# ------------------------------------------------------------------ issue 14: multi-label balanced
def _sklearn_balanced_multilabel(y, sample_weight=None):
    """Per label column: sklearn's compute_class_weight("balanced") on the classes present.

    sklearn has no sample_weight here: weighted counts are emulated by repeating rows
    (integer weights), which is what a weighted count means.
    """
    from sklearn.utils.class_weight import compute_class_weight

    y = np.asarray(y)
    if sample_weight is not None:
        y = np.repeat(y, np.asarray(sample_weight, int), axis=0)
    out = np.zeros((y.shape[1], 2))
    for j in range(y.shape[1]):
        present = np.unique(y[:, j])
        out[j, present] = compute_class_weight("balanced", classes=present, y=y[:, j])
    return out


@given(y=hnp.arrays(np.int32, (30, 5), elements=st.integers(0, 1)))
def test_balanced_multilabel_matches_sklearn_per_column(y):
    got = maskjax.weights.balanced(y, 5, task="multilabel")
    assert got.shape == (5, 2)
    np.testing.assert_allclose(got, _sklearn_balanced_multilabel(y), rtol=1e-5)


def test_balanced_multilabel_mask_weights_ignore_and_jit():
    r = np.random.default_rng(0)
    y = (r.random((12, 4)) > 0.6).astype(np.int32)
    y[:, 3] = 1                                           # a label that is always positive
    sw = r.integers(0, 4, size=12)
    got = maskjax.weights.balanced(y.astype(bool), 4, task="multilabel",
                                   sample_weight=sw.astype(np.float32))
    np.testing.assert_allclose(got, _sklearn_balanced_multilabel(y, sw), rtol=1e-5)
    np.testing.assert_allclose(got[3], [0.0, 1.0])        # hand: only positives → [0, n/(1·n)]
    keep = r.random(12) > 0.3
    np.testing.assert_allclose(maskjax.weights.balanced(y, 4, task="multilabel", mask=keep),
                               _sklearn_balanced_multilabel(y[keep]), rtol=1e-5)
    yi = y.copy()
    yi[:4, 0] = -1                                        # label unknown
    exp0 = _sklearn_balanced_multilabel(y[4:, :1])[0]
    np.testing.assert_allclose(
        maskjax.weights.balanced(yi, 4, task="multilabel", ignore_index=-1)[0], exp0, rtol=1e-5)
    jitted = jax.jit(lambda t: maskjax.weights.balanced(t, 4, task="multilabel"))(y)
    np.testing.assert_allclose(jitted, _sklearn_balanced_multilabel(y), rtol=1e-5)
    # the [L, 2] result is the class_weight binary_cross_entropy takes
    logits = r.normal(size=(12, 4)).astype(np.float32)
    assert np.isfinite(float(maskjax.losses.binary_cross_entropy(logits, y, class_weight=jitted)))


def test_balanced_multi_hot_misuse_raises_or_is_explicit():
    y = np.eye(4, dtype=np.int32)[[0, 1, 2, 2, 3]]        # multi-hot [N, L=4]
    with pytest.raises(ValueError, match='task="multilabel"'):
        maskjax.weights.balanced(y, 4)
    with pytest.raises(TypeError, match='task="multilabel"'):
        maskjax.weights.balanced(y.astype(bool), 4)
    # explicit class ids: no check (classes 2 and 3 absent → 0, as documented)
    np.testing.assert_allclose(maskjax.weights.balanced(y, 4, task="multiclass"),
                               reference.sklearn_balanced(y.ravel(), np.arange(2)).tolist() + [0, 0],
                               rtol=1e-6)
    # [N] class ids with N == C and only 0/1 values are class ids, never "multi-hot"
    np.testing.assert_allclose(maskjax.weights.balanced([0, 1, 1], 3), [1.5, 0.75, 0.0], rtol=1e-6)
    with pytest.raises(ValueError, match="task"):
        maskjax.weights.balanced(y, 4, task="binary")
    with pytest.raises(ValueError, match=r"\[\.\.\., 3\]"):
        maskjax.weights.balanced(y, 3, task="multilabel")
