"""The node's attestation (issue 13): every stored object carries who published it from
which node (provenance) and for whom (audience), outside the author's signature; authorship
(`created_by_ref`) stays as posted."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from tabadol.client.remote import ClientKeys
from tabadol.crypto.object_signature import attach_signature
from tabadol.crypto.sealed_object import open_object, seal_object
from tabadol.domain.attestation import carry_attestation, without_attestation
from tabadol.domain.extensions import (
    AUDIENCE_EXTENSION,
    NODE_ATTESTED,
    PROVENANCE_EXTENSION,
    SCHEMAS,
)
from tabadol.domain.keys import KeyPurpose
from tabadol.domain.model import Org
from tabadol.domain.sealed import is_wrapper
from tabadol.domain.tlp import TLP
from tabadol.usecases.trust import key_directory
from tabadol.usecases.trust.verify import verify_all
from tabadol.web.media import TAXII_21

from ..conftest import Community, assert_strict_stix, make_indicator

GREEN = TLP.GREEN.marking_id
MISP_IDENTITY = f"identity--{uuid.uuid4()}"  # a MISP instance's own identity (UUIDv4)


def _indicator(**extra: Any) -> dict[str, Any]:
    return make_indicator(description="seen in a phishing campaign", **extra)


def _post(
    client: TestClient, community: Community, org: str, title: str, objects: list[Any]
) -> dict[str, Any]:
    url = f"/taxii2/root/collections/{community.collections[title]}/objects/"
    headers = {**community.auth(org), "Content-Type": TAXII_21}
    response = client.post(url, json={"objects": objects}, headers=headers)
    assert response.status_code == 202, response.text
    status: dict[str, Any] = response.json()
    return status


def _read(
    client: TestClient, community: Community, org: str, title: str, stix_id: str
) -> dict[str, Any]:
    url = f"/taxii2/root/collections/{community.collections[title]}/objects/{stix_id}/"
    response = client.get(url, headers=community.auth(org))
    assert response.status_code == 200, response.text
    (obj,) = response.json()["objects"]
    assert isinstance(obj, dict)
    return obj


def _expected_audience(community: Community, title: str, tlp: TLP) -> dict[str, str]:
    entry = {"extension_type": "property-extension", "tlp": tlp.label}
    if title == "AB group":
        group = community.node.store.group_by_name("AB group")
        assert group is not None
        entry |= {"kind": "group", "group": group.name, "group_id": group.uuid}
    elif title.startswith("Org "):
        org = community.orgs[title.removeprefix("Org ")]
        entry |= {"kind": "org", "org_ref": org.identity_id, "org": org.name}
    else:
        entry["kind"] = title
    return entry


def _check_attestation(
    community: Community, obj: dict[str, Any], publisher: Org, title: str, tlp: TLP
) -> None:
    extensions = obj["extensions"]
    assert extensions[PROVENANCE_EXTENSION] == {
        "extension_type": "property-extension",
        "publisher_ref": publisher.identity_id,
        "node": community.node.node_id,
    }
    assert extensions[AUDIENCE_EXTENSION] == _expected_audience(community, title, tlp)


CHANNELS = [  # (channel, its default TLP)
    ("Org A", TLP.AMBER_STRICT),  # sealed at rest, opened for A by the node
    ("AB group", TLP.AMBER),
    ("members", TLP.GREEN),
    ("public", TLP.CLEAR),
]


@pytest.mark.parametrize(("title", "tlp"), CHANNELS, ids=[c for c, _ in CHANNELS])
def test_a_node_custody_publication_carries_provenance_and_audience(
    client: TestClient, community: Community, title: str, tlp: TLP
) -> None:
    """An object published by an org whose keys the node holds reads back with the node's
    provenance (the org, this node) and the audience of its channel at its TLP; it parses
    with stix2's defaults, passes the strict validator and its signature verifies."""
    obj = _indicator()
    assert _post(client, community, "A", title, [obj])["success_count"] == 1
    stored = _read(client, community, "A", title, obj["id"])
    _check_attestation(community, stored, community.orgs["A"], title, tlp)
    assert "created_by_ref" not in stored
    assert_strict_stix([stored])
    (verdict,) = verify_all([stored], key_directory.key_directory(community.node))
    assert verdict.ok, verdict.problem


def test_a_client_custody_publication_carries_provenance_and_audience(
    client: TestClient, community: Community, client_org: tuple[Org, ClientKeys]
) -> None:
    """An org that signs and seals its own items: its signed object in `members` and its
    sealed item in its own channel both carry the node's entries (the sealed form in
    clear), and both still verify against its key."""
    org, held = client_org
    plain = _indicator()
    attach_signature(plain, held.signing, held.sign_id)
    restricted = _indicator(marking=TLP.RED.marking_id)
    attach_signature(restricted, held.signing, held.sign_id)
    key = community.node.store.current_keys([org.id], KeyPurpose.ENCRYPT)[org.id]
    sealed = seal_object(restricted, {key.key_id: key.public_key})
    attach_signature(sealed, held.signing, held.sign_id)
    assert _post(client, community, "K", "members", [plain])["success_count"] == 1
    assert _post(client, community, "K", "Org K", [sealed])["success_count"] == 1
    stored_plain = _read(client, community, "K", "members", plain["id"])
    stored_sealed = _read(client, community, "K", "Org K", restricted["id"])
    assert is_wrapper(stored_sealed)  # the client holds the key: served sealed
    community.orgs["K"] = org
    _check_attestation(community, stored_plain, org, "members", TLP.GREEN)
    _check_attestation(community, stored_sealed, org, "Org K", TLP.RED)
    assert_strict_stix([stored_plain])
    opened = carry_attestation(stored_sealed, open_object(stored_sealed, held.encryption))
    assert without_attestation(opened) == restricted
    assert opened["extensions"][AUDIENCE_EXTENSION]["tlp"] == "TLP:RED"
    directory = key_directory.key_directory(community.node)
    assert all(v.ok for v in verify_all([stored_plain, stored_sealed, opened], directory))
    # re-posting what it read (the node's entries included) is the idempotent no-op it was
    again = _post(client, community, "K", "Org K", [stored_sealed])
    assert again["successes"][0]["message"] == "this version was already stored", again


def test_forged_provenance_and_audience_are_dropped(
    client: TestClient, community: Community, client_org: tuple[Org, ClientKeys]
) -> None:
    """What a member posts under the node's extension ids changes nothing the node attests:
    a node-custody org's forged entries and a client-signed object with entries added after
    signing are stored with the node's own entries, and the signature still verifies."""
    org, held = client_org
    forged = {
        PROVENANCE_EXTENSION: {
            "extension_type": "property-extension",
            "publisher_ref": community.orgs["B"].identity_id,
            "node": str(uuid.uuid4()),
        },
        AUDIENCE_EXTENSION: {"extension_type": "property-extension", "kind": "public"},
    }
    unsigned = _indicator(extensions=copy.deepcopy(forged))
    signed = _indicator()
    attach_signature(signed, held.signing, held.sign_id)
    signed["extensions"] |= copy.deepcopy(forged)
    assert _post(client, community, "A", "members", [unsigned])["success_count"] == 1
    assert _post(client, community, "K", "members", [signed])["success_count"] == 1
    community.orgs["K"] = org
    for obj, publisher in ((unsigned, community.orgs["A"]), (signed, org)):
        stored = _read(client, community, "C", "members", obj["id"])
        _check_attestation(community, stored, publisher, "members", TLP.GREEN)
    stored_signed = _read(client, community, "C", "members", signed["id"])
    (verdict,) = verify_all([stored_signed], key_directory.key_directory(community.node))
    assert verdict.ok, verdict.problem


def test_a_replaced_attestation_never_breaks_a_signature(
    client: TestClient, community: Community
) -> None:
    """The signature covers the object without the node's entries: changing, removing or
    adding them keeps it valid, while changing a signed property does not."""
    obj = _indicator()
    _post(client, community, "A", "members", [obj])
    stored = _read(client, community, "B", "members", obj["id"])
    directory = key_directory.key_directory(community.node)
    restated = copy.deepcopy(stored)
    restated["extensions"][AUDIENCE_EXTENSION]["kind"] = "public"
    bare = without_attestation(stored)
    changed = copy.deepcopy(stored)
    changed["name"] = "another name"
    verdicts = verify_all([stored, restated, bare, changed], directory)
    assert [v.ok for v in verdicts] == [True, True, True, False]
    assert NODE_ATTESTED.isdisjoint(bare.get("extensions", {}))


def test_verify_names_a_publisher_other_than_the_signer(
    client: TestClient, community: Community
) -> None:
    """Offline verification holds the node's provenance to the signature: an object whose
    provenance names another member than the one whose key signed it is reported."""
    obj = _indicator()
    _post(client, community, "A", "members", [obj])
    stored = _read(client, community, "B", "members", obj["id"])
    stored["extensions"][PROVENANCE_EXTENSION]["publisher_ref"] = community.orgs["B"].identity_id
    (verdict,) = verify_all([stored], key_directory.key_directory(community.node))
    assert not verdict.ok
    assert "provenance" in str(verdict.problem)


def test_relayed_objects_keep_their_authorship_as_posted(
    client: TestClient, community: Community
) -> None:
    """A member relaying a MISP event: the instance's own identity and a relationship with
    no created_by_ref come back without one, an object naming the instance keeps it; the
    publisher is the member, in provenance."""
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": MISP_IDENTITY,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "MISP instance",
        "description": "the instance that produced the event",
        "identity_class": "system",
    }
    indicator = _indicator(created_by_ref=MISP_IDENTITY)
    relationship = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "relationship_type": "indicates",
        "source_ref": indicator["id"],
        "target_ref": f"malware--{uuid.uuid4()}",
    }
    assert (
        _post(client, community, "A", "members", [identity, indicator, relationship])[
            "success_count"
        ]
        == 3
    )
    for posted in (identity, indicator, relationship):
        stored = _read(client, community, "B", "members", posted["id"])
        assert stored.get("created_by_ref") == posted.get("created_by_ref")
        provenance = stored["extensions"][PROVENANCE_EXTENSION]
        assert provenance["publisher_ref"] == community.orgs["A"].identity_id
        assert_strict_stix([stored])


def test_the_schemas_describe_the_entries(client: TestClient, community: Community) -> None:
    """Every entry the node attests is valid against the JSON schema its definition names."""
    jsonschema = pytest.importorskip("jsonschema")
    objects = [_indicator() for _ in CHANNELS]
    for (title, _), obj in zip(CHANNELS, objects, strict=True):
        _post(client, community, "A", title, [obj])
    for (title, _), obj in zip(CHANNELS, objects, strict=True):
        stored = _read(client, community, "A", title, obj["id"])
        for ext_id, name in (
            (PROVENANCE_EXTENSION, "tabadol-provenance"),
            (AUDIENCE_EXTENSION, "tabadol-audience"),
        ):
            jsonschema.validate(stored["extensions"][ext_id], SCHEMAS[name])
