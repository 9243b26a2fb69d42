"""`tabadol node show` and `tabadol peer …`: this node's identity, and the nodes it syncs with."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from tabadol.cli.common import DEFAULT_DATA, DataDir, fail, guarded, node_at, out
from tabadol.domain.errors import PeerError
from tabadol.domain.federation import Peer
from tabadol.domain.timestamps import format_us
from tabadol.sync.loop import sync_once
from tabadol.usecases.federation import peers
from tabadol.usecases.membership.principals import OPERATOR

node_app = typer.Typer(no_args_is_help=True, help="This node's identity.")
peer_app = typer.Typer(no_args_is_help=True, help="The nodes this node syncs with.")


@node_app.command("show")
def node_show(
    data: DataDir = DEFAULT_DATA,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Print this node's id and node key: give them to the operators who add it as a peer."""
    with node_at(data) as node:
        card = peers.node_card(node)
    if as_json:
        print(json.dumps({"node_id": card.node_id, "node_key": card.node_key}))
        return
    out.print(f"node id:  {card.node_id}\nnode key: {card.node_key}", highlight=False)


@peer_app.command("add")
def peer_add(
    url: Annotated[str, typer.Argument(help="The peer's base URL, e.g. https://node-b:8470.")],
    key: Annotated[str, typer.Option("--key", help="The peer's node key (its `node show`).")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Sync with another node: its items this node's orgs may read arrive here, and the other
    way round once its operator adds this node too."""
    with node_at(data) as node:
        peer = guarded(lambda: peers.add_peer(node, OPERATOR, url, key))
    out.print(f"peer {peer.node_id} added ({peer.url})", highlight=False)


def _status(peer: Peer) -> str:
    if peer.paused:
        return "paused"
    if not peer.direct:
        return "known through a peer"
    if peer.retry_at is not None:
        return f"retrying ({peer.failures} failures)"
    return "ok" if peer.last_ok else "not yet reached"


@peer_app.command("list")
def peer_list(data: DataDir = DEFAULT_DATA) -> None:
    """The peers with their URL, state and the orgs each hosts."""
    with node_at(data) as node:
        found = peers.list_peers(node, OPERATOR)
        hosted = peers.hosted_orgs(node)
    table = Table("node id", "url", "state", "orgs")
    for peer in found:
        orgs = ", ".join(hosted.get(peer.id, []))
        table.add_row(peer.node_id, peer.url or "-", _status(peer), orgs)
    out.print(table)


@peer_app.command("status")
def peer_status(
    data: DataDir = DEFAULT_DATA,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Sync state per peer: cursor, lag behind the peer's feed, last contact, last error."""
    with node_at(data) as node:
        found = peers.list_peers(node, OPERATOR, direct_only=True)
    rows = [
        {
            "node_id": p.node_id,
            "state": _status(p),
            "cursor": p.cursor,
            "lag_seconds": round(max(0, p.peer_head - p.cursor) / 1e6, 3),
            "last_ok": format_us(p.last_ok) if p.last_ok else None,
            "last_error": p.last_error,
            "last_error_at": format_us(p.last_error_at) if p.last_error_at else None,
            "retry_at": format_us(p.retry_at) if p.retry_at else None,
        }
        for p in found
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("node id", "state", "cursor", "lag (s)", "last ok", "last error")
    for row in rows:
        error = f"{row['last_error_at']}: {row['last_error']}" if row["last_error"] else ""
        table.add_row(
            str(row["node_id"]),
            str(row["state"]),
            str(row["cursor"]),
            str(row["lag_seconds"]),
            str(row["last_ok"] or ""),
            error,
        )
    out.print(table)


def _set(data: DataDir, node_id: str, **change: bool) -> None:
    with node_at(data) as node:
        guarded(lambda: peers.set_peer(node, OPERATOR, node_id, **change))


@peer_app.command("pause")
def peer_pause(node_id: str, data: DataDir = DEFAULT_DATA) -> None:
    """Stop syncing with a peer (and refuse its requests) until `resume`."""
    _set(data, node_id, paused=True)
    out.print(f"peer {node_id} paused", highlight=False)


@peer_app.command("resume")
def peer_resume(node_id: str, data: DataDir = DEFAULT_DATA) -> None:
    """Sync with a paused peer again, from where it stopped."""
    _set(data, node_id, paused=False)
    out.print(f"peer {node_id} resumed", highlight=False)


@peer_app.command("remove")
def peer_remove(node_id: str, data: DataDir = DEFAULT_DATA) -> None:
    """Stop syncing with a peer for good (what came from it stays; its orgs' keys keep
    verifying what they signed)."""
    _set(data, node_id, removed=True)
    out.print(f"peer {node_id} removed", highlight=False)


@peer_app.command("sync")
def peer_sync(node_id: str, data: DataDir = DEFAULT_DATA) -> None:
    """Pull from a peer now, until caught up (the server does this continuously)."""
    with node_at(data) as node:
        peer = guarded(lambda: peers.require_peer(node, node_id))
        try:
            done = sync_once(node, peer)
        except PeerError as exc:  # transport errors come as PeerUnreachable, naming the URL
            raise fail(str(exc)) from None
    out.print(f"synced with {node_id}: cursor {done.cursor}", highlight=False)
