"""Opening the store a node's settings name: SQLite, or PostgreSQL when a URL is given."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tabadol.domain.errors import InvalidInput
from tabadol.storage.contract import Store
from tabadol.storage.postgres import require_postgres_url
from tabadol.storage.sql.audit import HeadSigner
from tabadol.storage.sqlite.store import SQLiteStore


def open_store(
    sqlite_path: Path,
    database_url: str,
    *,
    schema: str | None,
    max_connections: int,
    head_signer: HeadSigner,
    on_commit: Callable[[], None],
) -> Store:
    """The SQLite file at `sqlite_path`, unless `database_url` names a PostgreSQL database
    (whose errors on opening are one line of `InvalidInput` for the operator)."""
    url = database_url.strip()
    if not url:
        return SQLiteStore(sqlite_path, head_signer=head_signer, on_commit=on_commit)
    require_postgres_url(url, "database_url")
    from tabadol.storage.postgres.store import PostgresStore  # psycopg only when configured

    try:
        return PostgresStore(
            url,
            head_signer=head_signer,
            on_commit=on_commit,
            schema=schema,
            max_connections=max_connections,
        )
    except Exception as exc:  # the driver's errors: one line for the operator
        raise InvalidInput(f"cannot open the PostgreSQL database: {exc}".splitlines()[0]) from None
