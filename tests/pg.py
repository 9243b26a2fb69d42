"""A PostgreSQL database for this test process on the machine's server (127.0.0.1:5432, trust
auth): created on first use, dropped at exit. Tests get a schema of their own inside it."""

from __future__ import annotations

import atexit
import os
import uuid

import psycopg
import pytest

SERVER = "postgresql://postgres@127.0.0.1:5432"
_URL: list[str] = []


def database_url() -> str:
    """The URL of this process's test database; skip (fail under CI) without a server."""
    if _URL:
        return _URL[0]
    try:
        admin = psycopg.connect(f"{SERVER}/test", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable at {SERVER}: {exc}")
        pytest.skip(f"no PostgreSQL server reachable at {SERVER} ({exc})")
    name = f"tabadol_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    admin.close()

    def drop() -> None:
        with psycopg.connect(f"{SERVER}/test", autocommit=True) as conn:
            conn.execute(  # type: ignore[arg-type]
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                f" WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]

    atexit.register(drop)
    _URL.append(f"{SERVER}/{name}")
    return _URL[0]


def fresh_schema() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"
