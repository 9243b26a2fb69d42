"""`tabadol migrate`: a node's data from its SQLite file to PostgreSQL, resumable, verified by
counts and by every stored object's signature, read back from PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from tabadol.config import load_settings, write_settings
from tabadol.node.node import open_node
from tabadol.storage.postgres import require_postgres_url
from tabadol.storage.transfer.copy import Counted
from tabadol.storage.transfer.migration import open_migration
from tabadol.usecases.trust.key_directory import key_directory
from tabadol.usecases.trust.verify import verify_all

VERIFY_CHUNK = 2000


@dataclass
class MigrationReport:
    counts: list[Counted]
    verified: int = 0
    bad_signatures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad_signatures and all(c.source == c.target for c in self.counts)


def migrate_to_postgres(
    data_dir: Path,
    url: str,
    schema: str | None,
    progress: Callable[[str, int, int], None],
    source: Path | None = None,
) -> MigrationReport:
    """Copy, then verify on the PostgreSQL side. Stop the node first: writes made during the
    copy would be missed (running it again copies what is new)."""
    require_postgres_url(url, "--to")
    settings = load_settings(data_dir)
    with open_migration(source or data_dir / settings.database, url, schema) as migration:
        report = MigrationReport(migration.copy(progress))
        with open_node(data_dir, database_url=url, database_schema=schema or "") as node:
            directory = key_directory(node)
        for bodies in migration.stored_bodies(VERIFY_CHUNK):
            objects: list[Any] = [orjson.loads(body) for body in bodies]
            for verdict in verify_all(objects, directory):
                report.verified += 1
                if not verdict.ok:
                    report.bad_signatures.append(f"{verdict.stix_id}: {verdict.problem}")
    return report


def switch_to_postgres(data_dir: Path, url: str, schema: str | None) -> None:
    """Point the node's settings at PostgreSQL (the SQLite file stays, untouched)."""
    settings = load_settings(data_dir)
    write_settings(data_dir, replace(settings, database_url=url, database_schema=schema or ""))
