"""An acknowledged write survives kill -9 of the node; an unacknowledged one is all or nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tabadol.domain.filters import ObjectFilter, VersionFilter
from tabadol.domain.policy import Visibility
from tabadol.node.node import open_node
from tabadol.usecases.membership import api_tokens, organizations, principals
from tabadol.web.media import TAXII_21

from ..conftest import LiveServer, make_indicator

ENVELOPE = 40


def _setup(data_dir: Path) -> tuple[str, str]:
    with open_node(data_dir) as node:
        organizations.add_org(node, "Writer")
        _, secret = api_tokens.create_token(node, principals.OPERATOR, "Writer", "publisher")
        members = next(c.uuid for c in node.store.list_collections() if c.title == "members")
    return secret, members


def _writer(
    url: str, secret: str, acked: list[list[str]], attempted: list[list[str]], stop: threading.Event
) -> None:
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": TAXII_21, "Accept": TAXII_21}
    with httpx.Client(timeout=10) as client:
        for _ in range(500):  # bounded: the server is killed long before
            if stop.is_set():
                return
            objects = [make_indicator() for _ in range(ENVELOPE)]
            ids = [o["id"] for o in objects]
            attempted.append(ids)
            try:
                response = client.post(url, json={"objects": objects}, headers=headers)
            except httpx.TransportError:
                return
            if response.status_code == 202 and response.json()["success_count"] == ENVELOPE:
                acked.append(ids)


@pytest.mark.parametrize("kill_after", [3, 17, 41], ids=lambda n: f"kill after {n} acks")
def test_kill_9_loses_no_acknowledged_write(
    data_dir: Path, live_server_factory: Callable[[Path], LiveServer], kill_after: int
) -> None:
    """Two writers post until the node is killed with SIGKILL; then every acked object is
    there, and every in-flight envelope is either wholly stored or wholly absent."""
    secret, members = _setup(data_dir)
    server = live_server_factory(data_dir)
    url = f"{server.url}/taxii2/root/collections/{members}/objects/"
    acked: list[list[str]] = []
    attempted: list[list[str]] = []
    stop = threading.Event()
    writers = [
        threading.Thread(target=_writer, args=(url, secret, acked, attempted, stop))
        for _ in range(2)
    ]
    for thread in writers:
        thread.start()
    for _ in range(20_000):  # wait, bounded, until enough writes were acknowledged
        if len(acked) >= kill_after or not any(t.is_alive() for t in writers):
            break
        threading.Event().wait(0.005)
    server.kill()
    stop.set()
    for thread in writers:
        thread.join(timeout=30)
    assert len(acked) >= kill_after

    with open_node(data_dir) as node:
        every = Visibility(frozenset(c.id for c in node.store.list_collections()))
        probe = ObjectFilter(versions=VersionFilter(last=False, all=True))
        stored = {row.stix_id for row in node.store.query_objects(every, probe, None, 10**6)}
    for ids in acked:
        assert set(ids) <= stored
    for ids in attempted:
        present = len(set(ids) & stored)
        assert present in (0, len(ids)), "an envelope was half written"
