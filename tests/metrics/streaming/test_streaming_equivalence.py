"""Streaming ≡ one-shot for every streaming metric, over any split of the data.

Batches have one fixed padded shape (rows + a ``[B]`` row mask), so the jitted
update compiles once per metric however hypothesis splits the data (batches
of 1 row, uneven last batches, ...); ``B = N``, so the same program also
makes the one-shot state (one full batch). Merge is associative and
commutative; jit equals eager (update and compute).
"""

import functools

import jax
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskjax import metrics as M
from maskjax.metrics._wide import narrow

from tests.metrics.streaming import _cases

N = 24  # rows in the data set
B = N  # padded batch size: one compiled update serves every split and the one-shot call
CASES = _cases.build_cases()
IDS = [c[0] for c in CASES]


@functools.lru_cache(maxsize=None)
def jitted_update(metric):
    return jax.jit(metric.update)


_DATA = {}


def data_for(case_id, make):
    if case_id not in _DATA:
        rng = np.random.default_rng(sum(map(ord, case_id)))
        _DATA[case_id] = make(rng, N)
    return _DATA[case_id]


_ONE_SHOT = {}


def one_shot(case_id, metric, make):
    """The one-shot state (the whole data set as one batch) and its value, once per case."""
    if case_id not in _ONE_SHOT:
        args, kwargs = data_for(case_id, make)
        state = stream(metric, args, kwargs, [N])
        _ONE_SHOT[case_id] = (state, jitted_compute(metric)(state))
    return _ONE_SHOT[case_id]


def stream(metric, args, kwargs, sizes):
    """Update over consecutive chunks of ``sizes`` rows, each padded to B rows with a mask."""
    update = jitted_update(metric)
    state = metric.init()
    start = 0
    for k in sizes:
        sl = slice(start, start + k)
        a = tuple(_cases.pad_rows(x, B) for x in _cases.rows(args, sl))
        kw = {n: _cases.pad_rows(v[sl], B) for n, v in kwargs.items()}
        mask = np.arange(B) < k
        state = update(state, *a, mask=mask, **kw)
        start += k
    assert start == N
    return state


@functools.lru_cache(maxsize=None)
def jitted_compute(metric):
    return jax.jit(metric.compute)


def assert_states_equal(metric, a, b):
    # Wide sums: the value hi + lo is what must agree (the split between the words depends on the order).
    a, b = narrow(a), narrow(b)
    if _cases.is_exact_buffer(metric):  # buffers hold the same elements in another order
        assert_values_close(metric.compute(a), metric.compute(b))
        return
    if isinstance(metric, (M.PrecisionAtK, M.RecallAtK)):  # per-sample ratios like 1/3: float sums
        jax.tree.map(lambda x, y: np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6), a, b)
        return
    jax.tree.map(lambda x, y: np.testing.assert_array_equal(np.asarray(x), np.asarray(y)), a, b)


def assert_values_close(a, b):
    jax.tree.map(lambda x, y: np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5,
                                                         atol=1e-6, equal_nan=True), a, b)


sizes_strategy = st.lists(st.integers(1, B), min_size=1, max_size=N).map(
    lambda xs: _trim(xs)
)


def _trim(xs):
    out, total = [], 0
    for x in xs:
        x = min(x, N - total)
        if x == 0:
            break
        out.append(x)
        total += x
    while total < N:  # fill up with full batches, the last one uneven
        x = min(B, N - total)
        out.append(x)
        total += x
    return out


@pytest.mark.parametrize("case_id,metric,make", CASES, ids=IDS)
@settings(max_examples=8, deadline=None)
@given(sizes=sizes_strategy)
def test_streaming_equals_one_shot_over_any_split(case_id, metric, make, sizes):
    args, kwargs = data_for(case_id, make)
    one_shot_state, one_shot_value = one_shot(case_id, metric, make)
    streamed = stream(metric, args, kwargs, sizes)
    assert_states_equal(metric, streamed, one_shot_state)
    assert_values_close(jitted_compute(metric)(streamed), one_shot_value)


@pytest.mark.parametrize("case_id,metric,make", CASES, ids=IDS)
def test_batches_of_one_row(case_id, metric, make):
    args, kwargs = data_for(case_id, make)
    assert_states_equal(metric, stream(metric, args, kwargs, [1] * N), one_shot(case_id, metric, make)[0])


@pytest.mark.parametrize("case_id,metric,make", CASES, ids=IDS)
def test_merge_associative_commutative_and_jit_equals_eager(case_id, metric, make):
    args, kwargs = data_for(case_id, make)
    whole, value = one_shot(case_id, metric, make)

    def part(lo, hi):  # the rows lo:hi streamed alone (zeros elsewhere are masked out)
        rows = np.arange(N)
        keep = (rows >= lo) & (rows < hi)
        return jitted_update(metric)(metric.init(), *args, mask=keep, **kwargs)

    a, b, c = part(0, 5), part(5, 13), part(13, N)
    left = metric.merge(metric.merge(a, b), c)
    right = metric.merge(a, metric.merge(c, b))
    assert_states_equal(metric, left, right)
    assert_states_equal(metric, left, whole)
    # jit == eager: the eager update and compute of the whole data set (no mask at all).
    eager = metric.update(metric.init(), *args, **kwargs)
    assert_states_equal(metric, eager, whole)
    assert_values_close(metric.compute(eager), value)


@pytest.mark.parametrize("case_id,metric,make", CASES, ids=IDS)
def test_init_is_strongly_typed_and_hashable(case_id, metric, make):
    hash(metric)
    for leaf in jax.tree.leaves(metric.init()):
        assert isinstance(leaf, jax.Array) and not leaf.weak_type, (case_id, leaf)
