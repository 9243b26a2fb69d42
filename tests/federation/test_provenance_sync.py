"""Provenance across nodes: an item synced from a peer names the node it was published on
(its author's home node, also when another node relayed it) and keeps its audience."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tabadol.domain.extensions import AUDIENCE_EXTENSION, PROVENANCE_EXTENSION
from tabadol.usecases.membership import sharing_groups
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.trust import key_directory
from tabadol.usecases.trust.verify import verify_all

from ..conftest import assert_strict_stix
from ..federation.nodes import FedNode, note, wait_until


def _knows(node: FedNode, org: str) -> bool:
    return node.node.store.org_by_name(org) is not None


def _one(node: FedNode, org: str, title: str, stix_id: str) -> dict[str, Any]:
    return next(o for o in node.read(org, title) if o["id"] == stix_id)


def test_synced_items_name_their_origin_node_and_keep_their_audience(tmp_path: Path) -> None:
    """A and B do not peer, C peers with both. A's GREEN item reaches B through C and names
    A's node (not C's) and A's org; A's group item at C names the group and A's node; what
    a peer's feed says under those ids is the origin's statement, re-made by each node."""
    layout = {"A": ["Org A1"], "B": ["Org B1"], "C": ["Org C1"]}
    nodes = {name: FedNode(name, tmp_path / name).setup(*orgs) for name, orgs in layout.items()}
    for node in nodes.values():
        node.start()
    a, b, c = nodes["A"], nodes["B"], nodes["C"]
    try:
        for x, y in ((a, c), (c, a), (b, c), (c, b)):
            x.peer_with(y)
        wait_until(lambda: _knows(b, "Org A1") and _knows(a, "Org C1"), "the directories")
        group = sharing_groups.create_group(
            a.node, OPERATOR, "AC group", "Org A1", break_glass="test setup"
        )
        sharing_groups.add_group_member(
            a.node, OPERATOR, "AC group", "Org C1", break_glass="test setup"
        )
        wait_until(lambda: c.node.store.group_by_name("AC group") is not None, "C knows the group")
        green = note("green from A")
        grouped = note(f"for the group {uuid.uuid4()}")
        a.publish("Org A1", "members", [green])
        a.publish("Org A1", "AC group", [grouped])
        wait_until(lambda: green["id"] in b.received(), "the GREEN item at B via C")
        wait_until(lambda: grouped["id"] in c.received(), "the group item at C")
        a_identity = a.node.store.org_by_name("Org A1")
        assert a_identity is not None
        relayed = _one(b, "Org B1", "members", green["id"])
        assert relayed["extensions"][PROVENANCE_EXTENSION] == {
            "extension_type": "property-extension",
            "publisher_ref": a_identity.identity_id,
            "node": a.node.node_id,
        }
        assert relayed["extensions"][AUDIENCE_EXTENSION]["kind"] == "members"
        at_c = _one(c, "Org C1", "AC group", grouped["id"])
        assert at_c["extensions"][PROVENANCE_EXTENSION]["node"] == a.node.node_id
        audience = at_c["extensions"][AUDIENCE_EXTENSION]
        assert (audience["kind"], audience["group"], audience["group_id"], audience["tlp"]) == (
            "group",
            "AC group",
            group.uuid,
            "TLP:AMBER",
        )
        assert_strict_stix([relayed, at_c])
        directory = key_directory.key_directory(b.node)
        assert all(v.ok for v in verify_all([relayed], directory))
    finally:
        for node in nodes.values():
            node.stop()
