"""The docs site: `mkdocs build --strict` succeeds and the site has the pages a reader expects.

mkdocs.yml: README sections as pages (docs/_hooks.py pulls them in), the
notebooks with their saved outputs (not executed at build time), and the API
reference of every public module from the docstrings (mkdocstrings).
"""

from __future__ import annotations

import importlib.util
import pathlib
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PUBLIC = ["maskjax", "maskjax.losses", "maskjax.metrics", "maskjax.masks", "maskjax.weights", "maskjax.plot",
          "maskjax.flax", "maskjax.torch", "maskjax.tf", "maskjax.keras"]


def _hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "_hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("mkdocs_jupyter")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-8000:]
    return out


def _page(site, rel):
    path = site / rel / "index.html"
    assert path.is_file(), f"{rel} was not built"
    return path.read_text(encoding="utf-8")


def _text(html):
    return re.sub(r"<[^>]+>", "", html).replace("&gt;", ">").replace("&lt;", "<").replace("&quot;", '"')


def test_api_reference_renders_every_public_module(site):
    nav = (ROOT / "mkdocs.yml").read_text()
    directives = "".join(p.read_text() for p in (ROOT / "docs" / "api").glob("*.md"))
    for module in PUBLIC:
        assert f"::: {module}\n" in directives, module
    wanted = {
        "api/maskjax": ["maskjax.reduce"],
        "api/losses": ["maskjax.losses.cross_entropy", "maskjax.losses.dice_loss"],
        "api/metrics": ["maskjax.metrics.f1_score", "maskjax.metrics.Collection", "maskjax.metrics.auroc"],
        "api/masks": ["maskjax.masks.from_lengths"],
        "api/weights": ["maskjax.weights.balanced"],
        "api/plot": ["maskjax.plot.confusion_matrix", "maskjax.plot.per_group"],
        "api/flax": ["maskjax.flax.Metric"],
        "api/torch": ["maskjax.torch.losses.cross_entropy", "maskjax.torch.metrics.F1Score"],
        "api/tf": ["maskjax.tf.losses.cross_entropy"],
        "api/keras": ["maskjax.keras.Loss", "maskjax.keras.Metric"],
    }
    for page, ids in wanted.items():
        assert f"{page}.md" in nav, page
        html = _page(site, page)
        for anchor in ids:
            assert f'id="{anchor}"' in html, (page, anchor)
    # `Example:` sections render as code with their outputs (not as Markdown, where [..] reads as a link).
    plot = _text(_page(site, "api/plot"))
    assert ">>> ax = maskjax.plot.confusion_matrix(np.array([[5, 1], [2, 7]])" in plot
    # Runtime docstrings: the shared argument text maskjax.metrics fills in at import time, not a placeholder.
    assert "__ARGS__" not in _page(site, "api/metrics")


def test_readme_sections_are_pages(site):
    assert "maskjax.masks.from_lengths" in _text(_page(site, "guide/quickstart"))
    weighting = _page(site, "guide/weighting")
    assert "sum_by_nonzero_weights" in weighting and "<table>" in weighting
    home = _text(_page(site, ""))
    assert "python -m pytest -q -n auto" in home and 'pip install "maskjax[flax]"' in home
    # Links to files outside the site are code; notebooks/ links go to the rendered notebooks.
    cli = _page(site, "guide/cli")
    assert 'href="../../notebooks/"' in cli and "<code>examples/flax_training_loop.py</code>" in cli


def test_notebooks_are_rendered_with_their_saved_outputs(site):
    names = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert len(names) >= 7
    for name in names:
        assert "data:image/png;base64," in _page(site, f"notebooks/{name}"), name   # the saved plots
    html = _page(site, "notebooks/02_padded_sequences")
    assert "naive 0.7563" in html and "masked 0.6232" in html                      # the saved numbers
    index = _page(site, "notebooks")
    assert all(f'href="{n}/"' in index for n in names), "notebooks/README.md links every notebook"


def test_every_readme_section_is_on_the_site(site):
    readme = (ROOT / "README.md").read_text()
    pulled = "".join(p.read_text() for p in (ROOT / "docs").rglob("*.md"))     # by name (the hook checks names)
    more = _text(_page(site, "guide/more"))                                     # the rest, automatically
    for heading in re.findall(r"^## (.+)$", readme, flags=re.M):
        assert f"<!-- readme: {heading} -->" in pulled or heading.replace("`", "") in more, heading


def test_readme_hook_rejects_an_unknown_section_and_rewrites_links():
    hooks = _hooks()
    page = SimpleNamespace(file=SimpleNamespace(src_uri="guide/x.md"))
    with pytest.raises(ValueError, match="README has no section '## Nope'"):
        hooks.on_page_markdown("<!-- readme: Nope -->", page, None, None)
    out = hooks.on_page_markdown("<!-- readme: Benchmarks -->", page, None, None)
    assert "(bench/RESULTS.md)" not in out and "`bench/RESULTS.md`" in out
    assert hooks.on_page_markdown("plain page", page, None, None) == "plain page"
    # *rest*: the README sections no other page pulls in, each under its own heading.
    rest = hooks.on_page_markdown("<!-- readme: *rest* -->", SimpleNamespace(
        file=SimpleNamespace(src_uri="guide/more.md")), None, None)
    pulled = "".join(p.read_text() for p in (ROOT / "docs").rglob("*.md") if p.name != "more.md")
    for heading in re.findall(r"^## (.+)$", (ROOT / "README.md").read_text(), flags=re.M):
        assert (f"## {heading}\n" in rest) == (f"<!-- readme: {heading} -->" not in pulled), heading
