"""PostgreSQL under several workers: a connection pool per process, write transactions, reads
on committed snapshots, migrations applied once however many workers start at the same time.

Positions (the date_added counter that orders TAXII `added_after` and the change feed) are
taken from one counter row inside the write transaction: the row stays locked until commit,
so writers take positions in commit order and a reader never sees a position before every
earlier one is committed (no gap for a reader that resumes after its last position, on any
worker). It serializes the writes' final step, as SQLite's single writer does; the reads, the
validation, the signatures and the index work of a write run in parallel before it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from tabadol.storage.postgres.dialect import Connection
from tabadol.storage.postgres.schema import MIGRATIONS

T = TypeVar("T")
_MIGRATION_LOCK = 0x7461626164  # "tabad": the advisory lock workers take to migrate
CHANNEL = "tabadol_changes"  # NOTIFY channel: a commit on any worker wakes every worker's streams


class PostgresConnections:
    """Owns the pool of one database URL (`postgresql://…`)."""

    def __init__(
        self,
        url: str,
        *,
        max_size: int = 8,
        on_commit: Callable[[], None] | None = None,
        schema: str | None = None,
    ) -> None:
        self.url = url
        self._on_commit = on_commit
        self._kwargs: dict[str, object] = {}
        if schema is not None:  # a schema of its own (the tests: one per test)
            # Under the migration lock: CREATE SCHEMA IF NOT EXISTS is not safe against itself,
            # and workers starting together would collide on pg_namespace.
            with psycopg.connect(url) as admin, admin.transaction():
                admin.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                admin.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
            self._kwargs["options"] = f"-c search_path={schema}"
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            open=True,
            kwargs={"autocommit": False, **self._kwargs},
        )
        self._readers: list[psycopg.Connection] = []
        self._closing = threading.Event()
        self._listener: threading.Thread | None = None
        self._local = threading.local()
        self._readers_lock = threading.Lock()
        self._migrate()

    def _migrate(self) -> None:
        """Apply the missing migrations in one transaction, under an advisory lock: the
        first worker migrates, the others wait and find nothing to do."""
        with self.write() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS tabadol_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT max(version) FROM tabadol_schema").fetchone()
            version = row[0] if row and row[0] is not None else 0
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                conn.execute(script)  # a fixed script of this module, never user input
                conn.execute("INSERT INTO tabadol_schema(version) VALUES (%s)", (number,))

    @property
    def version(self) -> int:
        with self.read() as conn:
            row = conn.execute("SELECT max(version) FROM tabadol_schema").fetchone()
            return int(row[0]) if row and row[0] is not None else 0

    @contextmanager
    def write(self) -> Iterator[psycopg.Connection]:
        """One write transaction: committed on a clean exit, rolled back on any error; the
        change streams are woken after the commit."""
        with self._pool.connection() as conn, conn.transaction():
            yield conn
        if self._on_commit is not None:
            self._on_commit()

    def run_write(self, fn: Callable[[psycopg.Connection], T]) -> T:
        with self.write() as conn:
            return fn(conn)

    def run_shared_write(self, fn: Callable[[Connection], T]) -> T:
        """A write of the storage code both dialects share. It first locks the counter row:
        writes are serialized from their start, as SQLite's single writer is, so their
        read-then-write steps (known versions, the audit chain, positions) stay correct on
        any number of workers; reads run in parallel."""
        with self.write() as conn:
            conn.execute("SELECT value FROM counters WHERE name = 'date_added' FOR UPDATE")
            result = fn(Connection(conn))
            conn.execute(f"NOTIFY {CHANNEL}")  # delivered at commit, to every worker
            return result

    def listen(self, wake: Callable[[], None]) -> None:
        """Wake this process's streams when any worker commits (LISTEN/NOTIFY), on a thread
        of its own until `close`."""

        def loop() -> None:
            try:
                with psycopg.connect(self.url, autocommit=True, **self._kwargs) as conn:  # type: ignore[arg-type]
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._closing.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            wake()
            except psycopg.Error:  # the database went away: the streams' poll still works
                return

        self._listener = threading.Thread(target=loop, name="tabadol-pg-listen", daemon=True)
        self._listener.start()

    def reader(self) -> Connection:
        """This thread's read connection (autocommit: each statement reads the latest
        committed snapshot, as SQLite's readers do)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.raw.closed:
            raw = psycopg.connect(self.url, autocommit=True, **self._kwargs)  # type: ignore[arg-type]
            conn = Connection(raw)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(raw)
        return conn

    @contextmanager
    def autocommit(self) -> Iterator[psycopg.Connection]:
        """A connection outside any transaction, for what cannot run in one (VACUUM)."""
        with psycopg.connect(self.url, autocommit=True, **self._kwargs) as conn:  # type: ignore[arg-type]
            yield conn

    @contextmanager
    def read(self) -> Iterator[psycopg.Connection]:
        """A read on one committed snapshot (REPEATABLE READ, read only)."""
        with self._pool.connection() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            try:
                yield conn
            finally:
                conn.rollback()

    def close(self) -> None:
        self._closing.set()
        if self._listener is not None:
            with contextlib.suppress(psycopg.Error), self._pool.connection() as conn:
                conn.execute(f"NOTIFY {CHANNEL}")  # wake the listener: it sees the closing
                conn.commit()
            self._listener.join(5)
        with self._readers_lock:
            for raw in self._readers:
                raw.close()
            self._readers.clear()
        self._pool.close()
