"""Shape buckets: bucketed ≡ unbucketed (losses: values and gradients; metrics), few programs."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from maskjax import _buckets  # noqa: E402
import maskjax.torch as mt  # noqa: E402
from maskjax.torch import _generate  # noqa: E402
from tests.torch._counting import count_compiles  # noqa: E402

N, C, T = 5, 4, 13  # 5 -> 6 and 13 -> 16 under the default policy: both axes padded


def test_bucket_sizes():
    sizes = sorted({_buckets.bucket_size(n) for n in range(1, 257)})
    assert sizes == [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256]
    for n in range(1, 2000):
        b = _buckets.bucket_size(n)
        assert n <= b <= max(n, 1.5 * n) and _buckets.bucket_size(b) == b
        p = _buckets.bucket_size(n, "pow2")
        assert n <= p < 2 * n + 1 and p & (p - 1) == 0 or n <= 2
    assert _buckets.bucket_size(13, None) == 13
    with pytest.raises(ValueError, match="`policy` must be one of"):
        _buckets.set_policy("2x")


def _g(seed):
    return torch.Generator().manual_seed(seed)


def _loss_cases():
    g = _g(0)
    lab = torch.randint(0, C, (N, T), generator=g)
    lab[1, 2:5] = -100
    probs = torch.softmax(torch.randn(N, C, T, generator=g), 1)
    m2 = torch.rand(N, T, generator=g) > 0.2
    sw = torch.rand(N, T, generator=g) + 0.5
    return [
        ("cross_entropy", torch.randn(N, C, T, generator=g), lab, dict(mask=m2, sample_weight=sw)),
        ("cross_entropy", torch.randn(N, C, T, generator=g), lab,
         dict(class_weight=torch.tensor([1.0, 2.0, 0.5, 1.5]), label_smoothing=0.1, mask=m2[:, 0])),
        ("cross_entropy", torch.randn(N, C, T, generator=g), probs, dict(sample_weight=sw[:, 0])),
        ("cross_entropy", torch.randn(N, C, generator=g), lab[:, 0], dict()),
        ("multi_positive_cross_entropy", torch.randn(N, C, T, generator=g),
         torch.rand(N, C, T, generator=g) > 0.6, dict(mask=m2)),
        ("cosine_similarity_loss", torch.randn(N, 3, T, generator=g), torch.randn(N, 3, T, generator=g), dict(mask=m2)),
        ("binary_cross_entropy", torch.randn(N, T, generator=g), (torch.rand(N, T, generator=g) > .5).float(),
         dict(mask=m2)),
        ("binary_cross_entropy", torch.randn(N, 3, generator=g), (torch.rand(N, 3, generator=g) > .5).float(),
         dict(pos_weight=torch.tensor([2.0, 1.0, 0.5]))),
        ("focal_loss", torch.randn(N, T, generator=g), torch.randint(0, 2, (N, T), generator=g), dict(sample_weight=sw)),
        ("mean_squared_error", torch.randn(N, T, 3, generator=g), torch.randn(N, T, 3, generator=g), dict(mask=m2)),
        ("mean_absolute_error", torch.randn(N, T, generator=g), torch.randn(N, T, generator=g), dict(sample_weight=sw)),
        ("huber_loss", torch.randn(N, T, generator=g), torch.randn(N, T, generator=g), dict(delta=0.5)),
        ("log_cosh", torch.randn(N, T, generator=g), torch.randn(N, T, generator=g), dict(mask=m2)),
        ("contrastive_loss", torch.rand(T, generator=g) * 2, torch.randint(0, 2, (T,), generator=g), dict(margin=1.0)),
    ]


def test_every_bucketed_loss_has_a_case():
    bucketed = {n for n, (_, b, _) in _generate.LOSSES.items() if b}
    assert bucketed == {c[0] for c in _loss_cases()}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", range(14))
def test_bucketed_loss_equals_unbucketed_values_and_gradients(case, reduction):
    name, preds, targets, kw = _loss_cases()[case]
    fn = getattr(mt.losses, name)
    results = {}
    for policy in ("1.5x", None):
        p = preds.clone().requires_grad_(True)
        with mt.buckets(policy):
            out = fn(p, targets, reduction=reduction, **kw)
        (grad,) = torch.autograd.grad(out.sum(), p)
        results[policy] = (out.detach(), grad)
    (v1, g1), (v0, g0) = results["1.5x"], results[None]
    assert v1.shape == v0.shape and g1.shape == g0.shape == preds.shape
    torch.testing.assert_close(v1, v0, rtol=2e-6, atol=1e-6)
    torch.testing.assert_close(g1, g0, rtol=2e-6, atol=1e-7)


def _metric_inputs(task, seed=0):
    g = _g(seed)
    if task == "multiclass":
        return torch.randn(N, C, T, generator=g), torch.randint(0, C, (N, T), generator=g), dict(num_classes=C)
    if task == "binary":
        return torch.rand(N, T, generator=g), torch.randint(0, 2, (N, T), generator=g), {}
    return (torch.rand(N, 3, T, generator=g), torch.randint(0, 2, (N, 3, T), generator=g), dict(num_classes=3))


@pytest.mark.parametrize("task", ["multiclass", "binary", "multilabel"])
@pytest.mark.parametrize("name", sorted(_generate.BUCKETED_METRICS - {"top_k_accuracy"}))
def test_bucketed_metric_equals_unbucketed(name, task):
    preds, target, kw = _metric_inputs(task)
    mask = torch.rand(N, T, generator=_g(5)) > 0.3 if task != "multilabel" else torch.rand(N, generator=_g(5)) > 0.3
    fn = getattr(mt.metrics, name)
    extra = dict(beta=2.0) if name == "fbeta_score" else {}
    try:
        with mt.buckets(None):
            want = fn(preds, target, task=task, mask=mask, **kw, **extra)
    except (ValueError, TypeError) as err:  # a task this metric does not take: the same error bucketed
        with pytest.raises(type(err)):
            fn(preds, target, task=task, mask=mask, **kw, **extra)
        return
    got = fn(preds, target, task=task, mask=mask, **kw, **extra)
    torch.testing.assert_close(got, want, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("name", ["accuracy", "f1_score", "stat_scores"])
def test_samplewise_keeps_one_value_per_real_sample(name, task):
    """``multidim_average="samplewise"``: buckets pad the other axes only (N=5 once gave 6
    values, the last a padded row's 0), one-shot and streaming, against torchmetrics."""
    import torchmetrics
    preds, target, kw = _metric_inputs(task)
    tm_kw = {"num_classes": C} if task == "multiclass" else kw and {"num_labels": 3}
    oracle = getattr(torchmetrics.functional, name)
    avg = {"average": "micro"}
    want = oracle(preds, target, task=task, multidim_average="samplewise", **avg, **tm_kw)
    got = getattr(mt.metrics, name)(preds, target, task=task, multidim_average="samplewise", **avg, **kw)
    assert tuple(got.shape) == tuple(want.shape) and got.shape[0] == N
    torch.testing.assert_close(got.to(want.dtype), want)
    cls = {"accuracy": "Accuracy", "f1_score": "F1Score", "stat_scores": "StatScores"}[name]
    ours = getattr(mt.metrics, cls)(task=task, multidim_average="samplewise", capacity=16, **avg, **kw)
    peer = getattr(torchmetrics, cls)(task=task, multidim_average="samplewise", **avg, **tm_kw)
    for seed, (n, t) in enumerate([(5, 13), (3, 7), (7, 30)]):  # 5 -> 6, 3 -> 3, 7 -> 8 rows
        g = _g(seed + 20)
        if task == "binary":
            p, y = torch.rand(n, t, generator=g), torch.randint(0, 2, (n, t), generator=g)
        elif task == "multiclass":
            p, y = torch.randn(n, C, t, generator=g), torch.randint(0, C, (n, t), generator=g)
        else:
            p, y = torch.rand(n, 3, t, generator=g), torch.randint(0, 2, (n, 3, t), generator=g)
        ours.update(p, y)
        peer.update(p, y)
    want = peer.compute()
    got = ours.compute()[:15]  # a streaming samplewise state holds `capacity` rows: 15 are real
    torch.testing.assert_close(got.to(want.dtype), want)


@pytest.mark.parametrize("pw_shape", [(N, 1), (N, 3), (N,)], ids=["N1", "NL", "N-1d-preds"])
def test_row_shaped_pos_weight_is_not_padded_away(pw_shape):
    """A ``pos_weight`` broadcast over the rows (numpy rules) makes the call unbucketed: padded rows
    once raised "must broadcast to `preds` shape (6, 3)" for N=5, a shape the caller never passed."""
    g = _g(31)
    shape = (N,) if len(pw_shape) == 1 else (N, 3)
    x, t = torch.randn(shape, generator=g), torch.randint(0, 2, shape, generator=g).float()
    pw = torch.rand(pw_shape, generator=g) + 0.5
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = mt.losses.binary_cross_entropy(x1, t, pos_weight=pw)
    native = torch.nn.functional.binary_cross_entropy_with_logits(x2, t, pos_weight=pw)
    torch.testing.assert_close(ours, native)
    ours.backward(), native.backward()
    torch.testing.assert_close(x1.grad, x2.grad)


def test_average_axis_losses_are_not_bucketed():
    """``average_axis`` means over an axis that padding would lengthen: such calls run unbucketed
    (they once raised about a `mask` the caller never passed, three calls out of four)."""
    g = _g(32)
    for shape in ((4, 4), (5, 3), (5, 3)):
        x, y = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
        got = mt.losses.mean_squared_error(x, y, average_axis=-1, reduction="none")
        torch.testing.assert_close(got, ((x - y) ** 2).mean(-1))


def test_bucketed_top_k_and_streaming_classes_equal_unbucketed():
    preds, target, _ = _metric_inputs("multiclass")
    with mt.buckets(None):
        want = mt.metrics.top_k_accuracy(preds, target, top_k=2, num_classes=C)
    torch.testing.assert_close(mt.metrics.top_k_accuracy(preds, target, top_k=2, num_classes=C), want)
    for make in (lambda: mt.metrics.F1Score(task="multiclass", num_classes=C, average=None),
                 lambda: mt.metrics.ConfusionMatrix(task="multiclass", num_classes=C),
                 lambda: mt.metrics.MatthewsCorrCoef(task="multiclass", num_classes=C)):
        a, b = make(), make()
        for seed, t in enumerate((13, 7, 30)):
            p, y, _ = _metric_inputs("multiclass", seed)
            p, y = torch.randn(N, C, t, generator=_g(seed)), torch.randint(0, C, (N, t), generator=_g(seed))
            a.update(p, y)
            with mt.buckets(None):
                b.update(p, y)
        torch.testing.assert_close(a.compute(), b.compute())
    m, ref = mt.metrics.Mean(), mt.metrics.Mean()
    v = torch.randn(N, T, generator=_g(9))
    m.update(v, mask=v > 0)
    with mt.buckets(None):
        ref.update(v, mask=v > 0)
    torch.testing.assert_close(m.compute(), ref.compute())


@pytest.mark.slow
def test_w8_dynamic_loop_compiles_at_most_24_programs():
    """W8 (PERF.md): B=16, T drawn from 8..256, C=20, class axis 1, masked CE fwd+bwd + streaming F1."""
    B, C20 = 16, 20
    rng = np.random.default_rng(0)
    f1 = mt.metrics.F1Score(task="multiclass", num_classes=C20)
    with count_compiles() as compiles:
        for _ in range(200):
            t = int(rng.integers(8, 257))
            logits = torch.randn(B, C20, t, requires_grad=True)
            labels = torch.randint(0, C20, (B, t))
            lengths = torch.randint(1, t + 1, (B,))
            labels[torch.arange(t)[None, :] >= lengths[:, None]] = -100  # padding, as torch users mark it
            loss = mt.losses.cross_entropy(logits, labels)
            loss.backward()
            f1.update(logits.detach(), labels.clamp(min=0), mask=labels != -100)
    assert 0 < compiles.n <= 24, compiles.n
    with mt.buckets(None), count_compiles() as unbucketed:
        for t in (9, 10, 11):
            mt.losses.cross_entropy(torch.randn(B, C20, t, requires_grad=True), torch.randint(0, C20, (B, t))).backward()
    assert unbucketed.n == 3  # one program per new length without buckets: the counter counts


def test_a_fixed_bucket_shaped_loop_switches_to_the_exact_program():
    """[96, 7] needs no padding: after EXACT_AFTER calls in a row, the unbucketed program (same values).

    Options no other test uses (label_smoothing=0.05, C=7), so the programs counted are this test's.
    """
    from maskjax.torch import _layout

    g = torch.Generator().manual_seed(7)
    calls = [(torch.randn(96, 7, generator=g), torch.randint(0, 7, (96,), generator=g)) for _ in range(12)]
    with count_compiles() as compiles:
        for logits, labels in calls:
            x = logits.clone().requires_grad_()
            loss = mt.losses.cross_entropy(x, labels, label_smoothing=0.05)
            loss.backward()
            ref = logits.clone().requires_grad_()
            want = torch.nn.functional.cross_entropy(ref, labels, label_smoothing=0.05)  # the oracle
            torch.testing.assert_close(loss, want, rtol=1e-6, atol=1e-6)
            want.backward()
            torch.testing.assert_close(x.grad, ref.grad, rtol=1e-5, atol=1e-7)
    assert compiles.n == 2, compiles.n  # bucketed first, exact from the EXACT_AFTER-th call on
    assert _layout._RUNS[mt.losses.cross_entropy.__globals__["_CROSS_ENTROPY"]][1] >= _layout.EXACT_AFTER


def test_a_padded_call_ends_a_run_of_bucket_shaped_calls():
    """Dynamic lengths that sometimes hit a bucket size exactly do not switch programs."""
    from maskjax.torch import _layout

    spec = mt.losses.cross_entropy.__globals__["_CROSS_ENTROPY"]
    for t in [64, 60, 64, 50, 64, 61, 64, 55, 64]:  # 64 is a bucket size; the others pad to 64
        mt.losses.cross_entropy(torch.randn(16, 20, t), torch.randint(0, 20, (16, t)))
        assert _layout._RUNS.get(spec, [None, 0])[1] <= 1
