"""Attacks on the trust features, each refused or contained: what a hostile member, a stolen
backup or a careless operator could try, found in review."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.client.remote import ClientKeys
from tabadol.crypto.canonical import canonical
from tabadol.crypto.object_signature import attach_signature
from tabadol.crypto.sealed_object import open_object, seal_object
from tabadol.crypto.sealing import seal
from tabadol.crypto.signing import b64url
from tabadol.domain.errors import Forbidden, InvalidInput, KeysUnavailable, SealingError
from tabadol.domain.keys import Custody, KeyPurpose
from tabadol.domain.model import Org
from tabadol.domain.sealed import inner_routing, is_sealed, wrapper_id
from tabadol.domain.tlp import TLP
from tabadol.node import keyring
from tabadol.node.node import init_node, open_node
from tabadol.usecases.membership import api_tokens, organizations, sharing_groups
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.trust import key_directory, keys
from tabadol.usecases.trust.verify import verify_all

from ..conftest import Community, make_indicator, stix_id
from ..usecases.test_signatures import _post, _read

TAXII = "application/taxii+json;version=2.1"
RED = TLP.RED.marking_id
STAMP = "2026-01-05T00:00:00.000Z"


@pytest.fixture
def hostile(community: Community) -> tuple[Org, ClientKeys]:
    """Org K keeps its keys and is in a group with A (node custody): the "AK group"."""
    held = ClientKeys(SigningKey.generate(), PrivateKey.generate())
    node = community.node
    org = organizations.add_org(node, "Org K", custody=Custody.CLIENT, public_keys=held.public())
    _, community.tokens["K:publisher"] = api_tokens.create_token(
        node, OPERATOR, "Org K", "publisher"
    )
    sharing_groups.create_group(node, OPERATOR, "AK group", "Org A", break_glass="test")
    sharing_groups.add_group_member(node, OPERATOR, "AK group", "Org K", break_glass="test")
    community.collections = {c.title: c.uuid for c in node.store.list_collections()}
    return org, held


def _audience_keys(com: Community, *names: str) -> dict[str, bytes]:
    orgs = [com.node.store.org_by_name(n) for n in names]
    current = com.node.store.current_keys([o.id for o in orgs if o], KeyPurpose.ENCRYPT)
    return {k.key_id: k.public_key for k in current.values()}


def _sealed_raw(
    held: ClientKeys, org: Org, recipients: dict[str, bytes], plaintext: bytes
) -> dict[str, Any]:
    """A sealed item, validly signed by K, around any bytes K chooses."""
    obj = seal_object(
        make_indicator(
            created_by_ref=org.identity_id, marking=RED, description="An address of the campaign."
        ),
        recipients,
        stamp=STAMP,
    )
    sealed = seal(plaintext, recipients, canonical(inner_routing(obj)))
    obj |= {
        "nonce": b64url(sealed.nonce),
        "ciphertext": b64url(sealed.ciphertext),
        "key_commitment": b64url(sealed.commitment),
        "recipients": {kid: b64url(box) for kid, box in sealed.sealed_keys.items()},
    }
    attach_signature(obj, held.signing, held.sign_id)
    return obj


@pytest.mark.parametrize(
    "plaintext",
    [b"this is not JSON", b"[" * 300 + b"]" * 300, b'{"type": "indicator"}'],
    ids=["not JSON", "nested 300 deep", "JSON but not the object the routing names"],
)
def test_a_sealed_item_with_garbage_inside_cannot_break_a_channel(
    client: TestClient, community: Community, hostile: tuple[Org, ClientKeys], plaintext: bytes
) -> None:
    """Whatever K seals, A's reads of the channel keep working; the bad item stays sealed."""
    org, held = hostile
    obj = _sealed_raw(held, org, _audience_keys(community, "Org A", "Org K"), plaintext)
    assert _post(client, community, "K", "AK group", [obj])["success_count"] == 1
    (served,) = [o for o in _read(client, community, "A", "AK group") if o["id"] == obj["id"]]
    assert is_sealed(served)


def test_sealed_content_not_signed_by_its_author_is_not_served_as_plaintext(
    client: TestClient, community: Community, hostile: tuple[Org, ClientKeys]
) -> None:
    """K seals an object carrying a bogus signature in A's name: the node serves A the sealed
    form, never plaintext it cannot vouch for."""
    org, held = hostile
    a_key = keyring.current_key(community.node, community.orgs["A"], KeyPurpose.SIGN)
    assert a_key is not None
    inner = make_indicator(
        created_by_ref=org.identity_id, marking=RED, description="An address of the campaign."
    )
    inner["x_tabadol_signature"] = {"alg": "Ed25519", "key_id": a_key.key_id, "value": "A" * 86}
    obj = seal_object(inner, _audience_keys(community, "Org A", "Org K"), stamp=STAMP)
    attach_signature(obj, held.signing, held.sign_id)
    assert _post(client, community, "K", "AK group", [obj])["success_count"] == 1
    (served,) = [o for o in _read(client, community, "A", "AK group") if o["id"] == obj["id"]]
    assert is_sealed(served)
    properly = make_indicator(
        created_by_ref=org.identity_id, marking=RED, description="An address of the campaign."
    )
    attach_signature(properly, held.signing, held.sign_id)
    good = seal_object(properly, _audience_keys(community, "Org A", "Org K"), stamp=STAMP)
    attach_signature(good, held.signing, held.sign_id)
    _post(client, community, "K", "AK group", [good])
    opened = [o for o in _read(client, community, "A", "AK group") if o["id"] == properly["id"]]
    assert wrapper_id(properly["id"]) == good["id"]
    assert opened[0]["pattern"] == properly["pattern"]


def test_the_key_commitment_stops_one_ciphertext_opening_two_ways(community: Community) -> None:
    """A recipient whose sealed content key differs from the committed one gets nothing."""
    a, b = PrivateKey.generate(), PrivateKey.generate()
    from tabadol.crypto.sealing import x25519_key_id

    recipients = {x25519_key_id(bytes(k.public_key)): bytes(k.public_key) for k in (a, b)}
    inner = make_indicator()
    obj = seal_object(inner, recipients, stamp=STAMP)
    other = seal_object(make_indicator(id=inner["id"]), recipients, stamp=STAMP)
    # give b the content key of another item: the commitment no longer matches
    kid_b = x25519_key_id(bytes(b.public_key))
    obj["recipients"][kid_b] = other["recipients"][kid_b]
    assert open_object(obj, a)["id"] == inner["id"]
    with pytest.raises(SealingError):
        open_object(obj, b)


LOW_ORDER_X25519 = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
]


@pytest.mark.parametrize("point", LOW_ORDER_X25519)
def test_low_order_encryption_keys_are_refused(community: Community, point: str) -> None:
    """An X25519 key of low order is refused at registration (sealing to it would fail every
    item sent to its audience)."""
    public = {
        "sign": b64url(bytes(SigningKey.generate().verify_key)),
        "encrypt": b64url(bytes.fromhex(point)),
    }
    with pytest.raises(InvalidInput, match="encryption key refused"):
        organizations.add_org(community.node, "Org Low", custody=Custody.CLIENT, public_keys=public)


def test_nobody_registers_the_node_key_as_theirs(
    client: TestClient, community: Community, hostile: tuple[Org, ClientKeys]
) -> None:
    """K's admin cannot register the node's public key as K's signing key."""
    _, community.tokens["K:admin"] = api_tokens.create_token(
        community.node, OPERATOR, "Org K", "admin"
    )
    node_public = b64url(bytes(community.node.node_key.verify_key))
    body = {
        "public_keys": {
            "sign": node_public,
            "encrypt": b64url(bytes(PrivateKey.generate().public_key)),
        }
    }
    response = client.post(
        "/api/v1/orgs/Org K/keys", json=body, headers=community.auth("K", "admin")
    )
    assert response.status_code == 400
    assert "node's key" in response.json()["description"]


def test_duplicate_key_ids_in_a_directory_are_refused(community: Community) -> None:
    """An offline verifier refuses a key directory that names one key id twice."""
    document = key_directory.key_directory(community.node)
    first = next(k for k in document["organizations"][0]["keys"] if k["purpose"] == "sign")
    document["organizations"][1]["keys"].append(dict(first))
    with pytest.raises(InvalidInput, match="appears twice"):
        verify_all([make_indicator()], document)


def test_operator_cannot_replace_a_client_custody_orgs_keys(
    community: Community, hostile: tuple[Org, ClientKeys]
) -> None:
    """Only the org's own admins rotate the keys of an org that keeps them."""
    org, _ = hostile
    fresh = ClientKeys(SigningKey.generate(), PrivateKey.generate())
    with pytest.raises(Forbidden, match="only its own admins"):
        keys.rotate_keys(community.node, OPERATOR, org, fresh.public())


def test_upper_case_identifiers_are_refused(client: TestClient, community: Community) -> None:
    """An upper-case spelling of A's identity or of TLP:RED does not pass as another id."""
    upper_identity = "identity--" + community.orgs["A"].identity_id.split("--")[1].upper()
    upper_red = "marking-definition--" + RED.split("--")[1].upper()
    cases = [
        make_indicator(created_by_ref=upper_identity),
        make_indicator(marking=upper_red),
        {**make_indicator(), "id": "indicator--" + stix_id("x").split("--")[1].upper()},
    ]
    status = _post(client, community, "B", "public", cases)
    assert status["success_count"] == 0
    assert status["failure_count"] == 3


def test_members_cannot_supersede_or_delete_their_directory_identity(
    client: TestClient, community: Community
) -> None:
    """An org's identity (with its keys) is published by the node only."""
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": community.orgs["A"].identity_id,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2099-01-01T00:00:00.000Z",
        "name": "Org A",
        "x_tabadol_keys": [],
    }
    status = _post(client, community, "A", "members", [identity])
    assert "directory record" in status["failures"][0]["message"]
    url = (
        f"/taxii2/root/collections/{community.collections['members']}/objects/"
        f"{community.orgs['A'].identity_id}/"
    )
    assert client.delete(url, headers=community.auth("A")).status_code == 403


def test_no_private_key_in_the_data_directory(tmp_path: Path) -> None:
    """The node key is wrapped like the org keys: the data directory alone gives no key."""
    data = tmp_path / "node"
    init_node(data)
    with open_node(data) as node:
        org = organizations.add_org(node, "Org A")
        secrets = [bytes(node.node_key)]
        for key in node.store.org_keys(org.id):
            secrets.append(keyring.private_key(node, key))
    files = b"".join(f.read_bytes() for f in data.rglob("*") if f.is_file())
    assert all(secret not in files for secret in secrets)


def test_a_legacy_raw_node_key_is_wrapped_on_open(tmp_path: Path) -> None:
    """A data directory whose node key was a raw seed is upgraded: wrapped, then removed."""
    data = tmp_path / "node"
    init_node(data)
    with open_node(data) as node:
        seed = bytes(node.node_key)
    (data / "keys" / "node.ed25519.wrapped").unlink()
    (data / "keys" / "node.ed25519.pub").unlink()
    (data / "keys" / "node.ed25519").write_bytes(seed)
    with open_node(data) as node:
        assert bytes(node.node_key) == seed
    assert not (data / "keys" / "node.ed25519").exists()
    with open_node(data) as node:
        assert bytes(node.node_key) == seed


def test_keys_are_not_wrapped_under_a_wrong_secret(community: Community) -> None:
    """With the wrong secret in place, adding an org fails instead of stranding its keys."""
    node = community.node
    node.unwrapped.clear()
    node.key_secret_path.write_bytes(bytes(32))
    with pytest.raises(KeysUnavailable):
        organizations.add_org(node, "Org New")
    assert node.store.org_by_name("Org New") is None


def test_an_ancient_revocation_time_is_a_clear_error(
    client: TestClient, community: Community
) -> None:
    """Revoking from before 1970 (a valid RFC 3339 time) revokes from the key's start, not
    a 500: no key of the node is older."""
    kid = keyring.current_key(community.node, community.orgs["A"], KeyPurpose.SIGN).key_id  # type: ignore[union-attr]
    response = client.post(
        f"/api/v1/keys/{kid}/revoke",
        json={"reason": "old", "since": "0001-01-01T00:00:00Z"},
        headers=community.auth("A", "admin"),
    )
    assert response.status_code == 200
    assert response.json()["revoked"].startswith("1970-01-01T00:00:00")


def test_a_huge_integer_is_a_clear_error(client: TestClient, community: Community) -> None:
    """An integer of 5,000 digits is a 400 in the TAXII error format."""
    body = b'{"objects": [{"x": ' + b"9" * 5000 + b"}]}"
    url = f"/taxii2/root/collections/{community.collections['members']}/objects/"
    response = client.post(
        url, content=body, headers={**community.auth("A"), "Content-Type": TAXII}
    )
    assert response.status_code == 400


def test_deeply_nested_restricted_items_fail_alone(
    client: TestClient, community: Community
) -> None:
    """A RED item too deep to seal fails with a reason; the rest of the envelope is stored."""
    deep: Any = "x"
    for _ in range(300):
        deep = [deep]
    status = _post(
        client,
        community,
        "A",
        "AB group",
        [make_indicator(marking=RED, x_deep=deep), make_indicator(marking=RED)],
    )
    assert status["success_count"] == 1


def test_a_revoked_key_signs_no_timeless_object_offline(community: Community) -> None:
    """Offline, an object without timestamps signed by a key that has ended does not verify."""
    node = community.node
    key = keyring.current_key(node, community.orgs["A"], KeyPurpose.SIGN)
    assert key is not None
    sco = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": stix_id("ipv4-addr"),
        "value": "198.51.100.9",
    }
    attach_signature(sco, keyring.signing_key_of(node, key), key.key_id)
    assert verify_all([sco], key_directory.key_directory(node))[0].ok
    keys.revoke_key(node, OPERATOR, key.key_id, "compromised")
    (verdict,) = verify_all([sco], key_directory.key_directory(node))
    assert verdict.problem is not None
    assert "no time" in verdict.problem


def test_cli_import_and_export_are_audited_as_the_operator(
    community: Community, tmp_path: Path
) -> None:
    """The CLI acts on the operator's authority: the log says so, with the org it acted as."""
    bundle = tmp_path / "b.json"
    bundle.write_text(
        json.dumps({"type": "bundle", "id": stix_id("bundle"), "objects": [make_indicator()]})
    )
    data = community.node.data_dir
    runner = CliRunner()
    imported = runner.invoke(
        app,
        [
            *("import", str(bundle), "--org", "Org A", "--collection", "members"),
            *("--data", str(data), "--break-glass", "test"),
        ],
    )
    assert imported.exit_code == 0, imported.output
    entries = community.node.store.audit_entries(action="publish", limit=10_000)
    assert entries[-1].actor == "operator as org:Org A"


def test_verify_with_a_malformed_key_directory_is_one_line(tmp_path: Path) -> None:
    """`tabadol verify` with a broken key directory prints one line, exit 1, no traceback."""
    bundle, bad = tmp_path / "b.json", tmp_path / "keys.json"
    bundle.write_text(
        json.dumps({"type": "bundle", "id": stix_id("bundle"), "objects": [make_indicator()]})
    )
    bad.write_text(json.dumps({"node": {"key_id": "ed25519:x", "public_key": "AAAA"}}))
    result = CliRunner().invoke(app, ["verify", str(bundle), "--keys", str(bad)])
    assert result.exit_code == 1
    assert "not a key directory" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_database_alone_names_no_restricted_refusal_reason(
    client: TestClient, community: Community
) -> None:
    """The append-only audit log keeps refused ids, never reasons that may quote content."""
    secret = "CODENAME-NIGHTJAR"
    _post(client, community, "A", "AB group", [make_indicator(marking=RED, valid_until=secret)])
    db = community.node.data_dir / community.node.settings.database
    with closing(sqlite3.connect(db)) as conn:
        entries = b"".join(row[0] for row in conn.execute("SELECT entry FROM audit_log"))
    assert secret.encode() not in entries
