"""Every docstring example runs, and every public function documents itself."""

import doctest
import importlib
import inspect
import pkgutil

import pytest

import maskjax

# Adapter modules import their framework lazily at module level; CI installs all of them.
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(maskjax.__path__, prefix="maskjax.")
)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, module_name, globs={}):
        if test.lineno is None:
            # Found through a re-export of another module's object: checked in its own module.
            pass
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module_name}"


def _public_functions():
    namespaces = {
        "maskjax": ["reduce"],
        "maskjax.masks": maskjax.masks.__all__,
        "maskjax.weights": maskjax.weights.__all__,
        "maskjax.losses": maskjax.losses.__all__,
        "maskjax.metrics": maskjax.metrics.__all__,
    }
    for ns, names in namespaces.items():
        module = importlib.import_module(ns)
        for name in names:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                yield f"{ns}.{name}", obj


@pytest.mark.parametrize("qualname,fn", list(_public_functions()), ids=lambda x: x if isinstance(x, str) else "")
def test_public_function_documents_shapes_and_example(qualname, fn):
    doc = inspect.getdoc(fn) or ""
    for section in ("Args:", "Returns:", ">>>"):
        assert section in doc, f"{qualname} docstring lacks {section!r}"


def test_all_lists_exist_and_resolve():
    for module in (maskjax, maskjax.masks, maskjax.weights, maskjax.losses, maskjax.metrics):
        assert module.__all__, module.__name__
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.__all__ names missing {name}"
