"""The `tabadol` command: every command works, and every error is one line with exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stix2validator import ValidationOptions, validate_instance

from ..cli_runner import tabadol, tabadol_process
from ..conftest import ICS_BUNDLE, needs_attack_data


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    tabadol("init", path)
    tabadol("org", "add", "Pardis CERT", "--data", path)
    tabadol("org", "add", "Rafidain", "--data", path)
    return path


def test_init_creates_the_data_directory(tmp_path: Path) -> None:
    """init writes the config, the database and a private node key (mode 0600)."""
    path = tmp_path / "fresh"
    tabadol("init", path, "--name", "Test node")
    assert "Test node" in (path / "tabadol.toml").read_text()
    assert (path / "tabadol.db").exists()
    assert (path / "keys" / "node.ed25519.wrapped").stat().st_mode & 0o777 == 0o600
    assert not (path / "keys" / "node.ed25519").exists()  # no private key in clear
    _, err = tabadol("init", path, ok=False)
    assert "already" in err


def test_token_create_prints_the_secret_last(data: Path) -> None:
    """The token is the last stdout line; listing shows its prefix only; revoke works once."""
    out, _ = tabadol("token", "create", "Pardis CERT", "--role", "reader", "--data", data)
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("tbd_")
    assert len(secret) > 40
    listed, _ = tabadol("token", "list", "Pardis CERT", "--data", data)
    assert secret[:10] in listed
    assert secret not in listed
    tabadol("token", "revoke", "1", "--data", data)
    _, err = tabadol("token", "revoke", "1", "--data", data, ok=False)
    assert "already revoked" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["org", "add", "Pardis CERT"], "already exists"),
        (["token", "create", "Nobody"], "no organization"),
        (["token", "create", "Pardis CERT", "--role", "king"], "role must be"),
        (["token", "create"], "name an organization"),
        (["group", "add", "No group", "Rafidain"], "no group"),
        (["group", "create", "WG", "--owner", "Nobody"], "no organization"),
        (
            ["import", "missing.json", "--org", "Pardis CERT", "--collection", "public"],
            "missing.json",
        ),
        (["export", "--org", "Pardis CERT", "--collection", "Rafidain"], "no collection"),
        (["org", "add", "members"], "reserved"),
        (["org", "add", "Public"], "reserved"),
        (["group", "create", "Rafidain", "--owner", "Pardis CERT"], "already exists"),
        (["key", "revoke", "ed25519:nope", "--reason", "x"], "no key"),
        (["key", "rotate", "Nobody"], "no organization"),
        (["audit", "prove"], "--entry"),
        (["audit", "prove", "--entry", "999999"], "no entry 999999"),
    ],
    ids=[
        "duplicate org",
        "unknown org",
        "unknown role",
        "no org",
        "unknown group",
        "unknown owner",
        "missing file",
        "unreadable collection",
        "reserved members",
        "reserved public",
        "group named like an org",
        "unknown key",
        "rotate for an unknown org",
        "proof of nothing",
        "proof of a missing entry",
    ],
)
def test_errors_are_one_line(data: Path, args: list[str], message: str) -> None:
    """Each mistake prints one line naming the problem and exits non-zero."""
    _, err = tabadol(*args, "--data", data, ok=False)
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_groups(data: Path) -> None:
    """A group is created by its owner, gains and loses members, and lists them."""
    tabadol("group", "create", "Bilateral", "--owner", "Pardis CERT", "--data", data)
    tabadol("group", "add", "Bilateral", "Rafidain", "--data", data)
    listed, _ = tabadol("group", "list", "--data", data)
    assert "Bilateral" in listed
    assert "Rafidain" in listed
    tabadol("group", "remove", "Bilateral", "Rafidain", "--data", data)
    listed, _ = tabadol("group", "list", "--data", data)
    assert "Rafidain" not in listed
    collections, _ = tabadol("collection", "list", "--data", data)
    assert "Bilateral" in collections


@needs_attack_data
def test_import_is_resumable_and_export_is_valid(data: Path, tmp_path: Path) -> None:
    """An interrupted import resumes; export emits a valid bundle of what the org may read."""
    bundle = json.loads(ICS_BUNDLE.read_text())
    half = tmp_path / "half.json"
    half.write_text(json.dumps({**bundle, "objects": bundle["objects"][:700]}))
    out, _ = tabadol(
        "import", half, "--org", "Pardis CERT", "--collection", "public", "--data", data
    )
    assert "700 stored" in out
    out, _ = tabadol(
        "import", ICS_BUNDLE, "--org", "Pardis CERT", "--collection", "public", "--data", data
    )
    total = len(bundle["objects"])
    assert f"{total - 700} stored, 700 already present, 0 refused" in out

    exported = tmp_path / "out.json"
    tabadol("export", "--org", "Rafidain", "--collection", "public", "-o", exported, "--data", data)
    result = json.loads(exported.read_text())
    assert result["type"] == "bundle"
    assert {o["id"] for o in result["objects"]} == {o["id"] for o in bundle["objects"]}
    options = ValidationOptions(version="2.1", strict=False)
    for obj in result["objects"][:200]:
        assert validate_instance(obj, options).is_valid, obj["id"]


def test_export_follows_the_policy(data: Path, tmp_path: Path) -> None:
    """Another org's private channel never appears in an export."""
    secret_note = {
        "type": "note",
        "spec_version": "2.1",
        "id": "note--6b1c6a52-2a0e-4b38-9a0d-2b1f1c7d9e01",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "content": "private",
        "object_refs": ["note--6b1c6a52-2a0e-4b38-9a0d-2b1f1c7d9e02"],
    }
    path = tmp_path / "note.json"
    path.write_text(json.dumps({"type": "bundle", "objects": [secret_note]}))
    tabadol("import", path, "--org", "Pardis CERT", "--collection", "Pardis CERT", "--data", data)
    mine, _ = tabadol("export", "--org", "Pardis CERT", "--data", data)
    theirs, _ = tabadol("export", "--org", "Rafidain", "--data", data)
    assert secret_note["id"] in mine
    assert secret_note["id"] not in theirs


def test_import_reports_refused_objects(data: Path, tmp_path: Path) -> None:
    """Refused objects are counted by reason, and the exit code says something failed."""
    bad = {"type": "indicator", "id": "indicator--42"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"type": "bundle", "objects": [bad, bad]}))
    out, _ = tabadol(
        "import", path, "--org", "Pardis CERT", "--collection", "members", "--data", data, ok=False
    )
    assert "2 refused" in out
    assert "2 × 'id' must be 'indicator--<uuid>'" in out


@pytest.mark.parametrize(
    "args",
    [
        ["org", "list", "--data", "/nonexistent/dir"],
        ["import", "{bad}", "--org", "X", "--collection", "public", "--data", "{data}"],
    ],
    ids=["not a data directory", "malformed bundle"],
)
def test_real_process_errors_have_no_traceback(data: Path, tmp_path: Path, args: list[str]) -> None:
    """Run as a real process: one line on stderr, exit 1, no Python traceback."""
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"objects": [')
    tabadol_process(*[a.format(bad=bad, data=data) for a in args], ok=False)


def test_key_commands_rotate_revoke_and_publish_the_directory(data: Path, tmp_path: Path) -> None:
    """`key list --json` is the directory `verify` reads; `key rotate` retires the current
    keys; `key revoke` needs a reason, records it, and refuses a second revocation."""
    before = json.loads(tabadol("key", "list", "--json", "--data", data)[0])
    pardis = next(o for o in before["organizations"] if o["name"] == "Pardis CERT")
    assert sorted(k["purpose"] for k in pardis["keys"]) == ["encrypt", "sign"]
    out, _ = tabadol("key", "rotate", "Pardis CERT", "--data", data)
    new_sign = next(line.split(": ")[1] for line in out.splitlines() if line.startswith("sign"))
    after = json.loads(tabadol("key", "list", "--json", "--data", data)[0])
    keys = next(o for o in after["organizations"] if o["name"] == "Pardis CERT")["keys"]
    first_sign = next(k["key_id"] for k in pardis["keys"] if k["purpose"] == "sign")
    old = next(k for k in keys if k["key_id"] == first_sign)
    assert old["valid_until"] is not None
    assert old["revoked"] is None
    tabadol("key", "revoke", new_sign, "--reason", "lost laptop", "--data", data)
    listed = json.loads(tabadol("key", "list", "--json", "--data", data)[0])
    revoked = [k for o in listed["organizations"] for k in o["keys"] if k["key_id"] == new_sign]
    assert revoked[0]["revocation_reason"] == "lost laptop"
    _, err = tabadol("key", "revoke", new_sign, "--reason", "again", "--data", data, ok=False)
    assert "already revoked" in err
    shown, _ = tabadol("audit", "show", "--action", "key.revoke", "--json", "--data", data)
    entry = json.loads(shown.strip().splitlines()[-1])
    assert entry["detail"]["key"] == new_sign
    assert entry["actor"] == "operator"


def test_client_custody_keys_from_the_cli(data: Path, tmp_path: Path) -> None:
    """`key generate` writes a 0600 key file and prints public keys that `org add
    --public-keys` registers; a client-custody rotation needs new public keys."""
    keyfile = tmp_path / "org.keys"
    public, _ = tabadol("key", "generate", "--out", keyfile)
    assert keyfile.stat().st_mode & 0o777 == 0o600
    assert json.loads(public).keys() == {"sign", "encrypt"}
    (tmp_path / "org.pub").write_text(public)
    tabadol("org", "add", "Own Keys", "--public-keys", tmp_path / "org.pub", "--data", data)
    listed, _ = tabadol("org", "list", "--data", data)
    assert "client" in listed
    _, err = tabadol("key", "rotate", "Own Keys", "--data", data, ok=False)
    assert "only its own admins" in err  # the operator cannot replace a client's keys
    _, err = tabadol("key", "generate", "--out", keyfile, ok=False)
    assert "never overwritten" in err
    secret = json.loads(keyfile.read_text())["sign"]
    dumped = b"".join(f.read_bytes() for f in data.rglob("*") if f.is_file())
    assert secret.encode() not in dumped


def test_audit_commands_verify_show_head_and_prove(data: Path, tmp_path: Path) -> None:
    """The audit log of a fresh node verifies; a kept head verifies later; proofs are JSON."""
    out, _ = tabadol("audit", "verify", "--data", data)
    assert "audit log ok" in out
    head = tmp_path / "head.json"
    head.write_text(tabadol("audit", "head", "--data", data)[0])
    tabadol("org", "add", "Later", "--data", data)
    out, _ = tabadol("audit", "verify", "--head", head, "--data", data)
    assert "audit log ok" in out
    size = json.loads(head.read_text())["tree_size"]
    proof = json.loads(tabadol("audit", "prove", "--old-size", str(size), "--data", data)[0])
    assert proof["old_size"] == size
    assert proof["old_root"] == json.loads(head.read_text())["root_hash"]
    shown, _ = tabadol("audit", "show", "--action", "org.add", "--json", "--data", data)
    assert [json.loads(line)["detail"]["org"] for line in shown.splitlines()][-1] == "Later"


def test_peer_commands(data: Path, tmp_path: Path) -> None:
    """node show gives what peer add takes; list, status, pause, resume and remove follow the
    peer; mistakes are one line."""
    other = tmp_path / "other"
    tabadol("init", other)
    shown, _ = tabadol("node", "show", "--json", "--data", other)
    card = json.loads(shown)
    tabadol("peer", "add", "http://127.0.0.1:9", "--key", card["node_key"], "--data", data)
    listed, _ = tabadol("peer", "list", "--data", data)
    assert card["node_id"][:8] in listed
    status, _ = tabadol("peer", "status", "--json", "--data", data)
    (row,) = json.loads(status)
    assert row["node_id"] == card["node_id"]
    assert row["state"] == "not yet reached"
    assert row["cursor"] == 0
    tabadol("peer", "pause", card["node_id"], "--data", data)
    (row,) = json.loads(tabadol("peer", "status", "--json", "--data", data)[0])
    assert row["state"] == "paused"
    tabadol("peer", "resume", card["node_id"], "--data", data)
    _, err = tabadol("peer", "sync", card["node_id"], "--data", data, ok=False)
    assert len(err.strip().splitlines()) == 1  # nothing listens on port 9
    tabadol("peer", "remove", card["node_id"], "--data", data)
    assert json.loads(tabadol("peer", "status", "--json", "--data", data)[0]) == []
    for args, message in [
        (["peer", "add", "http://x", "--key", "not-a-key"], "not a node key"),
        (["peer", "add", "ftp://x", "--key", card["node_key"]], "http(s) URL"),
        (["peer", "pause", "nobody"], "no peer"),
    ]:
        _, err = tabadol(*args, "--data", data, ok=False)
        assert message in err
        assert len(err.strip().splitlines()) == 1
    own, _ = tabadol("node", "show", "--json", "--data", data)
    _, err = tabadol(
        "peer", "add", "http://x", "--key", json.loads(own)["node_key"], "--data", data, ok=False
    )
    assert "own key" in err
