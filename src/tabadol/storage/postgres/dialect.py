"""The one place where PostgreSQL differs from SQLite for the storage code both share.

The storage's SQL is written once, portable between the two (`?` placeholders, RETURNING,
CASE, coalesce, ON CONFLICT, 0/1 flags). This adapter gives a psycopg connection the face of a
`sqlite3.Connection` that the shared code uses — `execute`, `executemany`, cursors with
`fetchone`/`fetchall`/`rowcount` (`storage.engine.Connection`) — translating the placeholders,
and raising PostgreSQL's integrity errors as the storage's `IntegrityViolation`, which the
shared code handles (a duplicate name, token or key is a Conflict on either engine).

Results come in PostgreSQL's binary format: a page of 100 objects is ~120 KB of `bytea`, which
the text format sends as hex, twice the bytes; measured at 1M objects, binary halves the
server's CPU per page (380 → 193 µs) and the page query's wall time (553 → 253 µs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg

from tabadol.storage.errors import IntegrityViolation


def translate(sql: str, with_params: bool = True) -> str:
    """`?` placeholders to psycopg's `%s` (a literal `%` doubled first: psycopg reads `%` as a
    placeholder only when parameters are passed)."""
    if not with_params:
        return sql
    return sql.replace("%", "%%").replace("?", "%s")


class Cursor:
    """What the shared code reads from a statement."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)


class Connection:
    """A psycopg connection with the face the shared storage code uses."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        cursor = self.raw.cursor(binary=True)
        try:
            cursor.execute(translate(sql, bool(params)), tuple(params) or None)
        except psycopg.errors.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc
        return Cursor(cursor)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        cursor = self.raw.cursor(binary=True)
        try:
            cursor.executemany(translate(sql), [tuple(row) for row in rows])
        except psycopg.errors.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc
        return Cursor(cursor)


_GROUP = re.compile(r"\(([^()]*)\)")
_FORM = re.compile(r'\{body stems\} : "([^"]*)"')


def tsquery_of(match: str) -> str:
    """The search's FTS5 expression (`usecases.reading.search.match_expression`: groups of quoted
    forms, OR inside a group, AND between groups) as a `to_tsquery('simple', …)` text: a form
    of several tokens is a phrase (`<->`), as in FTS5."""
    groups = []
    for group in _GROUP.findall(match):
        forms = []
        for form in _FORM.findall(group):
            words = [w.replace("'", "''") for w in form.split() if w]
            if words:
                forms.append(" <-> ".join(f"'{w}'" for w in words))
        if not forms:
            raise ValueError(f"no form in {group!r}")
        groups.append("(" + " | ".join(forms) + ")")
    if not groups:
        raise ValueError("an empty search expression")
    return " & ".join(groups)
