"""Export what an org may read, as a STIX bundle, through the policy (sealed items opened
where the node holds the org's key, as the org would read them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from tabadol.domain.audit import OPERATOR_ACTOR, AuditEvent, operator_as_org
from tabadol.domain.filters import ObjectFilter, VersionFilter
from tabadol.domain.model import Principal, Role
from tabadol.domain.policy import Visibility
from tabadol.domain.stix import new_bundle_id
from tabadol.node.node import Node
from tabadol.usecases.membership.break_glass import record_break_glass
from tabadol.usecases.membership.lookup import require_org
from tabadol.usecases.membership.principals import OPERATOR, org_principal
from tabadol.usecases.reading.lookup import find_collection
from tabadol.usecases.reading.read import Page, visible, with_content


def export_objects(
    node: Node,
    org_name: str,
    collection_ref: str | None,
    *,
    all_versions: bool = False,
    page: int = 2000,
    break_glass: str | None = None,
) -> Iterator[bytes]:
    """The JSON of every object `org_name` may read (in one collection, or all). The
    operator exporting as an org that has its own admins is a break-glass step."""
    org = require_org(node, org_name)
    principal = org_principal(node, org, Role.READER)
    vis = visible(node, principal)
    if collection_ref is not None:
        vis = vis.narrowed_to(find_collection(node, principal, collection_ref, write=False).id)
    record_break_glass(node, OPERATOR, org, "export", break_glass, collection=collection_ref)
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
    actor = operator_as_org(principal)
    while True:
        rows = node.store.query_objects(vis, flt, after, page)
        for row in with_content(node, principal, Page(rows, False, None), actor).rows:
            yield row.body
        if len(rows) < page:
            return
        after = rows[-1].date_added


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
