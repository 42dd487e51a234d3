"""The torch front is real source: generated once, committed, up to date; one-way imports; install hint."""

import ast
import pathlib
import subprocess
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")
import maskjax  # noqa: E402
import maskjax.torch as mt  # noqa: E402
from maskjax.torch import _generate  # noqa: E402

ROOT = pathlib.Path(mt.__file__).parent


@pytest.mark.parametrize("fname", ["losses.py", "metrics.py"])
def test_committed_wrappers_equal_the_generator_output(fname):
    want = _generate.sources()[fname]
    assert (ROOT / fname).read_text() == want, (
        f"maskjax/torch/{fname} is stale: run `python -m maskjax.torch._generate` and commit it")


def test_every_core_name_is_written_out_with_signature_and_doc():
    for core, front in ((maskjax.losses, mt.losses), (maskjax.metrics, mt.metrics)):
        assert list(front.__all__) == list(core.__all__)
        tree = ast.parse((ROOT / (front.__name__.rsplit(".", 1)[1] + ".py")).read_text())
        defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        defined |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                    if isinstance(t, ast.Name)}
        for name in core.__all__:
            assert name in defined, f"{front.__name__}.{name} is not written out"
            obj = getattr(front, name)
            if callable(obj) and getattr(obj, "__module__", "") == front.__name__:
                assert obj.__doc__ and "torch" in obj.__doc__.lower(), name


def test_no_generated_namespace_and_no_import_of_fronts_from_interop():
    for p in ROOT.glob("*.py"):
        assert "globals().update" not in p.read_text(), p.name
    for neutral in ("_interop.py", "_buckets.py"):
        tree = ast.parse((pathlib.Path(maskjax.__file__).parent / neutral).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            for m in mods:
                assert not m.startswith(("torch", "maskjax.torch", "tensorflow", "maskjax.tf")), (neutral, m)


def test_import_without_torch_names_the_extra():
    code = textwrap.dedent("""
        import sys
        sys.modules["torch"] = None
        try:
            import maskjax.torch
        except ImportError as err:
            print(err)
        else:
            print("imported")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=pathlib.Path(maskjax.__file__).parent.parent)
    assert 'pip install "maskjax[torch]"' in out.stdout, out.stdout + out.stderr
