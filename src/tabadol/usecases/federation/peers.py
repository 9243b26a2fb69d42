"""Peers: the other nodes this node syncs with, and how a peer request is authenticated.

A peer is registered by the operator with its URL and node key (`tabadol peer add URL --key
KEY`), and a peer request must carry a signature by that key (`crypto.peer_request`): a
member's bearer token, stolen or not, never acts as a peer. Each signature is good once,
within a few minutes of when it was made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from tabadol.crypto import peer_request
from tabadol.crypto.signing import b64url, check_public_key, key_id, unb64url
from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import (
    Forbidden,
    InvalidInput,
    InvalidPublicKey,
    NotFound,
    SignatureError,
    TooManyRequests,
    Unauthorized,
)
from tabadol.domain.federation import Peer
from tabadol.domain.model import Principal, PrincipalKind
from tabadol.node.guards import RATE_PER_S, SKEW_US
from tabadol.node.node import Node, node_id_of

log = logging.getLogger("tabadol.peers")


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


def authenticate_peer(
    node: Node, authorization: str | None, method: str, target: str, body: bytes
) -> Peer:
    """The peer a signed request comes from; Unauthorized otherwise. Every refusal says the
    same to the caller (an outsider learns nothing of who is a peer here) and the log keeps
    the reason (a refused request is not audited: a flood would fill the audit log)."""
    refused = Unauthorized("not a valid peer request for this node")
    if not authorization:
        raise Unauthorized(f"a peer request must be signed ({peer_request.SCHEME})")
    try:
        request = peer_request.parse(authorization)
    except SignatureError as exc:
        raise Unauthorized(str(exc)) from None
    peer = next(
        (p for p in node.store.peers() if p.direct and key_id(p.public_key) == request.key_id),
        None,
    )
    now = node.clock()
    try:
        if peer is None:
            raise Unauthorized("signed by a node that is not a peer here")
        if abs(now - request.timestamp_us) > SKEW_US:
            raise Unauthorized("too old or from the future (check the clocks)")
        peer_request.check(request, peer.public_key, method, target, body, node.node_id)
    except (Unauthorized, SignatureError) as exc:
        log.info("peer request refused: %s", exc)
        raise refused from None
    if not node.guards.limiter.allow(peer.id):
        raise TooManyRequests(f"more than {RATE_PER_S:.0f} requests per second from this peer")
    if not node.guards.nonces.first_use(request.nonce, request.timestamp_us, now):
        log.info("peer request refused: replayed nonce from %s", peer.node_id)
        raise refused
    if peer.paused:
        raise Forbidden("this peer is paused here")
    return peer
