"""Member signatures on every write path: the node signs for orgs whose keys it holds,
verifies what arrives signed, and refuses — with a per-object reason — anything whose
signature does not hold for the member that publishes it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.client.remote import ClientKeys
from tabadol.crypto.object_signature import attach_signature, read_signature
from tabadol.crypto.signing import b64url, key_id, unb64url
from tabadol.domain.attestation import without_attestation
from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import InvalidInput, KeysUnavailable
from tabadol.domain.extensions import DIRECTORY_EXTENSION, NODE_ATTESTED, SIGNATURE_EXTENSION
from tabadol.domain.keys import Custody, KeyPurpose
from tabadol.domain.model import Org
from tabadol.domain.timestamps import format_us
from tabadol.node import keyring
from tabadol.usecases.membership import organizations
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.trust import key_directory, keys
from tabadol.usecases.trust.verify import verify_all

from ..conftest import Community, make_indicator, stix_id
from ..unit.test_crypto import KAT_KEY_ID, KAT_OBJECT, KAT_SIGNATURE

TAXII = "application/taxii+json;version=2.1"
L = 2**252 + 27742317777372353535851937790883648493  # the order of the Ed25519 group


def _post(client: TestClient, com: Community, who: str, collection: str, objects: list[Any]) -> Any:
    headers = {**com.auth(who), "Content-Type": TAXII}
    url = f"/taxii2/root/collections/{com.collections[collection]}/objects/"
    response = client.post(url, json={"objects": objects}, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


def _read(client: TestClient, com: Community, who: str, collection: str) -> list[Any]:
    url = f"/taxii2/root/collections/{com.collections[collection]}/objects/"
    response = client.get(url, headers=com.auth(who))
    assert response.status_code == 200, response.text
    return list(response.json().get("objects", []))


def _sig(obj: dict[str, Any]) -> dict[str, Any]:
    """The signature extension's entry of a signed object."""
    entry: dict[str, Any] = obj["extensions"][SIGNATURE_EXTENSION]
    return entry


def _failure(status: Any) -> str:
    assert status["failure_count"] == 1, status
    return str(status["failures"][0]["message"])


def _signed(held: ClientKeys, org: Org, **extra: Any) -> dict[str, Any]:
    obj = make_indicator(created_by_ref=org.identity_id, **extra)
    attach_signature(obj, held.signing, held.sign_id)
    return obj


# --- the node signs ----------------------------------------------------------------------------
def test_node_signs_unsigned_objects_with_the_publishers_key(
    client: TestClient, community: Community
) -> None:
    """An unsigned object from a node-custody org is stored signed by that org's current key,
    and verifies offline against the published key directory."""
    obj = make_indicator()
    _post(client, community, "A", "members", [obj])
    stored = next(o for o in _read(client, community, "B", "members") if o["id"] == obj["id"])
    signature = read_signature(stored)
    assert signature is not None
    current = keyring.current_key(community.node, community.orgs["A"], KeyPurpose.SIGN)
    assert current is not None
    assert signature.key_id == current.key_id
    verdicts = verify_all([stored], key_directory.key_directory(community.node))
    assert verdicts[0].ok
    assert verdicts[0].signer == "Org A"


def test_org_identities_are_signed_by_the_node_key(
    client: TestClient, community: Community
) -> None:
    """The node speaks for its directory: org identities carry the keys and the node's
    signature, and verify offline."""
    identity = next(
        o
        for o in _read(client, community, "C", "members")
        if o["id"] == community.orgs["A"].identity_id
    )
    assert read_signature(identity).key_id == community.node.node_key_id  # type: ignore[union-attr]
    record = identity["extensions"][DIRECTORY_EXTENSION]
    assert {k["purpose"] for k in record["keys"]} == {"sign", "encrypt"}
    assert record["custody"] == "node"
    assert not any(name.startswith("x_") for name in identity)
    assert verify_all([identity], key_directory.key_directory(community.node))[0].ok


def test_known_answer_signature_extension() -> None:
    """A fixed key and a fixed object give a fixed signature, in the extension: the payload
    is the object without it, so the value is the one the older property carried."""
    key = SigningKey(bytes(range(32)))
    obj = copy.deepcopy(KAT_OBJECT)
    attach_signature(obj, key, key_id(bytes(key.verify_key)))
    again = copy.deepcopy(KAT_OBJECT)
    attach_signature(again, key, key_id(bytes(key.verify_key)))
    assert obj == again
    assert set(obj) == {*KAT_OBJECT, "extensions"}
    assert _sig(obj)["extension_type"] == "property-extension"
    assert _sig(obj)["alg"] == "Ed25519"
    assert _sig(obj)["key_id"] == "ed25519:" + KAT_KEY_ID
    assert unb64url(_sig(obj)["value"]).hex() == KAT_SIGNATURE


# --- what arrives signed -----------------------------------------------------------------------
def test_client_signed_objects_are_stored_unchanged(
    client: TestClient, community: Community, client_org: tuple[Org, ClientKeys]
) -> None:
    """A client-custody org's signed object is verified and stored as signed: the node adds
    only its attestation (provenance and audience), outside the signature."""
    org, held = client_org
    obj = _signed(held, org, marking="marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da")
    status = _post(client, community, "K", "members", [obj])
    assert status["success_count"] == 1, status
    stored = next(o for o in _read(client, community, "A", "members") if o["id"] == obj["id"])
    assert without_attestation(stored) == obj
    assert set(stored["extensions"]) == {SIGNATURE_EXTENSION, *NODE_ATTESTED}


def _forged(held: ClientKeys, org: Org) -> dict[str, Any]:
    obj = _signed(held, org)
    _sig(obj)["value"] = b64url(bytes(64))
    return obj


def _changed(held: ClientKeys, org: Org) -> dict[str, Any]:
    obj = _signed(held, org)
    obj["name"] = "bad IP (edited after signing)"
    return obj


def _replayed(held: ClientKeys, org: Org) -> dict[str, Any]:
    """The signature of an older version carried over to a newer one."""
    obj = _signed(held, org, modified="2026-01-02T00:00:00.000Z")
    obj["modified"] = "2026-01-03T00:00:00.000Z"
    return obj


def _non_canonical(held: ClientKeys, org: Org) -> dict[str, Any]:
    """The same signature with S + L: valid modulo L, refused as non-canonical."""
    obj = _signed(held, org)
    raw = bytearray(unb64url(_sig(obj)["value"]))
    s = int.from_bytes(raw[32:], "little") + L
    raw[32:] = s.to_bytes(32, "little")
    _sig(obj)["value"] = b64url(bytes(raw))
    return obj


def _unknown_key(held: ClientKeys, org: Org) -> dict[str, Any]:
    stranger = SigningKey.generate()
    obj = make_indicator(created_by_ref=org.identity_id)
    attach_signature(obj, stranger, key_id(bytes(stranger.verify_key)))
    return obj


def _malformed(held: ClientKeys, org: Org) -> dict[str, Any]:
    obj = _signed(held, org)
    del obj["extensions"]
    obj["x_tabadol_signature"] = "trust me"
    return obj


def _malformed_extension(held: ClientKeys, org: Org) -> dict[str, Any]:
    obj = _signed(held, org)
    _sig(obj)["alg"] = "none"
    return obj


def _key_id_swapped(held: ClientKeys, org: Org) -> dict[str, Any]:
    """The extension's key id changed to another key of the org: it names the key that must
    verify, and that key did not sign."""
    obj = _signed(held, org)
    _sig(obj)["key_id"] = held.encrypt_id
    return obj


def _both_forms(held: ClientKeys, org: Org) -> dict[str, Any]:
    obj = _signed(held, org)
    obj["x_tabadol_signature"] = {k: v for k, v in _sig(obj).items() if k != "extension_type"}
    return obj


def _encryption_key(held: ClientKeys, org: Org) -> dict[str, Any]:
    obj = make_indicator(created_by_ref=org.identity_id)
    attach_signature(obj, held.signing, held.encrypt_id)
    return obj


def _unsigned(held: ClientKeys, org: Org) -> dict[str, Any]:
    return make_indicator(created_by_ref=org.identity_id)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_forged, "does not verify"),
        (_changed, "does not verify"),
        (_replayed, "does not verify"),
        (_non_canonical, "does not verify"),
        (_unknown_key, "unknown key"),
        (_malformed, "x_tabadol_signature must be"),
        (_malformed_extension, "the signature extension must be"),
        (_key_id_swapped, "not a signing key"),
        (_both_forms, "two signatures"),
        (_encryption_key, "not a signing key"),
        (_unsigned, "missing signature"),
    ],
    ids=[
        "forged signature",
        "one field changed after signing",
        "older version's signature replayed on a newer version",
        "non-canonical S >= L",
        "unknown key",
        "malformed signature property",
        "malformed signature extension",
        "extension's key id swapped",
        "signed in both forms",
        "signed with an encryption key id",
        "missing signature (client custody)",
    ],
)
def test_bad_signatures_are_refused_with_a_reason(
    client: TestClient,
    community: Community,
    client_org: tuple[Org, ClientKeys],
    make: Callable[[ClientKeys, Org], dict[str, Any]],
    reason: str,
) -> None:
    """Each bad signature fails its own object, with a reason in the TAXII status, while a
    good object in the same envelope is stored."""
    org, held = client_org
    good = _signed(held, org)
    status = _post(client, community, "K", "members", [make(held, org), good])
    assert status["success_count"] == 1
    assert reason in _failure(status)
    stored = {o["id"] for o in _read(client, community, "A", "members")}
    assert good["id"] in stored


def test_exact_replay_of_a_stored_version_stores_nothing_new(
    client: TestClient, community: Community, client_org: tuple[Org, ClientKeys]
) -> None:
    """Re-posting an older signed version after a newer one changes nothing: the latest stays."""
    org, held = client_org
    old = _signed(held, org, modified="2026-01-02T00:00:00.000Z")
    new = copy.deepcopy(old)
    new["modified"] = "2026-01-05T00:00:00.000Z"
    attach_signature(new, held.signing, held.sign_id)
    _post(client, community, "K", "members", [old, new])
    again = _post(client, community, "K", "members", [old])
    assert again["successes"][0]["message"] == "this version was already stored"
    latest = next(o for o in _read(client, community, "A", "members") if o["id"] == old["id"])
    assert latest["modified"] == new["modified"]


def test_nobody_signs_for_another_member(client: TestClient, community: Community) -> None:
    """An object signed with A's key, posted with B's token, is refused: the signer must be
    the publishing member (and B cannot claim A as its author either)."""
    node = community.node
    a_key = keyring.current_key(node, community.orgs["A"], KeyPurpose.SIGN)
    assert a_key is not None
    obj = make_indicator()
    attach_signature(obj, keyring.signing_key_of(node, a_key), a_key.key_id)
    assert "a key of 'Org A'" in _failure(_post(client, community, "B", "members", [obj]))
    claimed = make_indicator(created_by_ref=community.orgs["A"].identity_id)
    assert "nobody publishes as another" in _failure(
        _post(client, community, "B", "members", [claimed])
    )


def test_revoked_key_refuses_versions_from_its_revocation_on(
    client: TestClient, community: Community, client_org: tuple[Org, ClientKeys]
) -> None:
    """After `key revoke --since T`, versions at or after T signed with it are refused;
    earlier versions still verify."""
    org, held = client_org
    since = "2026-01-01T00:00:00.010Z"  # the test clock is a little later than this
    keys.revoke_key(community.node, OPERATOR, held.sign_id, "laptop stolen", keys.parse_time(since))
    before = _signed(held, org, modified="2026-01-01T00:00:00.009Z")
    after = _signed(held, org, modified=since)
    status = _post(client, community, "K", "members", [before, after])
    assert status["success_count"] == 1
    assert "revoked before this version (laptop stolen)" in _failure(status)


def test_rotated_key_is_retired_not_revoked(client: TestClient, community: Community) -> None:
    """After a rotation the old key still verifies older versions but not new ones, and
    the node signs with the new key; the identity republishes the key history."""
    node = community.node
    org = community.orgs["A"]
    old = keyring.current_key(node, org, KeyPurpose.SIGN)
    assert old is not None
    old_signer = keyring.signing_key_of(node, old)
    keys.rotate_keys(node, OPERATOR, org)
    new = keyring.current_key(node, org, KeyPurpose.SIGN)
    assert new is not None
    assert new.key_id != old.key_id
    retired_at = node.store.keys_by_id([old.key_id])[old.key_id].valid_until
    assert retired_at is not None
    earlier = make_indicator(modified=format_us(retired_at - 1000))
    later = make_indicator(modified=format_us(retired_at + 1000))
    for obj in (earlier, later):
        attach_signature(obj, old_signer, old.key_id)
    status = _post(client, community, "A", "members", [earlier, later])
    assert "retired by a rotation" in _failure(status)
    fresh = make_indicator()
    _post(client, community, "A", "members", [fresh])
    stored = {o["id"]: o for o in _read(client, community, "B", "members")}
    assert _sig(stored[fresh["id"]])["key_id"] == new.key_id
    history = stored[org.identity_id]["extensions"][DIRECTORY_EXTENSION]["keys"]
    assert {k["key_id"] for k in history} >= {old.key_id, new.key_id}
    assert verify_all(list(stored.values()), key_directory.key_directory(node))
    assert all(v.ok for v in verify_all(list(stored.values()), key_directory.key_directory(node)))


# --- keys -----------------------------------------------------------------------------------------
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # identity
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
    "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
]


@pytest.mark.parametrize("point", SMALL_ORDER)
def test_small_order_keys_are_refused_at_registration(community: Community, point: str) -> None:
    """A small-order signing key (for which one signature verifies any message) is never
    registered: not for a new org, not in a rotation."""
    public = {
        "sign": b64url(bytes.fromhex(point)),
        "encrypt": b64url(bytes(PrivateKey.generate().public_key)),
    }
    with pytest.raises(InvalidInput, match="signing key refused"):
        organizations.add_org(
            community.node, "Org Evil", custody=Custody.CLIENT, public_keys=public
        )
    assert community.node.store.org_by_name("Org Evil") is None


def test_small_order_key_refused_over_the_api(client: TestClient, community: Community) -> None:
    """The operator's API gives a 400 in the TAXII error format for a small-order key."""
    public = {"sign": b64url(bytes.fromhex(SMALL_ORDER[0])), "encrypt": b64url(bytes(32 * [7]))}
    response = client.post(
        "/api/v1/orgs",
        json={"name": "Org Evil", "custody": "client", "public_keys": public},
        headers=community.auth("operator"),
    )
    assert response.status_code == 400
    assert "signing key refused" in response.json()["description"]


def test_key_directory_and_rotation_over_the_api(client: TestClient, community: Community) -> None:
    """Members read the key directory; an org admin rotates its own keys, not another's;
    a publisher cannot; revocation needs a reason."""
    listed = client.get("/api/v1/keys", headers=community.auth("C", "reader")).json()
    names = {o["name"] for o in listed["organizations"]}
    assert {"Org A", "Org B", "Org C"} <= names
    assert listed["node"]["key_id"] == community.node.node_key_id
    assert client.get("/api/v1/keys", headers=community.auth("G", "reader")).status_code == 403
    mine = client.post("/api/v1/orgs/Org A/keys", json={}, headers=community.auth("A", "admin"))
    assert mine.status_code == 201
    assert {k["purpose"] for k in mine.json()} == {"sign", "encrypt"}
    theirs = client.post("/api/v1/orgs/Org B/keys", json={}, headers=community.auth("A", "admin"))
    assert theirs.status_code == 403
    publisher = client.post("/api/v1/orgs/Org A/keys", json={}, headers=community.auth("A"))
    assert publisher.status_code == 403
    kid = mine.json()[0]["key_id"]
    revoked = client.post(
        f"/api/v1/keys/{kid}/revoke", json={"reason": "test"}, headers=community.auth("A", "admin")
    )
    assert revoked.status_code == 200
    assert revoked.json()["revocation_reason"] == "test"
    again = client.post(
        f"/api/v1/keys/{kid}/revoke", json={"reason": "x"}, headers=community.auth("A", "admin")
    )
    assert again.status_code == 400


def test_wrapped_private_keys_need_the_secret(community: Community) -> None:
    """The database holds org private keys only wrapped: without the secret (kept outside
    the data directory) they do not open, and the error says so."""
    node = community.node
    key = keyring.current_key(node, community.orgs["A"], KeyPurpose.SIGN)
    assert key is not None
    private = bytes(keyring.signing_key_of(node, key))
    db = (node.data_dir / node.settings.database).read_bytes()
    assert private not in db
    assert not node.key_secret_path.is_relative_to(node.data_dir)
    node.unwrapped.clear()
    node.key_secret_path.write_bytes(bytes(32))
    with pytest.raises(KeysUnavailable, match="does not open the org keys"):
        keyring.signing_key_of(node, key)


# --- offline verification ---------------------------------------------------------------------
def test_cli_verify_passes_an_export_and_names_a_tampered_object(
    community: Community, tmp_path: Path, client: TestClient
) -> None:
    """`tabadol verify` checks an export against the node's key directory; one changed
    object fails, by id, with exit status 1."""
    _post(client, community, "A", "members", [make_indicator() for _ in range(3)])
    node = community.node
    runner = CliRunner()
    bundle, directory_file = tmp_path / "export.json", tmp_path / "keys.json"
    done = runner.invoke(
        app,
        [
            *("export", "--org", "Org B", "--data", str(node.data_dir), "-o", str(bundle)),
            *("--break-glass", "test"),
        ],
    )
    assert done.exit_code == 0, done.output
    directory_file.write_text(json.dumps(key_directory.key_directory(node)))
    ok = runner.invoke(app, ["verify", str(bundle), "--keys", str(directory_file)])
    assert ok.exit_code == 0, ok.output
    data = json.loads(bundle.read_text())
    victim = next(o for o in data["objects"] if o["type"] == "indicator")
    victim["pattern"] = "[ipv4-addr:value = '203.0.113.66']"
    bundle.write_text(json.dumps(data))
    bad = runner.invoke(app, ["verify", str(bundle), "--keys", str(directory_file)])
    assert bad.exit_code == 1
    assert victim["id"] in bad.output
    assert "1 failed" in bad.output


def test_readme_pynacl_recipe_verifies_alone(community: Community, client: TestClient) -> None:
    """The README's recipe (PyNaCl and rfc8785 only) verifies a stored object and rejects
    a changed one."""
    from ..unit.test_docs import README

    code = README.split("<!-- example: verify-with-pynacl -->")[1].split("```python")[1]
    code = code.split("```")[0]
    obj = make_indicator(id=stix_id("indicator"))
    _post(client, community, "A", "members", [obj])
    stored = next(o for o in _read(client, community, "B", "members") if o["id"] == obj["id"])
    a_key = keyring.current_key(community.node, community.orgs["A"], KeyPurpose.SIGN)
    assert a_key is not None
    scope: dict[str, Any] = {}
    exec(code, scope)
    verify_with_pynacl = scope["verify_with_pynacl"]
    public = b64url(a_key.public_key)
    assert verify_with_pynacl(stored, public) is True
    assert verify_with_pynacl({**stored, "name": "changed"}, public) is False
    # an object signed in the older form (the pinned KAT) verifies with the same recipe
    kat_key = b64url(bytes(SigningKey(bytes(range(32))).verify_key))
    value = b64url(bytes.fromhex(KAT_SIGNATURE))
    older = {**KAT_OBJECT, "x_tabadol_signature": {"alg": "Ed25519", "value": value}}
    assert verify_with_pynacl(older, kat_key) is True
    assert verify_with_pynacl({**older, "name": "changed"}, kat_key) is False


def test_the_callers_objects_are_not_changed(community: Community) -> None:
    """Publishing signs and completes a copy: a caller that reuses its dicts (to make a new
    version, say) does not send the node's signature back with changed content."""
    from tabadol.domain.model import Role
    from tabadol.usecases.membership.lookup import collection_by_kind
    from tabadol.usecases.membership.principals import org_principal
    from tabadol.usecases.publishing.publish import publish_objects

    node = community.node
    members = collection_by_kind(node, AudienceKind.MEMBERS)
    principal = org_principal(node, community.orgs["A"], Role.PUBLISHER)
    obj = make_indicator()
    given = copy.deepcopy(obj)
    assert not publish_objects(node, principal, members, [obj]).failures
    assert obj == given
    obj["modified"] = "2026-01-03T00:00:00.000Z"
    assert not publish_objects(node, principal, members, [obj]).failures
