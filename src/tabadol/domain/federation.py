"""Federation records and rules: peers, their sync state, the change feed, and what may cross.

A node sends a peer only what at least one org hosted there may read (the access policy, asked
for the orgs the peer hosts), never what came from that peer, and never relays an item of TLP
AMBER or stricter that it did not author itself: the recipients of such an item may not share it
further, so only the author's own node delivers it (no re-sharing hop).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tabadol.domain.audience import AudienceKind
from tabadol.domain.model import Collection, Group, Org
from tabadol.domain.policy import Visibility
from tabadol.domain.tlp import TLP

RELAYABLE_TLPS = frozenset({TLP.CLEAR.label, TLP.GREEN.label})


@dataclass(frozen=True, slots=True)
class Peer:
    """Another node, known by its node key; `cursor` is how far its feed has been applied."""

    id: int
    node_id: str
    url: str
    public_key: bytes
    paused: bool
    created: int
    cursor: int = 0  # the last position of the peer's feed applied here
    peer_head: int = 0  # the last position the peer reported (lag = peer_head - cursor)
    directory_version: int = 0
    last_ok: int | None = None
    last_error: str | None = None
    last_error_at: int | None = None
    failures: int = 0  # consecutive failures: the backoff grows with them
    retry_at: int | None = None
    via_peer: int | None = None  # known only through this peer's directory (no direct sync)
    channels: tuple[str, ...] = ()  # what the peer said this node may receive, last time

    @property
    def direct(self) -> bool:
        return self.via_peer is None


class ChangeOp(StrEnum):
    PUT = "put"  # a version was stored
    DELETE = "delete"  # a version was deleted (a tombstone)


@dataclass(frozen=True, slots=True)
class FeedRow:
    """One entry of a node's change feed, as the storage reads it."""

    position: int  # the node's date_added counter: strictly increasing, gap-free when read
    op: ChangeOp
    collection_id: int
    stix_id: str
    version_us: int
    author_org: int
    tlp: str
    body: bytes | None  # the stored object (its sealed form when sealed); None for DELETE
    sealed: bool


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """Which feed entries a reader gets: its visibility, and for a peer the echo and relay
    rules (nothing that came from it or that its orgs wrote; AMBER+ only from its author's
    node)."""

    visible: Visibility
    exclude_via_peer: int | None = None
    exclude_authors: frozenset[int] = frozenset()
    local_authors: frozenset[int] | None = None  # None: no relay rule (a member application)


def peer_visibility(
    hosted_by_peer: list[Org], collections: list[Collection], groups: list[Group]
) -> Visibility:
    """The channels a peer may receive: those at least one org it hosts may read. An org's
    own channel never leaves its node (its only reader is its author)."""
    org_ids = {org.id for org in hosted_by_peer}
    any_member = any(org.member for org in hosted_by_peer)
    groups_there = {g.id for g in groups if g.members & org_ids}
    allowed = set()
    for c in collections:
        if (
            c.kind is AudienceKind.PUBLIC
            or (c.kind is AudienceKind.MEMBERS and any_member)
            or (c.kind is AudienceKind.GROUP and c.ref in groups_there)
        ):
            allowed.add(c.id)
    return Visibility(frozenset(allowed))


def peer_feed_filter(
    peer: Peer, orgs: list[Org], collections: list[Collection], groups: list[Group]
) -> FeedFilter:
    """The feed filter of `peer`, from the directory as this node knows it."""
    there = [org for org in orgs if org.home_peer == peer.id]
    return FeedFilter(
        visible=peer_visibility(there, collections, groups),
        exclude_via_peer=peer.id,
        exclude_authors=frozenset(org.id for org in there),
        local_authors=frozenset(org.id for org in orgs if org.hosted_here),
    )
