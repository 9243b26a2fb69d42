"""How a peer request is authenticated: it must carry a signature by the node key the
operator registered for that peer (`crypto.peer_request`), so that a member's bearer token,
stolen or not, never acts as a peer. Each signature is good once, within a few minutes of
when it was made; a peer asking faster than its rate gets 429s (`node.guards`)."""

from __future__ import annotations

import logging

from tabadol.crypto import peer_request
from tabadol.crypto.signing import key_id
from tabadol.domain.errors import Forbidden, SignatureError, TooManyRequests, Unauthorized
from tabadol.domain.federation import Peer
from tabadol.node.guards import RATE_PER_S, SKEW_US
from tabadol.node.node import Node

log = logging.getLogger("tabadol.peers")


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
