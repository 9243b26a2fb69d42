"""Copying a node's tables from its SQLite file to PostgreSQL: table by table, in chunks of one
transaction each, resumable (a chunk already copied is not copied again), then counted on both
sides. The two schemas have the same tables and columns (`postgres/schema.py`); the source is
read through the engine interface, the target through the PostgreSQL pool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from tabadol.storage.engine import Connection
from tabadol.storage.postgres.connections import PostgresConnections

CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: str
    key: str  # increasing column the copy resumes by (rows with the same key go together)
    serial: str = ""  # the BIGSERIAL column whose sequence must follow the copied ids


# In an order that keeps every reference satisfied.
TABLES = (
    Table("orgs", "id, name, identity_id, member, created, custody, home_peer", "id", serial="id"),
    Table("peers", "id, node_id, url, public_key, paused, removed, created, cursor, peer_head,"
          " directory_version, last_ok, last_error, last_error_at, failures, retry_at, via_peer,"
          " channels, directory_doc", "id", serial="id"),
    Table("people", "id, org_id, email, name, role, status, created, password_hash,"
          " totp_wrapped, totp_last_step", "id", serial="id"),
    Table("tokens", "id, org_id, role, label, secret_hash, prefix, created, revoked,"
          " person_id, expires, created_by_person", "id", serial="id"),
    Table("person_links", "id, person_id, purpose, secret_hash, created, expires, used,"
          " issued_by", "id", serial="id"),
    Table("person_sessions", "id, person_id, secret_hash, created, last_seen, expires,"
          " revoked, address, user_agent, stage, factor", "id", serial="id"),
    Table("passkeys", "id, person_id, credential_id, public_key, sign_count, label, created,"
          " last_used", "id", serial="id"),
    Table("sign_in_failures", "key, failures, last_failure, locked_until", "last_failure"),
    Table("webauthn_challenges", "binding, challenge, expires", "expires"),
    Table("groups", "id, uuid, name, created_by, created, home_peer", "id", serial="id"),
    Table("group_members", "group_id, org_id, owner", "group_id"),
    Table("collections", "id, uuid, kind, ref, title, description", "id", serial="id"),
    Table("org_keys", "key_id, org_id, purpose, public_key, created, valid_until, revoked_at,"
          " revoked_reason, wrapped_private", "created"),
    Table("directory_records", "org_id, version_us, received, body", "org_id"),
    Table("objects", "seq, collection_id, stix_id, type, spec_version, version_us, date_added,"
          " is_first, is_last, author_org, created_by_ref, tlp, tlp_defaulted, body, sealed,"
          " via_peer", "seq", serial="seq"),
    Table("tombstones", "seq, collection_id, stix_id, version_us, author_org, deleted_at,"
          " via_peer, tlp", "seq", serial="seq"),
    Table("statuses", "uuid, org_id, request_us, total, successes, failures", "request_us"),
    Table("audit_log", "position, at, action, actor, entry, leaf_hash", "position"),
    Table("audit_heads", "tree_size, root_hash, at, key_id, signature", "tree_size"),
    Table("search_index", "rowid, body, stems", "rowid"),
    Table("observables", "kind, value, date_added", "date_added"),
)  # fmt: skip
SINGLE_ROWS = (  # rows the schema creates: their values are copied over
    ("counters", "name", "value"),
    ("audit_state", "id", "tree_size, last_leaf, frontier"),
)


@dataclass(frozen=True, slots=True)
class Counted:
    table: str
    source: int
    target: int


def copy_all(
    source: Connection,
    target: PostgresConnections,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Counted]:
    """Copy every table (resuming where an earlier run stopped) and return the counts of both
    sides, which the caller checks are equal."""
    counted = []
    for table in TABLES:
        total = source.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]
        _copy_table(source, target, table, partial(_report, progress, table.name, total))
        with target.read() as conn:
            row = conn.execute(f"SELECT count(*) FROM {table.name}").fetchone()
        counted.append(Counted(table.name, total, int(row[0]) if row else 0))
    with target.write() as conn:
        for name, key, columns in SINGLE_ROWS:
            for row in source.execute(f"SELECT {key}, {columns} FROM {name}"):
                sets = ", ".join(f"{c.strip()} = %s" for c in columns.split(","))
                conn.execute(f"UPDATE {name} SET {sets} WHERE {key} = %s", (*row[1:], row[0]))
        # AUTOINCREMENT tables (people's) never reuse an id, even one deleted at the end:
        # the sequence goes on from the highest ever handed out, not the highest left
        used = dict(source.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
        for table in TABLES:
            if table.serial:
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{table.serial}'),"
                    f" greatest(coalesce((SELECT max({table.serial}) FROM {table.name}), 0),"
                    " %s) + 1, false)",
                    (int(used.get(table.name, 0)),),
                )
    with target.autocommit() as conn:
        for table in TABLES:
            # The planner's statistics (without them match[type] took 760 ms at 1M, 0.5 ms
            # after), and the visibility map and hint bits a bulk copy leaves unset: until
            # then every read rewrites pages and no scan is index-only.
            conn.execute(f"VACUUM (ANALYZE) {table.name}")
    return counted


def _report(
    progress: Callable[[str, int, int], None] | None, table: str, total: int, done: int
) -> None:
    if progress is not None:
        progress(table, done, total)


def _copy_table(
    source: Connection,
    target: PostgresConnections,
    table: Table,
    advance: Callable[[int], None],
) -> int:
    """Copy the rows whose key is above the target's largest, in chunks of whole key values
    (one transaction each), so that a run stopped anywhere resumes without a duplicate."""
    with target.read() as conn:
        row = conn.execute(f"SELECT max({table.key}) FROM {table.name}").fetchone()
    last = row[0] if row and row[0] is not None else None
    done = (
        0
        if last is None
        else source.execute(
            f"SELECT count(*) FROM {table.name} WHERE {table.key} <= ?", (last,)
        ).fetchone()[0]
    )
    advance(done)
    placeholders = ", ".join(["%s"] * len(table.columns.split(",")))
    insert = f"INSERT INTO {table.name} ({table.columns}) VALUES ({placeholders})"
    while True:
        where, params = ("", ()) if last is None else (f"WHERE {table.key} > ?", (last,))
        keys = source.execute(
            f"SELECT DISTINCT {table.key} FROM {table.name} {where} ORDER BY {table.key} LIMIT ?",
            (*params, CHUNK),
        ).fetchall()
        if not keys:
            return done
        high = keys[-1][0]
        rows = source.execute(
            f"SELECT {table.columns} FROM {table.name} {where}"
            f"{' AND' if where else 'WHERE'} {table.key} <= ?",
            (*params, high),
        ).fetchall()
        with target.write() as conn, conn.cursor() as cursor:
            cursor.executemany(insert, rows)
        done += len(rows)
        advance(done)
        last = high
