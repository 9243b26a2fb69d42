"""A migration from a node's SQLite file to PostgreSQL, as the `migrate` use case drives it:
open both sides, copy, read the copied objects back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tabadol.domain.errors import InvalidInput
from tabadol.storage.engine import Connection
from tabadol.storage.postgres.connections import PostgresConnections
from tabadol.storage.sqlite.connections import open_read_only
from tabadol.storage.transfer.copy import Counted, copy_all


class Migration:
    """The SQLite file (read only) and the PostgreSQL database it is copied into."""

    def __init__(self, source: Connection, target: PostgresConnections) -> None:
        self._source = source
        self._target = target

    def copy(self, progress: Callable[[str, int, int], None] | None = None) -> list[Counted]:
        """Copy what the target does not hold yet; the counts of both sides, table by table."""
        return copy_all(self._source, self._target, progress)

    def stored_bodies(self, chunk: int) -> Iterator[list[bytes]]:
        """Every body the target stores, `chunk` at a time in storage order (the migration
        reads them back to verify their signatures; no access policy: the operator's check)."""
        last = -1
        while True:
            with self._target.read() as conn:
                rows = conn.execute(
                    "SELECT seq, body FROM objects WHERE seq > %s ORDER BY seq LIMIT %s",
                    (last, chunk),
                ).fetchall()
            if not rows:
                return
            yield [bytes(body) for _, body in rows]
            last = rows[-1][0]


@contextmanager
def open_migration(path: Path, url: str, schema: str | None) -> Iterator[Migration]:
    """Both sides open, closed on exit; a target that cannot be opened is one line of
    `InvalidInput` (whatever the driver's error)."""
    if not path.exists():
        raise InvalidInput(f"{path}: no SQLite database there")
    with open_read_only(path) as source:
        try:
            target = PostgresConnections(url, schema=schema, max_size=2)
        except Exception as exc:  # the driver's errors, as one line
            raise InvalidInput(f"cannot open {url}: {str(exc).splitlines()[0]}") from None
        try:
            yield Migration(source, target)
        finally:
            target.close()
