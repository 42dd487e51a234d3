"""torch.compile: the front's calls are opaque custom ops; compiled steps equal eager ones."""

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

import maskjax.torch as mt  # noqa: E402


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.Tanh(), torch.nn.Linear(16, 5))


def _batch():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(32, 12, generator=g)
    y = torch.randint(0, 5, (32,), generator=g)
    y[::7] = -100
    return x, y


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_compiled_step_equals_eager_loss_and_gradients(reduction):
    x, y = _batch()
    w = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0])

    def step(model, x, y):
        loss = mt.losses.cross_entropy(model(x), y, class_weight=w, reduction=reduction)
        return loss.sum() if reduction == "none" else loss

    eager_model, compiled_model = _model(), _model()
    eager = step(eager_model, x, y)
    eager.backward()
    torch._dynamo.reset()
    compiled = torch.compile(step, fullgraph=True)(compiled_model, x, y)  # fullgraph: no graph break
    compiled.backward()
    torch.testing.assert_close(compiled, eager)
    for pe, pc in zip(eager_model.parameters(), compiled_model.parameters()):
        torch.testing.assert_close(pc.grad, pe.grad)
    # and the native loss agrees (mean reduction, same weights and ignore_index)
    native = F.cross_entropy(_model()(x), y, weight=w, reduction="sum" if reduction == "none" else "mean")
    torch.testing.assert_close(eager, native)


def test_compiled_input_gradient_and_elementwise_loss():
    p = torch.randn(8, 3, requires_grad=True)
    t = torch.randn(8, 3)
    mask = torch.tensor([True] * 6 + [False] * 2)
    fn = torch.compile(lambda p, t, m: mt.losses.mean_squared_error(p, t, mask=m), fullgraph=True)
    got = fn(p, t, mask)
    (g_got,) = torch.autograd.grad(got, p)
    want = mt.losses.mean_squared_error(p, t, mask=mask)
    (g_want,) = torch.autograd.grad(want, p)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(g_got, g_want)


def test_compiled_metric_update_and_function_no_graph_break():
    acc = mt.metrics.Accuracy(task="multiclass", num_classes=5)

    @torch.compile(fullgraph=True)
    def evaluate(logits, y):
        acc.update(logits, y)
        return mt.metrics.f1_score(logits, y, task="multiclass", num_classes=5)

    want = mt.metrics.Accuracy(task="multiclass", num_classes=5)
    for seed in range(3):
        g = torch.Generator().manual_seed(seed)
        logits, y = torch.randn(16, 5, generator=g), torch.randint(0, 5, (16,), generator=g)
        f1 = evaluate(logits, y)
        torch.testing.assert_close(f1, mt.metrics.f1_score(logits, y, task="multiclass", num_classes=5))
        want.update(logits, y)
    assert acc.update_count == 3
    torch.testing.assert_close(acc.compute(), want.compute())


def test_dynamic_true_fullgraph_with_float_options_equals_eager_and_torch():
    """``dynamic=True, fullgraph=True``: dynamo traces even constant floats (``label_smoothing``,
    ``delta``, ``threshold``) as symbols, which the op's constant key could not hold (dynamo raised
    "assume_constant_result argument conversion failed"); they travel as 0-d tensors now. The class
    size is symbolic too, and ``num_classes`` pins it: shape inference falls back to trace-time sizes."""
    import torchmetrics

    f1 = mt.metrics.F1Score(task="multiclass", num_classes=4)
    peer = torchmetrics.classification.MulticlassF1Score(num_classes=4)

    def step(x, y):
        f1.update(x.detach(), y)
        return (mt.losses.cross_entropy(x, y, label_smoothing=0.1)
                + mt.losses.huber_loss(x, x.detach() * 0.5, delta=0.7)
                + mt.metrics.f1_score(x.detach(), y, task="multiclass", num_classes=4, threshold=0.3))

    compiled = torch.compile(step, fullgraph=True, dynamic=True)
    for t in (3, 5, 7):
        g = torch.Generator().manual_seed(t)
        x, y = torch.randn(2, 4, t, generator=g), torch.randint(0, 4, (2, t), generator=g)
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        got = compiled(x1, y)
        want = (F.cross_entropy(x2, y, label_smoothing=0.1) + F.huber_loss(x2, x2.detach() * 0.5, delta=0.7)
                + torchmetrics.functional.f1_score(x2.detach(), y, task="multiclass", num_classes=4,
                                                   average="macro"))
        torch.testing.assert_close(got, want)
        got.backward(), want.backward()
        torch.testing.assert_close(x1.grad, x2.grad)
        peer.update(x, y)
    torch.testing.assert_close(f1.compute(), peer.compute())
