"""A training step's logits are copied once: the loss's padded copy is reused by the metric update.

The reuse must never return stale data: every case below changes the tensor (or its memory) between
the two calls and checks the update against torchmetrics on what the tensor holds then.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchmetrics = pytest.importorskip("torchmetrics")
import torch.nn.functional as F  # noqa: E402

import maskjax.torch as mt  # noqa: E402
from maskjax.torch import _front  # noqa: E402

B, C, T = 4, 5, 11  # T = 11 is padded to a bucket: the copy is a real (padded) copy


def _step_logits(seed):
    g = torch.Generator().manual_seed(seed)
    layer = torch.nn.Linear(8, C)
    x = torch.randn(B, T, 8, generator=g)
    labels = torch.randint(0, C, (B, T), generator=g)
    labels[0, 7:] = -100
    return layer(x).transpose(1, 2), labels  # [B, C, T], an autograd output (has a grad_fn)


def _pair():
    ours = mt.metrics.F1Score(task="multiclass", num_classes=C, average="macro", ignore_index=-100)
    ref = torchmetrics.classification.MulticlassF1Score(num_classes=C, average="macro", ignore_index=-100)
    return ours, ref


def _count_copies(monkeypatch):
    made = []
    real = _front.host_array

    def counting(shape, dtype, zero=False):
        made.append((tuple(shape), dtype))
        return real(shape, dtype, zero)
    monkeypatch.setattr(_front, "host_array", counting)
    return made


def test_the_update_reuses_the_loss_copy_and_matches_torchmetrics(monkeypatch):
    _front._RECENT.clear()
    made = _count_copies(monkeypatch)
    logits, labels = _step_logits(0)
    ours, ref = _pair()
    loss = mt.losses.cross_entropy(logits, labels)
    torch.testing.assert_close(loss, F.cross_entropy(logits, labels))
    def copies():  # float copies of one [B, C, T'] batch (a pool's stacked slots are not copies of it)
        return [m for m in made if str(m[1]) == "float32" and len(m[0]) == logits.ndim]
    assert len(copies()) == 1
    ours.update(logits.detach(), labels)
    ref.update(logits.detach(), labels)
    assert len(copies()) == 1  # no second float copy
    assert ours.compute().item() == pytest.approx(ref.compute().item(), abs=1e-6)


@pytest.mark.parametrize("change", ["in_place_on_detached", "in_place_under_no_grad", "new_step_same_shape"])
def test_a_changed_tensor_is_copied_again(change):
    _front._RECENT.clear()
    logits, labels = _step_logits(1)
    ours, ref = _pair()
    mt.losses.cross_entropy(logits, labels)
    if change == "in_place_on_detached":
        d = logits.detach()
        d.mul_(-1.0)  # shares the version counter with logits
        seen = d
    elif change == "in_place_under_no_grad":
        with torch.no_grad():
            logits.add_(3.0 * torch.arange(C).view(1, C, 1))
        seen = logits.detach()
    else:  # the next step's logits: a new tensor, maybe at a freed address of the same size
        del logits
        seen, labels = _step_logits(2)
        seen = seen.detach()
    ours.update(seen, labels)
    ref.update(seen, labels)
    assert ours.compute().item() == pytest.approx(ref.compute().item(), abs=1e-6)


def test_untracked_tensors_are_never_reused():
    # a tensor without autograd history (e.g. a loader's buffer written through NumPy, which torch's
    # version counter does not see) is copied at every call
    _front._RECENT.clear()
    logits, labels = _step_logits(3)
    buf = logits.detach().clone().transpose(1, 2).contiguous().transpose(1, 2)  # [B, C, T], strided
    ours, ref = _pair()
    mt.metrics.f1_score(buf, labels, task="multiclass", num_classes=C, ignore_index=-100)
    buf.numpy()[...] = -buf.numpy()  # no version bump
    ours.update(buf, labels)
    ref.update(buf, labels)
    assert ours.compute().item() == pytest.approx(ref.compute().item(), abs=1e-6)
    assert not [v for v in _front._RECENT.values() if v[3] is None]  # no float copy kept (labels are: below)


def _label_copies(made):
    return [m for m in made if np.dtype(m[1]) == np.int32 and len(m[0]) == 2 and m[0][0] == B]  # [B, T']


def test_the_update_reuses_the_loss_labels_copy(monkeypatch):
    _front._RECENT.clear()
    made = _count_copies(monkeypatch)
    logits, labels = _step_logits(4)
    ours, ref = _pair()
    mt.losses.cross_entropy(logits, labels)
    ours.update(logits.detach(), labels)
    ref.update(logits.detach(), labels)
    assert len(_label_copies(made)) == 1
    assert ours.compute().item() == pytest.approx(ref.compute().item(), abs=1e-6)


@pytest.mark.parametrize("write", ["numpy_behind_torch", "in_place", "out_of_int32_range"])
def test_changed_labels_are_copied_again(write, monkeypatch):
    # labels are checked value by value: a write torch's version counter never sees (NumPy) is seen
    _front._RECENT.clear()
    made = _count_copies(monkeypatch)
    logits, labels = _step_logits(5)
    ours, ref = _pair()
    mt.losses.cross_entropy(logits, labels)
    if write == "numpy_behind_torch":
        labels.numpy()[1, :3] = (labels.numpy()[1, :3] + 1) % C
    elif write == "in_place":
        labels[2, 0] = (labels[2, 0] + 2) % C
    else:
        labels[0, 0] = 2**40
        with pytest.raises(ValueError, match="int32"):
            ours.update(logits.detach(), labels)
        assert ours.update_count == 0
        return
    ours.update(logits.detach(), labels)
    ref.update(logits.detach(), labels)
    assert len(_label_copies(made)) == 2
    assert ours.compute().item() == pytest.approx(ref.compute().item(), abs=1e-6)
