"""Peer endpoints (`/federation/v1`) and the member change stream (`/api/v1/changes`,
`/api/v1/stream`).

Peer requests are signed by the peer's node key (`services.peers`); the stream is Server-Sent
Events: each event carries a page of changes and its cursor (`id:`), so a reader that
reconnects with `Last-Event-ID` (or `after=`) resumes exactly where it stopped. A stream
waits for the next commit (at once for writes in this process, within a second for others)
and ends after `STREAM_SECONDS`; clients reconnect.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import orjson
from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from tabadol.domain.errors import InvalidFilter
from tabadol.domain.federation import Peer
from tabadol.domain.model import Principal
from tabadol.services import peer_directory, peers
from tabadol.services.feed import MAX_BATCH, FeedPage, member_changes, peer_changes
from tabadol.services.node import Node
from tabadol.web.api import Caller, _node

router = APIRouter(tags=["federation"])
STREAM_SECONDS = 300.0  # a stream ends after this; the reader reconnects from its cursor
POLL_SECONDS = 1.0  # how often a waiting stream looks for writes made by other processes
KEEPALIVE_SECONDS = 15.0


def _peer(request: Request) -> Peer:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return peers.authenticate_peer(
        _node(request), request.headers.get("authorization"), request.method, target, b""
    )


PeerCaller = Annotated[Peer, Depends(_peer)]


def _after(after: int | None, last_event_id: str | None) -> int:
    if last_event_id is not None:
        if not last_event_id.isdigit():
            raise InvalidFilter("Last-Event-ID must be a position")
        return int(last_event_id)
    return after or 0


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def _page_body(page: FeedPage, node: Node, *, for_peer: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"changes": page.entries, "cursor": page.cursor, "head": page.head}
    if for_peer:
        body["directory"] = peer_directory.advertised_version(node)
        body["channels"] = page.channels
    return body


def _stream(
    request: Request,
    read: Callable[[int], FeedPage],
    after: int,
    for_peer: bool,
    allowed: Callable[[], bool],
) -> StreamingResponse:
    """`allowed` is asked again before every read: a peer paused or removed, or a token
    revoked, ends its open stream at once (not only its next request)."""
    node = _node(request)

    async def events() -> AsyncIterator[bytes]:
        cursor, directory_sent = after, None
        started = last_sent = time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS:
            if node.changes.closed or await request.is_disconnected():
                return
            with node.changes.listen() as listener:  # before reading: no commit is missed
                if not await to_thread.run_sync(allowed):
                    return
                page = await to_thread.run_sync(read, cursor)
                body = _page_body(page, node, for_peer=for_peer)
                if (
                    page.entries
                    or (for_peer and body["directory"] != directory_sent)
                    or (for_peer and time.monotonic() - last_sent > KEEPALIVE_SECONDS)
                ):
                    data = orjson.dumps(body)
                    yield b"id: %d\nevent: changes\ndata: %s\n\n" % (page.cursor, data)
                    cursor, last_sent = page.cursor, time.monotonic()
                    directory_sent = body.get("directory")
                    continue
                if time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                    yield b": keepalive\n\n"
                    last_sent = time.monotonic()
                await listener.wait(POLL_SECONDS)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# --- peers -----------------------------------------------------------------------------------
@router.get("/federation/v1/node")
def node_card(request: Request) -> dict[str, str]:
    """This node's id and key: what another operator compares before `tabadol peer add`."""
    card = peers.node_card(_node(request))
    return {"node_id": card.node_id, "node_key": card.node_key, "key_id": card.key_id}


@router.get("/federation/v1/directory")
def directory(request: Request, peer: PeerCaller) -> Response:
    """This node's signed directory, with the ones it received from its peers."""
    del peer
    return _json(peer_directory.own_document(_node(request)))


@router.get("/federation/v1/changes")
def changes_for_peer(
    request: Request,
    peer: PeerCaller,
    after: int = Query(default=0, ge=0),
    limit: int = Query(default=MAX_BATCH, ge=1),
    channel: str | None = Query(default=None, description="Only this channel (a backfill)."),
) -> Response:
    """A page of the change feed as this peer may receive it."""
    node = _node(request)
    page = peer_changes(node, peer, after, limit, channel)
    return _json(_page_body(page, node, for_peer=True))


@router.get("/federation/v1/stream")
def stream_for_peer(
    request: Request,
    peer: PeerCaller,
    after: int | None = Query(default=None, ge=0),
    limit: int = Query(default=MAX_BATCH, ge=1),
) -> StreamingResponse:
    """The change feed as it happens (Server-Sent Events), from `after` (signed with the
    request; an unsigned Last-Event-ID is not read for peers)."""
    node = _node(request)
    start = after or 0

    def still_a_peer() -> bool:
        current = node.store.peer_by_id(peer.id)
        return current is not None and not current.paused

    return _stream(request, lambda c: peer_changes(node, peer, c, limit), start, True, still_a_peer)


# --- member applications ---------------------------------------------------------------------
def _member_reader(node: Node, principal: Principal, limit: int) -> Callable[[int], FeedPage]:
    return lambda cursor: member_changes(node, principal, cursor, limit)


@router.get("/api/v1/changes", tags=["native API"])
def changes_for_member(
    request: Request,
    principal: Caller,
    after: int = Query(default=0, ge=0),
    limit: int = Query(default=MAX_BATCH, ge=1),
) -> Response:
    """A page of what you may read that was stored or deleted after position `after`."""
    page = member_changes(_node(request), principal, after, limit)
    return _json(_page_body(page, _node(request), for_peer=False))


@router.get("/api/v1/stream", tags=["native API"])
def stream_for_member(
    request: Request,
    principal: Caller,
    after: int | None = Query(default=None, ge=0),
    limit: int = Query(default=MAX_BATCH, ge=1),
) -> StreamingResponse:
    """What you may read, live (Server-Sent Events); resume with Last-Event-ID or `after`."""
    node = _node(request)
    start = _after(after, request.headers.get("last-event-id"))

    def token_valid() -> bool:
        if principal.token_id is None:
            return True
        token = node.store.token_by_id(principal.token_id)
        return token is not None and token.revoked is None

    return _stream(request, _member_reader(node, principal, limit), start, False, token_valid)
