"""tabadol's own properties in STIX 2.1 extensions (issue 13, finding 1), over HTTP on both
engines: what the node emits parses with `stix2`'s defaults and passes stix2-validator's
strict mode; the extension definitions and their schemas are served; objects signed in the
older `x_tabadol_signature` form keep verifying."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from nacl.signing import SigningKey
from starlette.testclient import TestClient

from tabadol.client.remote import ClientKeys
from tabadol.crypto.object_signature import attach_signature, read_signature, verify_object
from tabadol.crypto.signing import b64url
from tabadol.domain.attestation import without_attestation
from tabadol.domain.extensions import (
    DIRECTORY_EXTENSION,
    EXTENSION_DEFINITIONS,
    SCHEMAS,
    SIGNATURE_EXTENSION,
    TABADOL_IDENTITY,
)
from tabadol.domain.model import Org
from tabadol.domain.tlp import TLP
from tabadol.usecases.trust import key_directory
from tabadol.usecases.trust.verify import verify_all
from tabadol.web.media import TAXII_21

from ..conftest import BACKENDS, Community, assert_strict_stix, stix_id
from ..unit.test_crypto import KAT_KEY_ID, KAT_OBJECT, KAT_SIGNATURE


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run on SQLite and on PostgreSQL."""
    return str(request.param)


def _url(com: Community, collection: str, stix: str = "") -> str:
    tail = f"{stix}/" if stix else ""
    return f"/taxii2/root/collections/{com.collections[collection]}/objects/{tail}"


def _post(client: TestClient, com: Community, who: str, objects: list[Any]) -> Any:
    headers = {**com.auth(who), "Content-Type": TAXII_21}
    response = client.post(_url(com, "members"), json={"objects": objects}, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


def _get(client: TestClient, com: Community, who: str, collection: str, stix: str) -> Any:
    response = client.get(_url(com, collection, stix), headers=com.auth(who, "reader"))
    assert response.status_code == 200, response.text
    (obj,) = response.json()["objects"]
    return obj


def _indicator() -> dict[str, Any]:
    """An indicator with everything strict mode asks for (name and description)."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id("indicator"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "phishing server",
        "description": "Serves the credential-phishing pages of the campaign.",
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [TLP.GREEN.marking_id],
    }


def _report(refs: list[str]) -> dict[str, Any]:
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": stix_id("report"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Phishing campaign",
        "description": "The servers of a credential-phishing campaign.",
        "report_types": ["campaign"],
        "published": "2026-01-01T00:00:00Z",
        "object_refs": refs,
        "object_marking_refs": [TLP.GREEN.marking_id],
    }


def test_what_the_node_emits_parses_without_custom_properties(
    client: TestClient, community: Community, backend: str
) -> None:
    """A published indicator and report read back, an org identity, the extension
    definitions and their author: `stix2.parse(allow_custom=False)` and the strict
    validator accept each, and the signature and keys live in the extensions."""
    indicator = _indicator()
    report = _report([indicator["id"]])
    assert _post(client, community, "A", [indicator, report])["success_count"] == 2
    emitted = [
        _get(client, community, "B", "members", stix)
        for stix in (
            indicator["id"],
            report["id"],
            community.orgs["A"].identity_id,
            *EXTENSION_DEFINITIONS,
            TABADOL_IDENTITY,
        )
    ]
    assert_strict_stix(
        [o for o in emitted if o["type"] != "identity" or o["id"] == TABADOL_IDENTITY]
    )
    # an org's identity id is a UUIDv5 derived from the node and the org's name on purpose
    # (reserved ids, issue 13 finding 4); STIX 2.1 says SHOULD for UUIDv4, so strict mode
    # leaves that one check out for it, and nothing else
    assert_strict_stix([emitted[2]], except_checks=("uuid-check",))
    for obj in emitted:
        assert not any(name.startswith("x_") for name in obj), obj["id"]
    stored_indicator, stored_report, identity = emitted[:3]
    assert SIGNATURE_EXTENSION in stored_indicator["extensions"]
    assert SIGNATURE_EXTENSION in stored_report["extensions"]
    assert identity["extensions"][DIRECTORY_EXTENSION]["custody"] == "node"
    directory = key_directory.key_directory(community.node)
    assert all(v.ok for v in verify_all(emitted[:3], directory))


def test_extension_definitions_are_served_in_every_readable_collection_with_their_schemas(
    client: TestClient, community: Community, backend: str
) -> None:
    """Each definition resolves by id wherever the reader can read (its org channel, a
    group, members); its `schema` names a document the node serves without a token."""
    for who, collection in (("A", "Org A"), ("B", "AB group"), ("C", "members")):
        for stix, definition in EXTENSION_DEFINITIONS.items():
            assert _get(client, community, who, collection, stix) == definition
    for definition in EXTENSION_DEFINITIONS.values():
        response = client.get(definition["schema"])
        assert response.status_code == 200, response.text
        assert response.json() == SCHEMAS[definition["name"]]
    assert client.get("/api/v1/schemas/nothing.json").status_code == 404


def test_posting_a_definition_unchanged_succeeds_and_a_changed_one_is_refused(
    client: TestClient, community: Community, backend: str
) -> None:
    """The definitions are the node's: posting one as the node serves it is an idempotent
    success for anyone; the same id with other content is refused with its reason."""
    definition = copy.deepcopy(EXTENSION_DEFINITIONS[SIGNATURE_EXTENSION])
    for who in ("A", "B"):
        status = _post(client, community, who, [definition])
        assert status["success_count"] == 1, status
    forged = {**definition, "schema": "https://attacker.example/lax.json"}
    status = _post(client, community, "A", [forged])
    assert status["failure_count"] == 1
    assert "tabadol-signature extension-definition" in status["failures"][0]["message"]
    served = _get(client, community, "C", "members", SIGNATURE_EXTENSION)
    assert served == EXTENSION_DEFINITIONS[SIGNATURE_EXTENSION]


def _older_form(obj: dict[str, Any], held: ClientKeys) -> dict[str, Any]:
    attach_signature(obj, held.signing, held.sign_id, legacy=True)
    assert "extensions" not in obj
    assert "x_tabadol_signature" in obj
    return obj


def test_an_object_signed_in_the_older_form_is_accepted_stored_and_verifies(
    client: TestClient, community: Community, client_org: tuple[Org, ClientKeys], backend: str
) -> None:
    """An older client's `x_tabadol_signature` is verified and stored as signed (it cannot
    be moved without re-signing); a tampered one is refused."""
    org, held = client_org
    good = _older_form({**_indicator(), "created_by_ref": org.identity_id}, held)
    tampered = _older_form({**_indicator(), "created_by_ref": org.identity_id}, held)
    tampered["name"] = "changed after signing"
    status = _post(client, community, "K", [good, tampered])
    assert status["success_count"] == 1, status
    assert status["failures"][0]["id"] == tampered["id"]
    assert "does not verify" in status["failures"][0]["message"]
    stored = _get(client, community, "A", "members", good["id"])
    assert without_attestation(stored) == good  # plus the node's attestation only
    directory = key_directory.key_directory(community.node)
    (verdict,) = verify_all([stored], directory)
    assert verdict.ok
    assert verdict.signer == "Org K"


def test_a_tampered_extension_signature_is_refused(
    client: TestClient, community: Community, client_org: tuple[Org, ClientKeys], backend: str
) -> None:
    """Changing the signature value inside the extension, or another extension beside it
    (which the signature covers), fails that object alone."""
    org, held = client_org
    good, forged, beside = ({**_indicator(), "created_by_ref": org.identity_id} for _ in "abc")
    beside["extensions"] = {f"extension-definition--{uuid.uuid4()}": {"extension_type": "new"}}
    for obj in (good, forged, beside):
        attach_signature(obj, held.signing, held.sign_id)
    forged["extensions"][SIGNATURE_EXTENSION]["value"] = b64url(bytes(64))
    (other,) = (k for k in beside["extensions"] if k != SIGNATURE_EXTENSION)
    beside["extensions"][other] = {"extension_type": "new", "added": "after signing"}
    status = _post(client, community, "K", [good, forged, beside])
    assert status["success_count"] == 1, status
    assert {f["id"] for f in status["failures"]} == {forged["id"], beside["id"]}
    assert all("does not verify" in f["message"] for f in status["failures"])


def test_known_answer_an_older_form_signature_verifies_with_this_code() -> None:
    """A signature pinned before the extension existed (tests/unit/test_crypto.py's KAT)
    written as `x_tabadol_signature` reads and verifies; the same value in the extension
    verifies too, since both cover the object without its signature."""
    key = SigningKey(bytes(range(32)))
    value = {"alg": "Ed25519", "key_id": "ed25519:" + KAT_KEY_ID, "value": ""}
    value["value"] = b64url(bytes.fromhex(KAT_SIGNATURE))
    older = {**KAT_OBJECT, "x_tabadol_signature": value}
    newer = {
        **KAT_OBJECT,
        "extensions": {SIGNATURE_EXTENSION: {"extension_type": "property-extension", **value}},
    }
    for obj in (older, newer):
        signature = read_signature(obj)
        assert signature is not None
        assert signature.key_id == "ed25519:" + KAT_KEY_ID
        verify_object(obj, signature, bytes(key.verify_key))
