"""Scale section: C=5000 classes and L=1000 labels, input >= ~1 GB, peak memory.

Each case runs in a fresh subprocess. The input is generated on-device with
jax.random (no numpy copy), the peak-RSS high-water mark is reset
(`echo 5 > /proc/self/clear_refs`) once the input is resident, and VmHWM is
read after the op: `extra` = what the op needed beyond its input. An N×C
one-hot or N×T broadcast would show up as extra ≥ 1× the input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

_CODE = r"""
import json, os, sys, time
sys.path.insert(0, {root!r})
import jax, jax.numpy as jnp
from jax import lax

def status(key):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0

def reset_hwm():
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False

case, gb = {case!r}, {gb!r}
C, L = 5000, 1000
key = jax.random.PRNGKey(0)
note = ''
if case.startswith('multiclass'):
    N = max(1, int(gb * 1e9 // (4 * C)))
    x = jax.random.normal(key, (N, C), jnp.float32)
    y = jax.random.randint(jax.random.PRNGKey(1), (N,), 0, C, jnp.int32)
    inp = x.nbytes + y.nbytes
    if case == 'multiclass_maskjax':
        import maskjax
        f1 = getattr(maskjax.metrics, 'f1_score', None)
        if f1 is None:
            print(json.dumps({{'case': case, 'error': 'maskjax.metrics.f1_score not available yet'}})); sys.exit(0)
        fn = jax.jit(lambda a, b: f1(a, b, task='multiclass', num_classes=C, average='macro'))
    else:  # the N x C one-hot formulation, for contrast
        def fn_(a, b):
            p = jax.nn.one_hot(jnp.argmax(a, -1), C, dtype=jnp.float32)
            t = jax.nn.one_hot(b, C, dtype=jnp.float32)
            return (t.T @ p)
        fn = jax.jit(fn_)
        note = 'one-hot matmul: what not to do'
    args = (x, y)
else:
    N = max(1, int(gb * 1e9 // (4 * L)))
    p = jax.random.uniform(key, (N, L), jnp.float32)
    t = (jax.random.uniform(jax.random.PRNGKey(1), (N, L)) < 0.1).astype(jnp.int8)
    inp = p.nbytes + t.nbytes
    note = 'targets int8'
    if case == 'multilabel_maskjax':
        import maskjax, inspect
        f1 = getattr(maskjax.metrics, 'f1_score', None)
        if f1 is None:
            print(json.dumps({{'case': case, 'error': 'maskjax.metrics.f1_score not available yet'}})); sys.exit(0)
        kw = 'num_labels' if 'num_labels' in inspect.signature(f1).parameters else 'num_classes'
        fn = jax.jit(lambda a, b: f1(a, b, task='multilabel', average='macro', **{{kw: L}}))
    else:
        from bench.peers import multilabel_f1_tp_sums
        fn = multilabel_f1_tp_sums
        note += '; plain column sums (materialise N×L int32 temporaries)'
    args = (p, t)
jax.block_until_ready(args)
rss0 = status('VmRSS:')
ok = reset_hwm()
t0 = time.perf_counter(); jax.block_until_ready(fn(*args)); t1 = time.perf_counter() - t0
t0 = time.perf_counter(); jax.block_until_ready(fn(*args)); t2 = time.perf_counter() - t0
peak = status('VmHWM:')
if not ok:
    note += '; HWM reset unavailable: peak includes input generation'
print(json.dumps(dict(case=case + f' N={{N:,}}', input_gb=inp / 1e9, t1=t1, t2=t2, peak_gb=peak / 1e9,
                      extra_gb=(peak - rss0) / 1e9, extra_ratio=(peak - rss0) / inp, note=note)))
"""

CASES = ["multiclass_maskjax", "multiclass_onehot",
         "multilabel_maskjax", "multilabel_plain"]


def run_scale(gb: float = 1.0, device: str = "cpu", cases=None) -> list[dict]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = []
    for case in cases or CASES:
        env = dict(os.environ, JAX_PLATFORMS="cuda" if device == "gpu" else "cpu")
        try:
            r = subprocess.run([sys.executable, "-c", _CODE.format(root=root, case=case, gb=gb)],
                               capture_output=True, text=True, env=env, timeout=900)
            row = json.loads(r.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            row = {"case": case, "error": "timeout (900 s)"}
        except Exception:
            tail = (r.stderr.strip().splitlines() or ["?"])[-1][:160]
            row = {"case": case, "error": f"failed (rc {r.returncode}): {tail}"}
        print("  scale:", row)
        rows.append(row)
    return rows


if __name__ == "__main__":
    run_scale(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
