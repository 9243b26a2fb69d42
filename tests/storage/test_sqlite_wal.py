"""SQLite specifics: WAL mode, full sync, and checkpoints done off the request path."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from tabadol.domain.audience import AudienceKind
from tabadol.domain.model import Role
from tabadol.node.node import open_node
from tabadol.usecases.membership import organizations
from tabadol.usecases.membership.lookup import collection_by_kind
from tabadol.usecases.membership.principals import org_principal
from tabadol.usecases.publishing.publish import publish_objects

from ..conftest import StepClock, make_indicator


def test_pragmas(data_dir: Path) -> None:
    """The database is in WAL mode and every connection syncs fully."""
    with open_node(data_dir) as node:
        assert sqlite3.connect(data_dir / "tabadol.db").execute(
            "PRAGMA journal_mode"
        ).fetchone() == ("wal",)
        conn = node.store._db.reader()  # type: ignore[attr-defined]
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL


def test_wal_is_checkpointed_in_the_background(data_dir: Path) -> None:
    """Once the WAL passes its threshold, a background thread copies it into the database
    while the node stays open (automatic checkpoints are off on the writer)."""
    db = data_dir / "tabadol.db"
    with open_node(data_dir, clock=StepClock()) as node:
        org = organizations.add_org(node, "Writer")
        members = collection_by_kind(node, AudienceKind.MEMBERS)
        principal = org_principal(node, org, Role.PUBLISHER)
        size_before = db.stat().st_size
        for _ in range(6):  # ~12 MB of WAL
            batch = [make_indicator(description="x" * 4000) for _ in range(500)]
            publish_objects(node, principal, members, batch)
        grown = threading.Event()
        for _ in range(200):  # bounded wait for the checkpointer (at most ~10 s)
            if db.stat().st_size > size_before + 4_000_000:
                grown.set()
                break
            grown.wait(0.05)
        assert grown.is_set(), "the database file did not grow: no checkpoint ran"
