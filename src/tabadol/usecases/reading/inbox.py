"""A person's inbox: the newest items they may read across every channel, filtered on the
server, or — with words to find — the hits of the cross-script search (`reading.search`).

Every read is the storage's, with the reader's visibility inside the query (`ListingStore`,
`SearchStore`); nothing is filtered afterwards. A filter that names a channel the reader
cannot read, or an org whose items they cannot see, narrows to nothing, as an unknown one
does: no filter is an oracle. Pages continue by a token bound to the filters (the same
tokens the API issues). Sealed items are opened for their recipients and TLP:RED ones read
through `reading.read.with_content`, which records each such read in the audit log.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from tabadol.domain.errors import InvalidFilter, TimestampError
from tabadol.domain.model import Collection, Principal
from tabadol.domain.policy import Visibility
from tabadol.domain.timestamps import parse_us
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node
from tabadol.storage.contract import ListedRow, ListingFilter, StoredRow
from tabadol.usecases.reading import search as search_service
from tabadol.usecases.reading.read import Page, list_collections, visible, with_content
from tabadol.usecases.reading.snippets import Segment

PAGE = 50
MAX_PAGE = 200
# What an inbox lists by default: the items analysts read, not the graph's glue nor the
# directory's records (the orgs' identities); a type filter still finds them.
NOT_LISTED = frozenset(
    {"relationship", "marking-definition", "extension-definition", "language-content", "identity"}
)
_NO_ORG = 0  # internal org ids start at 1: an unknown name matches nothing


@dataclass(frozen=True, slots=True)
class InboxRequest:
    """The filters and the page asked for (`next`: the token of the previous page)."""

    text: str = ""
    channels: frozenset[str] = frozenset()  # TAXII collection ids
    orgs: frozenset[str] = frozenset()  # author orgs, by name
    tlps: frozenset[TLP] = frozenset()
    types: frozenset[str] = frozenset()
    added_after: int | None = None
    added_before: int | None = None
    limit: int = PAGE
    next: str | None = None

    @classmethod
    def parse(cls, params: dict[str, list[str]]) -> InboxRequest:
        """The request from a query string's values (each name may repeat; a value may be a
        comma-separated list); InvalidFilter for what cannot be read."""

        def many(name: str) -> frozenset[str]:
            return frozenset(
                part.strip() for value in params.get(name, []) for part in value.split(",")
            ) - {""}

        def one(name: str) -> str | None:
            values = [v.strip() for v in params.get(name, []) if v.strip()]
            return values[-1] if values else None

        limit = one("limit") or str(PAGE)
        if not limit.isdigit() or int(limit) < 1:
            raise InvalidFilter("limit must be a positive integer")
        try:
            tlps = frozenset(TLP.parse(label) for label in many("tlp"))
        except ValueError as exc:
            raise InvalidFilter(f"tlp: {exc}") from None
        return cls(
            text=(one("q") or "")[:500],
            channels=many("channel"),
            orgs=many("org"),
            tlps=tlps,
            types=many("type"),
            added_after=_day("from", one("from"), end=False),
            added_before=_day("to", one("to"), end=True),
            limit=min(int(limit), MAX_PAGE),
            next=one("next"),
        )

    @property
    def searching(self) -> bool:
        return bool(self.text.strip())


def _day(name: str, value: str | None, *, end: bool) -> int | None:
    """A bound from a date (`2026-05-01`: the whole day, UTC) or an RFC 3339 time."""
    if value is None:
        return None
    text = value if "T" in value else f"{value}T00:00:00Z"
    try:
        at = parse_us(text)
    except TimestampError as exc:
        raise InvalidFilter(f"{name}: {exc}") from None
    if "T" in value:
        return at
    day = 86_400_000_000
    return at + day if end else at - 1  # bounds are exclusive: the day itself is in


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of the inbox."""

    stix_id: str
    type: str
    name: str  # "" for a sealed item the reader cannot open
    collection: Collection
    author: str  # the author org's name
    tlp: str
    sealed: bool
    opened: bool  # a sealed item the node opened for this reader
    from_peer: bool
    added: int  # date_added, µs
    snippet: list[Segment]


@dataclass(frozen=True, slots=True)
class InboxPage:
    entries: list[Entry]
    next_token: str | None
    channels: list[Collection]  # what the reader may read, for the channel filter


def readable_channels(node: Node, principal: Principal) -> list[Collection]:
    return [v.collection for v in list_collections(node, principal) if v.can_read]


def _visibility(node: Node, principal: Principal, request: InboxRequest) -> Visibility:
    vis = visible(node, principal)
    if not request.channels:
        return vis
    wanted = {c.id for c in node.store.list_collections() if c.uuid in request.channels}
    return Visibility(vis.collection_ids & wanted)


def _fingerprint(request: InboxRequest) -> bytes:
    meaning = [
        sorted(request.channels),
        sorted(request.orgs),
        sorted(t.label for t in request.tlps),
        sorted(request.types),
        request.added_after,
        request.added_before,
        request.limit,
    ]
    return hashlib.sha256(b"inbox" + orjson.dumps(meaning)).digest()[:12]


def title_of(obj: dict[str, Any]) -> str:
    """What names an item in a list: its name, else the start of its text, else its pattern
    or value."""
    for key in ("name", "abstract", "content", "description", "pattern", "value", "opinion"):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return ""


def opened_bodies(node: Node, principal: Principal, rows: list[ListedRow]) -> dict[int, bytes]:
    """Each row's body as the reader receives it (sealed ones opened where they may be)."""
    stored = [
        StoredRow(r.date_added, r.stix_id, r.version_us, "2.1", r.body, r.sealed, r.tlp)
        for r in rows
    ]
    page = with_content(node, principal, Page(stored, False, None))
    return {row.date_added: row.body for row in page.rows}


def entries_of(
    node: Node,
    principal: Principal,
    rows: list[ListedRow],
    snippets: dict[str, list[Segment]] | None = None,
) -> list[Entry]:
    collections = {c.id: c for c in node.store.list_collections()}
    orgs = node.store.orgs_by_ids({r.author_org for r in rows})
    bodies = opened_bodies(node, principal, rows)
    entries = []
    for row in rows:
        body = bodies.get(row.date_added, row.body)
        opened = row.sealed and body is not row.body
        obj = orjson.loads(body) if (opened or not row.sealed) else {}
        author = orgs.get(row.author_org)
        entries.append(
            Entry(
                stix_id=str(obj.get("id", row.stix_id)),  # an opened item: its own id
                type=str(obj.get("type", row.type)),
                name=title_of(obj),
                collection=collections[row.collection_id],
                author=author.name if author else "",
                tlp=row.tlp,
                sealed=row.sealed,
                opened=opened,
                from_peer=row.via_peer is not None,
                added=row.date_added,
                snippet=(snippets or {}).get(row.stix_id, []),
            )
        )
    return entries


def _listing_filter(node: Node, request: InboxRequest) -> ListingFilter:
    ids = {org.name: org.id for org in node.store.list_orgs()}
    return ListingFilter(
        types=request.types,
        skip_types=NOT_LISTED,
        author_orgs=frozenset(ids.get(name, _NO_ORG) for name in request.orgs),
        tlps=frozenset(t.label for t in request.tlps),
        added_after=request.added_after,
        added_before=request.added_before,
    )


def inbox(node: Node, principal: Principal, request: InboxRequest) -> InboxPage:
    """A page of the inbox: the newest items first, or the best hits of the search."""
    channels = readable_channels(node, principal)
    if request.searching:
        return _searched(node, principal, request, channels)
    vis = _visibility(node, principal, request)
    fingerprint = _fingerprint(request)
    before = None
    if request.next is not None:
        before = node.page_tokens.position(request.next, fingerprint)
    rows = node.store.list_recent(vis, _listing_filter(node, request), before, request.limit + 1)
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    token = node.page_tokens.issue(rows[-1].date_added, fingerprint) if more else None
    return InboxPage(entries_of(node, principal, rows), token, channels)


def _searched(
    node: Node, principal: Principal, request: InboxRequest, channels: list[Collection]
) -> InboxPage:
    """The search use case's hits, each then read with its channel, author and origin — by
    id, through the same visibility — in the order the search ranked them."""
    found = search_service.search(
        node,
        principal,
        search_service.SearchRequest(
            text=request.text,
            limit=min(request.limit, search_service.MAX_LIMIT),
            types=request.types,
            orgs=request.orgs,
            tlps=request.tlps,
            collections=request.channels,
            added_after=request.added_after,
            added_before=request.added_before,
            next=request.next,
        ),
    )
    if not found.hits:
        return InboxPage([], None, channels)
    ids = frozenset(str(hit.obj.get("id", "")) for hit in found.hits)
    vis = _visibility(node, principal, request)
    rows = node.store.list_recent(vis, ListingFilter(ids=ids), None, len(ids) * 4)
    by_key = {(r.collection_id, r.stix_id): r for r in rows}
    uuids = {c.uuid: c.id for c in node.store.list_collections()}
    ranked = [
        by_key[key]
        for hit in found.hits
        if (key := (uuids.get(hit.collection, 0), str(hit.obj.get("id")))) in by_key
    ]
    snippets = {str(hit.obj.get("id")): hit.snippet for hit in found.hits}
    return InboxPage(entries_of(node, principal, ranked, snippets), found.next_token, channels)
