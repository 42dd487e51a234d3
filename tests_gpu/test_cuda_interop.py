"""GPU interop checks, run on a CUDA machine: `python -m pytest tests_gpu -q`.

Not in the default test path (CI machines have no GPU); see README "GPU checks".
"""

import jax
import numpy as np
import pytest
import torch

import maskjax.torch as mt

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available() or jax.default_backend() != "gpu",
    reason="needs a CUDA device for torch and jax[cuda]",
)


def _shares(a, t):
    return a.unsafe_buffer_pointer() == t.data_ptr()


def test_cuda_zero_copy_and_non_current_device():
    for k in range(torch.cuda.device_count()):
        t = torch.randn(64, 8, device=f"cuda:{k}")
        a = mt.to_jax(t, copy=False)
        assert _shares(a, t)
        back = mt.from_jax(a * 2, like=t)
        assert back.device == t.device
        torch.testing.assert_close(back, t * 2)


def test_cuda_loss_forward_backward_matches_torch_native_on_gpu():
    torch.manual_seed(0)
    logits = torch.randn(64, 7, device="cuda", requires_grad=True)
    labels = torch.randint(0, 7, (64,), device="cuda")
    labels[::5] = -100
    weight = torch.rand(7, device="cuda") + 0.5
    ours = mt.losses.cross_entropy(logits, labels, class_weight=weight, ignore_index=-100)
    assert ours.device == logits.device
    (g_ours,) = torch.autograd.grad(ours, logits)
    ref = torch.nn.functional.cross_entropy(logits, labels, weight=weight, ignore_index=-100)
    (g_ref,) = torch.autograd.grad(ref, logits)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-5, atol=1e-6)
    assert g_ours.device == logits.device


def test_cuda_metric_equals_cpu_result_and_stays_on_gpu():
    torch.manual_seed(1)
    logits = torch.randn(4096, 10, device="cuda")
    labels = torch.randint(0, 10, (4096,), device="cuda", dtype=torch.int32)
    gpu = mt.metrics.f1_score(logits, labels, task="multiclass", num_classes=10, average="macro")
    assert gpu.device == logits.device
    cpu = mt.metrics.f1_score(logits.cpu(), labels.cpu(), task="multiclass", num_classes=10, average="macro")
    torch.testing.assert_close(gpu.cpu(), cpu)


def test_cuda_stream_safety_values_written_on_side_stream_are_seen():
    side = torch.cuda.Stream()
    for _ in range(5):
        with torch.cuda.stream(side):
            t = torch.empty(8192, 256, device="cuda")
            t.fill_(3.0)  # queued on the side stream
            a = mt.to_jax(t)  # must synchronise before JAX reads the buffer
        assert float(a.sum()) == 3.0 * 8192 * 256
