"""Three tabadol nodes as real processes on loopback ports: kill -9 in the middle of a sync,
a partition between two of them, and in the end every node holds exactly what its orgs are
entitled to, each item once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tabadol.domain.model import Role
from tabadol.domain.tlp import TLP
from tabadol.node.node import init_node, open_node
from tabadol.usecases.federation import peers
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR

from ..conftest import LiveServer, free_port
from ..federation.nodes import TAXII, note, wait_until


class ProcessNode:
    def __init__(self, root: Path, name: str, org: str) -> None:
        self.name, self.org = name, org
        self.server = LiveServer(root / name, free_port())
        init_node(self.server.data_dir)
        with open_node(self.server.data_dir) as node:
            organizations.add_org(node, org)
            _, self.token = api_tokens.create_token(node, OPERATOR, org, Role.ADMIN.value)
            self.card = peers.node_card(node)

    def peer_with(self, other: ProcessNode) -> None:
        with open_node(self.server.data_dir) as node:
            peers.add_peer(node, OPERATOR, other.server.url, other.card.node_key)

    def cli(self, *args: str) -> None:
        command = [sys.executable, "-m", "tabadol", *args, "--data", str(self.server.data_dir)]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def publish(self, title: str, objects: list[dict[str, object]]) -> None:
        auth = {"Authorization": f"Bearer {self.token}", "Accept": TAXII}
        listing = httpx.get(f"{self.server.url}/taxii2/root/collections/", headers=auth).json()
        (cid,) = [c["id"] for c in listing["collections"] if c["title"] == title]
        response = httpx.post(
            f"{self.server.url}/taxii2/root/collections/{cid}/objects/",
            json={"objects": objects},
            headers={**auth, "Content-Type": TAXII},
            timeout=60,
        )
        assert response.status_code == 202
        assert response.json()["failure_count"] == 0

    def received(self) -> tuple[set[str], int]:
        """The ids that came from peers, and how many rows they take (read-only, from the
        database file of the running process)."""
        path = self.server.data_dir / "tabadol.db"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT stix_id FROM objects WHERE via_peer IS NOT NULL").fetchall()
        return {r[0] for r in rows}, len(rows)


@pytest.fixture
def trio(tmp_path: Path) -> Iterator[dict[str, ProcessNode]]:
    nodes = {n: ProcessNode(tmp_path, n, f"Org {n}1") for n in "ABC"}
    for a in nodes.values():
        for b in nodes.values():
            if a is not b:
                a.peer_with(b)
    for node in nodes.values():
        node.server.start()
    try:
        yield nodes
    finally:
        for node in nodes.values():
            node.server.stop()


def test_kill_and_partition_then_convergence(trio: dict[str, ProcessNode]) -> None:
    a, b, c = trio["A"], trio["B"], trio["C"]
    own = note("A1 only")
    a.publish("Org A1", [own])
    # kill -9 B while it is taking in a burst of 2,000 items (A still publishing, 100 per
    # envelope); B restarts and must end with each exactly once
    batch = [note(f"burst {i}") for i in range(2000)]
    publisher = threading.Thread(
        target=lambda: [a.publish("members", batch[i : i + 100]) for i in range(0, 2000, 100)]
    )
    publisher.start()
    wait_until(lambda: len(b.received()[0]) >= 100, "B has started taking the burst in")
    b.server.kill()
    killed_with = len(b.received()[0])
    publisher.join(60)
    b.server.start()
    ids = {o["id"] for o in batch}
    wait_until(lambda: ids <= b.received()[0], "B recovers after kill -9", timeout=60)
    wait_until(lambda: ids <= c.received()[0], "C has the burst", timeout=60)
    assert killed_with < 2000  # the kill did land in the middle of the sync
    # a partition between A and B (both sides pause): GREEN still reaches B through C,
    # AMBER waits for the direct path
    a.cli("peer", "pause", b.card.node_id)
    b.cli("peer", "pause", a.card.node_id)
    green = note("green during the partition")
    amber = note("amber during the partition", object_marking_refs=[TLP.AMBER.marking_id])
    a.publish("members", [green, amber])
    wait_until(lambda: green["id"] in b.received()[0], "GREEN via C", timeout=30)
    assert amber["id"] not in b.received()[0]
    a.cli("peer", "resume", b.card.node_id)
    b.cli("peer", "resume", a.card.node_id)
    wait_until(lambda: amber["id"] in b.received()[0], "AMBER after healing", timeout=30)
    expected = ids | {green["id"], amber["id"]}
    for node in (b, c):
        received, _rows = node.received()
        notes = {i for i in received if i.startswith("note--")}
        assert notes == expected, node.name
        assert own["id"] not in received
    assert b.received()[1] == len(b.received()[0])  # nothing twice
