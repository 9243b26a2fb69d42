"""Org identities served by id where the orgs' items are read, so that every author resolves.

An org's identity is its directory record. On its home node each version is stored in
`members` when its keys change (`trust.directory_record`), signed by that node's key; a node
that receives the org's items keeps the latest version its home node's signed directory
carried (`federation.peer_directory`). Neither is an item of the other channels: the author
of an item in `public` or a group channel, or of a peer's item anywhere, would not resolve.

So the node serves an org's identity by id, like its constant objects, in every collection
where the reader may read an item the org published (and in `members`, every member's: the
directory is the members' to read) — the decision is `domain.policy.may_see_identity`, asked
with the reader's visibility inside the query. It is not listed among a collection's
objects, not in the change feed and never sent to a peer as an item: the id and its versions
are the home node's, served here as that node signed them.
"""

from __future__ import annotations

import orjson

from tabadol.domain.audience import AudienceKind
from tabadol.domain.filters import ObjectFilter
from tabadol.domain.model import Collection
from tabadol.domain.policy import Visibility, may_see_identity
from tabadol.domain.timestamps import parse_us
from tabadol.node.node import Node
from tabadol.storage.contract import StoredRow
from tabadol.usecases.membership.lookup import collection_by_kind


def served_identity(
    node: Node, collection: Collection, visible: Visibility, stix_id: str
) -> Visibility | StoredRow | None:
    """Where the identity `stix_id` is served from for a reader of `collection` whose read
    predicate over it is `visible`: the `members` channel that stores the versions of an org
    hosted here, the record kept for an org a peer hosts, or None (not an org's identity, or
    not one this reader may fetch here: the same answer as an id that never existed)."""
    if not stix_id.startswith("identity--"):
        return None
    org = node.store.org_by_identity(stix_id)
    if org is None or not org.member:  # a guest publishes nothing and has no record
        return None
    authored = node.store.authored_in(visible, org.id)
    if not may_see_identity(collection, org, authored_here=authored):
        return None
    if org.hosted_here:
        members = collection_by_kind(node, AudienceKind.MEMBERS)
        return Visibility(frozenset({members.id}))
    return node.store.directory_record(org.id)


def record_matches(flt: ObjectFilter, row: StoredRow) -> bool:
    """Whether a peer's org's record (the one version kept here, its latest) is what the
    request's filters ask for; written here because it is a single row outside the query.
    It is the first version too only when it is the one the org was created with."""
    versions = flt.versions
    first = versions.first and row.version_us == parse_us(orjson.loads(row.body)["created"])
    version_ok = versions.all or versions.last or first or row.version_us in versions.at
    return (
        version_ok
        and (not flt.spec_versions or row.spec_version in flt.spec_versions)
        and (flt.added_after is None or row.date_added > flt.added_after)
    )
