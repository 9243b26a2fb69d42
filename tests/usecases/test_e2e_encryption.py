"""End-to-end encryption through the node: what is stored sealed, who reads it, tampering,
client custody over a real server, and the key-wrapping secret."""

from __future__ import annotations

import copy
import json
import secrets
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from starlette.testclient import TestClient

from tabadol.client.remote import load_keyfile
from tabadol.crypto.object_signature import attach_signature
from tabadol.crypto.sealed_object import open_object, seal_object
from tabadol.crypto.sealing import x25519_key_id
from tabadol.crypto.signing import b64url, unb64url
from tabadol.domain.errors import InvalidInput, KeysUnavailable, SealingError
from tabadol.domain.extensions import SEALED_TYPE
from tabadol.domain.keys import KeyPurpose
from tabadol.domain.sealed import is_sealed, wrapper_id
from tabadol.node import keyring
from tabadol.node.node import Node, open_node
from tabadol.usecases.membership import lookup, sharing_groups
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.trust.verify import verify_all
from tabadol.web.app import create_app
from tabadol.web.media import TAXII_21

from ..cli_runner import tabadol
from ..conftest import Community, LiveServer, StepClock, build_community, make_indicator, stix_id

TLP = {
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
}
RED, GREEN, CLEAR = TLP["RED"], TLP["GREEN"], TLP["CLEAR"]
PHRASE = "گزارش محرمانه: نفوذ به شبکه‌ی وزارت"
STAMP = "2026-01-05T00:00:00.000Z"  # dates the item of an object without timestamps
ROOT = "/taxii2/root/collections"


# --- helpers ---------------------------------------------------------------------------------
def new_marker() -> str:
    return f"e2e-{secrets.token_hex(8)} {PHRASE}"


def needles(marker: str) -> list[bytes]:
    """The marker as UTF-8, as ASCII-escaped JSON, and its random token alone."""
    return [marker.encode(), json.dumps(marker).encode(), marker.split()[0].encode()]


def report(marker: str, marking: str | None = RED) -> dict[str, Any]:
    stamp = "2026-01-01T00:00:00.000Z"
    obj: dict[str, Any] = {"type": "report", "spec_version": "2.1", "id": stix_id("report")}
    obj |= {"created": stamp, "modified": stamp, "name": "incident", "published": stamp}
    obj |= {"description": marker, "object_refs": [stix_id("note")]}
    return obj | ({"object_marking_refs": [marking]} if marking else {})


def leaks(data_dir: Path, secrets_: list[bytes]) -> list[str]:
    """Every file under the data directory that holds any of `secrets_`."""
    found = []
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            content = path.read_bytes()
            found += [f"{path.name}: {s[:12]!r}" for s in secrets_ if s in content]
    return found


def stored(node: Node, object_id: str) -> tuple[bool, dict[str, Any]]:
    """The latest stored row of an object, read straight from the database."""
    db = node.data_dir / node.settings.database
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        sealed, body = conn.execute(
            "SELECT sealed, body FROM objects WHERE stix_id = ? ORDER BY seq DESC LIMIT 1",
            (object_id,),
        ).fetchone()
    return bool(sealed), orjson.loads(body)


def post(
    client: TestClient, com: Community, title: str, objects: list[Any], org: str = "A", **hdr: str
) -> dict[str, Any]:
    response = client.post(
        f"{ROOT}/{com.collections[title]}/objects/",
        content=orjson.dumps({"objects": objects}),
        headers={**com.auth(org), "Content-Type": TAXII_21, **hdr},
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def read(client: TestClient, com: Community, title: str, org: str, object_id: str = "") -> Any:
    suffix = f"objects/{object_id}/" if object_id else "objects/"
    return client.get(f"{ROOT}/{com.collections[title]}/{suffix}", headers=com.auth(org))


def publish_red(client: TestClient, com: Community) -> dict[str, Any]:
    obj = report(new_marker())
    assert post(client, com, "AB group", [obj])["success_count"] == 1
    return obj


def enc_key_ids(node: Node, *names: str) -> set[str]:
    ids = [lookup.require_org(node, n).id for n in names]
    return {k.key_id for k in node.store.current_keys(ids, KeyPurpose.ENCRYPT).values()}


def flip_ciphertext(sealed: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(sealed)
    raw = bytearray(unb64url(out["ciphertext"]))
    raw[len(raw) // 2] ^= 0x01
    out["ciphertext"] = b64url(bytes(raw))
    return out


TAMPERINGS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "one ciphertext byte": flip_ciphertext,
    "moved to another id": lambda s: {**copy.deepcopy(s), "id": stix_id(s["type"])},
    "moved to another object": lambda s: {**copy.deepcopy(s), "sealed_ref": stix_id("report")},
    "moved to another version": lambda s: {
        **copy.deepcopy(s),
        "modified": "2026-02-01T00:00:00.000Z",
    },
    "moved to another author": lambda s: {
        **copy.deepcopy(s),
        "created_by_ref": stix_id("identity"),
    },
    "marking downgraded": lambda s: {**copy.deepcopy(s), "object_marking_refs": [CLEAR]},
}


# --- 1. stored sealed ------------------------------------------------------------------------
def test_red_report_plaintext_and_private_keys_are_nowhere_in_the_data_dir(data_dir: Path) -> None:
    """A RED report is stored sealed: neither its text nor any raw org private key is in any
    file of the data directory, open or closed and checkpointed, while an unsealed one is."""
    app_node = open_node(data_dir, clock=StepClock())
    with TestClient(create_app(lambda: app_node)) as client:  # closes app_node at exit
        node = app_node
        com = build_community(node)
        obj = publish_red(client, com)
        control = make_indicator(marking=GREEN, description=new_marker())
        post(client, com, "members", [control])
        body = read(client, com, "AB group", "A", wrapper_id(obj["id"])).json()
        assert body["objects"][0]["description"] == obj["description"]
        sealed, row = stored(node, wrapper_id(obj["id"]))
        assert sealed
        assert "description" not in row
        assert row["type"] == SEALED_TYPE
        held = {}
        for key in node.store.org_keys():
            if not key.held_by_node:
                continue
            raw = keyring.private_key(node, key)
            public = (
                PrivateKey(raw).public_key
                if key.purpose is KeyPurpose.ENCRYPT
                else SigningKey(raw).verify_key
            )
            assert bytes(public) == key.public_key  # the real private key
            wrapped = node.store.wrapped_private(key.key_id)
            assert wrapped is not None
            assert raw not in wrapped
            held[key.key_id] = raw
        assert len(held) == 2 * 4  # A, B, C and G: a signing and an encryption key each
        secret = node.key_secret_path.read_bytes()
        forbidden = [*needles(obj["description"]), *held.values(), secret]
        assert not leaks(data_dir, forbidden)
        assert leaks(data_dir, needles(control["description"]))  # the scan does see plaintext
    with closing(sqlite3.connect(data_dir / "tabadol.db")) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert not leaks(data_dir, forbidden)
    assert leaks(data_dir, needles(control["description"]))


@pytest.mark.parametrize(
    ("title", "marking", "encrypt", "sealed"),
    [
        ("AB group", "RED", False, True),
        ("Org A", "AMBER+STRICT", False, True),
        ("Org A", None, False, True),  # the org channel's default: AMBER+STRICT
        ("AB group", None, False, False),  # the group's default: AMBER
        ("members", "GREEN", False, False),
        ("members", "GREEN", True, True),
        ("AB group", None, True, True),
    ],
)
def test_which_posts_are_sealed(
    client: TestClient,
    community: Community,
    title: str,
    marking: str | None,
    encrypt: bool,
    sealed: bool,
) -> None:
    """RED, AMBER+STRICT (also by default) and `X-Tabadol-Encrypt: true` seal; nothing else."""
    obj = report(new_marker(), marking and TLP[marking])
    headers = {"X-Tabadol-Encrypt": "true"} if encrypt else {}
    assert post(client, community, title, [obj], **headers)["success_count"] == 1
    found, row = stored(community.node, wrapper_id(obj["id"]) if sealed else obj["id"])
    assert found is sealed
    assert (obj["description"] in orjson.dumps(row).decode()) is not sealed
    if sealed:
        audience = {"AB group": "AB", "Org A": "A", "members": "ABC"}[title]
        expected = enc_key_ids(community.node, *(f"Org {n}" for n in audience))
        assert set(row["recipients"]) == expected


def test_encrypt_header_on_public_is_refused(client: TestClient, community: Community) -> None:
    """Public items are never encrypted: asking for it fails that object, with a reason."""
    obj = make_indicator(marking=CLEAR)
    status = post(client, community, "public", [obj], **{"X-Tabadol-Encrypt": "true"})
    assert status["success_count"] == 0
    (failure,) = status["failures"]
    assert failure["id"] == obj["id"]
    assert "public items are not encrypted" in failure["message"]


# --- 2. who reads ----------------------------------------------------------------------------
@pytest.mark.parametrize("reader", ["A", "B"])
def test_recipients_read_the_plaintext_with_a_verifying_signature(
    client: TestClient, community: Community, reader: str
) -> None:
    """A and B get the opened report from both read endpoints, signed by A, verifiable."""
    obj = publish_red(client, community)
    listed = read(client, community, "AB group", reader).json()["objects"]
    one = read(client, community, "AB group", reader, wrapper_id(obj["id"])).json()["objects"]
    assert len(one) == 1
    keys = client.get("/api/v1/keys", headers=community.auth(reader)).json()
    for got in (next(o for o in listed if o["id"] == obj["id"]), one[0]):
        assert not is_sealed(got)
        assert got["description"] == obj["description"]
        (verdict,) = verify_all([got], keys)
        assert verdict.ok, verdict.problem
        assert verdict.signer == "Org A"
        forged = {**got, "description": got["description"] + "!"}
        assert not verify_all([forged], keys)[0].ok


@pytest.mark.parametrize("outsider", ["C", "G", "operator"])
def test_outsiders_see_nothing(client: TestClient, community: Community, outsider: str) -> None:
    """C (member outside the group), G (guest) and the operator get the 404 of a missing
    collection on every read path."""
    obj = publish_red(client, community)
    base = f"{ROOT}/{community.collections['AB group']}"
    missing = client.get(f"{ROOT}/{uuid.uuid4()}/objects/", headers=community.auth(outsider))
    for path in (
        "objects/",
        f"objects/{wrapper_id(obj['id'])}/",
        f"objects/{wrapper_id(obj['id'])}/versions/",
        "manifest/",
    ):
        response = client.get(f"{base}/{path}", headers=community.auth(outsider))
        assert response.status_code == 404, path
        assert response.json() == missing.json()
        assert obj["description"] not in response.text


# --- 3. membership changes -------------------------------------------------------------------
def test_a_later_member_gets_only_the_sealed_form(client: TestClient, community: Community) -> None:
    """C joins after the item was sealed: it sees the sealed form; a later item it reads."""
    before = publish_red(client, community)
    sharing_groups.add_group_member(
        community.node, OPERATOR, "AB group", "Org C", break_glass="test"
    )
    after = publish_red(client, community)
    listed = {o["id"]: o for o in read(client, community, "AB group", "C").json()["objects"]}
    sealed_id = wrapper_id(before["id"])
    (one,) = read(client, community, "AB group", "C", sealed_id).json()["objects"]
    for got in (listed[sealed_id], one):
        assert got["type"] == SEALED_TYPE
        assert "description" not in got
        assert before["description"] not in json.dumps(got, ensure_ascii=False)
        assert set(got["recipients"]) == enc_key_ids(community.node, "Org A", "Org B")
    assert listed[after["id"]]["description"] == after["description"]
    (opened,) = read(client, community, "AB group", "C", wrapper_id(after["id"])).json()["objects"]
    assert opened["description"] == after["description"]


# --- 4. tampering ----------------------------------------------------------------------------
@pytest.mark.parametrize("how", list(TAMPERINGS))
def test_tampered_sealed_objects_do_not_open(how: str) -> None:
    """Crypto level: a changed ciphertext byte, or the blob moved to another id or marking,
    no longer opens for the recipient."""
    key = PrivateKey.generate()
    public = bytes(key.public_key)
    obj = report(new_marker())
    sealed = seal_object(obj, {x25519_key_id(public): public}, stamp=STAMP)
    assert open_object(sealed, key) == obj
    with pytest.raises(SealingError):
        open_object(TAMPERINGS[how](sealed), key)


@pytest.mark.parametrize("how", list(TAMPERINGS))
def test_tampered_stored_item_is_refused_and_never_opened(
    client: TestClient, community: Community, how: str
) -> None:
    """A's node-held key cannot open a tampered stored item; A re-posting it is refused
    (the stub signature no longer verifies); tampered in the database, A gets the sealed
    form, never altered plaintext."""
    node = community.node
    obj = publish_red(client, community)
    _, sealed = stored(node, wrapper_id(obj["id"]))
    (a_key,) = [k for k in node.store.org_keys() if k.key_id in enc_key_ids(node, "Org A")]
    private = keyring.decryption_key_of(node, a_key)
    assert open_object(sealed, private)["description"] == obj["description"]
    bad = TAMPERINGS[how](sealed)
    with pytest.raises(SealingError):
        open_object(bad, private)
    again = post(client, community, "AB group", [sealed])
    assert again["successes"][0]["message"] == "this version was already stored"
    status = post(client, community, "AB group", [bad])
    assert status["success_count"] == 0
    # the id is derived from sealed_ref (checked before any signature); the rest is signed
    moved = how in ("moved to another id", "moved to another object")
    reason = "derived from its sealed_ref" if moved else "signature does not verify"
    assert reason in status["failures"][0]["message"]
    if how == "one ciphertext byte":
        db = node.data_dir / node.settings.database
        with closing(sqlite3.connect(db)) as conn, conn:
            conn.execute(
                "UPDATE objects SET body = ? WHERE stix_id = ?",
                (orjson.dumps(bad), wrapper_id(obj["id"])),
            )
        (got,) = read(client, community, "AB group", "A", wrapper_id(obj["id"])).json()["objects"]
        assert got["type"] == SEALED_TYPE
        assert "description" not in got


# --- 6. client custody over a real server ----------------------------------------------------


@dataclass
class ClientCustody:
    server: LiveServer
    keyfile: Path
    tokens: dict[str, str]  # "A", "K"
    collections: dict[str, str]  # title -> id

    def auth(self, org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[org]}", "Accept": TAXII_21}

    def get(self, org: str, path: str) -> Any:
        response = httpx.get(f"{self.server.url}{path}", headers=self.auth(org))
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, org: str, title: str, objects: list[Any]) -> dict[str, Any]:
        response = httpx.post(
            f"{self.server.url}{ROOT}/{self.collections[title]}/objects/",
            content=orjson.dumps({"objects": objects}),
            headers={**self.auth(org), "Content-Type": TAXII_21},
        )
        assert response.status_code == 202, response.text
        return dict(response.json())

    def cli_publish(self, obj: dict[str, Any], title: str, tmp: Path) -> str:
        bundle = tmp / f"{obj['id']}.json"
        bundle.write_bytes(
            orjson.dumps({"type": "bundle", "id": stix_id("bundle"), "objects": [obj]})
        )
        out, _ = tabadol(
            "publish", bundle, "--url", self.server.url, "--token", self.tokens["K"],
            "--keys", self.keyfile, "--collection", self.collections[title], "--tlp", "RED",
        )  # fmt: skip
        return out


@pytest.fixture
def custody(tmp_path: Path, live_server_factory: Callable[[Path], LiveServer]) -> ClientCustody:
    data, keyfile, public = tmp_path / "data", tmp_path / "k.keys", tmp_path / "k.pub.json"
    tabadol("init", data)
    public.write_text(tabadol("key", "generate", "--out", keyfile)[0])
    tabadol("org", "add", "Org A", "--data", data)
    out, _ = tabadol("org", "add", "Org K", "--public-keys", public, "--data", data)
    assert "keys held by the client" in " ".join(out.split())
    tabadol("group", "create", "AK group", "--owner", "Org A", "--data", data)
    tabadol("group", "add", "AK group", "Org K", "--data", data)
    tokens = {
        org: tabadol("token", "create", f"Org {org}", "--data", data)[0].strip().splitlines()[-1]
        for org in "AK"
    }
    with open_node(data) as node:
        collections = {c.title: c.uuid for c in node.store.list_collections()}
    return ClientCustody(live_server_factory(data), keyfile, tokens, collections)


def test_client_custody_publish_read_and_fetch(custody: ClientCustody, tmp_path: Path) -> None:
    """K's CLI seals a RED report: stored sealed, A reads it opened by the node, K's own
    TAXII read stays sealed, and `tabadol fetch` opens and verifies it."""
    obj = report(new_marker(), marking=None)
    assert "1 stored, 0 refused" in custody.cli_publish(obj, "AK group", tmp_path)
    data = custody.server.data_dir
    keys = load_keyfile(custody.keyfile)
    private = [bytes(keys.signing), bytes(keys.encryption)]  # never sent to the node
    assert not leaks(data, [*needles(obj["description"]), *private])
    path = f"{ROOT}/{custody.collections['AK group']}/objects/{wrapper_id(obj['id'])}/"
    (by_a,) = custody.get("A", path)["objects"]
    assert by_a["description"] == obj["description"]
    assert by_a["object_marking_refs"] == [RED]
    (verdict,) = verify_all([by_a], custody.get("A", "/api/v1/keys"))
    assert verdict.ok, verdict.problem
    assert verdict.signer == "Org K"
    (by_k,) = custody.get("K", path)["objects"]
    assert by_k["type"] == SEALED_TYPE
    assert "description" not in by_k
    fetched = tmp_path / "fetched.json"
    _, err = tabadol(
        "fetch", "--url", custody.server.url, "--token", custody.tokens["K"],
        "--keys", custody.keyfile, "--collection", custody.collections["AK group"], "-o", fetched,
    )  # fmt: skip
    assert "1 objects, 2 signatures verified" in err
    (opened,) = json.loads(fetched.read_text())["objects"]
    assert opened["description"] == obj["description"]
    custody.server.stop()
    assert not leaks(data, needles(obj["description"]))


def test_operator_with_the_secret_cannot_open_a_client_custody_item(
    custody: ClientCustody, tmp_path: Path
) -> None:
    """An item K seals to its own channel opens with no key the node holds, even for the
    operator who holds the key-wrapping secret: the node has no private key of K."""
    obj = report(new_marker(), marking=None)
    assert "1 stored, 0 refused" in custody.cli_publish(obj, "Org K", tmp_path)
    with open_node(custody.server.data_dir) as node:
        _, sealed = stored(node, wrapper_id(obj["id"]))
        k_keys = node.store.org_keys(lookup.require_org(node, "Org K").id)
        assert len(k_keys) == 2
        assert all(
            not k.held_by_node and node.store.wrapped_private(k.key_id) is None for k in k_keys
        )
        assert set(sealed["recipients"]) == enc_key_ids(node, "Org K")
        held = [k for k in node.store.org_keys() if k.held_by_node]
        assert held  # A's keys: the operator unwraps them all, and none opens the item
        for key in held:
            raw = keyring.private_key(node, key)
            if key.purpose is KeyPurpose.ENCRYPT:
                with pytest.raises(SealingError):
                    open_object(sealed, PrivateKey(raw))
    opened = open_object(sealed, load_keyfile(custody.keyfile).encryption)  # K's own key does
    assert opened["description"] == obj["description"]


def test_client_custody_refusals(custody: ClientCustody) -> None:
    """Over TAXII, K's RED object signed but not sealed, sealed to the wrong keys, or not
    signed at all is refused with the reason."""
    keys = load_keyfile(custody.keyfile)
    signed = report(new_marker())
    attach_signature(signed, keys.signing, keys.sign_id)
    own_only = seal_object(
        signed, {keys.encrypt_id: bytes(keys.encryption.public_key)}, stamp=STAMP
    )
    attach_signature(own_only, keys.signing, keys.sign_id)
    cases = [
        (signed, "must arrive end-to-end encrypted"),
        (own_only, "sealed to other keys than the current encryption keys"),
        (report(new_marker()), "missing signature"),
    ]
    for obj, reason in cases:
        status = custody.post("K", "AK group", [obj])
        assert status["success_count"] == 0
        assert reason in status["failures"][0]["message"]
    assert not leaks(custody.server.data_dir, [signed["description"].encode()])


# --- 7. the key-wrapping secret --------------------------------------------------------------
def sealed_item(data_dir: Path) -> tuple[Community, dict[str, Any], Path]:
    """A community with a RED report of A in the AB group; the path of the key secret."""
    with (
        open_node(data_dir, clock=StepClock()) as node,
        TestClient(create_app(lambda: node)) as client,
    ):
        com = build_community(node)
        return com, publish_red(client, com), node.key_secret_path


def read_as_a(data_dir: Path, com: Community, obj: dict[str, Any]) -> Any:
    """A reads the item through a freshly opened node (no key unwrapped yet)."""
    with (
        open_node(data_dir, clock=StepClock()) as node,
        TestClient(create_app(lambda: node), raise_server_exceptions=False) as client,
    ):
        return read(client, com, "AB group", "A", wrapper_id(obj["id"]))


@pytest.mark.parametrize("change", ["removed", "replaced"])
def test_the_node_does_not_open_without_the_right_secret(data_dir: Path, change: str) -> None:
    """Without the secret that wraps the node and org keys, the node refuses to open with an
    error naming the secret (the CLI prints it as one line); restored, it reads again."""
    com, obj, secret_path = sealed_item(data_dir)
    original = secret_path.read_bytes()
    if change == "removed":
        secret_path.unlink()
    else:
        secret_path.write_bytes(secrets.token_bytes(32))
    with pytest.raises(KeysUnavailable, match="key secret") as refused:
        open_node(data_dir)
    assert refused.value.http_status == 503
    assert obj["description"] not in str(refused.value)
    secret_path.write_bytes(original)
    restored = read_as_a(data_dir, com, obj)
    assert restored.json()["objects"][0]["description"] == obj["description"]


def test_a_missing_secret_is_not_silently_replaced(data_dir: Path) -> None:
    """When the secret is gone, the node does not make a new one (keys made later would be
    wrapped under it, and the backup would no longer be it)."""
    _, _, secret_path = sealed_item(data_dir)
    secret_path.unlink()
    with pytest.raises(KeysUnavailable):
        open_node(data_dir)
    assert not secret_path.exists()


@pytest.mark.parametrize("where", ["top", "nested", "through a symlink"])
def test_key_secret_file_inside_the_data_dir_is_refused(data_dir: Path, where: str) -> None:
    """key_secret_file may not lie inside the data directory, however it is spelled."""
    if where == "top":
        path = data_dir / "wrap.key"
    elif where == "nested":
        path = data_dir / "keys" / ".." / "keys" / "wrap.key"
    else:
        link = data_dir.parent / "elsewhere"
        link.symlink_to(data_dir)
        path = link / "wrap.key"
    with pytest.raises(InvalidInput, match="inside the data directory"):
        open_node(data_dir, key_secret_file=str(path))
    outside = data_dir.parent / "secrets" / "wrap.key"
    with open_node(data_dir) as node:  # the secret moves with the setting that names it
        outside.parent.mkdir(exist_ok=True)
        outside.write_bytes(node.key_secret_path.read_bytes())
    with open_node(data_dir, key_secret_file=str(outside)) as node:
        assert node.key_secret_path == outside


def test_client_seals_unmarked_items_whose_channel_default_is_restricted(
    custody: ClientCustody, tmp_path: Path
) -> None:
    """An unmarked item published by K's CLI into K's own channel (default AMBER+STRICT) is
    marked and sealed on the client: its plaintext never reaches the node."""
    obj = report(new_marker(), marking=None)
    bundle = tmp_path / "unmarked.json"
    bundle.write_bytes(orjson.dumps({"type": "bundle", "id": stix_id("bundle"), "objects": [obj]}))
    out, _ = tabadol(
        "publish", bundle, "--url", custody.server.url, "--token", custody.tokens["K"],
        "--keys", custody.keyfile, "--collection", custody.collections["Org K"],
    )  # fmt: skip
    assert "1 stored, 0 refused" in out
    with open_node(custody.server.data_dir) as node:
        sealed, body = stored(node, wrapper_id(obj["id"]))
    assert sealed
    assert body["object_marking_refs"] == [
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
    ]
    assert not leaks(custody.server.data_dir, needles(obj["description"]))
