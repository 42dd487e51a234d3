"""mkdocs hook: pages made of README sections, so the README stays the one source.

A page whose Markdown holds ``<!-- readme: Heading text -->`` gets, in its
place, the README section under ``## Heading text`` (up to the next ``## ``
heading), with its headings moved up one level and its repository-relative
links rewritten: links to notebooks/ go to the rendered notebooks, other files
(outside the site) become inline code. An unknown heading is an error.

``<!-- readme: *rest* -->`` expands to every README section that no other page
pulls in (each under its own ``## `` heading), so a section added to the README
is on the site without touching docs/.
"""

from __future__ import annotations

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = re.compile(r"<!--\s*readme:\s*(.+?)\s*-->")
LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")


def _sections() -> dict[str, str]:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _link(match: re.Match, depth: int) -> str:
    label, target = match.group(1), match.group(2)
    if re.match(r"^[a-z]+://|^#|^mailto:", target):
        return match.group(0)
    up = "../" * depth
    if target.rstrip("/") == "notebooks":
        return f"[{label}]({up}notebooks/README.md)"
    name = label.strip("`")
    return f"`{name}`" if name == target else f"{label} (`{target}`)"


def _pulled_elsewhere(docs_dir: str, this: str) -> set[str]:
    used: set[str] = set()
    for base, _, names in os.walk(docs_dir, followlinks=True):
        for name in names:
            path = os.path.join(base, name)
            if name.endswith(".md") and os.path.relpath(path, docs_dir).replace(os.sep, "/") != this:
                with open(path, encoding="utf-8") as f:
                    used |= set(MARKER.findall(f.read()))
    return used


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ANN001 - mkdocs hook signature
    if "<!-- readme:" not in markdown:
        return markdown
    sections = _sections()
    depth = page.file.src_uri.count("/")

    def replace(m: re.Match) -> str:
        heading = m.group(1)
        if heading == "*rest*":
            docs_dir = config["docs_dir"] if config else os.path.join(ROOT, "docs")
            used = _pulled_elsewhere(docs_dir, page.file.src_uri)
            rest = [h for h in sections if h not in used]
            if not rest:
                return "Every README section has its own page."
            return "\n".join(f"## {h}\n" + LINK.sub(lambda l: _link(l, depth), sections[h]) for h in rest)
        if heading not in sections:
            raise ValueError(f"docs/{page.file.src_uri}: README has no section '## {heading}'; "
                             f"it has {sorted(sections)}")
        body = re.sub(r"^### ", "## ", sections[heading], flags=re.M)
        return LINK.sub(lambda l: _link(l, depth), body)

    return MARKER.sub(replace, markdown)
