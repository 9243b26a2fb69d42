"""A peer's requests and what it sends: only a registered node key may act as a peer, and a
malicious peer's forged, misaddressed or flooding traffic is refused and audited while the
honest entries go through."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from starlette.testclient import TestClient

from tabadol.crypto import peer_request
from tabadol.crypto.directory_doc import DOCUMENT_TYPE, GROUPS_TYPE, sign_document
from tabadol.crypto.object_signature import attach_signature
from tabadol.crypto.sealing import x25519_key_id
from tabadol.crypto.signing import b64url, key_id
from tabadol.domain.errors import DirectoryError
from tabadol.domain.federation import Peer
from tabadol.domain.timestamps import format_us
from tabadol.domain.tlp import TLP
from tabadol.node.guards import BURST, PeerGuards
from tabadol.node.node import Node
from tabadol.usecases.federation import own_directory, peer_directory, peers
from tabadol.usecases.federation.sync_in import apply_page
from tabadol.usecases.membership import principals
from tabadol.usecases.membership.ids import org_identity_id
from tabadol.usecases.membership.principals import OPERATOR

from ..conftest import Community

CHANGES = "/federation/v1/changes"


@dataclass
class RemoteMember:
    """An org hosted by a (fake) peer node, with its keys."""

    name: str
    identity_id: str
    sign: SigningKey
    encrypt: PrivateKey

    def record(self, created: int) -> dict[str, Any]:
        sign_pub, enc_pub = bytes(self.sign.verify_key), bytes(self.encrypt.public_key)
        return {
            "identity_id": self.identity_id,
            "name": self.name,
            "member": True,
            "keys": [
                {"key_id": key_id(sign_pub), "purpose": "sign", "public_key": b64url(sign_pub),
                 "created": format_us(created), "valid_until": None, "revoked": None,
                 "revocation_reason": None},
                {"key_id": x25519_key_id(enc_pub), "purpose": "encrypt",
                 "public_key": b64url(enc_pub), "created": format_us(created),
                 "valid_until": None, "revoked": None, "revocation_reason": None},
            ],
        }  # fmt: skip

    def signed(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj = {**obj, "created_by_ref": self.identity_id}
        attach_signature(obj, self.sign, key_id(bytes(self.sign.verify_key)))
        return obj


def _member(name: str) -> RemoteMember:
    return RemoteMember(
        name, f"identity--{uuid.uuid4()}", SigningKey.generate(), PrivateKey.generate()
    )


@dataclass
class FakePeer:
    key: SigningKey
    peer: Peer
    members: list[RemoteMember]


def _fake_peer(node: Node, *members: RemoteMember) -> FakePeer:
    """A peer node registered here whose key the test holds, with its signed directory (its
    members' identities derived from its node id, as a real node makes them)."""
    key = SigningKey.generate()
    peer = peers.add_peer(node, OPERATOR, "http://127.0.0.1:9", b64url(bytes(key.verify_key)))
    for member in members:
        member.identity_id = org_identity_id(peer.node_id, member.name)
    now = node.clock()
    body = {
        "type": DOCUMENT_TYPE,
        "node_id": peer.node_id,
        "node_key": b64url(bytes(key.verify_key)),
        "orgs": [m.record(now) for m in members],
        "groups": [],
        "peers": [],
    }
    body["version"] = own_directory.version_of(body)
    document = {**sign_document(body, key), "groups_for_you": _groups_for(node, peer, key)}
    assert peer_directory.take_in(node, peer, document) == []
    fresh = node.store.peer_by_node_id(peer.node_id)
    assert fresh is not None
    return FakePeer(key, fresh, list(members))


def _groups_for(node: Node, peer: Peer, key: SigningKey) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": GROUPS_TYPE,
        "node_id": peer.node_id,
        "for": node.node_id,
        "groups": [],
    }
    body["version"] = own_directory.version_of(body)
    return sign_document(body, key)


def _signed_get(client: TestClient, node: Node, key: SigningKey, target: str) -> Any:
    auth = peer_request.authorization(key, "GET", target, b"", node.clock(), node.node_id)
    return client.get(target, headers={"Authorization": auth})


# --- who may act as a peer --------------------------------------------------------------------
def test_only_a_registered_node_key_acts_as_a_peer(
    client: TestClient, community: Community
) -> None:
    node = community.node
    fake = _fake_peer(node)
    target = f"{CHANGES}?after=0"
    assert _signed_get(client, node, fake.key, target).status_code == 200
    assert client.get(target).status_code == 401
    bearer = client.get(target, headers={"Authorization": f"Bearer {community.token('A')}"})
    assert bearer.status_code == 401  # a member's token is never a peer's
    operator = client.get(
        target, headers={"Authorization": f"Bearer {community.token('operator')}"}
    )
    assert operator.status_code == 401
    stranger = SigningKey.generate()
    assert _signed_get(client, node, stranger, target).status_code == 401


def test_a_signed_request_is_good_once_for_its_target_and_time(
    client: TestClient, community: Community
) -> None:
    node = community.node
    fake = _fake_peer(node)
    auth = peer_request.authorization(
        fake.key, "GET", f"{CHANGES}?after=0", b"", node.clock(), node.node_id
    )
    assert client.get(f"{CHANGES}?after=0", headers={"Authorization": auth}).status_code == 200
    replay = client.get(f"{CHANGES}?after=0", headers={"Authorization": auth})
    assert replay.status_code == 401
    moved = peer_request.authorization(
        fake.key, "GET", f"{CHANGES}?after=0", b"", node.clock(), node.node_id
    )
    assert client.get(f"{CHANGES}?after=5", headers={"Authorization": moved}).status_code == 401
    stale = peer_request.authorization(
        fake.key, "GET", f"{CHANGES}?after=0", b"", node.clock() - 600_000_000, node.node_id
    )
    assert client.get(f"{CHANGES}?after=0", headers={"Authorization": stale}).status_code == 401
    elsewhere = peer_request.authorization(  # made for another node: not replayable here
        fake.key, "GET", f"{CHANGES}?after=0", b"", node.clock(), "another-node"
    )
    assert client.get(f"{CHANGES}?after=0", headers={"Authorization": elsewhere}).status_code == 401
    assert client.get(f"{CHANGES}?after=0", headers={"Authorization": stale}).status_code == 401


def test_a_paused_peer_is_refused_and_a_removed_one_unknown(
    client: TestClient, community: Community
) -> None:
    node = community.node
    fake = _fake_peer(node)
    peers.set_peer(node, OPERATOR, fake.peer.node_id, paused=True)
    assert _signed_get(client, node, fake.key, f"{CHANGES}?after=0").status_code == 403
    peers.set_peer(node, OPERATOR, fake.peer.node_id, paused=False)
    assert _signed_get(client, node, fake.key, f"{CHANGES}?after=0").status_code == 200
    peers.set_peer(node, OPERATOR, fake.peer.node_id, removed=True)
    assert _signed_get(client, node, fake.key, f"{CHANGES}?after=0").status_code == 401


class ManualMonotonic:
    """A monotonic clock that moves only when the test steps it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_flooding_peer_is_rate_limited(client: TestClient, community: Community) -> None:
    """A peer past its burst gets 429s; once the bucket refills it is served again."""
    node = community.node
    monotonic = ManualMonotonic()
    node.guards = PeerGuards(monotonic=monotonic)
    fake = _fake_peer(node)
    codes = [
        _signed_get(client, node, fake.key, f"{CHANGES}?after={i}").status_code
        for i in range(BURST + 50)
    ]
    assert codes.count(429) > 0
    assert codes[: BURST // 2] == [200] * (BURST // 2)
    limited = next(i for i, c in enumerate(codes) if c == 429)
    monotonic.now += 0.1  # the bucket refills: the peer is served again
    assert _signed_get(client, node, fake.key, f"{CHANGES}?after=999999").status_code == 200
    assert limited >= BURST // 2


def test_only_registered_operators_manage_peers(community: Community) -> None:
    node = community.node
    principal = principals.authenticate(node, f"Bearer {community.token('A', 'admin')}")
    with pytest.raises(Exception, match="operator"):
        peers.add_peer(node, principal, "http://x", b64url(bytes(SigningKey.generate().verify_key)))


# --- what a peer sends ------------------------------------------------------------------------
def _note(content: str, **extra: Any) -> dict[str, Any]:
    stamp = format_us(1_767_225_600_000_000 + 1000)
    return {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "content": content,
        "object_refs": [f"indicator--{uuid.uuid4()}"],
        **extra,
    }


def _entry(obj: dict[str, Any], author: str, tlp: TLP, kind: str = "members") -> dict[str, Any]:
    return {
        "position": 1,
        "op": "put",
        "id": obj["id"],
        "version": obj["modified"],
        "audience": {"kind": kind},
        "tlp": tlp.label,
        "author": author,
        "object": obj,
    }


def test_a_malicious_peer_is_refused_item_by_item_and_audited(community: Community) -> None:
    node = community.node
    b1, x1 = _member("Org B1"), _member("Org X1")
    fake = _fake_peer(node, b1)
    elsewhere = _fake_peer(node, x1)  # X1 is hosted by another node
    green = [TLP.GREEN.marking_id]
    honest = b1.signed(_note("honest", object_marking_refs=green))
    forged = b1.signed(_note("signed", object_marking_refs=green))
    forged["content"] = "changed after signing"
    by_stranger = _member("Org Z").signed(_note("who?", object_marking_refs=green))
    amber_relay = x1.signed(_note("amber", object_marking_refs=[TLP.AMBER.marking_id]))
    green_relay = x1.signed(_note("green relayed", object_marking_refs=green))
    own_org = b1.signed(_note("claims A", object_marking_refs=green))
    mislabeled = b1.signed(_note("says GREEN", object_marking_refs=[TLP.AMBER.marking_id]))
    red_clear = b1.signed(_note("RED in clear", object_marking_refs=[TLP.RED.marking_id]))
    org_only = b1.signed(_note("org only", object_marking_refs=green))
    entries = [
        _entry(honest, b1.identity_id, TLP.GREEN),
        _entry(forged, b1.identity_id, TLP.GREEN),
        _entry(by_stranger, by_stranger["created_by_ref"], TLP.GREEN),
        _entry(amber_relay, x1.identity_id, TLP.AMBER),
        _entry(green_relay, x1.identity_id, TLP.GREEN),
        _entry(own_org, community.orgs["A"].identity_id, TLP.GREEN),
        _entry(mislabeled, b1.identity_id, TLP.GREEN),
        _entry(red_clear, b1.identity_id, TLP.RED),
        _entry(org_only, b1.identity_id, TLP.GREEN, kind="org"),
    ]
    result = apply_page(node, fake.peer, entries, cursor=9, head=9)
    reasons = dict(result.refused)
    expected = {
        forged["id"]: "does not verify",
        by_stranger["id"]: "not an org this node knows",
        amber_relay["id"]: "only from their author's node",
        own_org["id"]: "hosted here",
        mislabeled["id"]: "the entry says TLP:GREEN",
        red_clear["id"]: "may not be shared with the audience",
        org_only["id"]: "never leave its node",
    }
    assert reasons.keys() == expected.keys()
    for item_id, reason in expected.items():
        assert reason in reasons[item_id], (reason, reasons[item_id])
    refused = set(reasons)
    assert result.stored == 2
    stored = node.store._db.reader().execute(  # type: ignore[attr-defined]
        "SELECT stix_id FROM objects WHERE via_peer = ?", (fake.peer.id,)
    )
    assert {row[0] for row in stored} == {honest["id"], green_relay["id"]}
    (entry,) = node.store.audit_entries(action="peer.sync")
    assert set(entry.detail["refused"]) == refused
    assert entry.actor == f"peer:{fake.peer.node_id}"
    assert node.store.peer_by_id(fake.peer.id).cursor == 9  # type: ignore[union-attr]
    del elsewhere


def test_a_peer_speaks_only_for_its_own_orgs(community: Community) -> None:
    """A directory naming an org hosted here, another peer's org, or an org whose identity
    was not made on that node, changes nothing (all three refused, each named)."""
    node = community.node
    b1 = _member("Org B1")
    first = _fake_peer(node, b1)
    key = SigningKey.generate()
    peer = peers.add_peer(node, OPERATOR, "http://127.0.0.1:9", b64url(bytes(key.verify_key)))
    hijack_local = {**b1.record(node.clock()), "identity_id": community.orgs["A"].identity_id,
                    "name": "Org A"}  # fmt: skip
    unbound = _member("Org Q").record(node.clock())  # an identity not made on that node
    body = {
        "type": DOCUMENT_TYPE,
        "node_id": peer.node_id,
        "node_key": b64url(bytes(key.verify_key)),
        "orgs": [b1.record(node.clock()), hijack_local, unbound],
        "groups": [],
        "peers": [],
    }
    body["version"] = own_directory.version_of(body)
    groups = _groups_for(node, peer, key)
    refused = peer_directory.take_in(
        node, peer, {**sign_document(body, key), "groups_for_you": groups}
    )
    assert len(refused) == 3
    assert all("not an org created on" in r for r in refused)
    assert node.store.org_by_name("Org Q") is None
    assert node.store.org_by_identity(b1.identity_id).home_peer == first.peer.id  # type: ignore[union-attr]
    assert node.store.org_by_name("Org A").hosted_here  # type: ignore[union-attr]
    forged = sign_document(body, SigningKey.generate())  # not the peer's key
    with pytest.raises(DirectoryError):
        peer_directory.take_in(node, peer, {**forged, "groups_for_you": groups})
    other_node = {**groups, "for": "another-node"}  # groups signed for someone else
    with pytest.raises(DirectoryError):
        peer_directory.take_in(
            node, peer, {**sign_document(body, key), "groups_for_you": other_node}
        )


def test_the_feed_for_a_peer_follows_the_policy(client: TestClient, community: Community) -> None:
    """A peer hosting no member of the AB group gets members and public items only, never
    an org's own channel; AMBER items it gets only from their author's node."""
    node = community.node
    fake = _fake_peer(node, _member("Org B1"))
    auth = {**community.auth("A"), "Content-Type": "application/taxii+json;version=2.1"}
    for title in ("members", "public", "AB group", "Org A"):
        url = f"/taxii2/root/collections/{community.collections[title]}/objects/"
        marking = [TLP.CLEAR.marking_id] if title == "public" else []
        response = client.post(
            url, json={"objects": [_note(title, object_marking_refs=marking)]}, headers=auth
        )
        assert response.status_code == 202
    body = orjson.loads(_signed_get(client, node, fake.key, f"{CHANGES}?after=0").content)
    audiences = sorted(e["audience"]["kind"] for e in body["changes"] if e["id"].startswith("note"))
    assert audiences == ["members", "public"]


def _delete(obj: dict[str, Any], author: str, tlp: TLP) -> dict[str, Any]:
    return {**_entry(obj, author, tlp), "op": "delete", "object": None}


def _tombstones(node: Node) -> int:
    conn = node.store._db.reader()  # type: ignore[attr-defined]
    return int(conn.execute("SELECT count(*) FROM tombstones").fetchone()[0])


def test_only_the_authors_node_or_the_deliverer_deletes(community: Community) -> None:
    node = community.node
    b1 = _member("Org B1")
    home = _fake_peer(node, b1)
    other = _fake_peer(node, _member("Org M1"))
    amber = b1.signed(_note("amber", object_marking_refs=[TLP.AMBER.marking_id]))
    assert apply_page(node, home.peer, [_entry(amber, b1.identity_id, TLP.AMBER)], 1, 1).stored
    forged = apply_page(node, other.peer, [_delete(amber, b1.identity_id, TLP.CLEAR)], 1, 1)
    assert forged.deleted == 0
    assert "only its author's node" in forged.refused[0][1]
    never_seen = b1.signed(_note("never delivered", object_marking_refs=[TLP.GREEN.marking_id]))
    before = _tombstones(node)
    ghost = apply_page(node, other.peer, [_delete(never_seen, b1.identity_id, TLP.GREEN)], 1, 1)
    assert ghost.skipped == 1
    assert _tombstones(node) == before  # no pre-emptive tombstone from a stranger
    real = apply_page(node, home.peer, [_delete(amber, b1.identity_id, TLP.AMBER)], 2, 2)
    assert real.deleted == 1
    assert _tombstones(node) == before + 1


def test_malformed_entries_are_refused_one_by_one(community: Community) -> None:
    node = community.node
    b1 = _member("Org B1")
    fake = _fake_peer(node, b1)
    good = b1.signed(_note("fine", object_marking_refs=[TLP.GREEN.marking_id]))
    entries: list[Any] = [
        "not an object",
        {"op": "delete", "id": good["id"], "author": b1.identity_id, "tlp": "TLP:GREEN",
         "audience": {"kind": "members"}},  # no version
        {"op": "put", "id": good["id"], "author": b1.identity_id, "tlp": "TLP:PURPLE",
         "audience": {"kind": "members"}, "version": good["modified"], "object": good},
        {"op": "put", "author": b1.identity_id},
        _entry(good, b1.identity_id, TLP.GREEN),
    ]  # fmt: skip
    result = apply_page(node, fake.peer, entries, 5, 5)
    assert result.stored == 1
    assert len(result.refused) == 4
    assert node.store.peer_by_id(fake.peer.id).cursor == 5  # type: ignore[union-attr]
