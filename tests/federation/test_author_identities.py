"""Authors resolve on every node that holds their items: an org's identity (its directory
record, signed by its home node's key) comes with the home node's signed directory and is
served by id, as that node signed it, wherever the org's items are read — never stored as an
item, never sent back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from taxii2client.v21 import Collection

from tabadol.domain.extensions import DIRECTORY_EXTENSION, PROVENANCE_EXTENSION
from tabadol.domain.model import Role
from tabadol.node.node import open_node
from tabadol.usecases.federation.own_directory import own_document
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.trust import keys
from tabadol.usecases.trust.key_directory import key_directory
from tabadol.usecases.trust.verify import verify_all

from ..conftest import assert_strict_stix
from .nodes import FedNode, note, wait_until

GUEST = "Guest B"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[dict[str, FedNode]]:
    """A hosts A1 and A2; B hosts the member B1 and a guest, whose token only reads."""
    a = FedNode("A", tmp_path / "A").setup("Org A1", "Org A2")
    b = FedNode("B", tmp_path / "B").setup("Org B1")
    with open_node(b.data) as node:
        organizations.add_org(node, GUEST, member=False)
        _, b.tokens[GUEST] = api_tokens.create_token(node, OPERATOR, GUEST, Role.READER.value)
    nodes = {"A": a.start(), "B": b.start()}
    try:
        a.peer_with(b)
        b.peer_with(a)
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()


def _publisher(item: dict[str, Any]) -> str:
    """The identity of the org that published an item: its provenance, which the node
    attests on every item (`created_by_ref` stays as posted, and these items name none)."""
    publisher = str(item["extensions"][PROVENANCE_EXTENSION]["publisher_ref"])
    assert item.get("created_by_ref", publisher) == publisher
    return publisher


def _report(name: str) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": f"report--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "name": name,
        "published": stamp,
        "object_refs": [f"indicator--{uuid.uuid4()}"],
    }


class _Bearer:
    """requests auth adding a bearer token (taxii2-client accepts any requests auth)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def _taxii_object(node: FedNode, reader: str, title: str, stix_id: str) -> dict[str, Any]:
    """One object as taxii2-client fetches it (its latest version) from `title` on `node`."""
    url = f"{node.url}/taxii2/root/collections/{node.collection(reader, title)}/"
    envelope = Collection(url, auth=_Bearer(node.tokens[reader])).get_object(stix_id)
    (found,) = envelope["objects"]
    return dict(found)


def _get(node: FedNode, reader: str, title: str, stix_id: str) -> httpx.Response:
    url = f"{node.url}/taxii2/root/collections/{node.collection(reader, title)}/objects/{stix_id}/"
    return httpx.get(url, headers=node.auth(reader), timeout=30)


def _directory_entry(home: FedNode, identity_id: str) -> dict[str, Any]:
    """The org as its home node's signed directory lists it."""
    (entry,) = [o for o in own_document(home.node)["orgs"] if o["identity_id"] == identity_id]
    return dict(entry)


def _strict_identity(identity: dict[str, Any]) -> None:
    # an org's identity id is a UUIDv5 derived from its node and name on purpose (reserved
    # ids); STIX 2.1 says SHOULD for UUIDv4, so strict mode leaves out that one check
    assert_strict_stix([identity], except_checks=("uuid-check",))


def _no_identity_travelled(a: FedNode, b: FedNode) -> None:
    """No identity was stored on either node as an item from the other: none went to B as an
    item, none came back to A."""
    assert not [i for i in a.received() | b.received() if i.startswith("identity--")]


def test_a_member_resolves_the_author_of_a_synced_report_on_its_own_node(
    pair: dict[str, FedNode],
) -> None:
    """B1 reads A1's report on B and fetches its `created_by_ref` from B with taxii2-client:
    the identity A signed with its node key, strict STIX, naming A1 with the keys A's
    directory lists, and verifiable with B's key directory (which lists A's node key)."""
    a, b = pair["A"], pair["B"]
    report = _report("Campaign against the ports")
    a.publish("Org A1", "members", [report])
    wait_until(lambda: report["id"] in b.received(), "the report at B")
    (synced,) = b.read("Org B1", "members", **{"match[id]": report["id"]})
    author = _publisher(synced)
    a1 = a.node.store.org_by_name("Org A1")
    assert a1 is not None
    assert author == a1.identity_id
    identity = _taxii_object(b, "Org B1", "members", author)
    _strict_identity(identity)
    assert identity["name"] == "Org A1"
    entry = _directory_entry(a, author)
    assert identity["extensions"][DIRECTORY_EXTENSION]["keys"] == entry["keys"]
    assert identity == _taxii_object(a, "Org A1", "members", author)  # A's version, A's bytes
    (verdict,) = verify_all([identity], key_directory(b.node))
    assert verdict.ok, verdict.problem
    assert verdict.signer == f"node {a.node.node_id}"
    # every member org is in the directory members read: A2, which published nothing
    a2 = a.node.store.org_by_name("Org A2")
    assert a2 is not None
    assert _taxii_object(b, "Org B1", "members", a2.identity_id)["name"] == "Org A2"
    _no_identity_travelled(a, b)


def test_a_key_rotation_at_home_gives_the_new_version_on_the_peer(
    pair: dict[str, FedNode],
) -> None:
    """A rotates A1's keys: B then serves the new version of A1's identity, listing the new
    keys as A's directory does, and only that version (the id's versions are A's)."""
    a, b = pair["A"], pair["B"]
    before_item = note("before the rotation")
    a.publish("Org A1", "members", [before_item])
    wait_until(lambda: before_item["id"] in b.received(), "the first note at B")
    a1 = a.node.store.org_by_name("Org A1")
    assert a1 is not None
    before = _taxii_object(b, "Org B1", "members", a1.identity_id)
    rotated = {k.key_id for k in keys.rotate_keys(a.node, OPERATOR, a1)}

    def listed_at_b() -> set[str]:
        served = _taxii_object(b, "Org B1", "members", a1.identity_id)
        return {k["key_id"] for k in served["extensions"][DIRECTORY_EXTENSION]["keys"]}

    wait_until(lambda: rotated <= listed_at_b(), "the new version at B")
    after = _taxii_object(b, "Org B1", "members", a1.identity_id)
    _strict_identity(after)
    assert after["modified"] > before["modified"]
    assert (
        after["extensions"][DIRECTORY_EXTENSION]["keys"]
        == (_directory_entry(a, a1.identity_id)["keys"])
    )
    url = (
        f"{b.url}/taxii2/root/collections/{b.collection('Org B1', 'members')}/objects/"
        f"{a1.identity_id}/versions/"
    )
    versions = httpx.get(url, headers=b.auth("Org B1"), timeout=30).json()["versions"]
    assert versions == [after["modified"]]
    _no_identity_travelled(a, b)


def test_a_guest_resolves_the_author_of_a_public_item_and_no_other_org(
    pair: dict[str, FedNode],
) -> None:
    """B's guest reads A1's public note on B and fetches its author there; A2 (which
    published only for members) and B1 (nothing public) answer as an id that never existed."""
    a, b = pair["A"], pair["B"]
    public = note("for everyone")
    members_only = note("for members")
    a.publish("Org A1", "public", [public])
    a.publish("Org A2", "members", [members_only])
    wait_until(lambda: {public["id"], members_only["id"]} <= b.received(), "both notes at B")
    (read,) = b.read(GUEST, "public", **{"match[id]": public["id"]})
    identity = _taxii_object(b, GUEST, "public", _publisher(read))
    _strict_identity(identity)
    assert identity["name"] == "Org A1"
    never = _get(b, GUEST, "public", f"identity--{uuid.uuid4()}")
    assert never.status_code == 404
    for org in ("Org A2", "Org B1"):
        found = b.node.store.org_by_name(org)
        assert found is not None
        hidden = _get(b, GUEST, "public", found.identity_id)
        assert (hidden.status_code, hidden.json()) == (404, never.json())
    _no_identity_travelled(a, b)


def test_the_author_of_a_relayed_item_resolves_where_it_was_relayed(tmp_path: Path) -> None:
    """A and B do not peer; C peers with both. A1's public note reaches B through C, and A's
    record through C's relay of A's directory: B serves it as A signed it."""
    layout = {"A": ["Org A1"], "B": ["Org B1"], "C": ["Org C1"]}
    nodes = {name: FedNode(name, tmp_path / name).setup(*orgs) for name, orgs in layout.items()}
    for node in nodes.values():
        node.start()
    a, b, c = nodes["A"], nodes["B"], nodes["C"]
    try:
        for x, y in ((a, c), (c, a), (b, c), (c, b)):
            x.peer_with(y)
        public = note("relayed to B")
        a.publish("Org A1", "public", [public])
        wait_until(lambda: public["id"] in b.received(), "the note at B via C")
        (read,) = b.read("Org B1", "public", **{"match[id]": public["id"]})
        identity = _taxii_object(b, "Org B1", "public", _publisher(read))
        _strict_identity(identity)
        assert identity == _taxii_object(a, "Org A1", "members", _publisher(read))
        (verdict,) = verify_all([identity], key_directory(b.node))
        assert verdict.signer == f"node {a.node.node_id}"
        _no_identity_travelled(a, b)
        _no_identity_travelled(c, b)
    finally:
        for node in nodes.values():
            node.stop()
