"""The embedded default: the shared SQL store on one SQLite file, searched by FTS5."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from tabadol.domain.errors import InvalidFilter
from tabadol.domain.policy import Visibility
from tabadol.storage.contract import SearchFilter, SearchRow
from tabadol.storage.search_query import Phrase, SearchQuery
from tabadol.storage.sql.audit import HeadSigner
from tabadol.storage.sql.queries import BEST_OF_RECENT, SEARCH_WINDOW, search_filter_clauses
from tabadol.storage.sql.store import SqlStore
from tabadol.storage.sqlite.connections import Connections


class SQLiteStore(SqlStore):
    """The embedded default: one SQLite file (WAL), search by FTS5."""

    def __init__(
        self,
        path: Path,
        head_signer: HeadSigner | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._connections = Connections(path, on_commit)
        self._db = self._connections
        self._head_signer = head_signer

    def backup(self, target: Path) -> bool:
        self._connections.backup(target)
        return True

    def search(
        self, visible: Visibility, query: SearchQuery, flt: SearchFilter, limit: int, offset: int
    ) -> list[SearchRow]:
        if visible.empty:
            return []
        sql, params = search_sql(visible, fts5_match(query), flt, limit, offset)
        try:
            rows = self._db.reader().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:  # an FTS5 expression it cannot parse
            raise InvalidFilter(f"the search expression is not valid: {exc}") from None
        return [SearchRow(*row) for row in rows]


def fts5_match(query: SearchQuery) -> str:
    """The search as an FTS5 MATCH expression: terms joined by AND, a term's forms by OR, each
    form a quoted string (a phrase when it has several tokens) looked up in both columns, the
    normalized words and their stems."""
    return " AND ".join(
        ["(" + " OR ".join([_fts5_form(phrase) for phrase in term]) + ")" for term in query.terms]
    )


def _fts5_form(phrase: Phrase) -> str:
    """The phrase as an FTS5 string in both columns: inside double quotes nothing is an
    operator, and a double quote is written twice."""
    return '{body stems} : "' + " ".join(phrase).replace('"', '""') + '"'


def search_sql(
    visible: Visibility, match: str, flt: SearchFilter, limit: int, offset: int
) -> tuple[str, tuple[object, ...]]:
    """SELECT the hits of an FTS5 expression among the visible collections, best first."""
    clauses, args = search_filter_clauses(visible, flt)
    clauses.insert(0, "search_index MATCH ?")
    args.insert(0, match)
    sql = (
        "WITH recent AS ("
        " SELECT search_index.rowid AS added, bm25(search_index, 1.0, 0.5) AS score"
        " FROM search_index JOIN objects o ON o.date_added = search_index.rowid"
        f" WHERE {' AND '.join(clauses)} ORDER BY search_index.rowid DESC LIMIT {SEARCH_WINDOW}),"
        f" {BEST_OF_RECENT}"
        " SELECT o.date_added, o.collection_id, o.stix_id, o.type, o.author_org, o.tlp, o.body,"
        " best.score FROM best JOIN objects o ON o.date_added = best.added"
        " ORDER BY best.score, o.date_added"
    )
    return sql, (*args, limit, offset)
