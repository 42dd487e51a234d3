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


def test_in_place_writes_after_update_do_not_change_the_result():
    for trial in range(20):
        g = torch.Generator().manual_seed(trial)
        preds = torch.randn(4096, 10, generator=g)
        target = torch.randint(0, 10, (4096,), generator=g)
        m = mt.metrics.Accuracy(task="multiclass", num_classes=10)
        m.update(preds, target)
        want = mt.metrics.accuracy(preds.clone(), target.clone(), task="multiclass", num_classes=10)
        preds.mul_(-1.0)  # written right after update() returned
        target.fill_(0)
        torch.testing.assert_close(m.compute(), want)


DISPATCH_CASES = {
    # case: (environment value, JAX started before the import, async dispatch afterwards)
    "fresh_process": (None, False, False),
    "opt_out_env": ("1", False, True),
    "jax_started_first": (None, True, True),
}


@pytest.mark.parametrize("case", sorted(DISPATCH_CASES))
def test_import_turns_cpu_async_dispatch_off_only_before_jax_starts(case):
    """``import maskjax.torch`` sets JAX's CPU dispatch to synchronous, unless opted out or too late."""
    import json
    import os
    import subprocess
    import sys

    env_value, started, want_async = DISPATCH_CASES[case]
    env = {k: v for k, v in os.environ.items() if k != "MASKJAX_CPU_ASYNC_DISPATCH"}
    if env_value is not None:
        env["MASKJAX_CPU_ASYNC_DISPATCH"] = env_value
    code = ("import json, jax, jax.numpy as jnp, torch\n"
            + ("jnp.ones(2).block_until_ready()\n" if started else "")
            + "import maskjax.torch as mt\n"
            "loss = mt.losses.cross_entropy(torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1]))\n"
            "print(json.dumps([jax.config.read('jax_cpu_enable_async_dispatch'), loss.item()]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    is_async, value = json.loads(proc.stdout.strip().splitlines()[-1])
    assert is_async is want_async
    # the same value either way: F.cross_entropy of the same logits
    want = torch.nn.functional.cross_entropy(torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1])).item()
    assert abs(value - want) < 1e-6
