"""Running a node for real: file modes whatever the umask, `init`'s guidance, and backups
that restore into a fresh directory and verify (issue 14, findings 2 and 9)."""

from __future__ import annotations

import io
import json
import os
import shlex
import stat
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tabadol.node.node import open_node
from tabadol.web.media import TAXII_21

from ..cli_runner import tabadol
from ..conftest import LiveServer, make_indicator


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _usual_umask() -> Iterator[None]:
    """Every test here runs under the umask most systems have, which makes 0644 files."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


NOTE = {
    "type": "note",
    "spec_version": "2.1",
    "id": "note--6b1c6a52-2a0e-4b38-9a0d-2b1f1c7d9e01",
    "created": "2026-01-01T00:00:00.000Z",
    "modified": "2026-01-01T00:00:00.000Z",
    "content": "only for Pardis: the plaintext of a sealed item",
    "object_refs": ["note--6b1c6a52-2a0e-4b38-9a0d-2b1f1c7d9e02"],
}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A node with an org, a sealed note in its private channel and a public indicator."""
    path = tmp_path / "node"
    tabadol("init", "--data", path)
    tabadol("org", "add", "Pardis CERT", "--data", path)
    bundle = tmp_path / "note.json"
    bundle.write_text(json.dumps({"type": "bundle", "objects": [NOTE]}))
    tabadol("import", bundle, "--org", "Pardis CERT", "--collection", "Pardis CERT", "--data", path)
    public = tmp_path / "public.json"
    public.write_text(json.dumps({"type": "bundle", "objects": [make_indicator()]}))
    tabadol("import", public, "--org", "Pardis CERT", "--collection", "public", "--data", path)
    return path


def test_the_data_directory_and_its_files_are_private_under_umask_022(
    data: Path, tmp_path: Path
) -> None:
    """The data directory is 0700; the database, its WAL and SHM (made by SQLite while the
    node runs), the settings, an export and a backup are 0600."""
    assert mode(data) == 0o700
    assert mode(data / "keys") == 0o700
    with open_node(data) as node:
        node.store.list_orgs()  # a reader: SQLite opens the -shm
        node.store.append_audit([], node.clock())
        files = {p.name: mode(p) for p in data.glob("tabadol.*")}
    assert files == {
        "tabadol.db": 0o600,
        "tabadol.db-wal": 0o600,
        "tabadol.db-shm": 0o600,
        "tabadol.toml": 0o600,
    }
    exported = tmp_path / "export.json"
    tabadol("export", "--org", "Pardis CERT", "-o", exported, "--data", data)
    assert NOTE["content"] in exported.read_text()  # the sealed note, opened: a secret
    assert mode(exported) == 0o600
    exported.chmod(0o644)  # an export over an existing, readable file takes it back
    tabadol("export", "--org", "Pardis CERT", "-o", exported, "--data", data)
    assert mode(exported) == 0o600
    backup = tmp_path / "node.backup"
    tabadol("backup", backup, "--data", data)
    assert mode(backup) == 0o600


def test_a_node_made_with_loose_modes_is_tightened_when_it_opens(data: Path) -> None:
    """Files an older version left readable by all are made private when the node opens."""
    data.chmod(0o755)
    for name in ("tabadol.db", "tabadol.toml"):
        (data / name).chmod(0o644)
    with open_node(data) as node:
        node.store.list_orgs()
    assert mode(data) == 0o700
    assert mode(data / "tabadol.db") == 0o600
    assert mode(data / "tabadol.toml") == 0o600


def test_init_says_where_the_key_secret_is_and_what_to_run_next(tmp_path: Path) -> None:
    """`init --data DIR` names the key secret's file (which exists, outside DIR) and prints
    the next three commands, which then run as printed."""
    path = tmp_path / "fresh node"
    out, _ = tabadol("init", "--data", path)
    secret = Path(next(line for line in out.splitlines() if "key secret:" in line).split(": ")[1])
    assert secret.exists()
    assert path.resolve() not in secret.resolve().parents
    steps = out.split("next:")[1].strip().splitlines()
    assert [s.split()[:2] for s in steps] == [
        ["tabadol", "org"],
        ["tabadol", "token"],
        ["tabadol", "serve"],
    ]
    for step in steps[:2]:  # serve runs until stopped: the docs tests start it
        tabadol(*shlex.split(step)[1:])
    _, err = tabadol("init", path, "--data", tmp_path / "other", ok=False)
    assert "two directories" in err


def test_backup_of_a_running_node_restores_into_a_fresh_directory_and_verifies(
    data: Path, tmp_path: Path, live_server_factory: Callable[[Path], LiveServer]
) -> None:
    """While the node serves and takes writes, `backup` copies it consistently; `restore`
    into a fresh directory verifies the audit log and every signature, and the restored
    node serves the same objects, its sealed note still opening for its org."""
    server = live_server_factory(data)
    out, _ = tabadol("token", "create", "Pardis CERT", "--role", "publisher", "--data", data)
    headers = {"Authorization": f"Bearer {out.strip().splitlines()[-1]}", "Accept": TAXII_21}
    later = make_indicator(name="posted while the node runs")
    collections = httpx.get(f"{server.url}/taxii2/root/collections/", headers=headers).json()
    public = next(c["id"] for c in collections["collections"] if c["title"] == "public")
    posted = httpx.post(
        f"{server.url}/taxii2/root/collections/{public}/objects/",
        content=json.dumps({"objects": [later]}),
        headers={**headers, "Content-Type": TAXII_21},
    )
    assert posted.json()["success_count"] == 1
    backup = tmp_path / "backups" / "node.tar.gz"
    backup.parent.mkdir()
    out, err = tabadol("backup", backup, "--data", data)
    with open_node(data) as node:
        secret = node.key_secret_path
    assert f"the key secret {secret} is not in the backup" in " ".join(err.split())
    with tarfile.open(backup) as tar:
        names = tar.getnames()
    assert {"tabadol.db", "tabadol.toml", "keys/node.ed25519.wrapped"} <= set(names)
    assert not any(secret.name in name for name in names)
    server.stop()

    restored = tmp_path / "restored"
    out, _ = tabadol("restore", backup, "--data", restored)
    assert "signatures: 4 verified, 0 failed" in out  # identity, note, 2 indicators
    assert mode(restored) == 0o700
    assert mode(restored / "tabadol.db") == 0o600
    out, _ = tabadol("audit", "verify", "--data", restored)
    assert "audit log ok" in out
    shown, _ = tabadol("audit", "show", "--action", "node.backup", "--data", restored)
    assert "node.backup" in shown  # the log in the backup records the backup itself
    exported = tmp_path / "restored.json"
    tabadol("export", "--org", "Pardis CERT", "-o", exported, "--data", restored)
    objects = json.loads(exported.read_text())["objects"]
    assert {o["id"] for o in objects} >= {NOTE["id"], later["id"]}
    assert NOTE["content"] in exported.read_text()
    out, _ = tabadol("verify", exported, "--data", restored)
    assert f"{len(objects)} verified, 0 failed" in out


def test_restore_never_overwrites_and_refuses_what_no_backup_holds(
    data: Path, tmp_path: Path
) -> None:
    """Restore refuses a directory that is not empty (a live node's above all), a file that
    is not a backup, and an archive with a path that climbs out; none leaves anything."""
    backup = tmp_path / "node.backup"
    tabadol("backup", backup, "--data", data)
    before = sorted(p.name for p in data.iterdir())
    _, err = tabadol("restore", backup, "--data", data, ok=False)
    assert "not empty" in err
    assert sorted(p.name for p in data.iterdir()) == before
    _, err = tabadol("backup", backup, "--data", data, ok=False)
    assert "never overwrites" in err

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    _, err = tabadol("restore", not_a_backup, "--data", tmp_path / "r1", ok=False)
    assert "not a readable backup" in err
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        for name, body in (("tabadol-backup.json", b'{"format": 1}'), ("../escaped", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    _, err = tabadol("restore", evil, "--data", tmp_path / "r2", ok=False)
    assert "no tabadol backup does" in err
    with pytest.MonkeyPatch.context() as elsewhere:  # a machine without the key secret
        elsewhere.setenv("XDG_CONFIG_HOME", str(tmp_path / "empty-config"))
        _, err = tabadol("restore", backup, "--data", tmp_path / "r3", ok=False)
    assert "a backup never holds it" in err
    assert not (tmp_path / "r3").exists()
    assert not (tmp_path / "escaped").exists()
    assert not (tmp_path / "r1").exists()
    assert not (tmp_path / "r2").exists()
    assert not (tmp_path / "escaped").exists()
    assert not list(tmp_path.glob(".tabadol-restore-*"))
