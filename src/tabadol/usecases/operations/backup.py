"""`tabadol backup` and `tabadol restore`: a node's data directory in one file, and back.

A backup is a gzipped tar (0600) of the settings, the node key's files (its private half
wrapped under the key secret) and a consistent copy of the SQLite database — objects,
directory, keys, the audit log — taken with SQLite's online backup API while the node runs.
The key secret is never in it: it lives outside the data directory, and a backup that held
it would hand out every private key the node holds. A PostgreSQL node's database is backed
up with `pg_dump` (the README gives the steps); its archive holds the settings and keys.

A restore goes into a fresh directory only (a live node's is never overwritten), unpacked
beside it and renamed into place, so a failed restore leaves nothing half-written; then the
audit log and every stored object's signature are verified.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from tabadol.config import CONFIG_FILE, load_settings
from tabadol.crypto import keyfiles
from tabadol.domain.audit import OPERATOR_ACTOR, AuditEvent
from tabadol.domain.errors import InvalidInput, KeysUnavailable
from tabadol.domain.filters import ObjectFilter, VersionFilter
from tabadol.domain.policy import Visibility
from tabadol.node.node import KEYS_DIR, Node, key_secret_path, node_id_of, open_node
from tabadol.private_files import DIRECTORY_MODE, FILE_MODE, open_private, private_directory
from tabadol.usecases.trust.audit import verify_log
from tabadol.usecases.trust.key_directory import key_directory
from tabadol.usecases.trust.verify import verify_all

MANIFEST = "tabadol-backup.json"
FORMAT = 1
_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    node_id: str
    database_included: bool  # False on PostgreSQL: pg_dump backs the database up
    audit_entries: int
    key_secret: Path  # where the secret the archive does not hold lives


@dataclass
class RestoreReport:
    data_dir: Path
    node_id: str
    database_included: bool
    key_secret: Path
    audit_entries: int = 0
    audit_problems: list[str] = field(default_factory=list)
    verified: int = 0
    bad_signatures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.audit_problems and not self.bad_signatures


def _database_member(node: Node) -> str:
    """The database's name inside the archive: its path in the data directory."""
    path = PurePosixPath(node.settings.database)
    if path.is_absolute() or ".." in path.parts:
        raise InvalidInput(
            f"the database {node.settings.database} lies outside the data directory:"
            " back it up with the directory it is in"
        )
    return str(path)


def backup_node(node: Node, target: Path) -> BackupReport:
    """Write the backup of a running node to the new file `target` (refusing to overwrite
    one, and refusing a place inside the data directory, which would back itself up)."""
    data = node.data_dir.resolve()
    if data == target.resolve().parent or data in target.resolve().parents:
        raise InvalidInput(f"{target} lies inside the data directory: keep backups elsewhere")
    if target.exists():
        raise InvalidInput(f"{target} exists; a backup never overwrites a file")
    member = _database_member(node)
    event = AuditEvent("node.backup", OPERATOR_ACTOR, detail={"file": target.name})
    node.store.append_audit([event], node.clock())  # in the copy: the log shows its backups
    with tempfile.TemporaryDirectory(prefix=".tabadol-backup-", dir=target.parent) as tmp:
        snapshot = Path(tmp) / "database"
        included = node.store.backup(snapshot)
        manifest = {
            "format": FORMAT,
            "node_id": node.node_id,
            "created": node.clock(),
            "database": member if included else None,
        }
        with (
            open_private(target, exclusive=True) as handle,
            tarfile.open(fileobj=handle, mode="w:gz") as tar,
        ):
            _add_bytes(tar, MANIFEST, json.dumps(manifest).encode())
            _add_file(tar, node.data_dir / CONFIG_FILE, CONFIG_FILE)
            for key_file in sorted((node.data_dir / KEYS_DIR).iterdir()):
                _add_file(tar, key_file, f"{KEYS_DIR}/{key_file.name}")
            if included:
                _add_file(tar, snapshot, member)
    return BackupReport(
        target, node.node_id, included, node.store.audit_size(), node.key_secret_path
    )


def _owned_by_nobody(info: tarfile.TarInfo, mode: int) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = mode, 0, 0, "", ""
    return info


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> None:
    if path.exists():
        tar.add(path, name, recursive=False, filter=lambda i: _owned_by_nobody(i, FILE_MODE))


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = _owned_by_nobody(tarfile.TarInfo(name), FILE_MODE)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def restore_node(archive: Path, data_dir: Path) -> RestoreReport:
    """Unpack `archive` into the fresh directory `data_dir`, then verify what it holds."""
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise InvalidInput(
            f"{data_dir} is not empty: a restore goes into a fresh directory, never over a node"
        )
    parent = data_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".tabadol-restore-", dir=parent) as tmp:
        staging = Path(tmp) / "data"
        manifest = _unpack(archive, private_directory(staging))
        _require_key_secret(staging, data_dir)
        if data_dir.exists():
            data_dir.rmdir()  # empty, checked above
        os.replace(staging, data_dir)
    settings = load_settings(data_dir)
    node_id = node_id_of(keyfiles.node_public_key(data_dir / KEYS_DIR))
    report = RestoreReport(
        data_dir,
        node_id,
        manifest.get("database") is not None,
        key_secret_path(data_dir, settings, node_id),
    )
    if report.database_included:
        with open_node(data_dir) as node:
            _verify_restored(node, report)
    return report


def _require_key_secret(staging: Path, data_dir: Path) -> None:
    """The restored node's key secret must be where its settings say before anything is put
    in place: a backup never holds it, and without it the node cannot start or be verified."""
    try:
        node_id = node_id_of(keyfiles.node_public_key(staging / KEYS_DIR))
    except OSError:
        raise InvalidInput("the backup holds no node key") from None
    secret = key_secret_path(data_dir, load_settings(staging), node_id)
    if not secret.exists():
        raise KeysUnavailable(
            f"the key secret {secret} is not there: a backup never holds it; put the copy you"
            " kept there (or set key_secret_file), then restore again"
        )


def _unpack(archive: Path, staging: Path) -> dict[str, Any]:
    """Each member written 0600 under `staging`, after checking it is one the backup makes:
    a regular file named by a plain relative path (no link, no `..`, nothing absolute)."""
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            members = tar.getmembers()
            names = {m.name for m in members}
            if MANIFEST not in names:
                raise InvalidInput(f"{archive} is not a tabadol backup (no {MANIFEST})")
            for member in members:
                _extract(tar, member, staging)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InvalidInput(f"{archive}: not a readable backup ({exc})") from None
    manifest: dict[str, Any] = orjson.loads((staging / MANIFEST).read_bytes())
    (staging / MANIFEST).unlink()
    if manifest.get("format") != FORMAT:
        raise InvalidInput(f"{archive}: backup format {manifest.get('format')} is not known")
    return manifest


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, staging: Path) -> None:
    path = PurePosixPath(member.name)
    if not member.isfile() or path.is_absolute() or ".." in path.parts or not path.parts:
        raise InvalidInput(f"the backup holds {member.name!r}, which no tabadol backup does")
    source = tar.extractfile(member)
    assert source is not None  # a regular file
    destination = staging.joinpath(*path.parts)
    private_directory(destination.parent)
    with open_private(destination, exclusive=True) as handle:
        while chunk := source.read(1 << 20):
            handle.write(chunk)
    destination.parent.chmod(DIRECTORY_MODE)


def _verify_restored(node: Node, report: RestoreReport) -> None:
    """The audit log's chain and signed heads, and every stored version's signature."""
    checked = verify_log(node)
    report.audit_entries = checked.entries
    report.audit_problems = [f"position {p.position}: {p.reason}" for p in checked.problems]
    report.verified, report.bad_signatures = verify_stored_signatures(node)


def verify_stored_signatures(node: Node) -> tuple[int, list[str]]:
    """Every version of every object the node stores, checked against its author's key
    valid at its `modified` (sealed forms by their outer signature)."""
    directory = key_directory(node)
    everything = Visibility(frozenset(c.id for c in node.store.list_collections()))
    flt = ObjectFilter(versions=VersionFilter(last=False, all=True))
    verified, bad, after = 0, [], None
    while True:
        rows = node.store.query_objects(everything, flt, after, _CHUNK)
        for verdict in verify_all([orjson.loads(row.body) for row in rows], directory):
            verified += 1
            if not verdict.ok:
                bad.append(f"{verdict.stix_id}: {verdict.problem}")
        if len(rows) < _CHUNK:
            return verified, bad
        after = rows[-1].date_added
