"""Who an item of a channel is sealed to: exactly the orgs of its audience."""

from __future__ import annotations

from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import InvalidInput
from tabadol.domain.model import Collection
from tabadol.node.node import Node


def audience_orgs(node: Node, collection: Collection) -> list[int]:
    """The orgs an item of this collection is sealed to: exactly its audience."""
    if collection.kind is AudienceKind.ORG:
        assert collection.ref is not None
        return [collection.ref]
    if collection.kind is AudienceKind.GROUP:
        assert collection.ref is not None
        group = node.store.group_by_id(collection.ref)
        return sorted(group.members) if group else []
    if collection.kind is AudienceKind.MEMBERS:
        return [org.id for org in node.store.list_orgs() if org.member]
    raise InvalidInput("public items are not encrypted: everyone may read them")
