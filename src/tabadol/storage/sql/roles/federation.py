"""The federation roles in shared SQL: the peers and their directories, the change feed."""

from __future__ import annotations

import json
from collections.abc import Sequence

from tabadol.domain.audit import AuditEvent
from tabadol.domain.federation import FeedFilter, FeedRow, Peer
from tabadol.storage.contract import (
    Channel,
    RemoteGroup,
    RemoteOrg,
    StoredRow,
    SyncDelete,
    SyncPut,
)
from tabadol.storage.engine import Connection
from tabadol.storage.sql import federation as fed_sql
from tabadol.storage.sql.roles.role import SqlRole

_DIRECTORY_FINGERPRINT = """
SELECT
  (SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(sum(member), 0)
     || ':' || coalesce(sum(length(name)), 0) FROM orgs),
  (SELECT count(*) || ':' || coalesce(max(created), 0)
     || ':' || coalesce(sum(coalesce(valid_until, 0)), 0)
     || ':' || coalesce(sum(coalesce(revoked_at, 0)), 0) FROM org_keys),
  (SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(sum(length(name)), 0)
     FROM groups),
  (SELECT count(*) || ':' || coalesce(sum(group_id * 1000003 + org_id * 7 + owner), 0)
     FROM group_members),
  (SELECT count(*) || ':' || coalesce(sum(directory_version % 1000003), 0)
     || ':' || coalesce(sum(paused), 0) || ':' || coalesce(sum(id * removed), 0) FROM peers),
  (SELECT coalesce(sum((SELECT max(o.date_added + 0) FROM objects o
       WHERE o.collection_id = c.id AND o.stix_id = g.identity_id)), 0)
     FROM orgs g, collections c WHERE c.kind = 'members' AND g.home_peer IS NULL)
"""
# The last part: the directory records of the orgs hosted here (their identities in
# `members`, found by id: one index look-up per org; `+ 0` keeps SQLite from walking the
# channel's date_added index newest first for the max instead). The node publishes them after
# the keys they list changed; the signed directory carries them, so it is rebuilt then.


class SqlPeers(SqlRole):
    """`contract.PeerStore`, over the statements of `sql/federation.py`."""

    def add_peer(
        self,
        node_id: str,
        url: str,
        public_key: bytes,
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> Peer:
        def txn(conn: Connection) -> Peer:
            peer = fed_sql.add_peer_txn(conn, node_id, url, public_key, now)
            self._audit_txn(conn, audit, now)
            return peer

        return self._db.run_write(txn)

    def add_indirect_peer(self, node_id: str, public_key: bytes, via_peer: int, now: int) -> Peer:
        return self._db.run_write(
            lambda conn: fed_sql.add_indirect_peer_txn(conn, node_id, public_key, via_peer, now)
        )

    def peers(self) -> list[Peer]:
        return fed_sql.peers_txn(self._db.reader())

    def peer_by_node_id(self, node_id: str) -> Peer | None:
        found = fed_sql.peers_txn(self._db.reader(), "AND node_id = ?", (node_id,))
        return found[0] if found else None

    def peer_by_id(self, peer_id: int) -> Peer | None:
        found = fed_sql.peers_txn(self._db.reader(), "AND id = ?", (peer_id,))
        return found[0] if found else None

    def set_peer(
        self,
        peer_id: int,
        *,
        paused: bool | None = None,
        removed: bool | None = None,
        url: str | None = None,
        now: int = 0,
        audit: Sequence[AuditEvent] = (),
    ) -> None:
        def txn(conn: Connection) -> None:
            for column, value in (("paused", paused), ("removed", removed), ("url", url)):
                if value is not None:
                    conn.execute(f"UPDATE peers SET {column} = ? WHERE id = ?", (value, peer_id))
            self._audit_txn(conn, audit, now)

        self._db.run_write(txn)

    def record_peer_error(self, peer_id: int, error: str, now: int, retry_at: int) -> None:
        self._db.run_write(
            lambda conn: conn.execute(
                "UPDATE peers SET last_error = ?, last_error_at = ?, failures = failures + 1,"
                " retry_at = ? WHERE id = ?",
                (error[:500], now, retry_at, peer_id),
            )
        )

    def record_peer_contact(self, peer_id: int, peer_head: int, now: int) -> None:
        self._db.run_write(
            lambda conn: conn.execute(
                "UPDATE peers SET peer_head = CASE WHEN peer_head > ? THEN peer_head ELSE ? END,"
                " last_ok = ?, failures = 0,"
                " retry_at = NULL WHERE id = ?",
                (peer_head, peer_head, now, peer_id),
            )
        )

    def save_peer_directory(self, peer_id: int, version: int, document: bytes) -> None:
        self._db.run_write(
            lambda conn: conn.execute(
                "UPDATE peers SET directory_version = ?, directory_doc = ? WHERE id = ?",
                (version, document, peer_id),
            )
        )

    def received_directories(self) -> list[bytes]:
        rows = self._db.reader().execute(
            "SELECT directory_doc FROM peers WHERE removed = 0 AND via_peer IS NULL"
            " AND directory_doc IS NOT NULL ORDER BY id"
        )
        return [bytes(row[0]) for row in rows]

    def directory_fingerprint(self) -> str:
        """Changes whenever an org, key, group, membership or peer directory changes (cheap:
        what the signed directory is rebuilt on, not on every write)."""
        row = self._db.reader().execute(_DIRECTORY_FINGERPRINT).fetchone()
        return "|".join(str(v) for v in row)

    def merge_directory(
        self,
        peer_id: int,
        version: int,
        orgs: Sequence[RemoteOrg],
        groups: Sequence[RemoteGroup],
        channel_of: dict[str, Channel],
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> list[str]:
        def txn(conn: Connection) -> list[str]:
            refused = fed_sql.merge_directory_txn(
                conn, peer_id, version, orgs, groups, channel_of, now
            )
            self._audit_txn(conn, audit, now)
            return refused

        return self._db.run_write(txn)

    def directory_record(self, org_id: int) -> StoredRow | None:
        row = (
            self._db.reader()
            .execute(
                "SELECT r.received, g.identity_id, r.version_us, r.body FROM directory_records r"
                " JOIN orgs g ON g.id = r.org_id WHERE r.org_id = ?",
                (org_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        received, identity_id, version_us, body = row
        return StoredRow(received, identity_id, version_us, "2.1", bytes(body))


class SqlFeed(SqlRole):
    """`contract.FeedStore`: a peer's changes and its cursor move in one transaction."""

    def feed(self, flt: FeedFilter, after: int, limit: int) -> list[FeedRow]:
        return fed_sql.feed_txn(self._db.reader(), flt, after, limit)

    def feed_head(self) -> int:
        return fed_sql.feed_head_txn(self._db.reader())

    def stored_version(
        self, collection_id: int, stix_id: str, version_us: int
    ) -> tuple[int | None, str] | None:
        row = (
            self._db.reader()
            .execute(
                "SELECT via_peer, tlp FROM objects WHERE collection_id = ? AND stix_id = ?"
                " AND version_us = ?",
                (collection_id, stix_id, version_us),
            )
            .fetchone()
        )
        return (row[0], row[1]) if row else None

    def apply_peer_changes(
        self,
        peer_id: int,
        cursor: int,
        peer_head: int,
        changes: Sequence[SyncPut | SyncDelete],
        now: int,
        *,
        channels: Sequence[str] | None = None,
        audit: Sequence[AuditEvent] = (),
    ) -> tuple[int, int]:
        def txn(conn: Connection) -> tuple[int, int]:
            done = fed_sql.apply_changes_txn(conn, peer_id, changes, now)
            conn.execute(
                "UPDATE peers SET cursor = CASE WHEN cursor > ? THEN cursor ELSE ? END,"
                " peer_head = CASE WHEN peer_head > ? THEN peer_head ELSE ? END,"
                " last_ok = ?, failures = 0, retry_at = NULL WHERE id = ?",
                (cursor, cursor, peer_head, peer_head, now, peer_id),
            )
            if channels is not None:
                conn.execute(
                    "UPDATE peers SET channels = ? WHERE id = ?",
                    (json.dumps(sorted(channels)), peer_id),
                )
            self._audit_txn(conn, audit, now)
            return done

        return self._db.run_write(txn)
