"""Org keys in shared SQL: registration (with retirement of the keys it replaces), revocation."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from tabadol.domain.errors import Conflict
from tabadol.domain.keys import KeyPurpose, NewKey, OrgKey
from tabadol.storage.engine import Connection
from tabadol.storage.errors import IntegrityViolation
from tabadol.storage.sql.rows import RowMap

KEY = RowMap(
    OrgKey,
    sql={"held_by_node": "wrapped_private IS NOT NULL"},
    convert={"purpose": KeyPurpose, "public_key": bytes, "held_by_node": bool},
)


def register_keys_txn(
    conn: Connection, org_id: int, keys: Sequence[NewKey], now: int
) -> list[OrgKey]:
    """Insert new keys; each retires the org's current key of the same purpose."""
    stored = []
    for key in keys:
        conn.execute(
            "UPDATE org_keys SET valid_until = ? WHERE org_id = ? AND purpose = ?"
            " AND valid_until IS NULL",
            (now, org_id, key.purpose.value),
        )
        try:
            conn.execute(
                "INSERT INTO org_keys(key_id, org_id, purpose, public_key, created,"
                " wrapped_private) VALUES (?, ?, ?, ?, ?, ?)",
                (key.key_id, org_id, key.purpose.value, key.public_key, now, key.wrapped_private),
            )
        except IntegrityViolation:
            raise Conflict(f"the key {key.key_id} is already registered") from None
        stored.append(
            OrgKey(
                key_id=key.key_id,
                org_id=org_id,
                purpose=key.purpose,
                public_key=key.public_key,
                created=now,
                valid_until=None,
                revoked_at=None,
                revoked_reason=None,
                held_by_node=key.wrapped_private is not None,
            )
        )
    return stored


def revoke_key_txn(conn: Connection, key_id: str, at: int, reason: str) -> bool:
    cur = conn.execute(
        "UPDATE org_keys SET revoked_at = ?, revoked_reason = ? WHERE key_id = ?"
        " AND revoked_at IS NULL",
        (at, reason, key_id),
    )
    return cur.rowcount == 1


def keys_txn(conn: Connection, org_id: int | None) -> list[OrgKey]:
    if org_id is None:
        rows = conn.execute(f"SELECT {KEY.select} FROM org_keys ORDER BY org_id, created")
    else:
        rows = conn.execute(
            f"SELECT {KEY.select} FROM org_keys WHERE org_id = ? ORDER BY created", (org_id,)
        )
    return KEY.all(rows)


def keys_by_id_txn(conn: Connection, key_ids: Collection[str]) -> dict[str, OrgKey]:
    if not key_ids:
        return {}
    ids = list(key_ids)
    rows = conn.execute(
        f"SELECT {KEY.select} FROM org_keys WHERE key_id IN ({','.join('?' * len(ids))})", ids
    )
    return {key.key_id: key for key in map(KEY, rows)}


def current_keys_txn(
    conn: Connection, org_ids: Collection[int], purpose: KeyPurpose
) -> dict[int, OrgKey]:
    if not org_ids:
        return {}
    ids = list(org_ids)
    rows = conn.execute(
        f"SELECT {KEY.select} FROM org_keys WHERE purpose = ? AND valid_until IS NULL"
        f" AND revoked_at IS NULL AND org_id IN ({','.join('?' * len(ids))})",
        (purpose.value, *ids),
    )
    return {key.org_id: key for key in map(KEY, rows)}


def wrapped_private_txn(conn: Connection, key_id: str) -> bytes | None:
    row = conn.execute(
        "SELECT wrapped_private FROM org_keys WHERE key_id = ?", (key_id,)
    ).fetchone()
    return bytes(row[0]) if row and row[0] is not None else None
