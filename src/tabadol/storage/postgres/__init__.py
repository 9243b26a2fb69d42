"""The PostgreSQL dialect. Importing this package does not import psycopg: the URL check
below serves the settings and the CLI before any connection is made."""

from tabadol.domain.errors import InvalidInput


def require_postgres_url(url: str, name: str) -> None:
    """`url` names a PostgreSQL database, or `name` (the setting or option) gets one line."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise InvalidInput(f"{name} must be a postgresql:// URL, not {url.split(':')[0]!r}")
