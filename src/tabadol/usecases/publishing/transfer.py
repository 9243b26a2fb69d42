"""Import a STIX bundle as one org, export what an org may read — both through the policy."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from tabadol.domain import strict_json
from tabadol.domain.audit import OPERATOR_ACTOR, AuditEvent
from tabadol.domain.errors import InvalidInput, NotFound
from tabadol.domain.filters import ObjectFilter, VersionFilter
from tabadol.domain.model import Collection, Principal, Role
from tabadol.domain.policy import Visibility
from tabadol.node.node import Node
from tabadol.usecases.membership.lookup import require_org
from tabadol.usecases.membership.principals import org_principal
from tabadol.usecases.publishing.publish import envelope_objects, publish_objects
from tabadol.usecases.reading.read import Page, list_collections, visible, with_content

Progress = Callable[[int], None]


@dataclass
class ImportSummary:
    total: int = 0
    stored: int = 0
    already_present: int = 0
    failed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def find_collection(node: Node, principal: Principal, ref: str, *, write: bool) -> Collection:
    """A collection by id or title among those the principal may use."""
    views = [v for v in list_collections(node, principal) if (v.can_write if write else v.can_read)]
    exact = [v for v in views if v.collection.uuid == ref]
    named = exact or [v for v in views if v.collection.title == ref]
    if not named:
        raise NotFound(
            f"no collection {ref!r} that {principal.org.name if principal.org else 'you'} may use"
        )
    if len(named) > 1:
        ids = ", ".join(v.collection.uuid for v in named)
        raise InvalidInput(f"{ref!r} names several collections; use one of their ids: {ids}")
    return named[0].collection


def read_bundle(path: Path, hint: strict_json.JcsHint | None = None) -> list[Any]:
    """The objects of a STIX bundle file (or a TAXII envelope), read strictly."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}") from None
    return envelope_objects(strict_json.loads(data, hint), max_objects=10_000_000)


def import_objects(
    node: Node,
    org_name: str,
    collection_ref: str,
    objects: list[Any],
    *,
    batch: int = 500,
    progress: Progress | None = None,
    jcs_exact: bool = False,
) -> ImportSummary:
    """Publish `objects` as `org_name`, `batch` per transaction. Re-running resumes: stored
    versions are idempotent no-ops, so an interrupted import continues where it stopped."""
    principal = org_principal(node, require_org(node, org_name), Role.PUBLISHER)
    collection = find_collection(node, principal, collection_ref, write=True)
    summary = ImportSummary(total=len(objects))
    for start in range(0, len(objects), batch):
        chunk = objects[start : start + batch]
        status = publish_objects(
            node, principal, collection, chunk, jcs_exact=jcs_exact, actor=_as_org(principal)
        )
        for _, _, message in status.successes:
            if message == "stored":
                summary.stored += 1
            else:
                summary.already_present += 1
        for _, _, reason in status.failures:
            summary.failed += 1
            summary.reasons[reason] += 1
        if progress:
            progress(len(chunk))
    return summary


def export_objects(
    node: Node,
    org_name: str,
    collection_ref: str | None,
    *,
    all_versions: bool = False,
    page: int = 2000,
) -> Iterator[bytes]:
    """The JSON of every object `org_name` may read (in one collection, or all)."""
    principal = org_principal(node, require_org(node, org_name), Role.READER)
    vis = visible(node, principal)
    if collection_ref is not None:
        vis = vis.narrowed_to(find_collection(node, principal, collection_ref, write=False).id)
    flt = ObjectFilter(versions=VersionFilter(last=not all_versions, all=all_versions))
    event = AuditEvent(
        "export",
        OPERATOR_ACTOR,
        detail={"as": principal.org.name if principal.org else "", "collection": collection_ref},
    )
    node.store.append_audit([event], node.clock())
    return _pages(node, principal, vis, flt, page)


def _pages(
    node: Node, principal: Principal, vis: Visibility, flt: ObjectFilter, page: int
) -> Iterator[bytes]:
    """Pages as the org receives them: sealed items opened where the node holds its key."""
    after: int | None = None
    while True:
        rows = node.store.query_objects(vis, flt, after, page)
        for row in with_content(node, principal, Page(rows, False, None), _as_org(principal)).rows:
            yield row.body
        if len(rows) < page:
            return
        after = rows[-1].date_added


def _as_org(principal: Principal) -> str:
    """The CLI acts for an org on the operator's authority: the log says both."""
    return f"{OPERATOR_ACTOR} as org:{principal.org.name if principal.org else ''}"


def new_bundle_id() -> str:
    return f"bundle--{uuid.uuid4()}"


def write_bundle(chunks: Iterator[bytes], out: BinaryIO) -> int:
    """Stream a STIX 2.1 bundle; return the number of objects written."""
    count = 0
    out.write(b'{"type":"bundle","id":"' + new_bundle_id().encode() + b'","objects":[')
    for body in chunks:
        if count:
            out.write(b",")
        out.write(body)
        count += 1
    out.write(b"]}\n")
    return count
