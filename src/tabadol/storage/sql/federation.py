"""Federation in shared SQL: peers, the directory learnt from them, the change feed, and the
application of a peer's changes (with its cursor, in one transaction)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import Conflict
from tabadol.domain.federation import ChangeOp, FeedFilter, FeedRow, Peer
from tabadol.domain.keys import Custody, OrgKey
from tabadol.storage.contract import (
    Channel,
    DirectoryRecord,
    NewVersion,
    RemoteGroup,
    RemoteOrg,
    SyncDelete,
    SyncPut,
    WriteOutcome,
)
from tabadol.storage.engine import Connection
from tabadol.storage.sql.queries import in_clause
from tabadol.storage.sql.rows import RowMap
from tabadol.storage.sql.versions import (
    delete_versions_txn,
    next_position_txn,
    refresh_first_last_txn,
    write_batch_txn,
)

PEER = RowMap(
    Peer,
    convert={"public_key": bytes, "paused": bool, "channels": lambda text: tuple(json.loads(text))},
)
# The feed: stored versions and tombstones in one UNION, each side's SELECT list made from
# FeedRow's fields. A tombstone's body is a NULL typed as the stored bodies' column
# (PostgreSQL types a bare NULL as text).
_FEED_CONVERT: dict[str, Callable[[Any], Any]] = {
    "op": ChangeOp,
    "body": lambda b: None if b is None else bytes(b),
    "sealed": bool,
}
_FEED_PUT = RowMap(FeedRow, sql={"position": "date_added", "op": "'put'"}, convert=_FEED_CONVERT)
_FEED_DELETE = RowMap(
    FeedRow,
    sql={
        "position": "deleted_at",
        "op": "'delete'",
        "body": "(SELECT body FROM objects WHERE 1 = 0)",
        "sealed": "0",
    },
)


def add_peer_txn(conn: Connection, node_id: str, url: str, public_key: bytes, now: int) -> Peer:
    row = conn.execute(
        "SELECT id, removed, via_peer FROM peers WHERE node_id = ? OR public_key = ?",
        (node_id, public_key),
    ).fetchone()
    if row is not None:
        peer_id, removed, via_peer = row
        if not removed and via_peer is None:
            raise Conflict(f"the peer {node_id} is already known")
        known = conn.execute("SELECT public_key FROM peers WHERE id = ?", (peer_id,)).fetchone()
        if bytes(known[0]) != public_key:
            raise Conflict(f"{node_id} is known here with another key")
        # a removed peer comes back, or one known indirectly is now direct
        conn.execute(
            "UPDATE peers SET url = ?, removed = 0, paused = 0, cursor = 0, peer_head = 0,"
            " directory_version = 0, failures = 0, retry_at = NULL, last_error = NULL,"
            " via_peer = NULL WHERE id = ?",
            (url, peer_id),
        )
    else:
        peer_id = conn.execute(
            "INSERT INTO peers(node_id, url, public_key, created) VALUES (?, ?, ?, ?) RETURNING id",
            (node_id, url, public_key, now),
        ).fetchone()[0]
    found = conn.execute(f"SELECT {PEER.select} FROM peers WHERE id = ?", (peer_id,)).fetchone()
    return PEER(found)


def add_indirect_peer_txn(
    conn: Connection, node_id: str, public_key: bytes, via_peer: int, now: int
) -> Peer:
    """A node known through a peer's directory: its orgs get a home, nothing is synced with it
    directly (unless the operator adds it as a peer)."""
    row = conn.execute(f"SELECT {PEER.select} FROM peers WHERE node_id = ?", (node_id,)).fetchone()
    if row is not None:
        peer = PEER(row)
        if peer.public_key != public_key:
            raise Conflict(f"{node_id} is known here with another key")
        return peer
    peer_id = conn.execute(
        "INSERT INTO peers(node_id, url, public_key, created, via_peer) VALUES (?, '', ?, ?, ?)"
        " RETURNING id",
        (node_id, public_key, now, via_peer),
    ).fetchone()[0]
    return PEER(
        conn.execute(f"SELECT {PEER.select} FROM peers WHERE id = ?", (peer_id,)).fetchone()
    )


def peers_txn(conn: Connection, where: str = "", params: tuple[object, ...] = ()) -> list[Peer]:
    rows = conn.execute(
        f"SELECT {PEER.select} FROM peers WHERE removed = 0 {where} ORDER BY id", params
    )
    return PEER.all(rows)


# --- the directory learnt from a peer ---------------------------------------------------------
def merge_directory_txn(
    conn: Connection,
    peer_id: int,
    version: int,
    orgs: Sequence[RemoteOrg],
    groups: Sequence[RemoteGroup],
    channel_of: dict[str, Channel],
    now: int,
) -> list[str]:
    """Take in what a peer says about the orgs it hosts and the groups they own; return what
    was refused and why. A peer speaks only for its own orgs: an org hosted here or by another
    peer, a key registered to another org, a group owned elsewhere, is refused."""
    refused: list[str] = []
    by_identity: dict[str, int] = {}
    for org in orgs:
        row = conn.execute(
            "SELECT id, home_peer FROM orgs WHERE identity_id = ?", (org.identity_id,)
        ).fetchone()
        home_peer = row[1] if row is not None else peer_id  # (id, home_peer)
        if home_peer != peer_id:
            refused.append(
                f"{org.identity_id}: hosted {'here' if home_peer is None else 'elsewhere'}"
            )
            continue
        clash = conn.execute(
            "SELECT 1 FROM orgs WHERE name = ? AND identity_id != ?", (org.name, org.identity_id)
        ).fetchone()
        if clash is not None:
            refused.append(f"{org.identity_id}: the name {org.name!r} is taken by another org")
            continue
        if row is None:
            org_id = conn.execute(
                "INSERT INTO orgs(name, identity_id, member, created, custody, home_peer)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (org.name, org.identity_id, int(org.member), now, Custody.REMOTE.value, peer_id),
            ).fetchone()[0]
            assert org_id is not None
        else:
            org_id = row[0]
            conn.execute(
                "UPDATE orgs SET name = ?, member = ? WHERE id = ?",
                (org.name, int(org.member), org_id),
            )
        by_identity[org.identity_id] = org_id
        refused += _merge_keys_txn(conn, org_id, org.keys)
        if org.record is not None:
            _merge_record_txn(conn, org_id, org.record, now)
    for group in groups:
        refused += _merge_group_txn(conn, peer_id, group, channel_of)
    conn.execute("UPDATE peers SET directory_version = ? WHERE id = ?", (version, peer_id))
    return refused


def _merge_keys_txn(conn: Connection, org_id: int, keys: Sequence[OrgKey]) -> list[str]:
    """Keys are added, and retired or revoked as the home node says; a revocation is never
    undone, and nothing lets a peer take another org's key."""
    refused = []
    for key in keys:
        row = conn.execute(
            "SELECT org_id, revoked_at FROM org_keys WHERE key_id = ?", (key.key_id,)
        ).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO org_keys(key_id, org_id, purpose, public_key, created, valid_until,"
                " revoked_at, revoked_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key.key_id,
                    org_id,
                    key.purpose.value,
                    key.public_key,
                    key.created,
                    key.valid_until,
                    key.revoked_at,
                    key.revoked_reason,
                ),
            )
            continue
        registered_to, revoked_at = row
        if registered_to != org_id:
            refused.append(f"{key.key_id}: registered to another org")
        else:
            conn.execute(
                "UPDATE org_keys SET valid_until = ? WHERE key_id = ?",
                (key.valid_until, key.key_id),
            )
            if key.revoked_at is not None and (revoked_at is None or key.revoked_at < revoked_at):
                conn.execute(
                    "UPDATE org_keys SET revoked_at = ?, revoked_reason = ? WHERE key_id = ?",
                    (key.revoked_at, key.revoked_reason, key.key_id),
                )
    return refused


def _merge_record_txn(conn: Connection, org_id: int, record: DirectoryRecord, now: int) -> None:
    """Keep an org's directory record as its node sent it: a later version replaces the one
    kept, an older one (a stale relay) changes nothing."""
    conn.execute(
        "INSERT INTO directory_records(org_id, version_us, received, body) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (org_id) DO UPDATE SET version_us = excluded.version_us,"
        " received = excluded.received, body = excluded.body"
        " WHERE excluded.version_us > directory_records.version_us",
        (org_id, record.version_us, now, record.body),
    )


def _merge_group_txn(
    conn: Connection,
    peer_id: int,
    group: RemoteGroup,
    channel_of: dict[str, Channel],
) -> list[str]:
    owner = conn.execute(
        "SELECT id FROM orgs WHERE identity_id = ? AND home_peer = ?", (group.created_by, peer_id)
    ).fetchone()
    if owner is None:
        return [f"group {group.uuid}: its owner is not an org that peer hosts"]
    row = conn.execute("SELECT id, home_peer FROM groups WHERE uuid = ?", (group.uuid,)).fetchone()
    if row is not None and row[1] != peer_id:  # (id, home_peer)
        return [f"group {group.uuid}: owned elsewhere"]
    clash = conn.execute(
        "SELECT 1 FROM groups WHERE name = ? AND uuid != ?", (group.name, group.uuid)
    ).fetchone()
    if clash is not None:
        return [f"group {group.uuid}: the name {group.name!r} is taken by another group"]
    if row is None:
        group_id = conn.execute(
            "INSERT INTO groups(uuid, name, created_by, created, home_peer) VALUES (?, ?, ?, ?, ?)"
            " RETURNING id",
            (group.uuid, group.name, owner[0], group.created, peer_id),
        ).fetchone()[0]
        channel = channel_of[group.uuid]
        conn.execute(
            "INSERT INTO collections(uuid, kind, ref, title, description) VALUES (?, ?, ?, ?, ?)",
            (channel.uuid, AudienceKind.GROUP.value, group_id, channel.title, channel.description),
        )
    else:
        group_id = row[0]
        conn.execute("UPDATE groups SET name = ? WHERE id = ?", (group.name, group_id))
    known = (
        {
            identity: org_id
            for identity, org_id in conn.execute(
                "SELECT identity_id, id FROM orgs WHERE identity_id IN"
                f" ({','.join('?' * len(group.members))})",
                tuple(group.members),
            )
        }
        if group.members
        else {}
    )
    conn.execute("DELETE FROM group_members WHERE group_id = ?", (group_id,))
    conn.executemany(
        "INSERT INTO group_members(group_id, org_id, owner) VALUES (?, ?, ?)",
        [(group_id, org_id, int(identity in group.owners)) for identity, org_id in known.items()],
    )
    return []


# --- the change feed --------------------------------------------------------------------------
def feed_txn(conn: Connection, flt: FeedFilter, after: int, limit: int) -> list[FeedRow]:
    """Versions stored and deleted after `after`, in position order, that `flt` lets through."""
    if flt.visible.empty:
        return []
    condition, params = _feed_condition(flt)
    rows = conn.execute(
        "SELECT * FROM ("
        f" SELECT {_FEED_PUT.select} FROM objects WHERE date_added > ? AND {condition}"
        " ORDER BY date_added LIMIT ?) AS stored"
        " UNION ALL SELECT * FROM ("
        f" SELECT {_FEED_DELETE.select} FROM tombstones WHERE deleted_at > ? AND {condition}"
        " ORDER BY deleted_at LIMIT ?) AS deleted"
        " ORDER BY 1 LIMIT ?",
        (after, *params, limit, after, *params, limit, limit),
    ).fetchall()
    return _FEED_PUT.all(rows)


def _feed_condition(flt: FeedFilter) -> tuple[str, tuple[object, ...]]:
    """The condition on a stored version or a tombstone that `flt` lets through."""
    where, params = in_clause("collection_id", flt.visible.collection_ids)
    conditions = [where]
    if flt.exclude_via_peer is not None:
        conditions.append("(via_peer IS NULL OR via_peer != ?)")
        params = (*params, flt.exclude_via_peer)
    if flt.exclude_authors:
        sql, more = in_clause("author_org", flt.exclude_authors)
        conditions.append(f"NOT {sql}")
        params = (*params, *more)
    if flt.local_authors is not None:
        relay, tlps = in_clause("tlp", frozenset({"TLP:CLEAR", "TLP:GREEN"}))
        if flt.local_authors:
            local, more = in_clause("author_org", flt.local_authors)
            conditions.append(f"({relay} OR {local})")
            params = (*params, *tlps, *more)
        else:
            conditions.append(relay)
            params = (*params, *tlps)
    return " AND ".join(conditions), params


def feed_head_txn(conn: Connection) -> int:
    """The last position taken (committed: this runs on a reader's snapshot)."""
    row = conn.execute("SELECT value FROM counters WHERE name = 'date_added'").fetchone()
    return int(row[0])


def tombstoned_txn(conn: Connection, collection_id: int, stix_id: str, version_us: int) -> bool:
    """Whether this version was deleted here: a deleted version is not brought back."""
    row = conn.execute(
        "SELECT 1 FROM tombstones WHERE collection_id = ? AND stix_id = ? AND version_us = ?",
        (collection_id, stix_id, version_us),
    ).fetchone()
    return row is not None


def apply_changes_txn(
    conn: Connection,
    peer_id: int,
    changes: Sequence[SyncPut | SyncDelete],
    now: int,
) -> tuple[int, int]:
    """Store a peer's versions and apply its deletions in feed order (a run of versions of one
    author and channel is written as one batch); return how many were stored and deleted. A
    version deleted here stays deleted, unless its author's own node brings it back."""
    stored = deleted = 0
    run: list[NewVersion] = []
    run_key: tuple[int, int] | None = None
    for change in changes:
        if isinstance(change, SyncPut):
            if not _admit_put_txn(conn, change):
                continue
            key = (change.collection_id, change.author_org)
            if key != run_key:
                stored += _write_run_txn(conn, peer_id, run_key, run, now)
                run, run_key = [], key
            run.append(change.version)
            continue
        stored += _write_run_txn(conn, peer_id, run_key, run, now)
        run, run_key = [], None
        deleted += _apply_delete_txn(conn, peer_id, change, now)
    stored += _write_run_txn(conn, peer_id, run_key, run, now)
    return stored, deleted


def _admit_put_txn(conn: Connection, change: SyncPut) -> bool:
    """Whether a peer's version may be stored: not if it was deleted here, unless its
    author's node republishes it (then the deletion is undone here too)."""
    version = change.version
    if version.version_us is None or not tombstoned_txn(
        conn, change.collection_id, version.stix_id, version.version_us
    ):
        return True
    if not change.home:
        return False
    conn.execute(
        "DELETE FROM tombstones WHERE collection_id = ? AND stix_id = ? AND version_us = ?",
        (change.collection_id, version.stix_id, version.version_us),
    )
    return True


def _write_run_txn(
    conn: Connection,
    peer_id: int,
    run_key: tuple[int, int] | None,
    run: list[NewVersion],
    now: int,
) -> int:
    """Write a run of versions of one (channel, author) as one batch; how many were stored."""
    if not run or run_key is None:
        return 0
    collection_id, author_org = run_key
    position = next_position_txn(conn, now, 0)
    outcomes, after = write_batch_txn(
        conn, collection_id, author_org, run, position, via_peer=peer_id
    )
    conn.execute("UPDATE counters SET value = ? WHERE name = 'date_added'", (after - 1,))
    return sum(1 for outcome, _ in outcomes if outcome is WriteOutcome.STORED)


def _apply_delete_txn(conn: Connection, peer_id: int, change: SyncDelete, now: int) -> int:
    """Delete the version a peer deleted; one never received here, from its author's node,
    is remembered as deleted so that it is not stored later. How many were deleted."""
    where = "collection_id = ? AND stix_id = ? AND version_us = ? AND author_org = ?"
    params = (change.collection_id, change.stix_id, change.version_us, change.author_org)
    count = delete_versions_txn(conn, where, params, now, via_peer=peer_id)
    if count:
        refresh_first_last_txn(conn, change.collection_id, change.stix_id)
    elif change.home and not tombstoned_txn(
        conn, change.collection_id, change.stix_id, change.version_us
    ):
        conn.execute(
            "INSERT INTO tombstones(collection_id, stix_id, version_us, author_org, tlp,"
            " deleted_at, via_peer) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*params, change.tlp, next_position_txn(conn, now), peer_id),
        )
    return count
