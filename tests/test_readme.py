"""README's JAX quick start runs as written."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_jax_quick_start_runs():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    jax_block = next(b for b in blocks if "maskjax.masks.from_lengths" in b)
    namespace: dict = {}
    exec(compile(jax_block, "README.md", "exec"), namespace)
    values = namespace["coll"].compute(namespace["state"])
    assert set(values) == {"acc", "f1", "loss"}
    assert 0.0 <= float(values["acc"]) <= 1.0


def test_readme_gives_the_two_commands_ci_runs():
    text = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_cmd = next(line for line in ci.splitlines() if "pytest" in line)
    assert test_cmd.replace("-q -e", "-e") in text.replace("-q -e", "-e")
    assert "maskjax demo" in text
