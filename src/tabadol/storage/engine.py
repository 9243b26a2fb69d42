"""The face of a database that the shared SQL (`storage/sql/`) is written against.

Each engine (`storage/sqlite/`, `storage/postgres/`) gives its connections this face: `?`
placeholders, rows as tuples in the order of the SELECT list, and a uniqueness or reference
violation raised as `storage.errors.IntegrityViolation`, never as its driver's error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
Row = tuple[Any, ...]


class Cursor(Protocol):
    """What the shared SQL reads from a statement."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection inside a write transaction, or a reader on committed data."""

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...


class Engine(Protocol):
    """An engine's connections: one write transaction at a time, a reader per thread."""

    def run_write(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn` in one write transaction, committed when it returns."""
        ...

    def reader(self) -> Connection:
        """This thread's reader: every statement sees the latest committed data."""
        ...

    def close(self) -> None: ...
