"""Rows read into records by the names of the records' fields.

A `RowMap`'s SELECT list is made from its record's fields, in their order, so column i is
field i by construction: a field added, removed or moved changes the query with it. A field
whose column has another name or needs an expression names its SQL; a field whose stored form
differs (0/1 for a bool, text for an enum) names its conversion. The record is then built from
the row as it comes (measured: building it by keyword made a page of objects and `bearer`
slower, for no more safety than the shared list of names gives).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any, Generic, TypeVar

R = TypeVar("R")


class RowMap(Generic[R]):
    """How one record type is read: `select` to put in the query, the map to call on a row
    (or `all` on many: the hot paths read pages of rows)."""

    def __init__(
        self,
        record: Callable[..., R],
        *,
        table: str = "",
        sql: Mapping[str, str] | None = None,
        convert: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        self.names = tuple(f.name for f in fields(record))  # type: ignore[arg-type]
        sql, convert = sql or {}, convert or {}
        assert set(sql) | set(convert) <= set(self.names), "a column named for no field"
        prefix = f"{table}." if table else ""
        self.select = ", ".join(sql.get(n, f"{prefix}{n}") for n in self.names)
        self._record = record
        self._convert = tuple((i, convert[n]) for i, n in enumerate(self.names) if n in convert)

    @property
    def width(self) -> int:
        return len(self.names)

    def __call__(self, row: Sequence[Any]) -> R:
        if not self._convert:
            return self._record(*row)
        values = list(row)
        for index, convert in self._convert:
            values[index] = convert(values[index])
        return self._record(*values)

    def all(self, rows: Iterable[Sequence[Any]]) -> list[R]:
        if self._convert:
            return [self(row) for row in rows]
        record = self._record
        return [record(*row) for row in rows]
