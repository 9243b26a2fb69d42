"""One item as a person reads it on its page: the latest version (sealed items opened for
their recipients), its versions and what each changed, its indicators (a report's
`object_refs`, a page at a time), its provenance and its audience.

Found by id among what the reader may see — the visibility inside the query
(`ListingStore`) — so an item the reader may not read is the same NotFound as an id that
never existed. Content is read through `reading.read.with_content`, which records every
read of a sealed or TLP:RED item in the audit log.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson

from tabadol.crypto.object_signature import read_signature, verify_object
from tabadol.crypto.sealed_object import parse_sealed
from tabadol.domain.attestation import attestation_of
from tabadol.domain.errors import NotFound, SealingError, SignatureError
from tabadol.domain.extensions import PROVENANCE_EXTENSION
from tabadol.domain.model import Collection, Principal
from tabadol.domain.sealed import lookup_ids
from tabadol.node.node import Node
from tabadol.storage.contract import ListedRow, ListingFilter, StoredRow
from tabadol.usecases.reading.inbox import opened_bodies, title_of
from tabadol.usecases.reading.read import Page, visible, with_content

MAX_VERSIONS = 500  # the newest shown; an item with more says so
INDICATORS_PAGE = 50
MAX_ID = 300  # longer than any STIX id: not looked up
_NOT_COMPARED = frozenset({"modified"})


@dataclass(frozen=True, slots=True)
class Version:
    modified: int  # version, µs
    added: int
    changed: list[str]  # top-level properties that differ from the version before


@dataclass(frozen=True, slots=True)
class Provenance:
    key_id: str  # "" when unsigned
    signer: str  # the org of the signing key ("" when the key is unknown here)
    verified: bool
    publisher: str  # the org the node attests published it
    published_on: str  # the node it was published on (its id)
    via_peer: str  # the peer it arrived from ("" when published here)


@dataclass(frozen=True, slots=True)
class Recipient:
    key_id: str
    org: str  # "" when the key is unknown here


@dataclass(frozen=True, slots=True)
class ItemView:
    stix_id: str
    type: str
    name: str
    obj: dict[str, Any]  # {} for a sealed item the reader cannot open
    collection: Collection
    author: str
    tlp: str
    sealed: bool
    opened: bool
    added: int
    versions: list[Version]
    more_versions: bool
    signed_body: bytes  # what provenance checks: the item as stored (sealed form) or opened
    newest: ListedRow
    recipients: list[Recipient] = field(default_factory=list)


def _rows(node: Node, principal: Principal, stix_id: str) -> list[ListedRow]:
    if len(stix_id) > MAX_ID or "--" not in stix_id:
        raise NotFound("no such object")
    flt = ListingFilter(ids=lookup_ids(stix_id), every_version=True)
    rows = node.store.list_recent(visible(node, principal), flt, None, MAX_VERSIONS + 1)
    if not rows:
        raise NotFound("no such object")
    newest = rows[0]  # the channel of the newest version, when an id is in several
    return [r for r in rows if r.collection_id == newest.collection_id]


def _changes(bodies: list[dict[str, Any]]) -> list[list[str]]:
    """For each version (oldest first), the top-level properties that differ from the one
    before (the first: none)."""
    changed: list[list[str]] = [[]]
    for before, after in itertools.pairwise(bodies):
        keys = (set(before) | set(after)) - _NOT_COMPARED
        changed.append(sorted(k for k in keys if before.get(k) != after.get(k)))
    return changed


def provenance(node: Node, view: ItemView) -> Provenance:
    """Who published the item, whether its signature verifies against the signer's key as
    this node holds it, where it came from. Asked for by its own tab only: checking the
    signature of a report naming 100,000 objects canonicalizes megabytes."""
    obj, row = orjson.loads(view.signed_body), view.newest
    entry = attestation_of(obj).get(PROVENANCE_EXTENSION, {})
    publisher = node.store.org_by_identity(str(entry.get("publisher_ref", "")))
    via = node.store.peer_by_id(row.via_peer) if row.via_peer is not None else None
    key_id, signer, verified = "", "", False
    try:
        signature = read_signature(obj)
    except SignatureError:
        signature = None
    if signature is not None:
        key_id = signature.key_id
        key = node.store.keys_by_id([key_id]).get(key_id)
        if key is not None:
            owner = node.store.org_by_id(key.org_id)
            signer = owner.name if owner else ""
            try:
                verify_object(obj, signature, key.public_key)
                verified = True
            except SignatureError:
                verified = False
    return Provenance(
        key_id,
        signer,
        verified,
        publisher.name if publisher else "",
        str(entry.get("node", "")),
        via.node_id if via else "",
    )


def _recipients(node: Node, sealed_body: bytes) -> list[Recipient]:
    try:
        key_ids = list(parse_sealed(orjson.loads(sealed_body)).sealed_keys)
    except (SealingError, ValueError):
        return []
    keys = node.store.keys_by_id(key_ids)
    owners = node.store.orgs_by_ids({k.org_id for k in keys.values()})
    found = []
    for key_id in sorted(key_ids):
        key = keys.get(key_id)
        owner = owners.get(key.org_id) if key else None
        found.append(Recipient(key_id, owner.name if owner else ""))
    return found


def item(node: Node, principal: Principal, stix_id: str) -> ItemView:
    """The item `stix_id` as `principal` reads it; NotFound when they may not."""
    rows = _rows(node, principal, stix_id)
    more = len(rows) > MAX_VERSIONS
    rows = rows[:MAX_VERSIONS]
    stored = [
        StoredRow(r.date_added, r.stix_id, r.version_us, "2.1", r.body, r.sealed, r.tlp)
        for r in rows
    ]
    read = with_content(node, principal, Page(stored, False, None)).rows
    latest, newest = read[0], rows[0]
    opened = newest.sealed and latest.body is not newest.body
    readable = not newest.sealed or opened
    newest_first = [orjson.loads(r.body) for r in read]  # each parsed once: a body may be MBs
    obj: dict[str, Any] = newest_first[0] if readable else {}
    changed = _changes(newest_first[::-1])
    versions = [
        Version(r.version_us, r.date_added, changed[i]) for i, r in enumerate(reversed(rows))
    ][::-1]
    collection = {c.id: c for c in node.store.list_collections()}[newest.collection_id]
    author = node.store.orgs_by_ids({newest.author_org}).get(newest.author_org)
    return ItemView(
        stix_id=str(obj.get("id", stix_id)),
        type=str(obj.get("type", newest.type)),
        name=title_of(obj),
        obj=obj,
        collection=collection,
        author=author.name if author else "",
        tlp=newest.tlp,
        sealed=newest.sealed,
        opened=opened,
        added=newest.date_added,
        versions=versions,
        more_versions=more,
        signed_body=latest.body if readable else newest.body,
        newest=newest,
        recipients=_recipients(node, newest.body) if newest.sealed else [],
    )


@dataclass(frozen=True, slots=True)
class IndicatorRef:
    stix_id: str
    found: dict[str, Any] | None  # the indicator, when the reader may read it here


@dataclass(frozen=True, slots=True)
class IndicatorsPage:
    refs: list[IndicatorRef]
    start: int
    total: int  # indicators the report names

    @property
    def next_start(self) -> int | None:
        end = self.start + len(self.refs)
        return end if end < self.total else None


def indicators(node: Node, principal: Principal, view: ItemView, start: int) -> IndicatorsPage:
    """A page of the indicators a report names, from position `start` of its list: each
    read by id through the reader's visibility, sealed ones opened where the reader is a
    recipient (one not readable here is named only)."""
    refs = view.obj.get("object_refs")
    named = (
        [r for r in refs if isinstance(r, str) and r.startswith("indicator--")]
        if isinstance(refs, list)
        else []
    )
    start = max(0, min(start, len(named)))
    page = named[start : start + INDICATORS_PAGE]
    found: dict[str, dict[str, Any]] = {}
    if page:
        ids = frozenset().union(*(lookup_ids(i) for i in page))
        rows = node.store.list_recent(visible(node, principal), ListingFilter(ids=ids), None, 400)
        bodies = opened_bodies(node, principal, rows)
        for row in rows:
            body = bodies.get(row.date_added, row.body)
            if row.sealed and body is row.body:
                continue  # sealed, and not for this reader to open
            obj = orjson.loads(body)
            found.setdefault(str(obj.get("id")), obj)
    return IndicatorsPage([IndicatorRef(i, found.get(i)) for i in page], start, len(named))
