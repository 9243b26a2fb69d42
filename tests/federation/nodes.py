"""Several tabadol nodes in one test process: each a real uvicorn server on a loopback port,
with its own data directory, its orgs, and its peers; helpers to publish and to wait until
the federation converges."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tabadol.config import Settings
from tabadol.domain.model import Role
from tabadol.node.node import Node, init_node, open_node
from tabadol.usecases.federation import peers
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.web.app import create_app, end_streams, server

from ..conftest import free_port

TAXII = "application/taxii+json;version=2.1"
WAIT_S = 20.0


@dataclass
class FedNode:
    """One node of a test federation, served in a thread of this process."""

    name: str
    data: Path
    port: int = field(default_factory=free_port)
    tokens: dict[str, str] = field(default_factory=dict)  # org name -> publisher token
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def node(self) -> Node:
        """The server's own Node (its store, clock and change signal)."""
        assert self._server is not None
        app = self._server.config.app
        node: Node = app.state.node
        return node

    def setup(self, *orgs: str, settings: Settings | None = None) -> FedNode:
        init_node(self.data, settings)
        with open_node(self.data) as node:
            for org in orgs:
                organizations.add_org(node, org)
                _, secret = api_tokens.create_token(node, OPERATOR, org, Role.ADMIN.value)
                self.tokens[org] = secret
        return self

    def start(self) -> FedNode:
        self._server = server(
            create_app(lambda: open_node(self.data)), "127.0.0.1", self.port, "warning"
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + WAIT_S
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"node {self.name} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            end_streams(self._server.config.app)
            self._server.should_exit = True
            self._thread.join(WAIT_S)
            self._server = self._thread = None

    def card(self) -> peers.NodeCard:
        with open_node(self.data) as node:
            return peers.node_card(node)

    def peer_with(self, other: FedNode) -> None:
        """Register `other` as a peer (the server picks it up within a second)."""
        card = other.card()
        if self._server is not None:
            peers.add_peer(self.node, OPERATOR, other.url, card.node_key)
        else:
            with open_node(self.data) as node:
                peers.add_peer(node, OPERATOR, other.url, card.node_key)

    def auth(self, org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[org]}", "Accept": TAXII}

    def collection(self, org: str, title: str) -> str:
        response = httpx.get(f"{self.url}/taxii2/root/collections/", headers=self.auth(org))
        response.raise_for_status()
        for item in response.json().get("collections", []):
            if item["title"] == title:
                return str(item["id"])
        raise KeyError(f"{org} sees no collection {title!r} on {self.name}")

    def publish(self, org: str, title: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
        url = f"{self.url}/taxii2/root/collections/{self.collection(org, title)}/objects/"
        headers = {**self.auth(org), "Content-Type": TAXII}
        response = httpx.post(url, json={"objects": objects}, headers=headers, timeout=30)
        assert response.status_code == 202, response.text
        status: dict[str, Any] = response.json()
        assert status["failure_count"] == 0, status
        return status

    def read(self, org: str, title: str, **params: str) -> list[dict[str, Any]]:
        """Every object `org` reads in the collection titled `title` here (all pages)."""
        url = f"{self.url}/taxii2/root/collections/{self.collection(org, title)}/objects/"
        found: list[dict[str, Any]] = []
        query = dict(params)
        for _ in range(1000):
            response = httpx.get(url, params=query, headers=self.auth(org), timeout=30)
            assert response.status_code == 200, response.text
            body = response.json()
            found += body.get("objects", [])
            if not body.get("more"):
                return found
            query["next"] = body["next"]
        raise AssertionError("too many pages")

    def received(self) -> set[str]:
        """The ids of every object that came to this node from a peer, whatever the channel:
        the operator's view of the database file, not a read path."""
        conn = self.node.store._db.reader()  # type: ignore[attr-defined]
        rows = conn.execute("SELECT DISTINCT stix_id FROM objects WHERE via_peer IS NOT NULL")
        return {row[0] for row in rows}


def note(content: str, **extra: Any) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    obj: dict[str, Any] = {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "content": content,
        "object_refs": [f"indicator--{uuid.uuid4()}"],
    }
    obj.update(extra)
    return obj


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT_S) -> float:
    """Poll `check` until it holds; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def federation(tmp: Path, layout: dict[str, list[str]]) -> Iterator[dict[str, FedNode]]:
    """Nodes named by `layout` (node name -> the orgs it hosts), started and fully meshed."""
    nodes = {name: FedNode(name, tmp / name).setup(*orgs) for name, orgs in layout.items()}
    for node in nodes.values():
        node.start()
    try:
        for a in nodes.values():
            for b in nodes.values():
                if a is not b:
                    a.peer_with(b)
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()
