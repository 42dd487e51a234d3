"""Bad input raises TypeError / ValueError naming the argument, at trace time."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from maskjax import losses

X = np.zeros((4, 3), np.float32)
Y_INT = np.zeros((4,), np.int32)
Y_F = np.zeros((4, 3), np.float32)

BAD = [
    # (id, call, exception, text the message must contain)
    ("ce-unknown-reduction", lambda: losses.cross_entropy(X, Y_INT, reduction="avg"), ValueError,
     "`reduction`"),
    ("ce-axis-out-of-range", lambda: losses.cross_entropy(X, Y_INT, axis=2), ValueError, "`axis`"),
    ("ce-axis-not-int", lambda: losses.cross_entropy(X, Y_INT, axis=1.0), TypeError, "`axis`"),
    ("ce-label-shape", lambda: losses.cross_entropy(X, np.zeros((3,), np.int32)), ValueError,
     "`targets`"),
    ("ce-prob-shape", lambda: losses.cross_entropy(X, np.zeros((4, 4), np.float32)), ValueError,
     "`targets"),
    ("ce-bool-targets", lambda: losses.cross_entropy(X, np.zeros((4, 3), bool)), TypeError,
     "`targets`"),
    ("ce-int-preds", lambda: losses.cross_entropy(X.astype(np.int32), Y_INT), TypeError, "`preds`"),
    # the dtype as passed: NumPy int64 (JAX would call it int32)
    ("mse-int64-preds", lambda: losses.mean_squared_error(np.array([1, 2]), np.array([2, 2])), TypeError,
     "got int64"),
    ("ce-class-weight-len", lambda: losses.cross_entropy(X, Y_INT, class_weight=[1.0, 2.0]),
     ValueError, "`class_weight`"),
    ("ce-ignore-with-probs", lambda: losses.cross_entropy(X, Y_F, ignore_index=-100), ValueError,
     "`ignore_index`"),
    ("ce-ignore-not-int", lambda: losses.cross_entropy(X, Y_INT, ignore_index=1.5), TypeError,
     "`ignore_index`"),
    ("ce-smoothing-range", lambda: losses.cross_entropy(X, Y_INT, label_smoothing=1.5), ValueError,
     "`label_smoothing`"),
    ("ce-from-logits-not-bool", lambda: losses.cross_entropy(X, Y_INT, from_logits="yes"),
     TypeError, "`from_logits`"),
    ("ce-mask-broadcast", lambda: losses.cross_entropy(X, Y_INT, mask=np.ones(3, bool)), ValueError,
     "`mask`"),
    ("ce-weight-broadcast", lambda: losses.cross_entropy(X, Y_INT, sample_weight=np.ones((4, 2))),
     ValueError, "`sample_weight`"),
    ("bce-shape", lambda: losses.binary_cross_entropy(X, Y_INT), ValueError, "`targets`"),
    ("bce-pos-weight", lambda: losses.binary_cross_entropy(X, Y_F, pos_weight=np.ones(2)),
     ValueError, "`pos_weight`"),
    ("bce-class-weight", lambda: losses.binary_cross_entropy(X, Y_F, class_weight=np.ones((3, 3))),
     ValueError, "`class_weight`"),
    ("bce-none-targets", lambda: losses.binary_cross_entropy(X, None), TypeError, "`targets`"),
    ("focal-gamma", lambda: losses.focal_loss(X, Y_F, gamma=-1.0), ValueError, "`gamma`"),
    ("focal-alpha", lambda: losses.focal_loss(X, Y_F, alpha=2.0), ValueError, "`alpha`"),
    ("mpce-float-targets", lambda: losses.multi_positive_cross_entropy(X, Y_F), TypeError,
     "`targets`"),
    ("dice-shape", lambda: losses.dice_loss(X, np.zeros((4, 2), np.float32)), ValueError,
     "`targets`"),
    ("dice-class-weight", lambda: losses.dice_loss(X, Y_F, class_weight=[1.0]), ValueError,
     "`class_weight`"),
    ("dice-axis", lambda: losses.dice_loss(X, Y_F, axis=-3), ValueError, "`axis`"),
    ("dice-reduction", lambda: losses.dice_loss(X, Y_F, reduction="max"), ValueError,
     "`reduction`"),
    ("tversky-alpha", lambda: losses.tversky_loss(X, Y_F, alpha=-0.1), ValueError, "`alpha`"),
    ("mse-shape", lambda: losses.mean_squared_error(X, Y_INT), ValueError, "`targets`"),
    ("mse-reduction", lambda: losses.mean_squared_error(X, Y_F, reduction="MEAN"), ValueError,
     "`reduction`"),
    ("huber-delta", lambda: losses.huber_loss(X, Y_F, delta=0.0), ValueError, "`delta`"),
    ("cosine-axis", lambda: losses.cosine_similarity_loss(X, Y_F, axis=5), ValueError, "`axis`"),
    ("contrastive-margin", lambda: losses.contrastive_loss(X, Y_F, margin="1"), TypeError,
     "`margin`"),
    ("fbeta-average", lambda: losses.soft_fbeta_loss(X, Y_F, average="weighted"), ValueError,
     "`average`"),
    ("mask-dtype", lambda: losses.log_cosh(X, Y_F, mask=np.array(["a"] * 4)), TypeError, "`mask`"),
]


@pytest.mark.parametrize("call,exc,text", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_raises_naming_the_argument(call, exc, text):
    with pytest.raises(exc, match=text.replace("`", "`?").replace("(", r"\(")):
        call()


def test_errors_raise_at_trace_time_under_jit():
    with pytest.raises(ValueError, match="`targets`"):
        jax.jit(losses.cross_entropy)(X, np.zeros((3,), np.int32))
    with pytest.raises(ValueError, match="`class_weight`"):
        jax.jit(lambda x, y, w: losses.cross_entropy(x, y, class_weight=w))(X, Y_INT, np.ones(2))


def test_all_names_exported():
    import maskjax.losses as L

    assert sorted(L.__all__) == sorted(n for n in dir(L) if not n.startswith("_"))
    for name in L.__all__:
        obj = getattr(L, name)
        if callable(obj):
            assert obj.__doc__ and ">>>" in obj.__doc__, name
