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
