"""Federation with several nodes in this process: each a real server, syncing over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tabadol.domain.tlp import TLP
from tabadol.services import directory
from tabadol.services.directory import OPERATOR

from .federation import FedNode, federation, note, wait_until


@pytest.fixture
def trio(tmp_path: Path) -> Iterator[dict[str, FedNode]]:
    yield from federation(tmp_path, {"A": ["Org A1"], "B": ["Org B1"], "C": ["Org C1"]})


def _knows(node: FedNode, org: str) -> bool:
    return node.node.store.org_by_name(org) is not None


def test_each_node_holds_exactly_what_its_orgs_may_read(trio: dict[str, FedNode]) -> None:
    a, b, c = trio["A"], trio["B"], trio["C"]
    wait_until(lambda: _knows(a, "Org B1") and _knows(b, "Org A1"), "the directories")
    directory.create_group(a.node, OPERATOR, "AB group", "Org A1")
    directory.add_group_member(a.node, OPERATOR, "AB group", "Org B1")
    wait_until(lambda: b.node.store.group_by_name("AB group") is not None, "the group at B")
    members = note("GREEN for every member")
    public = note("CLEAR for everyone")
    own = note("A1 only")
    group = note("for the working group")
    red = note("RED for the working group", object_marking_refs=[TLP.RED.marking_id])
    a.publish("Org A1", "members", [members])
    a.publish("Org A1", "public", [public])
    a.publish("Org A1", "Org A1", [own])
    a.publish("Org A1", "AB group", [group, red])
    everyone = {members["id"], public["id"]}
    wait_until(lambda: everyone | {group["id"], red["id"]} <= b.received(), "B converges")
    wait_until(lambda: everyone <= c.received(), "C converges")
    assert own["id"] not in b.received() | c.received()
    assert b.received() == everyone | {group["id"], red["id"]}
    assert c.received() == everyone
    opened = {o["id"]: o for o in b.read("Org B1", "AB group")}
    assert opened[red["id"]]["content"] == "RED for the working group"
