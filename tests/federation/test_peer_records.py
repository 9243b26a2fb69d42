"""The directory records a peer's signed directory carries: one that is valid STIX, agrees
with its entry and is signed by that node's key is kept and served to members; any other is
refused with its reason while the org and its keys are taken in all the same."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from starlette.testclient import TestClient

from tabadol.crypto.directory_doc import DOCUMENT_TYPE, GROUPS_TYPE, sign_document
from tabadol.crypto.object_signature import attach_signature
from tabadol.crypto.sealing import x25519_key_id
from tabadol.crypto.signing import b64url, key_id
from tabadol.domain.extensions import DIRECTORY_EXTENSION, PROPERTY_EXTENSION
from tabadol.domain.timestamps import format_us
from tabadol.node.node import Node
from tabadol.usecases.federation import own_directory, peer_directory, peers
from tabadol.usecases.membership.ids import org_identity_id
from tabadol.usecases.membership.principals import OPERATOR

from ..conftest import Community

NAME = "Org X1"


def _key(purpose: str, public: bytes, created: int) -> dict[str, Any]:
    kid = key_id(public) if purpose == "sign" else x25519_key_id(public)
    return {
        "key_id": kid,
        "purpose": purpose,
        "public_key": b64url(public),
        "created": format_us(created),
        "valid_until": None,
        "revoked": None,
        "revocation_reason": None,
    }


class Home:
    """A peer node whose node key the test holds, hosting one org with its keys."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.key = SigningKey.generate()
        self.org_key = SigningKey.generate()
        self.peer = peers.add_peer(
            node, OPERATOR, "http://127.0.0.1:9", b64url(bytes(self.key.verify_key))
        )
        self.identity_id = org_identity_id(self.peer.node_id, NAME)
        created = node.clock()
        self.keys = [
            _key("sign", bytes(self.org_key.verify_key), created),
            _key("encrypt", bytes(PrivateKey.generate().public_key), created),
        ]
        self.created = format_us(created)

    def record(self) -> dict[str, Any]:
        """The org's identity as a home node publishes it, signed by its node key."""
        record: dict[str, Any] = {
            "type": "identity",
            "spec_version": "2.1",
            "id": self.identity_id,
            "created": self.created,
            "modified": self.created,
            "name": NAME,
            "identity_class": "organization",
            "created_by_ref": self.identity_id,
            "extensions": {
                DIRECTORY_EXTENSION: {
                    "extension_type": PROPERTY_EXTENSION,
                    "custody": "node",
                    "keys": copy.deepcopy(self.keys),
                }
            },
        }
        attach_signature(record, self.key, key_id(bytes(self.key.verify_key)))
        return record

    def send(self, record: dict[str, Any]) -> list[str]:
        """Its signed directory with this record, taken in here: what was refused."""
        entry = {"identity_id": self.identity_id, "name": NAME, "member": True}
        body = {
            "type": DOCUMENT_TYPE,
            "node_id": self.peer.node_id,
            "node_key": b64url(bytes(self.key.verify_key)),
            "orgs": [{**entry, "keys": self.keys, "record": record}],
            "groups": [],
            "peers": [],
        }
        body["version"] = own_directory.version_of(body)
        groups: dict[str, Any] = {
            "type": GROUPS_TYPE,
            "node_id": self.peer.node_id,
            "for": self.node.node_id,
            "groups": [],
        }
        groups["version"] = own_directory.version_of(groups)
        document = {
            **sign_document(body, self.key),
            "groups_for_you": sign_document(groups, self.key),
        }
        return peer_directory.take_in(self.node, self.peer, document)


def _resigned(home: Home, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    record = home.record()
    change(record)
    attach_signature(record, home.key, key_id(bytes(home.key.verify_key)))
    return record


def _drop_a_key(record: dict[str, Any]) -> None:
    record["extensions"][DIRECTORY_EXTENSION]["keys"].pop()


def _by_org_key(home: Home) -> dict[str, Any]:
    record = home.record()
    attach_signature(record, home.org_key, key_id(bytes(home.org_key.verify_key)))
    return record


def _tampered(home: Home) -> dict[str, Any]:
    record = home.record()
    record["identity_class"] = "individual"  # after signing
    return record


BAD = {
    "signed by the org's key, not the node's": (_by_org_key, "not signed by the key of"),
    "changed after signing": (_tampered, "signature"),
    "fewer keys than the directory": (
        lambda home: _resigned(home, _drop_a_key),
        "its keys are not the ones the directory lists",
    ),
    "another name": (
        lambda home: _resigned(home, lambda r: r.update(name="Org Y")),
        "names the org otherwise",
    ),
    "another org's id": (
        lambda home: _resigned(home, lambda r: r.update(id=f"identity--{uuid.uuid4()}")),
        "not the identity of that org",
    ),
    "not STIX": (
        lambda home: _resigned(home, lambda r: r.pop("created")),
        "created",
    ),
}


def _fetch(client: TestClient, com: Community, identity_id: str) -> Any:
    url = f"/taxii2/root/collections/{com.collections['members']}/objects/{identity_id}/"
    return client.get(url, headers=com.auth("C", "reader"))


def test_a_record_signed_by_its_node_is_kept_and_served(
    client: TestClient, community: Community
) -> None:
    """The record the home node signed is served to a member here, exactly as it came."""
    home = Home(community.node)
    record = home.record()
    assert home.send(record) == []
    got = _fetch(client, community, home.identity_id)
    assert got.status_code == 200, got.text
    assert got.json()["objects"] == [record]


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_record_that_does_not_hold_is_refused_and_the_org_still_taken_in(
    client: TestClient, community: Community, case: str
) -> None:
    """Each bad record is refused with its reason; the org and its keys are known here, and
    its identity is not served (no record kept)."""
    home = Home(community.node)
    make, reason = BAD[case]
    (refused,) = home.send(make(home))
    assert refused.startswith(f"{home.identity_id}: its directory record: ")
    assert reason in refused
    org = community.node.store.org_by_identity(home.identity_id)
    assert org is not None
    assert {k.key_id for k in community.node.store.org_keys(org.id)} == {
        k["key_id"] for k in home.keys
    }
    assert community.node.store.directory_record(org.id) is None
    assert _fetch(client, community, home.identity_id).status_code == 404
