"""The stateful wrapper: thread-safe, and independent of in-place writes after update()."""

import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import maskjax  # noqa: E402
import maskjax.torch as mt  # noqa: E402


def test_four_threads_times_100_updates_keep_every_count():
    C, B = 4, 8
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randn(B, C, generator=g), torch.randint(0, C, (B,), generator=g)) for _ in range(400)]
    shared = mt.metrics.StatScores(task="multiclass", num_classes=C, average=None)
    total = mt.metrics.Sum()
    barrier = threading.Barrier(4)

    def work(k):
        barrier.wait()
        for preds, target in batches[k * 100:(k + 1) * 100]:
            shared.update(preds, target)
            total.update(torch.ones(B))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert shared.update_count == 400 and total.update_count == 400
    assert total.compute().item() == 400 * B  # every element counted once
    # the same 400 batches in one thread give the same counts (order does not matter: sums)
    serial = mt.metrics.StatScores(task="multiclass", num_classes=C, average=None)
    for preds, target in batches:
        serial.update(preds, target)
    torch.testing.assert_close(shared.compute(), serial.compute())
    # and the one-shot core over all 3200 elements (an independent route)
    preds = torch.cat([b[0] for b in batches]).numpy()
    target = torch.cat([b[1] for b in batches]).numpy()
    want = maskjax.metrics.stat_scores(preds, target, task="multiclass", num_classes=C, average=None)
    np.testing.assert_array_equal(shared.compute().numpy(), np.asarray(want))


# Shapes whose float scores would reach XLA as views of the caller's tensor (no bucket padding):
# under 100 KiB the update copies them, above it waits for XLA; the int64 target is a copy. XLA copies a misaligned host array above ~100 KB
# asynchronously, and the program then ends after update() has returned: without the wait in
# update() the writes below reached the state (65536 x 10 in a fresh process: 0.0985, not 0.0992).
IN_PLACE_CODE = """
import json, torch
import maskjax.torch as mt
out = []
for dims in [(64, 10), (16, 10, 32), (4096, 10), (65536, 10), (16, 10, 4096)]:  # copied / waited for
    for trial in range(4):
        g = torch.Generator().manual_seed(trial)
        preds = torch.randn(*dims, generator=g)
        target = torch.randint(0, 10, (dims[0],) + dims[2:], generator=g)
        want = (preds.argmax(1) == target).double().mean().item()  # torch, before the writes
        m = mt.metrics.Accuracy(task="multiclass", num_classes=10)
        m.update(preds, target)
        preds.mul_(-1.0)  # written right after update() returned
        target.fill_(0)
        out.append([str(dims), m.compute().item(), want])
print(json.dumps(out))
"""


@pytest.mark.parametrize("dispatch", ["front_defaults", "jax_async_dispatch"])
def test_in_place_writes_after_update_do_not_change_the_result(dispatch):
    """A fresh process (``import maskjax.torch`` first, as a torch script does), both dispatch modes."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("MASKJAX_CPU_ASYNC_DISPATCH", "PJRT_NPROC")}
    if dispatch == "jax_async_dispatch":
        env["MASKJAX_CPU_ASYNC_DISPATCH"] = "1"
    proc = subprocess.run([sys.executable, "-c", IN_PLACE_CODE], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for dims, got, want in json.loads(proc.stdout.strip().splitlines()[-1]):
        assert abs(got - want) < 1e-6, (dims, got, want)


DISPATCH_CASES = {
    # case: (environment, JAX started before the import, (async dispatch, PJRT_NPROC) afterwards)
    "fresh_process": ({}, False, (False, "1")),
    "user_settings_kept": ({"MASKJAX_CPU_ASYNC_DISPATCH": "1", "PJRT_NPROC": "2"}, False, (True, "2")),
    "jax_started_first": ({}, True, (True, None)),
}


@pytest.mark.parametrize("case", sorted(DISPATCH_CASES))
def test_import_sets_the_cpu_client_defaults_only_before_jax_starts(case):
    """``import maskjax.torch``: synchronous one-thread CPU programs, unless opted out or JAX already runs."""
    import json
    import os
    import subprocess
    import sys

    extra, started, want = DISPATCH_CASES[case]
    env = {k: v for k, v in os.environ.items() if k not in ("MASKJAX_CPU_ASYNC_DISPATCH", "PJRT_NPROC")}
    env.update(extra)
    code = ("import json, os, jax, jax.numpy as jnp, torch\n"
            + ("jnp.ones(2).block_until_ready()\n" if started else "")
            + "import maskjax.torch as mt\n"
            "loss = mt.losses.cross_entropy(torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1]))\n"
            # in-place writes right after update(): the state must not see them, in either dispatch mode
            "g = torch.Generator().manual_seed(0)\n"
            "p = torch.randn(4096, 10, generator=g); t = torch.randint(0, 10, (4096,), generator=g)\n"
            "m = mt.metrics.Accuracy(task='multiclass', num_classes=10); m.update(p, t)\n"
            "want = (p.argmax(1) == t).sum().item() / 4096\n"
            "p.mul_(-1.0); t.fill_(0)\n"
            "print(json.dumps([jax.config.read('jax_cpu_enable_async_dispatch'), os.environ.get('PJRT_NPROC'),"
            " loss.item(), m.compute().item(), want]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    is_async, nproc, value, accuracy, accuracy_before_writes = json.loads(proc.stdout.strip().splitlines()[-1])
    from maskjax.torch import _dispatch
    if _dispatch._accelerator_plugin() and case == "fresh_process":
        want = (want[0], None)  # a JAX GPU/TPU plugin is installed: XLA's threads are left alone
    assert (is_async, nproc) == want
    assert accuracy == accuracy_before_writes
    # the same value whatever the settings: F.cross_entropy of the same logits
    want_value = torch.nn.functional.cross_entropy(torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1])).item()
    assert abs(value - want_value) < 1e-6


def test_private_inputs_copies_small_caller_arrays_and_flags_large_ones():
    import jax.numpy as jnp

    from maskjax.torch import _front

    small, large = torch.randn(64, 10), torch.randn(4096, 10)  # 2.5 KiB, 160 KiB
    labels = torch.randint(0, 10, (64,))
    leaves = [small, labels, large, jnp.ones(3)]
    converted = [_front.to_jax_fast(x, "x") for x in leaves]
    assert not _front.is_host_copy(converted[0]) and _front.is_host_copy(converted[1])  # a view; a narrowed copy
    assert np.shares_memory(converted[0], small.numpy())
    sizes = jnp.zeros(2, jnp.int32)  # the program's leading inputs are never the caller's
    out, private = _front.private_inputs(leaves, [sizes, *converted])
    assert out[0] is sizes and not private  # the 160 KiB view is still read in place: wait
    assert _front.is_host_copy(out[1]) and np.shares_memory(out[1], small.numpy()) is False
    np.testing.assert_array_equal(out[1], small.numpy())
    assert out[2] is converted[1] and out[3] is converted[2] and out[4] is converted[3]
    _, private = _front.private_inputs(leaves[:2], [sizes, *converted[:2]])
    assert private  # small view copied, label copy owned: nothing to wait for


@pytest.mark.parametrize("shape, pad", [((16, 20, 100), (16, 20, 128)), ((16, 20, 130), (16, 20, 192)),
                                        ((4096, 10), None)], ids=["padded_to_128", "padded_to_192", "strided"])
def test_large_host_copies_are_64_byte_aligned_and_their_own(shape, pad):
    """From 100 KiB on XLA reads a 64-byte aligned host array in place (a misaligned one: copied on a
    worker thread, W8 ~2.5x slower); the copy equals the tensor, zero-padded, and shares no memory."""
    from maskjax.torch import _front

    t = torch.randn(*reversed(shape)).permute(*reversed(range(len(shape))))  # not contiguous: a copy
    out = _front.to_jax_fast(t, "preds", pad)
    assert out.nbytes >= 100 * 1024 and out.ctypes.data % 64 == 0
    assert _front.is_host_copy(out) and not np.shares_memory(out, t.numpy())
    want = np.zeros(pad or shape, np.float32)
    want[tuple(slice(0, n) for n in shape)] = t.numpy()
    np.testing.assert_array_equal(out, want)
