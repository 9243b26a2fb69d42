"""The audit head a member sees reveals nothing its change feed does not (issue 14, finding
5): between two boundaries of the `audit_head_interval` schedule it stays the same bytes,
whatever other orgs do in their private channels; at the next boundary it moves, and it
verifies against the log like any head."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tabadol.domain.tlp import TLP
from tabadol.node.node import Node, open_node
from tabadol.usecases.trust import audit
from tabadol.web.app import create_app
from tabadol.web.media import TAXII_21

from ..conftest import START_US, Community, build_community, make_indicator

INTERVAL_S = 60
HEAD = "/api/v1/audit/head"


class JumpClock:
    """A clock that steps 1 ms a reading and can be moved on to a later moment."""

    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1000
        return self.now

    def jump_to(self, moment: int) -> None:
        assert moment > self.now
        self.now = moment


@pytest.fixture
def clock() -> JumpClock:
    return JumpClock(START_US)


@pytest.fixture
def node(data_dir: Path, clock: JumpClock) -> Iterator[Node]:
    with open_node(data_dir, clock=clock, audit_head_interval=INTERVAL_S) as opened:
        yield opened


@pytest.fixture
def world(node: Node, clock: JumpClock) -> Iterator[tuple[TestClient, Community]]:
    community = build_community(node)
    clock.jump_to(START_US + INTERVAL_S * 1_000_000 + 5_000_000)  # into the second interval
    with TestClient(create_app(lambda: node), raise_server_exceptions=False) as client:
        yield client, community


def _private_write_and_read(client: TestClient, community: Community) -> None:
    """Org A publishes a RED item into its own channel and reads it: audit entries (publish,
    restricted read) that org C's change feed never shows."""
    url = f"/taxii2/root/collections/{community.collections['Org A']}/objects/"
    posted = client.post(
        url,
        json={"objects": [make_indicator(object_marking_refs=[TLP.RED.marking_id])]},
        headers={**community.auth("A"), "Content-Type": TAXII_21},
    )
    assert posted.status_code == 202
    assert client.get(url, headers=community.auth("A")).status_code == 200


def test_a_member_sees_no_head_move_for_writes_it_cannot_see(
    world: tuple[TestClient, Community], clock: JumpClock
) -> None:
    """Org C polls its feed and the head, org A writes privately, org C polls again: the feed
    shows nothing new and the head is the same bytes; at the next boundary the head has
    grown and verifies."""
    client, community = world
    node, member = community.node, community.auth("C", "reader")
    feed_before = client.get("/api/v1/changes", headers=member).json()
    head_before = client.get(HEAD, headers=member)
    size_before = node.store.audit_size()
    _private_write_and_read(client, community)
    assert node.store.audit_size() > size_before  # the log did grow
    assert client.get("/api/v1/changes", headers=member).json() == feed_before
    head_after = client.get(HEAD, headers=member)
    assert head_after.status_code == head_before.status_code == 200
    assert head_after.content == head_before.content
    clock.jump_to(START_US + 2 * INTERVAL_S * 1_000_000 + 1)
    moved = client.get(HEAD, headers=member).json()
    assert moved["tree_size"] == node.store.audit_size() > head_before.json()["tree_size"]
    assert moved["at"] == START_US + 2 * INTERVAL_S * 1_000_000
    assert audit.verify_log(node, [head_before.json(), moved]).ok


def test_the_operator_sees_the_newest_head(world: tuple[TestClient, Community]) -> None:
    """The operator (who holds the whole log anyway) gets the head of every entry."""
    client, community = world
    _private_write_and_read(client, community)
    head = client.get(HEAD, headers=community.auth("operator")).json()
    assert head["tree_size"] == community.node.store.audit_size()


def test_before_the_first_boundary_a_member_is_told_when(
    node: Node, clock: JumpClock, tmp_path: Path
) -> None:
    """A node younger than one interval has no scheduled head yet: a 404 saying when."""
    community = build_community(node)
    with TestClient(create_app(lambda: node), raise_server_exceptions=False) as client:
        response = client.get(HEAD, headers=community.auth("C", "reader"))
    assert response.status_code == 404
    assert "the first is made at 2026-01-01T00:01:00" in response.json()["description"]
