"""The PostgreSQL backend's foundation, on the real server at 127.0.0.1:5432: a fresh database
per test session, the schema migrated once however many workers start together, and positions
that a reader can follow without a gap under concurrent writers."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tabadol.storage.postgres.connections import PostgresConnections, take_positions
from tabadol.storage.postgres.schema import MIGRATIONS
from tabadol.storage.sqlite.connections import Connections

SERVER = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database for this session, dropped at its end."""
    try:
        admin = psycopg.connect(f"{SERVER}/test", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable at {SERVER}: {exc}")
        pytest.skip(f"no PostgreSQL server reachable at {SERVER} ({exc})")
    name = f"tabadol_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        yield f"{SERVER}/{name}"
    finally:
        admin.execute(  # type: ignore[arg-type]
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]
        admin.close()


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[PostgresConnections]:
    connections = PostgresConnections(database_url)
    yield connections
    connections.close()


def _tables(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    )
    return {row[0] for row in rows} - {"tabadol_schema"}


def test_the_schema_has_every_table_sqlite_has(db: PostgresConnections, tmp_path: Path) -> None:
    sqlite = Connections(tmp_path / "t.db")
    try:
        names = {
            row[0]
            for row in sqlite.reader().execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'search_index_%' AND name NOT LIKE 'sqlite_%'"
            )
        }
    finally:
        sqlite.close()
    with db.read() as conn:
        assert _tables(conn) == names


def test_search_rows_keep_the_document_not_the_text(db: PostgresConnections) -> None:
    """The text inserted into search_index becomes its weighted tsvector and is not stored
    (body words weigh A, stems B); an update recomputes it."""
    with db.write() as conn:
        conn.execute(
            "INSERT INTO search_index(rowid, body, stems) VALUES (%s, %s, %s)",
            (987654321, "گزارش حمله", "حمل"),
        )
        row = conn.execute(
            "SELECT body, stems, document::text FROM search_index WHERE rowid = 987654321"
        ).fetchone()
        assert row == ("", "", "'حمل':3B 'حمله':2A 'گزارش':1A")
        conn.execute(
            "UPDATE search_index SET body = %s, stems = %s WHERE rowid = 987654321",
            ("report", ""),
        )
        row = conn.execute(
            "SELECT body, document::text FROM search_index WHERE rowid = 987654321"
        ).fetchone()
        assert row == ("", "'report':1A")
        conn.execute("DELETE FROM search_index WHERE rowid = 987654321")


def test_workers_starting_together_migrate_once(database_url: str, db: PostgresConnections) -> None:
    """Four pools opened at the same moment: one migrates, the others find it done."""
    errors: list[BaseException] = []
    opened: list[PostgresConnections] = []

    def start() -> None:
        try:
            opened.append(PostgresConnections(database_url, max_size=1))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for pool in opened:
        assert pool.version == len(MIGRATIONS)
        pool.close()
    assert not errors
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM tabadol_schema").fetchone() == (len(MIGRATIONS),)


def test_a_failed_write_leaves_nothing_and_wakes_nobody(database_url: str) -> None:
    woken: list[int] = []
    pool = PostgresConnections(database_url, on_commit=lambda: woken.append(1))
    woken.clear()  # the migration check committed
    try:

        def twice(conn: psycopg.Connection) -> None:
            conn.execute("INSERT INTO statuses VALUES ('s-1', NULL, 1, 1, '[]', '[]')")
            conn.execute("INSERT INTO statuses VALUES ('s-1', NULL, 1, 1, '[]', '[]')")

        with pytest.raises(psycopg.errors.UniqueViolation):
            pool.run_write(twice)
        assert woken == []
        with pool.read() as conn:
            assert conn.execute("SELECT count(*) FROM statuses WHERE uuid = 's-1'").fetchone() == (
                0,
            )
        pool.run_write(
            lambda c: c.execute("INSERT INTO statuses VALUES ('s-2', NULL, 1, 1, '[]', '[]')")
        )
        assert woken == [1]
    finally:
        pool.close()


def test_a_reader_following_positions_misses_nothing_under_concurrent_writers(
    database_url: str,
) -> None:
    """Four writers take positions and commit after a random pause (so transactions that took
    a later position could try to commit first); a reader follows `position > cursor` the whole
    time. Every row written is seen, once."""
    writers = PostgresConnections(database_url, max_size=4)
    reader = PostgresConnections(database_url, max_size=1)
    with writers.write() as conn:
        conn.execute("CREATE TABLE feed_probe (position BIGINT PRIMARY KEY, writer INTEGER)")
    stop = threading.Event()
    written: list[int] = []
    lock = threading.Lock()

    def write(writer: int) -> None:
        rng = random.Random(writer)
        for _ in range(40):
            with writers.write() as conn:
                first = take_positions(conn, time.time_ns() // 1000, 3)
                time.sleep(rng.random() / 200)  # hold the transaction open a little
                for position in range(first, first + 3):
                    conn.execute("INSERT INTO feed_probe VALUES (%s, %s)", (position, writer))
            with lock:
                written.extend(range(first, first + 3))

    seen: list[int] = []

    def follow() -> None:
        cursor = 0
        while True:
            done = stop.is_set()
            with reader.read() as conn:
                rows = conn.execute(
                    "SELECT position FROM feed_probe WHERE position > %s ORDER BY position",
                    (cursor,),
                ).fetchall()
            if rows:
                seen.extend(row[0] for row in rows)
                cursor = rows[-1][0]
            if done:
                return

    follower = threading.Thread(target=follow)
    follower.start()
    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    stop.set()
    follower.join(60)
    writers.close()
    reader.close()
    assert len(written) == 4 * 40 * 3
    assert sorted(seen) == sorted(written)  # nothing missed, nothing twice
    assert seen == sorted(seen)
