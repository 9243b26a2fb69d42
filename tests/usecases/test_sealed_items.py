"""Sealed items as `tabadol-sealed` STIX objects (issue 13, finding 7): what the node admits
in clear, how the status names them, who opens them, and the previous release's form
(`x_tabadol_sealed` on the inner type), which still opens and verifies."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
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
from tabadol.domain.errors import SealingError
from tabadol.domain.extensions import SEALED_EXTENSION, SEALED_TYPE
from tabadol.domain.keys import KeyPurpose
from tabadol.domain.model import Org
from tabadol.domain.sealed import ALGORITHM, LEGACY_PROPERTY, routing_of, wrapper_id
from tabadol.domain.timestamps import parse_us
from tabadol.domain.tlp import STANDARD_MARKINGS, TLP
from tabadol.node import keyring
from tabadol.storage.contract import NewVersion
from tabadol.usecases.membership import sharing_groups
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.trust import key_directory
from tabadol.usecases.trust.verify import verify_all

from ..conftest import Community, make_indicator, stix_id
from .test_signatures import _post

RED = TLP.RED.marking_id
STAMP = "2026-01-05T00:00:00.000Z"


def _report(author: str) -> dict[str, Any]:
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": stix_id("report"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "created_by_ref": author,
        "name": "incident 2026-114",
        "description": "گزارش محرمانه",
        "published": "2026-01-01T00:00:00.000Z",
        "object_refs": [stix_id("note")],
        "object_marking_refs": [RED],
    }


def _get(client: TestClient, com: Community, who: str, title: str, object_id: str) -> Any:
    url = f"/taxii2/root/collections/{com.collections[title]}/objects/{object_id}/"
    response = client.get(url, headers=com.auth(who))
    assert response.status_code == 200, response.text
    (obj,) = response.json()["objects"]
    return obj


def _encryption_keys(com: Community, *names: str) -> dict[str, bytes]:
    ids = [com.orgs[name].id for name in names]
    current = com.node.store.current_keys(ids, KeyPurpose.ENCRYPT)
    return {key.key_id: key.public_key for key in current.values()}


def previous_release_seal(
    obj: dict[str, Any], recipients: dict[str, bytes], signing: SigningKey, key_id: str
) -> dict[str, Any]:
    """The sealed form exactly as the previous release wrote it: the inner object's routing
    under its own type and id, the ciphertext in `x_tabadol_sealed`, signed in the custom
    property `x_tabadol_signature`."""
    routing = routing_of(obj)
    sealed = seal(orjson.dumps(obj), recipients, canonical(routing))
    old = dict(routing)
    old[LEGACY_PROPERTY] = {
        "alg": ALGORITHM,
        "nonce": b64url(sealed.nonce),
        "ciphertext": b64url(sealed.ciphertext),
        "key_commitment": b64url(sealed.commitment),
        "recipients": {kid: b64url(box) for kid, box in sealed.sealed_keys.items()},
    }
    attach_signature(old, signing, key_id, legacy=True)
    return old


def _a_signs(com: Community) -> tuple[SigningKey, str]:
    key = keyring.current_key(com.node, com.orgs["A"], KeyPurpose.SIGN)
    assert key is not None
    return keyring.signing_key_of(com.node, key), key.key_id


def _store_as_previous_release(com: Community, old: dict[str, Any]) -> None:
    """A's old-form item in the AB group, stored as the previous release stored it: under
    the inner id and type (what a database from before this release holds)."""
    group = next(c for c in com.node.store.list_collections() if c.title == "AB group")
    version = NewVersion(
        stix_id=old["id"],
        type=old["type"],
        spec_version="2.1",
        version_us=parse_us(old["modified"]),
        created_by_ref=old["created_by_ref"],
        tlp=TLP.RED.label,
        tlp_defaulted=False,
        body=orjson.dumps(old),
        sealed=True,
    )
    com.node.store.write_versions(group.id, com.orgs["A"].id, [version], com.node.clock())


# --- the status and ids ------------------------------------------------------------------------
def test_the_status_names_the_posted_object_and_where_it_is_sealed(
    client: TestClient, community: Community
) -> None:
    """A RED report the node seals is reported under the id it was posted with, the message
    naming the `tabadol-sealed` id it is stored under; either id finds it, and A deletes it
    by the id it posted (every version, as for any object)."""
    obj = _report(community.orgs["A"].identity_id)
    sealed_id = wrapper_id(obj["id"])
    for message in ("stored", "this version was already stored"):
        status = _post(client, community, "A", "AB group", [obj])
        assert [(s["id"], s["message"]) for s in status["successes"]] == [
            (obj["id"], f"{message} (sealed: {sealed_id})")
        ]
    assert _post(client, community, "A", "AB group", [{**obj, "modified": STAMP}])
    for asked in (sealed_id, obj["id"]):
        assert _get(client, community, "B", "AB group", asked)["modified"] == STAMP
    base = f"/taxii2/root/collections/{community.collections['AB group']}/objects"
    manifest = client.get(f"{base[:-8]}/manifest/", headers=community.auth("B")).json()
    assert [r["id"] for r in manifest["objects"]] == [sealed_id]  # the stored id
    versions = client.get(f"{base}/{obj['id']}/versions/", headers=community.auth("B")).json()
    assert len(versions["versions"]) == 2
    assert client.delete(f"{base}/{obj['id']}/", headers=community.auth("A")).status_code == 200
    for asked in (sealed_id, obj["id"]):
        assert client.get(f"{base}/{asked}/", headers=community.auth("B")).status_code == 404


def test_a_member_who_is_not_a_recipient_holds_no_key_that_opens_it(
    client: TestClient, community: Community
) -> None:
    """C joins the group after the item was sealed: its own key does not open the item, the
    node serves it the `tabadol-sealed` item, and a recipient's key does open it."""
    obj = _report(community.orgs["A"].identity_id)
    _post(client, community, "A", "AB group", [obj])
    sharing_groups.add_group_member(
        community.node, OPERATOR, "AB group", "Org C", break_glass="test"
    )
    sealed = _get(client, community, "C", "AB group", wrapper_id(obj["id"]))
    assert sealed["type"] == SEALED_TYPE
    assert sealed["sealed_ref"] == obj["id"]
    node = community.node
    for name, opens in (("C", False), ("B", True)):
        key = keyring.current_key(node, community.orgs[name], KeyPurpose.ENCRYPT)
        assert key is not None
        private = keyring.decryption_key_of(node, key)
        if opens:
            assert open_object(sealed, private)["description"] == obj["description"]
        else:
            with pytest.raises(SealingError, match="not a recipient"):
                open_object(sealed, private)


def test_a_sealed_observable_is_dated_when_sealed_and_opens_as_posted(
    client: TestClient, community: Community
) -> None:
    """A RED cyber-observable has no timestamps; its item takes the sealing time (a new SDO
    needs `created` and `modified`), and B opens exactly the observable A posted."""
    sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": stix_id("ipv4-addr")}
    sco |= {"value": "198.51.100.77", "object_marking_refs": [RED]}
    assert _post(client, community, "A", "AB group", [sco])["success_count"] == 1
    sealed_id = wrapper_id(sco["id"])
    opened = _get(client, community, "B", "AB group", sealed_id)
    assert {k: v for k, v in opened.items() if k != "extensions"} == sco
    sharing_groups.add_group_member(
        community.node, OPERATOR, "AB group", "Org C", break_glass="test"
    )
    item = _get(client, community, "C", "AB group", sealed_id)
    assert item["sealed_ref"] == sco["id"]
    assert item["created"] == item["modified"]
    assert "value" not in item


# --- what a sealed item carries in clear ------------------------------------------------------
def _extra_name(item: dict[str, Any]) -> None:
    item["name"] = "a title in clear"


def _extra_extension(item: dict[str, Any]) -> None:
    item["extensions"][f"extension-definition--{uuid.uuid4()}"] = {"extension_type": "toplevel"}


def _both_forms(item: dict[str, Any]) -> None:
    item[LEGACY_PROPERTY] = {"alg": ALGORITHM}


def _sealed_in_sealed(item: dict[str, Any]) -> None:
    item["sealed_ref"] = item["id"]


def _another_id(item: dict[str, Any]) -> None:
    item["id"] = stix_id(SEALED_TYPE)


def _no_definition(item: dict[str, Any]) -> None:
    del item["extensions"][SEALED_EXTENSION]


CLEAR: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "a name in clear": (_extra_name, "carries only routing metadata in clear; found name"),
    "another extension in clear": (_extra_extension, "carries only routing metadata in clear"),
    "the previous form's property too": (_both_forms, f"found {LEGACY_PROPERTY}"),
    "a sealed item inside a sealed item": (_sealed_in_sealed, "'sealed_ref' must be"),
    "an id not derived from sealed_ref": (_another_id, "derived from its sealed_ref"),
    "no extension definition named": (_no_definition, "names its definition"),
}


@pytest.mark.parametrize("case", list(CLEAR))
def test_what_a_sealed_item_may_carry_in_clear(
    client: TestClient, community: Community, client_org: tuple[Org, ClientKeys], case: str
) -> None:
    """K's client seals for K's own channel; an item validly signed by K that carries more
    in clear, or that is malformed, is refused with the reason; the untouched one is stored."""
    org, held = client_org
    inner = make_indicator(created_by_ref=org.identity_id, marking=RED)
    attach_signature(inner, held.signing, held.sign_id)
    good = seal_object(inner, {held.encrypt_id: bytes(held.encryption.public_key)}, stamp=STAMP)
    bad = copy.deepcopy(good)
    change, reason = CLEAR[case]
    change(bad)
    for item in (good, bad):
        attach_signature(item, held.signing, held.sign_id)
    status = _post(client, community, "K", "Org K", [good, bad])
    assert status["success_count"] == 1, status
    (failure,) = status["failures"]
    assert reason in failure["message"]


def test_a_standard_marking_is_never_sealed(
    client: TestClient, community: Community, client_org: tuple[Org, ClientKeys]
) -> None:
    """An item holding a TLP marking-definition (which a reader would take for the node's)
    is refused: the node's own objects are served from constants, never sealed."""
    org, held = client_org
    marking = copy.deepcopy(STANDARD_MARKINGS[TLP.RED.marking_id])
    item = seal_object(marking, {held.encrypt_id: bytes(held.encryption.public_key)}, stamp=STAMP)
    item |= {"created_by_ref": org.identity_id, "object_marking_refs": [RED]}
    attach_signature(item, held.signing, held.sign_id)
    status = _post(client, community, "K", "Org K", [item])
    assert "node's own objects" in status["failures"][0]["message"]


# --- the previous release's form ----------------------------------------------------------------
def test_an_old_form_item_stored_before_opens_for_recipients_and_verifies(
    client: TestClient, community: Community, tmp_path: Path
) -> None:
    """An item the previous release stored (under its inner id, `x_tabadol_sealed`) opens
    for B through the node; C, who joined later, gets it as stored; both forms, and the
    opened report, pass `tabadol verify` against the key directory."""
    signing, key_id = _a_signs(community)
    inner = _report(community.orgs["A"].identity_id)
    attach_signature(inner, signing, key_id)
    old = previous_release_seal(inner, _encryption_keys(community, "A", "B"), signing, key_id)
    _store_as_previous_release(community, old)
    sharing_groups.add_group_member(
        community.node, OPERATOR, "AB group", "Org C", break_glass="test"
    )
    opened = _get(client, community, "B", "AB group", inner["id"])
    assert opened == inner
    assert _get(client, community, "C", "AB group", inner["id"]) == old
    new = _report(community.orgs["A"].identity_id)
    _post(client, community, "A", "AB group", [new])
    new_item = _get(client, community, "C", "AB group", wrapper_id(new["id"]))
    bundle, keys = tmp_path / "bundle.json", tmp_path / "keys.json"
    bundle.write_text(json.dumps({"type": "bundle", "objects": [old, opened, new_item]}))
    keys.write_text(json.dumps(key_directory.key_directory(community.node)))
    result = CliRunner().invoke(app, ["verify", str(bundle), "--keys", str(keys)])
    assert result.exit_code == 0, result.output
    directory = key_directory.key_directory(community.node)
    assert [v.signer for v in verify_all([old, opened, new_item], directory)] == ["Org A"] * 3
    forged = {**old, "object_marking_refs": [TLP.GREEN.marking_id]}
    assert not verify_all([forged], directory)[0].ok


def test_an_old_form_item_from_a_member_is_refused_with_the_reason(
    client: TestClient, community: Community, client_org: tuple[Org, ClientKeys]
) -> None:
    """A member's client seals in this release's form: an old-form item it posts is refused
    (only a peer relays one, as its author signed it), and nothing is stored."""
    org, held = client_org
    inner = make_indicator(created_by_ref=org.identity_id, marking=RED)
    attach_signature(inner, held.signing, held.sign_id)
    recipients = {held.encrypt_id: bytes(held.encryption.public_key)}
    old = previous_release_seal(inner, recipients, held.signing, held.sign_id)
    status = _post(client, community, "K", "Org K", [old])
    assert status["success_count"] == 0
    assert "taken from peers only" in status["failures"][0]["message"]
    url = f"/taxii2/root/collections/{community.collections['Org K']}/objects/{inner['id']}/"
    assert client.get(url, headers=community.auth("K")).status_code == 404


def _readme_recipe(name: str) -> dict[str, Any]:
    from ..unit.test_docs import README

    code = README.split(f"<!-- example: {name} -->")[1].split("```python")[1].split("```")[0]
    scope: dict[str, Any] = {}
    exec(code, scope)
    return scope


def test_the_readme_recipes_open_and_verify_a_sealed_item(
    client: TestClient, community: Community
) -> None:
    """With PyNaCl and rfc8785 alone, as the README shows: B opens the item C was served
    (B is a recipient, C is not), A's signature verifies on the item and on what it holds,
    and an item moved to another marking does not open."""
    from nacl.exceptions import CryptoError

    obj = _report(community.orgs["A"].identity_id)
    _post(client, community, "A", "AB group", [obj])
    sharing_groups.add_group_member(
        community.node, OPERATOR, "AB group", "Org C", break_glass="test"
    )
    item = _get(client, community, "C", "AB group", wrapper_id(obj["id"]))
    node = community.node
    b_key = keyring.current_key(node, community.orgs["B"], KeyPurpose.ENCRYPT)
    a_key = keyring.current_key(node, community.orgs["A"], KeyPurpose.SIGN)
    assert b_key is not None
    assert a_key is not None
    private = b64url(bytes(keyring.decryption_key_of(node, b_key)))
    open_with_pynacl = _readme_recipe("open-with-pynacl")["open_with_pynacl"]
    verify_with_pynacl = _readme_recipe("verify-with-pynacl")["verify_with_pynacl"]
    inner = open_with_pynacl(item, private, b_key.key_id)
    assert {k: inner[k] for k in obj} == obj
    public = b64url(a_key.public_key)
    assert verify_with_pynacl(item, public) is True
    assert verify_with_pynacl(inner, public) is True
    moved = {**item, "object_marking_refs": [TLP.GREEN.marking_id]}
    assert verify_with_pynacl(moved, public) is False
    with pytest.raises(CryptoError):
        open_with_pynacl(moved, private, b_key.key_id)
