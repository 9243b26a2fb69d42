"""The change feed: every version stored and deleted here, in position order, as a peer or a
member application may receive it.

Positions are the node's date_added counter, strictly increasing and read from committed
snapshots only, so a reader that resumes after its last position misses nothing and gets
nothing twice. What a reader may receive is decided by the one policy: a member application
gets its principal's visibility; a peer gets what the orgs it hosts may read, minus what came
from it and the AMBER+ items this node did not author (`domain.federation`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from tabadol.domain.federation import ChangeOp, FeedFilter, FeedRow, Peer, peer_feed_filter
from tabadol.domain.model import Principal
from tabadol.domain.policy import Visibility
from tabadol.domain.timestamps import format_us
from tabadol.node.node import Node
from tabadol.storage.contract import StoredRow
from tabadol.usecases.reading.read import Page, visible, with_content

MAX_BATCH = 1000


@dataclass(frozen=True, slots=True)
class FeedPage:
    entries: list[dict[str, Any]]
    cursor: int  # the position to resume after
    head: int  # the node's last position when this page was read
    channels: list[str] = field(default_factory=list)  # what the reader may receive now


class _Names:
    """Ids to the names peers share: collection -> audience, org -> identity."""

    def __init__(self, node: Node) -> None:
        groups = {g.id: g.uuid for g in node.store.list_groups()}
        self.audience: dict[int, dict[str, str]] = {}
        self.collection_uuid: dict[int, str] = {}
        self.channel: dict[int, str] = {}  # "members", "public", "group:<uuid>", "org:…"
        for c in node.store.list_collections():
            audience = {"kind": c.kind.value}
            if c.ref is not None and c.kind.value == "group":
                audience["group"] = groups[c.ref]
            self.audience[c.id] = audience
            self.collection_uuid[c.id] = c.uuid
            self.channel[c.id] = ":".join(audience.values())
        self.identity = {org.id: org.identity_id for org in node.store.list_orgs()}


def _entry(row: FeedRow, names: _Names, body: bytes | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "position": row.position,
        "op": row.op.value,
        "id": row.stix_id,
        "version": format_us(row.version_us),
        "audience": names.audience[row.collection_id],
        "collection": names.collection_uuid[row.collection_id],
        "tlp": row.tlp,
        "author": names.identity[row.author_org],
        "sealed": row.sealed,
    }
    if row.op is ChangeOp.PUT and body is not None:
        entry["object"] = orjson.Fragment(body)  # the stored bytes, not parsed again
    return entry


def read_feed(
    node: Node, flt: FeedFilter, after: int, limit: int, *, jump: bool = True
) -> tuple[list[FeedRow], int, int]:
    """The rows, the node's head, and the cursor to resume after. The head is read first, so
    every position up to it was committed when the rows were read: a page that is not full
    leaves nothing unread up to the head, and (`jump`) the cursor may go there. Member
    cursors do not jump: they would show when writes happen that the member cannot see."""
    head = node.store.feed_head()
    limit = min(limit, MAX_BATCH)
    rows = node.store.feed(flt, after, limit)
    last = rows[-1].position if rows else after
    return rows, head, last if len(rows) == limit or not jump else max(last, head)


def peer_changes(
    node: Node, peer: Peer, after: int, limit: int, channel: str | None = None
) -> FeedPage:
    """What `peer` receives after position `after` (only from `channel`, for a backfill),
    with the channels it may receive now. A peer that finds a new channel among them (a group
    gained one of its orgs; this node learnt that it hosts a member) reads that channel from
    the start: the main cursor already went past items it was not entitled to then."""
    names = _Names(node)
    flt = peer_feed_filter(
        peer, node.store.list_orgs(), node.store.list_collections(), node.store.list_groups()
    )
    channels = sorted(names.channel[c] for c in flt.visible.collection_ids)
    if channel is not None:
        only = {c for c in flt.visible.collection_ids if names.channel[c] == channel}
        flt = replace(flt, visible=Visibility(frozenset(only)))
    rows, head, cursor = read_feed(node, flt, after, limit)
    return FeedPage([_entry(row, names, row.body) for row in rows], cursor, head, channels)


def member_changes(node: Node, principal: Principal, after: int, limit: int) -> FeedPage:
    """What a member application receives after `after`: its principal's visibility, sealed
    items opened where the node holds the reader's key (as a TAXII read does)."""
    names = _Names(node)
    rows, head, cursor = read_feed(
        node, FeedFilter(visible(node, principal)), after, limit, jump=False
    )
    puts = [r for r in rows if r.op is ChangeOp.PUT and r.body is not None]
    stored = [
        StoredRow(r.position, r.stix_id, r.version_us, "2.1", r.body or b"", r.sealed, r.tlp)
        for r in puts
    ]
    opened = with_content(node, principal, Page(stored, False, None), actor=None)
    bodies = {row.date_added: row.body for row in opened.rows}
    entries = [_entry(row, names, bodies.get(row.position)) for row in rows]
    return FeedPage(entries, cursor, head)
