"""The committed maskjax.tf adapter modules are current with the core (real source, real signatures)."""

import inspect
import pathlib

import pytest

pytest.importorskip("tensorflow")
import maskjax.losses  # noqa: E402
import maskjax.metrics  # noqa: E402
import maskjax.tf.losses  # noqa: E402
import maskjax.tf.metrics  # noqa: E402
from maskjax.tf import _generate  # noqa: E402

ROOT = pathlib.Path(maskjax.tf.__file__).resolve().parent


@pytest.mark.parametrize("kind", ["losses", "metrics"])
def test_committed_file_is_what_the_generator_writes(kind):
    committed = (ROOT / f"{kind}.py").read_text()
    assert committed == _generate.source(kind), (
        f"maskjax/tf/{kind}.py is stale against maskjax.{kind}: run `python -m maskjax.tf._generate`")


@pytest.mark.parametrize("kind", ["losses", "metrics"])
def test_wrappers_show_the_core_signature_and_name_their_defaults(kind):
    core, front = getattr(maskjax, kind), getattr(maskjax.tf, kind)
    assert front.__all__ == core.__all__
    for name in core.__all__:
        fn = getattr(core, name)
        wrapped = getattr(front, name)
        if wrapped is fn:
            continue
        assert wrapped.__module__ == f"maskjax.tf.{kind}"
        assert list(inspect.signature(wrapped).parameters) == list(inspect.signature(fn).parameters)
        doc = inspect.getdoc(wrapped)
        assert f"maskjax.{kind}.{name}" in doc and "Returns:" in doc
        for p in inspect.signature(fn).parameters.values():
            if p.kind == p.KEYWORD_ONLY and p.default not in (None, inspect.Parameter.empty):
                assert f"``{p.name}=" in doc, (name, p.name)
