"""Import a STIX bundle as one org, through the same admission as a publish, keeping each
item's audience (the tabadol-audience entry an export carries: `audience_routing`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabadol.domain import strict_json
from tabadol.domain.attestation import read_audience
from tabadol.domain.audit import operator_as_org
from tabadol.domain.errors import InvalidInput, InvalidObject, Refused
from tabadol.domain.extensions import NODE_OBJECTS
from tabadol.domain.model import Collection, Principal, Role
from tabadol.node.node import Node
from tabadol.usecases.membership.break_glass import record_break_glass
from tabadol.usecases.membership.lookup import require_org
from tabadol.usecases.membership.principals import OPERATOR, org_principal
from tabadol.usecases.publishing.audience_routing import Channels, target_of
from tabadol.usecases.publishing.publish import envelope_objects, publish_objects
from tabadol.usecases.reading.lookup import find_collection
from tabadol.usecases.reading.read import list_collections

Progress = Callable[[int], None]


@dataclass
class ImportSummary:
    total: int = 0
    stored: int = 0
    already_present: int = 0
    failed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def refuse(self, reason: str, count: int = 1) -> None:
        self.failed += count
        self.reasons[reason] += count


@dataclass
class Routes:
    """Each object's target collection, decided before anything is written."""

    by_collection: dict[int, list[Any]] = field(default_factory=dict)
    collections: dict[int, Collection] = field(default_factory=dict)
    node_objects: int = 0  # the node's own (standard markings …): stored nowhere
    refused: list[str] = field(default_factory=list)


def read_bundle(path: Path, hint: strict_json.JcsHint | None = None) -> list[Any]:
    """The objects of a STIX bundle file (or a TAXII envelope), read strictly."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}") from None
    return envelope_objects(strict_json.loads(data, hint), max_objects=10_000_000)


def route_objects(
    node: Node, principal: Principal, objects: Sequence[Any], explicit: Collection | None
) -> Routes:
    """Where each object goes: the collection of the audience it names (or `explicit`, when
    that is no wider), or its refusal (an audience this org cannot keep here)."""
    assert principal.org is not None
    writable = [v.collection for v in list_collections(node, principal) if v.can_write]
    channels = Channels(principal.org, writable, node.store.list_groups())
    routes = Routes()
    for obj in objects:
        if (
            explicit is None
            and isinstance(obj, dict)
            and obj == NODE_OBJECTS.get(str(obj.get("id")))
        ):
            routes.node_objects += 1
            continue
        try:
            audience = read_audience(obj) if isinstance(obj, dict) else None
            target = target_of(channels, audience, explicit)
        except (InvalidObject, Refused) as exc:
            routes.refused.append(str(exc))
            continue
        routes.collections[target.id] = target
        routes.by_collection.setdefault(target.id, []).append(obj)
    return routes


def import_objects(
    node: Node,
    org_name: str,
    collection_ref: str | None,
    objects: list[Any],
    *,
    batch: int = 500,
    progress: Progress | None = None,
    jcs_exact: bool = False,
    break_glass: str | None = None,
) -> ImportSummary:
    """Publish `objects` as `org_name`, each into the collection of its audience (or
    `collection_ref`), `batch` per transaction. Re-running resumes: stored versions are
    idempotent no-ops, so an interrupted import continues where it stopped. The operator
    publishing for an org that has its own admins is a break-glass step."""
    org = require_org(node, org_name)
    principal = org_principal(node, org, Role.PUBLISHER)
    explicit = (
        find_collection(node, principal, collection_ref, write=True) if collection_ref else None
    )
    where = explicit.title if explicit is not None else "the audience of each item"
    record_break_glass(node, OPERATOR, org, "import", break_glass, collection=where)
    routes = route_objects(node, principal, objects, explicit)
    summary = ImportSummary(total=len(objects), already_present=routes.node_objects)
    for reason in routes.refused:
        summary.refuse(reason)
    if progress:
        progress(routes.node_objects + len(routes.refused))
    for collection_id, routed in routes.by_collection.items():
        collection = routes.collections[collection_id]
        for start in range(0, len(routed), batch):
            chunk = routed[start : start + batch]
            _publish_chunk(node, principal, collection, chunk, summary, jcs_exact)
            if progress:
                progress(len(chunk))
    return summary


def _publish_chunk(
    node: Node,
    principal: Principal,
    collection: Collection,
    chunk: list[Any],
    summary: ImportSummary,
    jcs_exact: bool,
) -> None:
    status = publish_objects(
        node, principal, collection, chunk, jcs_exact=jcs_exact, actor=operator_as_org(principal)
    )
    for _, _, message in status.successes:
        if message == "stored":
            summary.stored += 1
        else:
            summary.already_present += 1
    for _, _, reason in status.failures:
        summary.refuse(reason)
