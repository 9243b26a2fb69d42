"""Peer endpoints (`/federation/v1`) and the member change stream (`/api/v1/changes`,
`/api/v1/stream`).

Peer requests are signed by the peer's node key (`usecases.federation.peer_auth`); the stream is
Server-Sent Events: each event carries a page of changes and its cursor (`id:`), so a reader that
reconnects with `Last-Event-ID` (or `after=`) resumes exactly where it stopped. A stream
waits for the next commit (at once for writes in this process, within a second for others)
and ends after `STREAM_SECONDS`; clients reconnect.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import orjson
from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from tabadol.domain.errors import InvalidFilter, TooManyRequests
from tabadol.domain.federation import Peer
from tabadol.node.node import Node
from tabadol.usecases.federation import own_directory, peer_auth, peers
from tabadol.usecases.membership import principals
from tabadol.usecases.reading.feed import MAX_BATCH, FeedPage, member_changes, peer_changes
from tabadol.web.api import Caller, _node

router = APIRouter(tags=["federation"])
STREAM_SECONDS = 300.0  # a stream ends after this; the reader reconnects from its cursor
POLL_SECONDS = 1.0  # how often a waiting stream looks for writes made by other processes
KEEPALIVE_SECONDS = 15.0
MAX_STREAMS_PER_READER = 4


def _peer(request: Request) -> Peer:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return peer_auth.authenticate_peer(
        _node(request), request.headers.get("authorization"), request.method, target, b""
    )


PeerCaller = Annotated[Peer, Depends(_peer)]


MAX_POSITION = 2**63 - 1
Position = Annotated[int, Query(ge=0, le=MAX_POSITION, description="A feed position.")]
OptionalPosition = Annotated[int | None, Query(ge=0, le=MAX_POSITION)]


def _after(after: int | None, last_event_id: str | None) -> int:
    if last_event_id is not None:
        if not last_event_id.isdigit() or int(last_event_id) > MAX_POSITION:
            raise InvalidFilter("Last-Event-ID must be a position")
        return int(last_event_id)
    return after or 0


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def _page_body(
    page: FeedPage, node: Node, *, for_peer: bool, peer: Peer | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"changes": page.entries, "cursor": page.cursor}
    if for_peer:  # a member is not told the node's head: it would show writes it cannot see
        body["head"] = page.head
        assert peer is not None
        body["directory"] = own_directory.advertised_version(node, peer)
        body["channels"] = page.channels
    return body


class _Streams:
    """Open streams per reader (a peer or a token): a cap, so that one reader cannot hold
    every thread of the node."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self, reader: str) -> Iterator[None]:
        with self._lock:
            if self._open.get(reader, 0) >= MAX_STREAMS_PER_READER:
                raise TooManyRequests(f"at most {MAX_STREAMS_PER_READER} open streams per reader")
            self._open[reader] = self._open.get(reader, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._open[reader] -= 1


_STREAMS = _Streams()


def _stream(
    request: Request,
    reader: str,
    step: Callable[[int], dict[str, Any] | None],
    after: int,
    for_peer: bool,
) -> StreamingResponse:
    """Server-Sent Events of `step`'s pages from `after`. `step` runs in a worker thread and
    checks the reader's access again before every read (None: a peer paused or removed, a
    token revoked: the stream ends), with the reader's access as it is now."""
    node = _node(request)
    slot = _STREAMS.slot(reader)
    slot.__enter__()  # refused here (429) before the response starts

    async def events() -> AsyncIterator[bytes]:
        try:
            cursor, directory_sent = after, None
            started = last_sent = time.monotonic()
            while time.monotonic() - started < STREAM_SECONDS:
                if node.changes.closed or await request.is_disconnected():
                    return
                with node.changes.listen() as listener:  # before reading: no commit is missed
                    body = await to_thread.run_sync(step, cursor)
                    if body is None:
                        return
                    if (
                        body["changes"]
                        or (for_peer and body["directory"] != directory_sent)
                        or (for_peer and time.monotonic() - last_sent > KEEPALIVE_SECONDS)
                    ):
                        data = orjson.dumps(body)
                        yield b"id: %d\nevent: changes\ndata: %s\n\n" % (body["cursor"], data)
                        cursor, last_sent = body["cursor"], time.monotonic()
                        directory_sent = body.get("directory")
                        continue
                    if time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                        yield b": keepalive\n\n"
                        last_sent = time.monotonic()
                    await listener.wait(POLL_SECONDS)
        finally:
            slot.__exit__(None, None, None)

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
    """This node's signed directory, with the ones it received from its peers, and the groups
    this peer's orgs are in (signed for it)."""
    return _json(own_directory.document_for(_node(request), peer))


@router.get("/federation/v1/changes")
def changes_for_peer(
    request: Request,
    peer: PeerCaller,
    after: Position = 0,
    limit: int = Query(default=MAX_BATCH, ge=1),
    channel: str | None = Query(default=None, description="Only this channel (a backfill)."),
) -> Response:
    """A page of the change feed as this peer may receive it."""
    node = _node(request)
    page = peer_changes(node, peer, after, limit, channel)
    return _json(_page_body(page, node, for_peer=True, peer=peer))


@router.get("/federation/v1/stream")
def stream_for_peer(
    request: Request,
    peer: PeerCaller,
    after: OptionalPosition = None,
    limit: int = Query(default=MAX_BATCH, ge=1),
) -> StreamingResponse:
    """The change feed as it happens (Server-Sent Events), from `after` (signed with the
    request; an unsigned Last-Event-ID is not read for peers)."""
    node = _node(request)
    start = after or 0

    def step(cursor: int) -> dict[str, Any] | None:
        current = peers.active_peer(node, peer.id)
        if current is None:
            return None
        page = peer_changes(node, current, cursor, limit)
        return _page_body(page, node, for_peer=True, peer=current)

    return _stream(request, f"peer:{peer.id}", step, start, True)


# --- member applications ---------------------------------------------------------------------
@router.get("/api/v1/changes", tags=["native API"])
def changes_for_member(
    request: Request,
    principal: Caller,
    after: Position = 0,
    limit: int = Query(default=MAX_BATCH, ge=1),
) -> Response:
    """A page of what you may read that was stored or deleted after position `after`."""
    page = member_changes(_node(request), principal, after, limit)
    return _json(_page_body(page, _node(request), for_peer=False))


@router.get("/api/v1/stream", tags=["native API"])
def stream_for_member(
    request: Request,
    principal: Caller,
    after: OptionalPosition = None,
    limit: int = Query(default=MAX_BATCH, ge=1),
) -> StreamingResponse:
    """What you may read, live (Server-Sent Events); resume with Last-Event-ID or `after`.
    Your access is taken again before every read: a group left, or a token revoked, applies
    to the open stream at once."""
    node = _node(request)
    start = _after(after, request.headers.get("last-event-id"))

    def step(cursor: int) -> dict[str, Any] | None:
        current = principals.refreshed(node, principal)
        if current is None:
            return None
        return _page_body(member_changes(node, current, cursor, limit), node, for_peer=False)

    # A token's streams share its slots; a signed-in person's, theirs (by session cookie).
    reader = (
        f"token:{principal.token_id}"
        if principal.token_id is not None
        else f"person:{principal.person_id}"
    )
    return _stream(request, reader, step, start, False)
