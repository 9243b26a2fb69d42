"""Peers: the other nodes this node syncs with, as the operator registers, pauses and
removes them (`tabadol peer add URL --key KEY`); their requests are authenticated by
`peer_auth`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from tabadol.crypto.signing import b64url, check_public_key, key_id, unb64url
from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import (
    Forbidden,
    InvalidInput,
    InvalidPublicKey,
    NotFound,
    SignatureError,
)
from tabadol.domain.federation import Peer
from tabadol.domain.model import Principal, PrincipalKind
from tabadol.node.node import Node, node_id_of


@dataclass(frozen=True, slots=True)
class NodeCard:
    """What another operator needs to add this node as a peer."""

    node_id: str
    node_key: str  # base64url of the Ed25519 public key
    key_id: str


def node_card(node: Node) -> NodeCard:
    public = bytes(node.node_key.verify_key)
    return NodeCard(node.node_id, b64url(public), key_id(public))


def _require_operator(actor: Principal) -> None:
    if actor.kind is not PrincipalKind.NODE_ADMIN:
        raise Forbidden("only the node's operator manages peers")


def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{url!r} is not an http(s) URL of a tabadol node")
    return url.strip().rstrip("/")


def parse_node_key(text: str) -> bytes:
    """A node key as `tabadol node show` prints it (base64url of 32 bytes)."""
    try:
        public = unb64url(text.strip())
        check_public_key(public)
    except (SignatureError, InvalidPublicKey) as exc:
        raise InvalidInput(f"not a node key: {exc}") from None
    return public


def add_peer(node: Node, actor: Principal, url: str, node_key: str) -> Peer:
    """Register a peer node; its orgs arrive with its signed directory on the first sync."""
    _require_operator(actor)
    public = parse_node_key(node_key)
    if public == bytes(node.node_key.verify_key):
        raise InvalidInput("that is this node's own key")
    peer_id = node_id_of(public)
    event = AuditEvent("peer.add", actor_of(actor), detail={"peer": peer_id, "url": url})
    return node.store.add_peer(peer_id, _check_url(url), public, node.clock(), audit=[event])


def require_peer(node: Node, node_id: str) -> Peer:
    peer = node.store.peer_by_node_id(node_id)
    if peer is None:
        raise NotFound(f"no peer {node_id}")
    return peer


def set_peer(
    node: Node,
    actor: Principal,
    node_id: str,
    *,
    paused: bool | None = None,
    removed: bool | None = None,
) -> Peer:
    """Pause, resume or remove a peer (a removed peer's orgs stay known: their keys keep
    verifying what they signed)."""
    _require_operator(actor)
    peer = require_peer(node, node_id)
    action = "peer.remove" if removed else ("peer.pause" if paused else "peer.resume")
    event = AuditEvent(action, actor_of(actor), detail={"peer": peer.node_id})
    node.store.set_peer(peer.id, paused=paused, removed=removed, now=node.clock(), audit=[event])
    return peer


def list_peers(node: Node, actor: Principal, *, direct_only: bool = False) -> list[Peer]:
    """The peers known here (with `direct_only`, those this node syncs with itself, not the
    ones it only heard of through a peer)."""
    _require_operator(actor)
    return [p for p in node.store.peers() if p.direct or not direct_only]


def hosted_orgs(node: Node) -> dict[int, list[str]]:
    """The names of the orgs each peer hosts, by the peer's internal id."""
    hosted: dict[int, list[str]] = {}
    for org in node.store.list_orgs():
        if org.home_peer is not None:
            hosted.setdefault(org.home_peer, []).append(org.name)
    return hosted


def active_peer(node: Node, peer_id: int) -> Peer | None:
    """The peer as it stands now, or None once it is paused or gone: what an open stream to
    it checks before every read."""
    current = node.store.peer_by_id(peer_id)
    if current is None or current.paused:
        return None
    return current
