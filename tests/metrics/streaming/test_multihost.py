"""Two JAX processes on localhost (jax.distributed, gloo CPU collectives): cross-host merge ≡ one-shot."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_merge_to_the_one_shot_state():
    port = str(_free_port())
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    procs = [subprocess.Popen([sys.executable, "-m", "tests.metrics.streaming._multihost_worker", str(i), port],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    deadline = time.monotonic() + 180
    try:
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            if any(p.poll() not in (None, 0) for p in procs):  # one failed: the other would wait forever
                break
            time.sleep(0.2)
    finally:
        for p in procs:  # only the processes this test started
            if p.poll() is None:
                p.kill()
    outs = [p.communicate(timeout=30) for p in procs]
    for i, (p, (out, err)) in enumerate(zip(procs, outs)):
        assert p.returncode == 0, f"process {i}:\n{out[-2000:]}\n{err[-5000:]}"
        assert f"OK process {i}" in out
