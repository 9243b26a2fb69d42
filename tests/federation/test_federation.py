"""Federation with several nodes in this process: each a real server, syncing over HTTP."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tabadol.config import Settings
from tabadol.domain.errors import Forbidden
from tabadol.domain.keys import KeyPurpose
from tabadol.domain.sealed import wrapper_id
from tabadol.domain.tlp import TLP
from tabadol.node import keyring
from tabadol.usecases.membership import sharing_groups
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.trust import keys

from ..federation.nodes import FedNode, federation, note, wait_until


@pytest.fixture
def trio(tmp_path: Path) -> Iterator[dict[str, FedNode]]:
    yield from federation(tmp_path, {"A": ["Org A1"], "B": ["Org B1"], "C": ["Org C1"]})


def _knows(node: FedNode, org: str) -> bool:
    return node.node.store.org_by_name(org) is not None


def test_each_node_holds_exactly_what_its_orgs_may_read(trio: dict[str, FedNode]) -> None:
    a, b, c = trio["A"], trio["B"], trio["C"]
    wait_until(lambda: _knows(a, "Org B1") and _knows(b, "Org A1"), "the directories")
    sharing_groups.create_group(a.node, OPERATOR, "AB group", "Org A1", break_glass="test setup")
    sharing_groups.add_group_member(
        a.node, OPERATOR, "AB group", "Org B1", break_glass="test setup"
    )
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
    sealed = wrapper_id(red["id"])  # a RED item travels as its tabadol-sealed item
    wait_until(lambda: everyone | {group["id"], sealed} <= b.received(), "B converges")
    wait_until(lambda: everyone <= c.received(), "C converges")
    assert wrapper_id(own["id"]) not in b.received() | c.received()
    assert b.received() == everyone | {group["id"], sealed}
    # the group is not even named to C: neither A's directory nor B's relay of it shows it
    assert c.node.store.group_by_name("AB group") is None
    assert c.received() == everyone
    opened = {o["id"]: o for o in b.read("Org B1", "AB group")}
    assert opened[red["id"]]["content"] == "RED for the working group"
    # it travelled and is stored as ciphertext: B's files never hold the plaintext
    stored = b"".join(p.read_bytes() for p in b.data.glob("tabadol.db*"))
    assert b"RED for the working group" not in stored
    assert b"for the working group" in stored  # the AMBER control item is in clear


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[dict[str, FedNode]]:
    yield from federation(tmp_path, {"A": ["Org A1"], "B": ["Org B1"]})


def _versions(node: FedNode, stix_id: str) -> list[int]:
    conn = node.node.store._db.reader()  # type: ignore[attr-defined]
    rows = conn.execute(
        "SELECT version_us FROM objects WHERE stix_id = ? ORDER BY version_us", (stix_id,)
    )
    return [row[0] for row in rows]


def test_new_versions_and_deletions_travel_like_data(pair: dict[str, FedNode]) -> None:
    a, b = pair["A"], pair["B"]
    first = note("first version")
    a.publish("Org A1", "members", [first])
    wait_until(lambda: first["id"] in b.received(), "the first version at B")
    second = {**first, "modified": "2099-01-01T00:00:00.000Z", "content": "second version"}
    a.publish("Org A1", "members", [second])
    wait_until(lambda: len(_versions(b, first["id"])) == 2, "the second version at B")
    (latest,) = [o for o in b.read("Org B1", "members") if o["id"] == first["id"]]
    assert latest["content"] == "second version"
    url = f"{a.url}/taxii2/root/collections/{a.collection('Org A1', 'members')}/objects/"
    gone = httpx.delete(f"{url}{first['id']}/", headers=a.auth("Org A1"))
    assert gone.status_code == 200, gone.text
    wait_until(lambda: _versions(b, first["id"]) == [], "the deletion at B")
    assert all(o["id"] != first["id"] for o in b.read("Org B1", "members"))


def test_a_node_down_for_a_while_catches_up_exactly(pair: dict[str, FedNode]) -> None:
    """B stops; A publishes 300 items in three envelopes; B comes back and holds each once."""
    a, b = pair["A"], pair["B"]
    wait_until(lambda: _knows(b, "Org A1"), "the directory")
    b.stop()
    sent = [note(f"while B was down {i}") for i in range(300)]
    for start in range(0, 300, 100):
        a.publish("Org A1", "members", sent[start : start + 100])
    b.start()
    wait_until(lambda: {o["id"] for o in sent} <= b.received(), "B catches up")
    conn = b.node.store._db.reader()  # type: ignore[attr-defined]
    counts = conn.execute(
        "SELECT count(*), count(DISTINCT stix_id) FROM objects WHERE via_peer IS NOT NULL"
    ).fetchone()
    assert counts == (300, 300)
    peer = b.node.store.peer_by_node_id(a.card().node_id)
    assert peer is not None
    assert peer.failures == 0


def test_green_items_are_relayed_and_amber_ones_are_not(tmp_path: Path) -> None:
    """A and B do not peer; C peers with both. A's GREEN item reaches B through C; its AMBER
    item does not (only its author's node delivers it), and B learns A's org from C's relay."""
    layout = {"A": ["Org A1"], "B": ["Org B1"], "C": ["Org C1"]}
    nodes = {name: FedNode(name, tmp_path / name).setup(*orgs) for name, orgs in layout.items()}
    for node in nodes.values():
        node.start()
    a, b, c = nodes["A"], nodes["B"], nodes["C"]
    try:
        for x, y in ((a, c), (c, a), (b, c), (c, b)):
            x.peer_with(y)
        wait_until(lambda: _knows(b, "Org A1"), "B learns A's org through C")
        green = note("green from A")
        amber = note("amber from A", object_marking_refs=[TLP.AMBER.marking_id])
        a.publish("Org A1", "members", [green, amber])
        wait_until(lambda: green["id"] in b.received(), "the GREEN item at B via C")
        wait_until(lambda: amber["id"] in c.received(), "the AMBER item at C")
        time.sleep(0.5)
        assert amber["id"] not in b.received()
        relayed = next(o for o in b.read("Org B1", "members") if o["id"] == green["id"])
        assert relayed["content"] == "green from A"
    finally:
        for node in nodes.values():
            node.stop()


def test_member_applications_follow_the_stream_and_resume(pair: dict[str, FedNode]) -> None:
    """`/api/v1/stream` gives a member what it may read as it is stored, with positions it
    resumes from."""
    a = pair["A"]
    items = [note(f"live {i}") for i in range(3)]
    hidden = note("A1 only")
    a.publish("Org A1", "Org A1", [hidden])
    got: list[dict[str, Any]] = []
    last_id = "0"
    with httpx.stream(
        "GET", f"{a.url}/api/v1/stream", headers=a.auth("Org A1"), timeout=10
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        a.publish("Org A1", "members", items[:2])
        for line in response.iter_lines():
            if line.startswith("id:"):
                last_id = line[3:].strip()
            if line.startswith("data:"):
                got += [e for e in orjson.loads(line[5:])["changes"] if e["op"] == "put"]
            if {i["id"] for i in items[:2]} <= {e["id"] for e in got}:
                break
    # A1's own channel is A1's to read: the feed names the stored sealed item, opened for A1
    (entry,) = [e for e in got if e["id"] == wrapper_id(hidden["id"])]
    assert entry["object"]["content"] == "A1 only"
    a.publish("Org A1", "members", [items[2]])
    resumed = httpx.get(
        f"{a.url}/api/v1/changes", params={"after": last_id}, headers=a.auth("Org A1")
    ).json()
    assert [e["id"] for e in resumed["changes"] if e["id"].startswith("note")] == [items[2]["id"]]


def test_a_group_that_gains_a_member_elsewhere_sends_its_backlog(
    pair: dict[str, FedNode],
) -> None:
    """Items posted to a group before B1 joined reach B once it joins (as B1 could read them
    on A); the main cursor had gone past them, so B reads the new channel from its start."""
    a, b = pair["A"], pair["B"]
    wait_until(lambda: _knows(a, "Org B1"), "A knows B1")
    sharing_groups.create_group(a.node, OPERATOR, "Later group", "Org A1", break_glass="test setup")
    before = [note(f"before B1 joined {i}") for i in range(5)]
    a.publish("Org A1", "Later group", before)
    marker = note("after, in members")
    a.publish("Org A1", "members", [marker])
    wait_until(lambda: marker["id"] in b.received(), "B is past the group items")
    assert not {o["id"] for o in before} & b.received()
    sharing_groups.add_group_member(
        a.node, OPERATOR, "Later group", "Org B1", break_glass="test setup"
    )
    wait_until(lambda: {o["id"] for o in before} <= b.received(), "the backlog at B")
    wait_until(lambda: len(b.read("Org B1", "Later group")) == 5, "B1 reads the group at B")


def test_key_rotation_and_revocation_reach_the_peers(pair: dict[str, FedNode]) -> None:
    """A rotates A1's keys and revokes the old signing key: B learns both from A's signed
    directory, so what A1 signs with its new key verifies at B, and the old key is revoked
    there too."""
    a, b = pair["A"], pair["B"]
    wait_until(lambda: _knows(b, "Org A1"), "B knows A1")
    org = a.node.store.org_by_name("Org A1")
    assert org is not None
    old = keyring.current_key(a.node, org, KeyPurpose.SIGN)
    assert old is not None
    keys.rotate_keys(a.node, OPERATOR, org)
    keys.revoke_key(a.node, OPERATOR, old.key_id, "laptop stolen")
    after = note("signed with the new key")
    a.publish("Org A1", "members", [after])
    wait_until(lambda: after["id"] in b.received(), "the item signed with the new key")

    def revoked_at_b() -> bool:
        copy = b.node.store.keys_by_id([old.key_id]).get(old.key_id)
        return copy is not None and copy.revoked_at is not None

    wait_until(revoked_at_b, "the revocation at B")
    copy = b.node.store.keys_by_id([old.key_id])[old.key_id]
    assert copy.revoked_reason == "laptop stolen"
    remote = b.node.store.org_by_name("Org A1")
    assert remote is not None
    current = keyring.current_key(b.node, remote, KeyPurpose.SIGN)
    assert current is not None
    assert current.key_id != old.key_id
    with pytest.raises(Forbidden):  # B's operator cannot touch the keys of A's org
        keys.revoke_key(b.node, OPERATOR, current.key_id, "not B's to revoke")


def test_an_open_member_stream_follows_access_as_it_changes(tmp_path: Path) -> None:
    """A2 leaves the group while its stream is open: the group's next item is not sent to it,
    the members channel still is. Positions out of range are a 400, not a 500."""
    a = FedNode("A", tmp_path / "A").setup("Org A1", "Org A2").start()
    try:
        sharing_groups.create_group(a.node, OPERATOR, "G", "Org A1", break_glass="test setup")
        sharing_groups.add_group_member(a.node, OPERATOR, "G", "Org A2", break_glass="test setup")
        got: list[str] = []
        with httpx.stream(
            "GET", f"{a.url}/api/v1/stream", headers=a.auth("Org A2"), timeout=10
        ) as response:
            first = note("to the group, A2 still in it")
            a.publish("Org A1", "G", [first])
            lines = response.iter_lines()
            for line in lines:
                if line.startswith("data:"):
                    got += [e["id"] for e in orjson.loads(line[5:])["changes"]]
                if first["id"] in got:
                    break
            sharing_groups.remove_group_member(
                a.node, OPERATOR, "G", "Org A2", break_glass="test setup"
            )
            hidden = note("to the group, after A2 left")
            shared = note("to every member")
            a.publish("Org A1", "G", [hidden])
            a.publish("Org A1", "members", [shared])
            for line in lines:
                if line.startswith("data:"):
                    body = orjson.loads(line[5:])
                    assert "head" not in body  # a member is not shown the node's head
                    got += [e["id"] for e in body["changes"]]
                if shared["id"] in got:
                    break
        assert hidden["id"] not in got
        for path in ("/api/v1/changes", "/api/v1/stream"):
            huge = httpx.get(f"{a.url}{path}", params={"after": 10**20}, headers=a.auth("Org A2"))
            assert huge.status_code == 400, huge.text
    finally:
        a.stop()


def test_one_reader_holds_a_few_streams_at_most(tmp_path: Path) -> None:
    """A token opening stream after stream gets a 429 beyond the cap, and a slot is free
    again once one of its streams is closed."""
    a = FedNode("A", tmp_path / "A").setup("Org A1").start()
    try:
        with contextlib.ExitStack() as stack:
            for _ in range(4):
                opened = stack.enter_context(
                    httpx.stream("GET", f"{a.url}/api/v1/stream", headers=a.auth("Org A1"))
                )
                assert opened.status_code == 200
            refused = httpx.get(f"{a.url}/api/v1/stream", headers=a.auth("Org A1"))
            assert refused.status_code == 429
        wait_until(lambda: _status(a) == 200, "a slot is free after the streams closed", timeout=10)
    finally:
        a.stop()


def _status(a: FedNode) -> int:
    with httpx.stream("GET", f"{a.url}/api/v1/stream", headers=a.auth("Org A1")) as response:
        return response.status_code


def test_nodes_on_postgresql_sync_like_nodes_on_sqlite(tmp_path: Path) -> None:
    """Two nodes whose databases are PostgreSQL schemas: the directory, a group spanning
    them, members items and a RED group item (sealed, opened at B for B1) all arrive."""
    from ..pg import database_url, fresh_schema

    nodes = [
        FedNode(name, tmp_path / name).setup(
            org, settings=Settings(database_url=database_url(), database_schema=fresh_schema())
        )
        for name, org in (("A", "Org A1"), ("B", "Org B1"))
    ]
    a, b = (node.start() for node in nodes)
    try:
        a.peer_with(b)
        b.peer_with(a)
        wait_until(lambda: _knows(a, "Org B1"), "A knows B1")
        sharing_groups.create_group(a.node, OPERATOR, "G", "Org A1", break_glass="test setup")
        sharing_groups.add_group_member(a.node, OPERATOR, "G", "Org B1", break_glass="test setup")
        wait_until(lambda: b.node.store.group_by_name("G") is not None, "the group at B")
        items = [note(f"on PostgreSQL {i}") for i in range(50)]
        red = note("RED on PostgreSQL", object_marking_refs=[TLP.RED.marking_id])
        a.publish("Org A1", "members", items)
        a.publish("Org A1", "G", [red])
        arrived = {o["id"] for o in items} | {wrapper_id(red["id"])}
        wait_until(lambda: arrived <= b.received(), "B converges")
        assert [o["content"] for o in b.read("Org B1", "G")] == ["RED on PostgreSQL"]
    finally:
        for node in nodes:
            node.stop()
