"""Correlations: other objects, across members, that share an observable with an object.

Both sides go through the caller's visibility inside the query: an object the caller may not
read is neither correlated from nor correlated to, and nothing reveals that it exists.
Fan-out is capped per value (the most recent objects first), and no correlation rows are
stored: they are joins over the observables table, which holds one row per observable of each
latest version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tabadol.domain.errors import NotFound
from tabadol.domain.model import Principal
from tabadol.node.node import Node
from tabadol.usecases.reading.read import exists, visible

PER_VALUE = 20


@dataclass
class Correlated:
    kind: str
    value: str
    objects: list[dict[str, str]] = field(default_factory=list)
    more: bool = False


def correlations(node: Node, principal: Principal, stix_id: str) -> list[Correlated]:
    """Each observable of `stix_id` with the other visible objects that share it."""
    vis = visible(node, principal)
    own, others = node.store.correlations(vis, stix_id, PER_VALUE + 1)
    if not own and not exists(node, vis, stix_id):
        raise NotFound("no such object")
    collections = {c.id: c.uuid for c in node.store.list_collections()}
    orgs = {o.id: o.name for o in node.store.orgs_by_ids({h.author_org for h in others}).values()}
    grouped = {(kind, value): Correlated(kind, value) for kind, value in own}
    for hit in others:
        entry = grouped[(hit.kind, hit.value)]
        if len(entry.objects) == PER_VALUE:
            entry.more = True
            continue
        entry.objects.append(
            {
                "id": hit.stix_id,
                "type": hit.type,
                "collection": collections[hit.collection_id],
                "published_by": orgs.get(hit.author_org, ""),
            }
        )
    return list(grouped.values())
