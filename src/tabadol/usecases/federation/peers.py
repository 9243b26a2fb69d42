"""Peers: the other nodes this node syncs with, and how a peer request is authenticated.

A peer is registered by the operator with its URL and node key (`tabadol peer add URL --key
KEY`), and a peer request must carry a signature by that key (`crypto.peer_request`): a
member's bearer token, stolen or not, never acts as a peer. Each signature is good once,
within a few minutes of when it was made.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urlsplit

from tabadol.crypto import peer_request
from tabadol.crypto.signing import (
    InvalidPublicKey,
    SignatureError,
    b64url,
    check_public_key,
    key_id,
    unb64url,
)
from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from tabadol.domain.federation import Peer
from tabadol.domain.model import Principal, PrincipalKind
from tabadol.node.node import Node, node_id_of

log = logging.getLogger("tabadol.peers")
SKEW_US = 300_000_000  # a signed request is good for five minutes either side of now
_NONCES_KEPT = 100_000
RATE_PER_S = 50.0  # peer requests per second, sustained (a stream is one request)
BURST = 100


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


class NonceCache:
    """The nonces of the signed requests seen in the last window: a replay is refused."""

    def __init__(self, capacity: int = _NONCES_KEPT) -> None:
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def first_use(self, nonce: str, at_us: int, now_us: int) -> bool:
        """False for a nonce seen in the window, and when the cache is full of nonces still
        inside it (never forget one that could be replayed: refuse instead)."""
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now_us - 2 * SKEW_US:
                self._seen.popitem(last=False)
            if nonce in self._seen or len(self._seen) >= self._capacity:
                return False
            self._seen[nonce] = max(at_us, now_us)
            return True


class RateLimiter:
    """A token bucket per peer: a flooding peer gets 429s while the others go on."""

    def __init__(self, rate: float = RATE_PER_S, burst: int = BURST) -> None:
        self._rate, self._burst = rate, burst
        self._buckets: dict[int, tuple[float, float]] = {}  # peer id -> (tokens, at)
        self._lock = threading.Lock()

    def allow(self, peer_id: int, now_s: float) -> bool:
        with self._lock:
            tokens, at = self._buckets.get(peer_id, (float(self._burst), now_s))
            tokens = min(float(self._burst), tokens + (now_s - at) * self._rate)
            allowed = tokens >= 1.0
            self._buckets[peer_id] = (tokens - 1.0 if allowed else tokens, now_s)
            return allowed


_NONCES: dict[str, NonceCache] = {}
_LIMITS: dict[str, RateLimiter] = {}
_GUARDS_LOCK = threading.Lock()


def _nonces(node: Node) -> NonceCache:
    with _GUARDS_LOCK:
        return _NONCES.setdefault(node.node_id, NonceCache())


def _limits(node: Node) -> RateLimiter:
    with _GUARDS_LOCK:
        return _LIMITS.setdefault(node.node_id, RateLimiter())


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
            raise ValueError("signed by a node that is not a peer here")
        if abs(now - request.timestamp_us) > SKEW_US:
            raise ValueError("too old or from the future (check the clocks)")
        peer_request.check(request, peer.public_key, method, target, body, node.node_id)
    except (ValueError, SignatureError) as exc:
        log.info("peer request refused: %s", exc)
        raise refused from None
    if not _limits(node).allow(peer.id, time.monotonic()):
        raise TooManyRequests(f"more than {RATE_PER_S:.0f} requests per second from this peer")
    if not _nonces(node).first_use(request.nonce, request.timestamp_us, now):
        log.info("peer request refused: replayed nonce from %s", peer.node_id)
        raise refused
    if peer.paused:
        raise Forbidden("this peer is paused here")
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
