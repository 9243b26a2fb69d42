"""The PostgreSQL implementation of the storage contract (the scale-out backend).

It runs the same storage code as the SQLite store (one set of portable SQL, `dialect.py`
adapting the connection) on a connection pool; what differs is here: the connections and
their write lock (`connections.py`), and search (`tsvector('simple')` instead of FTS5).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tabadol.domain.policy import Visibility
from tabadol.storage.contract import SearchFilter, SearchRow
from tabadol.storage.engine import Connection
from tabadol.storage.postgres.connections import PostgresConnections
from tabadol.storage.postgres.dialect import tsquery_of
from tabadol.storage.search_query import SearchQuery
from tabadol.storage.sql.audit import HeadSigner
from tabadol.storage.sql.queries import BEST_OF_RECENT, SEARCH_WINDOW, search_filter_clauses
from tabadol.storage.sql.store import SqlStore

T = TypeVar("T")


class _Database:
    """The pool as the `storage.engine.Engine` the shared store runs on."""

    def __init__(self, connections: PostgresConnections) -> None:
        self.connections = connections

    def run_write(self, fn: Callable[[Connection], T]) -> T:
        return self.connections.run_shared_write(fn)

    def reader(self) -> Connection:
        return self.connections.reader()

    def close(self) -> None:
        self.connections.close()


class PostgresStore(SqlStore):
    """The shared SQL store on PostgreSQL, with its own search."""

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
        if on_commit is not None:
            connections.listen(on_commit)
        self._db = _Database(connections)
        self._head_signer = head_signer

    def backup(self, target: Path) -> bool:  # noqa: ARG002 (the contract's signature)
        """The database lives on the PostgreSQL server: `pg_dump` backs it up (README)."""
        return False

    def search(
        self, visible: Visibility, query: SearchQuery, flt: SearchFilter, limit: int, offset: int
    ) -> list[SearchRow]:
        """As on SQLite: the most recent SEARCH_WINDOW visible matches, ranked (body words
        weigh twice what stems do, as FTS5's bm25 weights are set), best first."""
        if visible.empty:
            return []
        tsquery = tsquery_of(query)
        clauses, args = search_filter_clauses(visible, flt)
        clauses.insert(0, "s.document @@ to_tsquery('simple', ?)")
        args.insert(0, tsquery)
        sql = (
            "WITH recent AS ("
            " SELECT s.rowid AS added,"
            " -ts_rank('{0, 0, 0.5, 1.0}', s.document, to_tsquery('simple', ?)) AS score"
            " FROM search_index s JOIN objects o ON o.date_added = s.rowid"
            f" WHERE {' AND '.join(clauses)} ORDER BY s.rowid DESC LIMIT {SEARCH_WINDOW}),"
            f" {BEST_OF_RECENT}"
            " SELECT o.date_added, o.collection_id, o.stix_id, o.type, o.author_org, o.tlp,"
            " o.body, best.score FROM best JOIN objects o ON o.date_added = best.added"
            " ORDER BY best.score, o.date_added"
        )
        rows = self._db.reader().execute(sql, (tsquery, *args, limit, offset)).fetchall()
        return [SearchRow(*row) for row in rows]
