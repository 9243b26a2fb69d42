"""The TLP an unmarked object takes from the containers that list it in the same envelope.

MISP marks an event, not each attribute, and misp-stix marks the report it makes of the
event and leaves the indicators, observed-data and relationships it lists unmarked. Read
alone, each of those would take its channel's default (TLP:GREEN in `members`), so a
TLP:RED event would leave its attributes readable by every member. So an object without
an object-level TLP takes the strictest TLP of the envelope's objects that list it in
`object_refs` (reports, groupings, notes, opinions, observed-data), through containers of
containers. An object's own marking is its author's statement and is kept as it is.
Containers posted in an earlier envelope are not followed: the node decides an item's
TLP as it stores it, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tabadol.domain.tlp import TLP, strictest_granular_tlp, strictest_tlp


def _own_tlp(obj: dict[str, Any]) -> TLP | None:
    """The strictest TLP an object states itself (object-level or granular)."""
    levels = [
        level
        for level in (
            strictest_tlp(obj.get("object_marking_refs")),
            strictest_granular_tlp(obj.get("granular_markings")),
        )
        if level is not None
    ]
    return max(levels) if levels else None


def inherited_tlps(objects: Sequence[Any]) -> dict[str, TLP]:
    """id -> the strictest TLP of the envelope's containers listing it (unmarked objects
    only take it: `admission.marking_tlp`). Containers that take a TLP pass it on."""
    contents: list[tuple[str | None, TLP | None, list[str]]] = []
    marked: dict[str, bool] = {}
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        stix_id = obj.get("id") if isinstance(obj.get("id"), str) else None
        if stix_id is not None:
            marked[stix_id] = strictest_tlp(obj.get("object_marking_refs")) is not None
        refs = obj.get("object_refs")
        if isinstance(refs, list):
            listed = [ref for ref in refs if isinstance(ref, str)]
            contents.append((stix_id, _own_tlp(obj), listed))
    inherited: dict[str, TLP] = {}
    for _ in range(len(contents) + 1):  # a fixpoint: containers of containers
        changed = False
        for container, own, listed in contents:
            levels = [t for t in (own, inherited.get(container or "")) if t is not None]
            if not levels:
                continue
            level = max(levels)
            for ref in listed:
                if marked.get(ref, False) or inherited.get(ref, TLP.CLEAR) >= level:
                    continue
                inherited[ref] = level
                changed = True
        if not changed:
            break
    return inherited
