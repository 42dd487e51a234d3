"""examples/torch_training_loop.py runs, learns, and its metrics equal torchmetrics'."""

import importlib.util
import pathlib

import pytest

torch = pytest.importorskip("torch")

EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "torch_training_loop.py"


def _load():
    spec = importlib.util.spec_from_file_location("torch_training_loop", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("compile_step", [False, True])
def test_example_learns(compile_step):
    if compile_step:
        torch._dynamo.reset()
    history = _load().main(epochs=2, compile_step=compile_step, n_batches=12)
    assert history[1]["loss"] < history[0]["loss"]
    assert 0.0 <= history[1]["val_acc"] <= 1.0 and history[1]["train_f1"] > 0.2


def test_example_metrics_match_torchmetrics():
    torchmetrics = pytest.importorskip("torchmetrics")
    import maskjax.torch as mt

    mod = _load()
    data = mod.make_data(6, 5)
    ours = mt.metrics.F1Score(task="multiclass", num_classes=mod.NUM_CLASSES, average="macro", ignore_index=-100)
    ref = torchmetrics.classification.MulticlassF1Score(num_classes=mod.NUM_CLASSES, average="macro",
                                                        ignore_index=-100)
    torch.manual_seed(0)
    model = mod.Tagger()
    with torch.no_grad():
        for x, y in data:
            ours.update(model(x), y)
            ref.update(model(x), y)
    torch.testing.assert_close(ours.compute(), ref.compute())


def test_readme_pytorch_block_runs_and_equals_torch():
    import re

    text = (EXAMPLE.parents[1] / "README.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "maskjax.torch as mt" in b and "F.cross_entropy" in b)
    ns: dict = {}
    exec(compile(block, "README.md", "exec"), ns)
    want = torch.nn.functional.cross_entropy(ns["logits"], ns["labels"])
    torch.testing.assert_close(ns["loss"], want)
    assert ns["logits"].grad is not None and ns["logits"].grad.shape == (4, 5, 7)
