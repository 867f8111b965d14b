"""Griffe extension: read gradfit's ``Example:`` sections as doctest examples.

The docstrings say ``Example:`` (singular); Griffe's Google parser knows ``Examples:``,
so without this the ``>>>`` lines are read as Markdown (``[0, 1]`` becomes a broken link).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.M)


class ExamplesSection(griffe.Extension):
    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        doc = obj.docstring
        if doc is not None and "Example:" in doc.value:
            doc.value = _EXAMPLE.sub(r"\1Examples:", doc.value)
