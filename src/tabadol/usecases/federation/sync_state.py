"""The sync state this node keeps per peer (cursor, last contact, last error and when to
retry), as the sync loop reads and records it; persisted, so `tabadol peer status` shows it
and a restart resumes it."""

from __future__ import annotations

from tabadol.domain.federation import Peer
from tabadol.node.node import Node


def followed_peers(node: Node) -> list[Peer]:
    """The peers this node follows now: direct, not paused, not removed."""
    return [peer for peer in node.store.peers() if peer.direct and not peer.paused]


def current(node: Node, peer_id: int) -> Peer | None:
    """The peer as stored now (its cursor moves with each page; None once removed)."""
    return node.store.peer_by_id(peer_id)


def record_contact(node: Node, peer: Peer, head: int) -> None:
    """The peer answered with nothing new: its feed's head, and that it was reached now."""
    node.store.record_peer_contact(peer.id, head, node.clock())


def record_failure(node: Node, peer: Peer, error: str, retry_in_s: float) -> None:
    """Keep the error and when to retry (the failure count grows, and so the backoff)."""
    now = node.clock()
    node.store.record_peer_error(peer.id, error, now, now + int(retry_in_s * 1e6))
