"""Rows read into records by the names of the records' fields.

A `RowMap`'s SELECT list is made from its record's fields, in their order, so column i is
field i by construction: a field added, removed or moved changes the query with it. A field
whose column has another name or needs an expression names its SQL; a field whose stored form
differs (0/1 for a bool, text for an enum) names its conversion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, Generic, TypeVar

R = TypeVar("R")


class RowMap(Generic[R]):
    """How one record type is read: `select` to put in the query, the map to call on a row."""

    def __init__(
        self,
        record: Callable[..., R],
        *,
        table: str = "",
        sql: Mapping[str, str] | None = None,
        convert: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        self.names = tuple(f.name for f in fields(record))  # type: ignore[arg-type]
        prefix = f"{table}." if table else ""
        self.select = ", ".join((sql or {}).get(n, f"{prefix}{n}") for n in self.names)
        self._record = record
        self._convert = tuple((convert or {}).items())

    @property
    def width(self) -> int:
        return len(self.names)

    def __call__(self, row: Any) -> R:
        if not self._convert:  # the hot paths: the row is already the fields, in order
            return self._record(*row)
        values = dict(zip(self.names, row, strict=True))
        for name, convert in self._convert:
            values[name] = convert(values[name])
        return self._record(**values)
