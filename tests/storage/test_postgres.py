"""The PostgreSQL backend's foundation, on the real server at 127.0.0.1:5432: a fresh database
per test session, the schema migrated once however many workers start together, and positions
that a reader can follow without a gap under concurrent writers."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tabadol.storage.postgres.connections import PostgresConnections
from tabadol.storage.postgres.dialect import Connection
from tabadol.storage.postgres.schema import MIGRATIONS
from tabadol.storage.sql.versions import next_position_txn
from tabadol.storage.sqlite.connections import Connections

from ..pg import database_url as process_database_url
from ..pg import fresh_schema


@pytest.fixture(scope="session")
def database_url() -> str:
    """This process's test database (`tests/pg.py`: created on first use, dropped at exit)."""
    return process_database_url()


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


def test_workers_starting_together_migrate_once(database_url: str) -> None:
    """Four pools opened at the same moment on an empty schema: one migrates, the others
    find it done."""
    errors: list[BaseException] = []
    opened: list[PostgresConnections] = []
    schema = fresh_schema()

    def start() -> None:
        try:
            opened.append(PostgresConnections(database_url, max_size=1, schema=schema))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert len(opened) == 4
    for pool in opened:
        assert pool.version == len(MIGRATIONS)
    with opened[0].read() as conn:
        assert conn.execute("SELECT count(*) FROM tabadol_schema").fetchone() == (len(MIGRATIONS),)
    for pool in opened:
        pool.close()


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
    """Four writers take positions the way every write does (`run_shared_write` and the
    shared `next_position_txn`) and commit after a random pause (so transactions that took a
    later position could try to commit first); a reader follows `position > cursor` the whole
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

        def txn(conn: Connection) -> int:
            first = next_position_txn(conn, time.time_ns() // 1000, 3)
            time.sleep(rng.random() / 200)  # hold the transaction open a little
            conn.executemany(
                "INSERT INTO feed_probe VALUES (?, ?)",
                [(position, writer) for position in range(first, first + 3)],
            )
            return first

        for _ in range(40):
            first = writers.run_shared_write(txn)
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
