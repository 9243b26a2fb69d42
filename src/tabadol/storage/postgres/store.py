"""The PostgreSQL implementation of the storage contract (the scale-out backend).

It runs the same storage code as the SQLite store (one set of portable SQL, `dialect.py`
adapting the connection) on a connection pool; what differs is here: the connections and
their write lock (`connections.py`), and search (`tsvector('simple')` instead of FTS5).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from tabadol.storage.postgres.connections import PostgresConnections
from tabadol.storage.sqlite.audit import HeadSigner
from tabadol.storage.sqlite.store import SQLiteStore


class _Database:
    """The face of `sqlite.connections.Connections` the shared store uses."""

    def __init__(self, connections: PostgresConnections) -> None:
        self.connections = connections

    def run_write(self, fn: Callable[[Any], Any]) -> Any:
        return self.connections.run_shared_write(fn)

    def reader(self) -> Any:
        return self.connections.reader()

    def close(self) -> None:
        self.connections.close()


class PostgresStore(SQLiteStore):
    """Every method of the SQLite store, on PostgreSQL."""

    def __init__(
        self,
        url: str,
        head_signer: HeadSigner | None = None,
        on_commit: Callable[[], None] | None = None,
        *,
        schema: str | None = None,
        max_connections: int = 8,
    ) -> None:
        connections = PostgresConnections(
            url, max_size=max_connections, on_commit=on_commit, schema=schema
        )
        self._db = cast(Any, _Database(connections))
        self._head_signer = head_signer
