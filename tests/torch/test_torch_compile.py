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
