"""Finding an org or a channel by what the caller names, or a clear NotFound."""

from __future__ import annotations

from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import NotFound
from tabadol.domain.model import Collection, Org
from tabadol.node.node import Node


def require_org(node: Node, name: str) -> Org:
    org = node.store.org_by_name(name)
    if org is None:
        raise NotFound(f"no organization named {name!r}")
    return org


def collection_by_kind(node: Node, kind: AudienceKind, ref: int | None = None) -> Collection:
    for collection in node.store.list_collections():
        if collection.kind is kind and collection.ref == ref:
            return collection
    raise NotFound(f"no {kind.value} collection")
