"""The demo as a federation: three nodes, each hosting one member, peered with each other;
the working group spans two of them; each member publishes on its own node, and the reports
flow to the nodes entitled to them once the nodes run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tabadol.config import load_settings
from tabadol.demo.community import (
    DEMO_BREAK_GLASS,
    GROUP,
    ORGS,
    DemoToken,
    channel_of,
    plan,
    publish_as,
)
from tabadol.domain.model import Role
from tabadol.domain.timestamps import format_us
from tabadol.node.node import init_node, open_node
from tabadol.usecases.federation import own_directory, peer_directory, peers
from tabadol.usecases.membership import api_tokens, organizations, sharing_groups
from tabadol.usecases.membership.lookup import find_org, require_org
from tabadol.usecases.membership.principals import OPERATOR

BASE_PORT = 8470


@dataclass(frozen=True)
class DemoNode:
    org: str
    data: Path
    port: int


def demo_nodes(root: Path, base_port: int = BASE_PORT) -> list[DemoNode]:
    """The three nodes' data directories (under `root`) and ports, one per member."""
    slugs = ("pardis", "rafidain", "northwind")
    return [
        DemoNode(org, root / slug, base_port + i)
        for i, (org, slug) in enumerate(zip(ORGS, slugs, strict=True))
    ]


def populate_federation(root: Path, base_port: int = BASE_PORT) -> list[DemoNode]:
    """Create the three nodes once (idempotent): orgs, peers, directories exchanged, the
    working group, and each member's content on its own node."""
    nodes = demo_nodes(root, base_port)
    if all((n.data / "keys").exists() for n in nodes):
        return nodes
    for n in nodes:
        if not (n.data / "keys").exists():
            settings = load_settings(n.data, node_name=f"tabadol demo: {n.org}", port=n.port)
            init_node(n.data, settings)
        with open_node(n.data) as node:
            if find_org(node, n.org) is None:
                organizations.add_org(node, n.org)
    cards = {}
    for n in nodes:
        with open_node(n.data) as node:
            cards[n.org] = peers.node_card(node)
    for n in nodes:
        with open_node(n.data) as node:
            known = {p.node_id for p in peers.list_peers(node, OPERATOR)}
            for other in nodes:
                if other is not n and cards[other.org].node_id not in known:
                    url = f"http://127.0.0.1:{other.port}"
                    peers.add_peer(node, OPERATOR, url, cards[other.org].node_key)
    _exchange_directories(nodes)  # the nodes learn who the others host
    pardis, rafidain = nodes[0], nodes[1]
    with open_node(pardis.data) as node:
        sharing_groups.create_group(node, OPERATOR, GROUP, pardis.org)
        sharing_groups.add_group_member(node, OPERATOR, GROUP, rafidain.org)
    _exchange_directories(nodes)  # and the group
    by_org = {n.org: n for n in nodes}
    with open_node(nodes[0].data) as node:
        now = format_us(node.clock())
    for org_name, channel, objects in plan(now):
        with open_node(by_org[org_name].data) as node:
            org = require_org(node, org_name)
            publish_as(node, org, channel_of(node, org, channel), objects)
    return nodes


def _exchange_directories(nodes: list[DemoNode]) -> None:
    """What the first sync does over HTTP, done here before the nodes run: each node's signed
    directory (with the groups it shares with that peer), taken in by the others."""
    ids = {}
    for n in nodes:
        with open_node(n.data) as node:
            ids[n.org] = node.node_id
    for reader in nodes:
        for source in nodes:
            if source is reader:
                continue
            with open_node(source.data) as node:
                asking = peers.require_peer(node, ids[reader.org])
                document = own_directory.document_for(node, asking)
            with open_node(reader.data) as node:
                peer = peers.require_peer(node, ids[source.org])
                peer_directory.take_in(node, peer, document)


def federation_tokens(nodes: list[DemoNode]) -> list[tuple[DemoNode, DemoToken]]:
    """A fresh admin token for each member, on its own node (secrets are shown once)."""
    found = []
    for n in nodes:
        with open_node(n.data) as node:
            _, secret = api_tokens.create_token(
                node, OPERATOR, n.org, Role.ADMIN.value, "demo", break_glass=DEMO_BREAK_GLASS
            )
        found.append((n, DemoToken(n.org, Role.ADMIN.value, secret)))
    return found
