"""griffe extension for the API reference: read ``Example:`` as an examples section.

The project's docstrings (CONVENTIONS.md) write runnable ``>>>`` examples under
``Example:``; griffe's Google parser only treats ``Examples:`` as code (and
``Example:`` as an admonition rendered as Markdown, where ``[...]`` outputs
read as links). Nothing else in a docstring changes.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_HEADER = re.compile(r"^(\s*)Example:[ \t]*$", re.M)


class ExampleSections(griffe.Extension):
    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        doc = getattr(obj, "docstring", None)
        if doc is not None and "Example:" in doc.value:
            doc.value = _HEADER.sub(r"\1Examples:", doc.value)
