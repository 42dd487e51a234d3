"""maskjax.torch.to_jax / from_jax: zero-copy proven by pointers; copies tested."""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import maskjax.torch as mt  # noqa: E402


def _shares(array: jax.Array, tensor) -> bool:
    return array.unsafe_buffer_pointer() == tensor.data_ptr()


@pytest.mark.parametrize("dtype", [torch.float32, torch.int32, torch.bool, torch.bfloat16,
                                   torch.float16, torch.uint8, torch.int8], ids=str)
def test_zero_copy_by_pointer(dtype):
    t = (torch.arange(64 * 8).reshape(64, 8) % 3).to(dtype)
    a = mt.to_jax(t, copy=False)
    assert _shares(a, t)
    assert a.dtype == jnp.dtype(str(dtype).removeprefix("torch."))
    np.testing.assert_array_equal(np.asarray(a.astype(jnp.float32)), t.float().numpy())


def test_transposed_then_contiguous_is_zero_copy():
    t = torch.randn(16, 32).T.contiguous()
    assert _shares(mt.to_jax(t, copy=False), t)


def test_requires_grad_detached_zero_copy():
    t = torch.randn(8, 4, requires_grad=True)
    a = mt.to_jax(t, copy=False)
    assert _shares(a, t)
    assert mt.copy_reason(t) is None


def test_aligned_offset_slice_zero_copy():
    base = torch.arange(64 * 16, dtype=torch.float32).reshape(64, 16)
    t = base[16:]  # 16 rows * 16 * 4 B = 1024 B offset: aligned
    assert _shares(mt.to_jax(t, copy=False), t)


def test_non_contiguous_copies_or_refuses():
    t = torch.randn(8, 16)
    for view in (t.T, t[:, ::2], t[:, :4]):
        a = mt.to_jax(view)
        np.testing.assert_array_equal(np.asarray(a), view.numpy())
        assert a.unsafe_buffer_pointer() != t.data_ptr() or view.data_ptr() != t.data_ptr()
        with pytest.raises(ValueError, match="non-contiguous strides.*copy=False forbids copying"):
            mt.to_jax(view, copy=False)


def test_misaligned_offset_slice_detected(caplog):
    base = torch.arange(64 * 8, dtype=torch.float32).reshape(64, 8)
    t = base[1:]  # 32-byte offset: JAX copies silently; maskjax notices by pointer
    with caplog.at_level(logging.DEBUG, logger="maskjax.interop"):
        a = mt.to_jax(t)
    np.testing.assert_array_equal(np.asarray(a), t.numpy())
    if not _shares(a, t):
        assert "copied the buffer" in caplog.text
        with pytest.raises(ValueError, match="misaligned"):
            mt.to_jax(t, copy=False)


def test_int64_route_casts_to_int32_with_range_check():
    labels = torch.tensor([0, 3, -100, 7])
    assert mt.copy_reason(labels) == "torch.int64 becomes int32 while jax_enable_x64 is off"
    a = mt.to_jax(labels)
    assert a.dtype == jnp.int32 and a.tolist() == [0, 3, -100, 7]
    with pytest.raises(ValueError, match="int64 becomes int32"):
        mt.to_jax(labels, copy=False)
    with pytest.raises(ValueError, match="outside the int32 range"):
        mt.to_jax(torch.tensor([0, 2**40]))
    # float64 follows jnp.asarray: float32
    assert mt.to_jax(torch.ones(3, dtype=torch.float64)).dtype == jnp.float32


def test_size_zero_and_scalar():
    for shape in [(0,), (0, 3), (4, 0)]:
        for dtype in (torch.float32, torch.int64, torch.bool):
            a = mt.to_jax(torch.empty(shape, dtype=dtype))
            assert a.shape == shape
            back = mt.from_jax(a)
            assert tuple(back.shape) == shape
    s = torch.tensor(2.5)
    assert _shares(mt.to_jax(s), s) and mt.to_jax(s).shape == ()


def test_copy_true_never_aliases():
    t = torch.ones(64)
    a = mt.to_jax(t, copy=True)
    t.add_(1)
    assert float(a[0]) == 1.0


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.int32, jnp.bool_, jnp.bfloat16], ids=str)
def test_from_jax_zero_copy(dtype):
    a = (jnp.arange(256).reshape(16, 16) % 2).astype(dtype)
    t = mt.from_jax(a)
    assert t.data_ptr() == a.unsafe_buffer_pointer()
    assert str(t.dtype) == f"torch.{jnp.dtype(dtype).name}"
    like = torch.zeros(1)
    assert mt.from_jax(a, like=like).device == like.device
    assert mt.from_jax(a, copy=True).data_ptr() != a.unsafe_buffer_pointer()


def test_round_trip_values():
    t = torch.randn(5, 7)
    np.testing.assert_array_equal(mt.from_jax(mt.to_jax(t)).numpy(), t.numpy())


def test_numpy_and_dlpack_objects_go_through_same_path():
    from maskjax._interop import to_jax

    x = np.arange(12, dtype=np.int64).reshape(3, 4)
    a = to_jax(x)
    assert a.dtype == jnp.int32 and a.tolist() == x.tolist()
    with pytest.raises(ValueError, match="copy=False"):
        to_jax(x.T.astype(np.float32), copy=False)
    t = torch.ones(4, 4)
    a = to_jax(t)  # a torch tensor routed to maskjax.torch
    assert _shares(a, t)


def test_float64_is_computed_in_float32_and_says_so_once(monkeypatch):
    """float64 scores 0.5 + 1e-9 round to the 0.5 threshold in float32 (recall 0.5 where float64
    torchmetrics gives 1.0): the torch front warns once, naming the way to keep float64."""
    import warnings
    from maskjax.torch import _front
    monkeypatch.setattr(_front, "_WARNED_FLOAT64", [False])
    p = torch.tensor([0.5 + 1e-9, 0.9, 0.3, 0.9], dtype=torch.float64)
    y = torch.tensor([1, 0, 0, 1])
    with pytest.warns(UserWarning, match="jax_enable_x64") as rec:
        got = mt.metrics.recall(p, y, task="binary")
    assert rec[0].filename == __file__  # points at the caller's line
    torch.testing.assert_close(got, torch.tensor(0.5))  # the float32 reading, as documented
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = mt.metrics.Recall(task="binary")
        m.update(p, y)
        mt.losses.cross_entropy(torch.randn(3, 4, dtype=torch.float64), torch.tensor([1, 2, 3]))
    torch.testing.assert_close(m.compute(), got)
