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
