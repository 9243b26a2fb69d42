"""Which parts of a STIX object are text a person searches: names, descriptions, report and
note text, indicator patterns, values of observables, aliases and labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SEARCHED = (
    "name",
    "title",
    "aliases",
    "x_mitre_aliases",
    "labels",
    "description",
    "abstract",
    "content",
    "opinion",
    "explanation",
    "objective",
    "pattern",
    "value",
    "path",
    "command_line",
)


def searchable_text(obj: Mapping[str, Any]) -> str:
    """The object's searchable text, one field after another (lists joined)."""
    parts: list[str] = []
    for name in SEARCHED:
        value = obj.get(name)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(item for item in value if isinstance(item, str))
    return "\n".join(parts)
