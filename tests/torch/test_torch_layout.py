"""The torch front's default layout equals torch / torchmetrics, also when C equals another dim."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchmetrics = pytest.importorskip("torchmetrics")
import torch.nn.functional as F  # noqa: E402

import maskjax.torch as mt  # noqa: E402

N, C, T = 6, 7, 7  # C == T: a class-last reading would be silently wrong (issue 15: 2.3755 vs 2.3404)


def _data(seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(N, C, T, generator=g)
    labels = torch.randint(0, C, (N, T), generator=g)  # int64, as torch produces them
    return logits, labels


@pytest.mark.parametrize("buckets", ["1.5x", None])
def test_cross_entropy_default_layout_matches_torch(buckets):
    logits, labels = _data()
    labels[0, :3] = -100
    weight = torch.linspace(0.5, 2.0, C)
    x1 = logits.clone().requires_grad_(True)
    x2 = logits.clone().requires_grad_(True)
    with mt.buckets(buckets):
        ours = mt.losses.cross_entropy(x1, labels, class_weight=weight, label_smoothing=0.1)
    native = F.cross_entropy(x2, labels, weight=weight, label_smoothing=0.1)  # ignore_index=-100 default
    torch.testing.assert_close(ours, native)
    ours.backward(), native.backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    # the class-last reading differs: the layout really is axis 1
    assert abs(mt.losses.cross_entropy(logits, labels, axis=-1).item() - native.item()) > 1e-3


@pytest.mark.parametrize("target", ["index", "probs"])
def test_unbatched_cross_entropy_matches_torch(target):
    """torch takes an unbatched ``[C]`` input (class axis 0); the default ``axis=1`` once raised
    "out of range for rank 1"."""
    g = torch.Generator().manual_seed(4)
    x = torch.randn(C, generator=g)
    y = torch.tensor(3) if target == "index" else torch.softmax(torch.randn(C, generator=g), 0)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = mt.losses.cross_entropy(x1, y, label_smoothing=0.1)
    native = F.cross_entropy(x2, y, label_smoothing=0.1)
    torch.testing.assert_close(ours, native)
    ours.backward(), native.backward()
    torch.testing.assert_close(x1.grad, x2.grad)


def test_cross_entropy_reduction_none_matches_torch():
    logits, labels = _data(1)
    labels[2, 4] = -100
    ours = mt.losses.cross_entropy(logits, labels, reduction="none")
    native = F.cross_entropy(logits, labels, reduction="none")
    assert ours.shape == native.shape == (N, T)
    torch.testing.assert_close(ours, native)


@pytest.mark.parametrize("name,tm_name,average", [
    ("accuracy", "accuracy", "micro"), ("accuracy", "accuracy", "macro"),
    ("f1_score", "f1_score", "macro"), ("precision", "precision", "macro"),
    ("recall", "recall", "weighted"), ("jaccard_index", "jaccard_index", "macro"),
])
def test_metric_functions_default_layout_match_torchmetrics(name, tm_name, average):
    logits, labels = _data(2)
    ours = getattr(mt.metrics, name)(logits, labels, task="multiclass", num_classes=C, average=average)
    ref = getattr(torchmetrics.functional, tm_name)(logits, labels, task="multiclass", num_classes=C,
                                                    average=average)
    torch.testing.assert_close(ours, ref)


@pytest.mark.parametrize("name", ["auroc", "average_precision"])
def test_curve_functions_default_layout_match_torchmetrics(name):
    logits, labels = _data(3)
    probs = torch.softmax(logits, 1)
    ref = getattr(torchmetrics.functional, name)(probs, labels, task="multiclass", num_classes=C)
    torch.testing.assert_close(getattr(mt.metrics, name)(probs, labels, task="multiclass", num_classes=C), ref)
    m = getattr(mt.metrics, {"auroc": "AUROC", "average_precision": "AveragePrecision"}[name])(
        task="multiclass", num_classes=C, capacity=N * T)
    m.update(probs, labels)
    torch.testing.assert_close(m.compute(), ref)


def test_stateful_f1_matches_torchmetrics_over_batches():
    ref = torchmetrics.classification.MulticlassF1Score(num_classes=C, average="macro")
    ours = mt.metrics.F1Score(task="multiclass", num_classes=C, average="macro")
    for seed in range(4):
        logits, labels = _data(10 + seed)
        t = T - seed  # varying length: buckets pad it
        ref.update(logits[..., :t], labels[..., :t])
        ours.update(logits[..., :t].contiguous(), labels[..., :t].contiguous())
    torch.testing.assert_close(ours.compute(), ref.compute())


def test_multilabel_class_axis_1_matches_torchmetrics():
    g = torch.Generator().manual_seed(3)
    probs = torch.rand(N, 4, 4, generator=g)  # [N, L, T] with L == T
    target = (torch.rand(N, 4, 4, generator=g) > 0.5).long()
    ours = mt.metrics.f1_score(probs, target, task="multilabel", num_classes=4, average="macro")
    ref = torchmetrics.functional.f1_score(probs, target, task="multilabel", num_labels=4, average="macro")
    torch.testing.assert_close(ours, ref)


def test_int64_labels_outside_int32_raise_never_wrap():
    logits, labels = _data()
    labels[0, 0] = 2**32 + 1  # would wrap to class 1
    with pytest.raises(ValueError, match="outside the int32 range"):
        mt.losses.cross_entropy(logits, labels)
    with pytest.raises(ValueError, match="outside the int32 range"):
        mt.metrics.accuracy(logits, labels, task="multiclass", num_classes=C)
    # padded to a bucket (one narrowing copy) and strided: the same check
    big = torch.randint(0, C, (50, 16)).t()  # [16, 50], not contiguous
    big[3, 7] = -(2**31) - 5  # would wrap to 2**31 - 5
    with pytest.raises(ValueError, match="outside the int32 range"):
        mt.losses.cross_entropy(torch.randn(16, C, 50), big)
    m = mt.metrics.Accuracy(task="multiclass", num_classes=C)
    with pytest.raises(ValueError, match="outside the int32 range"):
        m.update(torch.randn(16, C, 50), big)
    assert m.update_count == 0
    big[3, 7] = 1  # in range again: the same strided tensor narrows to the same values (torch: the oracle)
    scores = torch.randn(16, C, 50)
    torch.testing.assert_close(mt.losses.cross_entropy(scores, big), torch.nn.functional.cross_entropy(scores, big))


def test_help_shows_torch_defaults():
    import inspect
    sig = inspect.signature(mt.losses.cross_entropy)
    assert sig.parameters["axis"].default == 1 and sig.parameters["ignore_index"].default == -100
    assert sig.parameters["from_logits"].default is True
    assert "axis=1" in mt.losses.cross_entropy.__doc__ and "Args:" in mt.losses.cross_entropy.__doc__
    assert inspect.signature(mt.metrics.f1_score).parameters["axis"].default == 1
    assert inspect.signature(mt.metrics.F1Score).parameters["axis"].default == 1


@pytest.mark.parametrize("bad", [float("nan"), -1.0])
def test_nan_or_negative_sample_weight_raise_in_the_front(bad):
    logits, labels = _data()
    w = torch.ones(N, T)
    w[1, 2] = bad
    with pytest.raises(ValueError, match="`sample_weight` must be finite and >= 0"):
        mt.losses.cross_entropy(logits, labels, sample_weight=w)
    with pytest.raises(ValueError, match="`sample_weight`"):
        mt.metrics.accuracy(logits, labels, task="multiclass", num_classes=C, sample_weight=w)
    m = mt.metrics.Accuracy(task="multiclass", num_classes=C)
    with pytest.raises(ValueError, match="`sample_weight`"):
        m.update(logits, labels, sample_weight=w)
    assert m.update_count == 0
