"""The audit log in shared SQL: appended inside the transaction of the action it records."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from tabadol.crypto.audit_log import decode_entry, encode_entry
from tabadol.crypto.merkle import append_to_frontier, frontier_root, leaf_hash
from tabadol.domain.audit import AuditEntry, AuditEvent, TreeHead
from tabadol.storage.engine import Connection
from tabadol.storage.sql.rows import RowMap

HASH_BYTES = 32

# Signs a tree head: (tree size, root hash, time) -> (key id, signature)
HeadSigner = Callable[[int, bytes, int], tuple[str, bytes]]


def append_audit_txn(
    conn: Connection,
    events: Sequence[AuditEvent],
    now: int,
    signer: HeadSigner | None,
) -> None:
    """Append entries, advance the Merkle frontier, and sign the new tree head."""
    if not events:
        return
    size, last_leaf, blob = conn.execute(
        "SELECT tree_size, last_leaf, frontier FROM audit_state WHERE id = 1"
    ).fetchone()
    frontier = [blob[i : i + HASH_BYTES] for i in range(0, len(blob), HASH_BYTES)]
    rows = []
    for event in events:
        entry = encode_entry(size, now, event, last_leaf)
        leaf = leaf_hash(entry)
        rows.append((size, now, event.action, event.actor, entry, leaf))
        frontier = append_to_frontier(frontier, size, leaf)
        size += 1
        last_leaf = leaf
    conn.executemany(
        "INSERT INTO audit_log(position, at, action, actor, entry, leaf_hash)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute(
        "UPDATE audit_state SET tree_size = ?, last_leaf = ?, frontier = ? WHERE id = 1",
        (size, last_leaf, b"".join(frontier)),
    )
    if signer is not None:
        root = frontier_root(frontier)
        key_id, signature = signer(size, root, now)
        conn.execute(
            "INSERT INTO audit_heads(tree_size, root_hash, at, key_id, signature)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (tree_size) DO UPDATE SET"
            " root_hash = excluded.root_hash, at = excluded.at, key_id = excluded.key_id,"
            " signature = excluded.signature",
            (size, root, now, key_id, signature),
        )


def _entry(row: tuple[int, int, str, str, bytes, bytes]) -> AuditEntry:
    position, at, action, actor, stored, leaf = row
    # SQLite keeps whatever type was written: a tampered row may hold TEXT, not a BLOB
    entry = bytes(stored) if isinstance(stored, bytes | memoryview) else str(stored).encode()
    try:
        fields = decode_entry(entry)
    except ValueError:
        fields = {}
    return AuditEntry(
        position=position,
        at=at,
        action=action,
        actor=actor,
        outcome=str(fields.get("outcome", "")),
        object_ids=list(fields.get("objects", [])),
        detail=dict(fields.get("detail", {})),
        entry=entry,
        leaf_hash=leaf,
    )


_ENTRY_COLUMNS = "position, at, action, actor, entry, leaf_hash"  # what `_entry` unpacks
_HEAD = RowMap(TreeHead)


def iter_entries_txn(conn: Connection, start: int = 0, chunk: int = 5000) -> Iterator[AuditEntry]:
    """Every entry from `start` on, in position order, read in chunks."""
    position = start - 1
    while True:
        rows = conn.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM audit_log WHERE position > ? ORDER BY position LIMIT ?",
            (position, chunk),
        ).fetchall()
        for row in rows:
            yield _entry(row)
        if len(rows) < chunk:
            return
        position = rows[-1][0]


def find_entries_txn(
    conn: Connection,
    *,
    action: str | None,
    actor: str | None,
    since: int | None,
    until: int | None,
    after: int | None,
    limit: int,
) -> list[AuditEntry]:
    where: list[str] = ["1 = 1"]  # a boolean on both engines (PostgreSQL refuses `1 AND`)
    params: list[object] = []
    for column, pattern in (("action", action), ("actor", actor)):
        if pattern is not None:
            clause, values = text_match(column, pattern)
            where.append(clause)
            params += values
    for clause, value in (
        ("at >= ?", since),
        ("at < ?", until),
        ("position > ?", after),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    rows = conn.execute(
        f"SELECT {_ENTRY_COLUMNS} FROM audit_log WHERE {' AND '.join(where)}"
        " ORDER BY position LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [_entry(row) for row in rows]


def text_match(column: str, pattern: str) -> tuple[str, list[object]]:
    """`column` equal to `pattern`, or, when it ends with `*`, starting with what comes
    before it (`token.*`, `org:Pardis CERT*`). A prefix is compared with `substr`, not LIKE:
    LIKE ignores ASCII case on SQLite and not on PostgreSQL, and `_` and `%` would need
    escaping; `substr` is exact, on both, in characters."""
    if not pattern.endswith("*"):
        return f"{column} = ?", [pattern]
    prefix = pattern[:-1]
    return f"substr({column}, 1, ?) = ?", [len(prefix), prefix]


def heads_txn(conn: Connection) -> list[TreeHead]:
    rows = conn.execute(f"SELECT {_HEAD.select} FROM audit_heads ORDER BY tree_size").fetchall()
    return _HEAD.all(rows)


def leaves_txn(conn: Connection, size: int) -> list[bytes]:
    rows = conn.execute(
        "SELECT leaf_hash FROM audit_log WHERE position < ? ORDER BY position", (size,)
    )
    return [row[0] for row in rows]


def size_txn(conn: Connection) -> int:
    return int(conn.execute("SELECT tree_size FROM audit_state WHERE id = 1").fetchone()[0])
