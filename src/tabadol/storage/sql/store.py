"""The SQLite implementation of the storage contract (the embedded default)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

import orjson

from tabadol.domain.audience import AudienceKind
from tabadol.domain.audit import AuditEntry, AuditEvent, TreeHead
from tabadol.domain.errors import Conflict
from tabadol.domain.federation import FeedFilter, FeedRow, Peer
from tabadol.domain.filters import ObjectFilter
from tabadol.domain.keys import Custody, KeyPurpose, NewKey, OrgKey
from tabadol.domain.model import Collection, Group, Org, Token
from tabadol.domain.policy import Visibility
from tabadol.storage.base import (
    AuditBuilder,
    Bearer,
    Channel,
    Correlation,
    NewVersion,
    RemoteGroup,
    RemoteOrg,
    SearchFilter,
    SearchRow,
    StatusBuilder,
    StatusRecord,
    StoredRow,
    SyncDelete,
    SyncPut,
    WriteOutcome,
)
from tabadol.storage.search_query import SearchQuery
from tabadol.storage.sql import audit as audit_sql
from tabadol.storage.sql import federation as fed_sql
from tabadol.storage.sql import keys as keys_sql
from tabadol.storage.sql.audit import HeadSigner, append_audit_txn
from tabadol.storage.sql.queries import in_clause, object_query, version_clause
from tabadol.storage.sql.versions import (
    delete_versions_txn,
    refresh_first_last_txn,
    write_batch_txn,
)

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
     || ':' || coalesce(sum(paused), 0) || ':' || coalesce(sum(id * removed), 0) FROM peers)
"""
_ORG_COLUMNS = "id, name, identity_id, member, created, custody, home_peer"
_TOKEN_COLUMNS = "id, prefix, org_id, role, label, created, revoked"
_COLLECTION_COLUMNS = "id, uuid, kind, ref, title, description"


def _org(row: tuple[Any, ...]) -> Org:
    return Org(
        id=row[0],
        name=row[1],
        identity_id=row[2],
        member=bool(row[3]),
        created=row[4],
        custody=Custody(row[5]),
        home_peer=row[6],
    )


def _token(row: tuple[Any, ...]) -> Token:
    return Token(*row)


def _collection(row: tuple[Any, ...]) -> Collection:
    return Collection(
        id=row[0],
        uuid=row[1],
        kind=AudienceKind(row[2]),
        ref=row[3],
        title=row[4],
        description=row[5],
    )


T = TypeVar("T")


class Database(Protocol):
    """The connections a dialect's store gives the shared code."""

    def run_write(self, fn: Callable[[Any], T]) -> T: ...
    def reader(self) -> Any: ...
    def close(self) -> None: ...


class SqlStore:
    """The storage contract in the SQL both dialects run: objects as compact JSON plus index
    columns; every read takes a Visibility. A dialect's store sets `_db` (its connections:
    `run_write`, `reader`, `close`) and `_head_signer`, and implements `search`, the one query
    that differs (FTS5 against `tsvector`)."""

    _db: Database
    _head_signer: HeadSigner | None

    def _audit_txn(self, conn: sqlite3.Connection, events: Sequence[AuditEvent], now: int) -> None:
        append_audit_txn(conn, events, now, self._head_signer)

    def close(self) -> None:
        self._db.close()

    # --- orgs -------------------------------------------------------------------------------
    def create_org(
        self,
        name: str,
        identity_id: str,
        member: bool,
        now: int,
        channel: Channel | None = None,
        *,
        custody: Custody = Custody.NODE,
        keys: Sequence[NewKey] = (),
        audit: Sequence[AuditEvent] = (),
    ) -> Org:
        def txn(conn: sqlite3.Connection) -> Org:
            try:
                cur = conn.execute(
                    "INSERT INTO orgs(name, identity_id, member, created, custody)"
                    " VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (name, identity_id, int(member), now, custody.value),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"an organization named {name!r} already exists") from None
            org = Org(cur.fetchone()[0], name, identity_id, member, now, custody)
            if channel is not None:
                _create_collection_txn(conn, channel, AudienceKind.ORG, org.id)
            keys_sql.register_keys_txn(conn, org.id, keys, now)
            self._audit_txn(conn, audit, now)
            return org

        return self._db.run_write(txn)

    def _one_org(self, where: str, value: object) -> Org | None:
        row = (
            self._db.reader()
            .execute(f"SELECT {_ORG_COLUMNS} FROM orgs WHERE {where} = ?", (value,))
            .fetchone()
        )
        return _org(row) if row else None

    def org_by_name(self, name: str) -> Org | None:
        return self._one_org("name", name)

    def org_by_id(self, org_id: int) -> Org | None:
        return self._one_org("id", org_id)

    def org_by_identity(self, identity_id: str) -> Org | None:
        return self._one_org("identity_id", identity_id)

    def list_orgs(self) -> list[Org]:
        rows = self._db.reader().execute(f"SELECT {_ORG_COLUMNS} FROM orgs ORDER BY id")
        return [_org(r) for r in rows]

    # --- tokens -----------------------------------------------------------------------------
    def create_token(
        self,
        org_id: int | None,
        role: str,
        label: str,
        secret_hash: bytes,
        prefix: str,
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> Token:
        def txn(conn: sqlite3.Connection) -> Token:
            try:
                cur = conn.execute(
                    "INSERT INTO tokens(org_id, role, label, secret_hash, prefix, created)"
                    " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    (org_id, role, label, secret_hash, prefix, now),
                )
            except sqlite3.IntegrityError:
                raise Conflict("a token with this secret already exists") from None
            token_id = int(cur.fetchone()[0])
            self._audit_txn(conn, audit, now)
            return Token(token_id, prefix, org_id, role, label, now, None)

        return self._db.run_write(txn)

    def bearer(self, secret_hash: bytes) -> Bearer | None:
        columns = ", ".join(f"t.{c}" for c in _TOKEN_COLUMNS.split(", "))
        columns += ", " + ", ".join(f"o.{c}" for c in _ORG_COLUMNS.split(", "))
        rows = (
            self._db.reader()
            .execute(
                f"SELECT {columns}, g.group_id FROM tokens t"
                " LEFT JOIN orgs o ON o.id = t.org_id"
                " LEFT JOIN group_members g ON g.org_id = t.org_id"
                " WHERE t.secret_hash = ?",
                (secret_hash,),
            )
            .fetchall()
        )
        if not rows:
            return None
        first = rows[0]
        token_width = len(_TOKEN_COLUMNS.split(", "))
        org_row = first[token_width:-1]
        return Bearer(
            token=_token(first[:token_width]),
            org=_org(org_row) if org_row[0] is not None else None,
            group_ids=frozenset(row[-1] for row in rows if row[-1] is not None),
        )

    def token_by_id(self, token_id: int) -> Token | None:
        row = (
            self._db.reader()
            .execute(f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE id = ?", (token_id,))
            .fetchone()
        )
        return _token(row) if row else None

    def list_tokens(self, org_id: int | None) -> list[Token]:
        if org_id is None:
            rows = self._db.reader().execute(
                f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE org_id IS NULL ORDER BY id"
            )
        else:
            rows = self._db.reader().execute(
                f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE org_id = ? ORDER BY id", (org_id,)
            )
        return [_token(r) for r in rows]

    def revoke_token(self, token_id: int, now: int, *, audit: Sequence[AuditEvent] = ()) -> bool:
        def txn(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", (now, token_id)
            )
            if cur.rowcount == 1:
                self._audit_txn(conn, audit, now)
            return cur.rowcount == 1

        return self._db.run_write(txn)

    # --- groups -----------------------------------------------------------------------------
    def create_group(
        self,
        uuid: str,
        name: str,
        owner_org: int,
        now: int,
        channel: Channel | None = None,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> Group:
        def txn(conn: sqlite3.Connection) -> int:
            try:
                cur = conn.execute(
                    "INSERT INTO groups(uuid, name, created_by, created) VALUES (?, ?, ?, ?)"
                    " RETURNING id",
                    (uuid, name, owner_org, now),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"a group named {name!r} already exists") from None
            group_id = int(cur.fetchone()[0])
            conn.execute(
                "INSERT INTO group_members(group_id, org_id, owner) VALUES (?, ?, 1)",
                (group_id, owner_org),
            )
            if channel is not None:
                _create_collection_txn(conn, channel, AudienceKind.GROUP, group_id)
            self._audit_txn(conn, audit, now)
            return group_id

        group = self.group_by_id(self._db.run_write(txn))
        assert group is not None
        return group

    def _groups(self, where: str = "", params: tuple[object, ...] = ()) -> list[Group]:
        conn = self._db.reader()
        rows = conn.execute(
            f"SELECT id, uuid, name, created_by, created, home_peer FROM groups {where}"
            " ORDER BY id",
            params,
        ).fetchall()
        groups = []
        for gid, uuid, name, created_by, created, home_peer in rows:
            members = conn.execute(
                "SELECT org_id, owner FROM group_members WHERE group_id = ?", (gid,)
            ).fetchall()
            groups.append(
                Group(
                    id=gid,
                    uuid=uuid,
                    name=name,
                    created_by=created_by,
                    owners=frozenset(o for o, owner in members if owner),
                    members=frozenset(o for o, _ in members),
                    created=created,
                    home_peer=home_peer,
                )
            )
        return groups

    def group_by_name(self, name: str) -> Group | None:
        found = self._groups("WHERE name = ?", (name,))
        return found[0] if found else None

    def group_by_id(self, group_id: int) -> Group | None:
        found = self._groups("WHERE id = ?", (group_id,))
        return found[0] if found else None

    def list_groups(self) -> list[Group]:
        return self._groups()

    def set_group_member(
        self,
        group_id: int,
        org_id: int,
        owner: bool,
        *,
        now: int = 0,
        audit: Sequence[AuditEvent] = (),
    ) -> None:
        def txn(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO group_members(group_id, org_id, owner) VALUES (?, ?, ?)"
                " ON CONFLICT(group_id, org_id) DO UPDATE SET owner = excluded.owner",
                (group_id, org_id, int(owner)),
            )
            self._audit_txn(conn, audit, now)

        self._db.run_write(txn)

    def remove_group_member(
        self, group_id: int, org_id: int, *, now: int = 0, audit: Sequence[AuditEvent] = ()
    ) -> bool:
        def txn(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "DELETE FROM group_members WHERE group_id = ? AND org_id = ?", (group_id, org_id)
            )
            if cur.rowcount == 1:
                self._audit_txn(conn, audit, now)
            return cur.rowcount == 1

        return self._db.run_write(txn)

    def group_ids_of(self, org_id: int) -> frozenset[int]:
        rows = self._db.reader().execute(
            "SELECT group_id FROM group_members WHERE org_id = ?", (org_id,)
        )
        return frozenset(r[0] for r in rows)

    # --- collections ------------------------------------------------------------------------
    def create_collection(
        self, uuid: str, kind: AudienceKind, ref: int | None, title: str, description: str
    ) -> Collection:
        channel = Channel(uuid, title, description)
        return self._db.run_write(lambda conn: _create_collection_txn(conn, channel, kind, ref))

    def list_collections(self) -> list[Collection]:
        rows = self._db.reader().execute(
            f"SELECT {_COLLECTION_COLUMNS} FROM collections ORDER BY id"
        )
        return [_collection(r) for r in rows]

    # --- objects ----------------------------------------------------------------------------
    def write_versions(
        self,
        collection_id: int,
        author_org: int,
        versions: Sequence[NewVersion],
        now: int,
        status_of: StatusBuilder | None = None,
        audit_of: AuditBuilder | None = None,
    ) -> list[tuple[WriteOutcome, int]]:
        def txn(conn: sqlite3.Connection) -> list[tuple[WriteOutcome, int]]:
            last_added = conn.execute(
                "SELECT value FROM counters WHERE name = 'date_added'"
            ).fetchone()[0]
            outcomes, next_added = write_batch_txn(
                conn, collection_id, author_org, versions, max(now, last_added + 1)
            )
            conn.execute(
                "UPDATE counters SET value = ? WHERE name = 'date_added'", (next_added - 1,)
            )
            if status_of is not None:
                _save_status_txn(conn, status_of(outcomes))
            if audit_of is not None:
                self._audit_txn(conn, audit_of(outcomes), now)
            return outcomes

        return self._db.run_write(txn)

    def query_objects(
        self, visible: Visibility, flt: ObjectFilter, after: int | None, limit: int
    ) -> list[StoredRow]:
        if visible.empty:
            return []
        sql, params = object_query(visible, flt, after, limit)
        rows = self._db.reader().execute(sql, params).fetchall()
        return [StoredRow(*row) for row in rows]

    def count_objects(self, visible: Visibility) -> int:
        if visible.empty:
            return 0
        marks = ",".join("?" * len(visible.collection_ids))
        row = (
            self._db.reader()
            .execute(
                f"SELECT count(*) FROM objects WHERE collection_id IN ({marks})",
                tuple(visible.collection_ids),
            )
            .fetchone()
        )
        return int(row[0])

    def search(
        self, visible: Visibility, query: SearchQuery, flt: SearchFilter, limit: int, offset: int
    ) -> list[SearchRow]:
        raise NotImplementedError

    def correlations(
        self, visible: Visibility, stix_id: str, per_value: int
    ) -> tuple[list[tuple[str, str]], list[Correlation]]:
        if visible.empty:
            return [], []
        conn = self._db.reader()
        where, params = in_clause("o.collection_id", visible.collection_ids)
        own = conn.execute(
            "SELECT DISTINCT ob.kind, ob.value FROM objects o"
            " JOIN observables ob ON ob.date_added = o.date_added"
            f" WHERE o.stix_id = ? AND o.is_last = 1 AND {where} ORDER BY ob.kind, ob.value",
            (stix_id, *params),
        ).fetchall()
        found: list[Correlation] = []
        for kind, value in own:
            rows = conn.execute(
                "SELECT ob.kind, ob.value, o.date_added, o.collection_id, o.stix_id, o.type,"
                " o.author_org FROM observables ob JOIN objects o ON o.date_added = ob.date_added"
                f" WHERE ob.kind = ? AND ob.value = ? AND o.stix_id != ? AND {where}"
                " ORDER BY ob.date_added DESC LIMIT ?",
                (kind, value, stix_id, *params, per_value),
            ).fetchall()
            found.extend(Correlation(*row) for row in rows)
        return [(k, v) for k, v in own], found

    def authors_of(self, collection_id: int, stix_id: str) -> set[int]:
        rows = self._db.reader().execute(
            "SELECT DISTINCT author_org FROM objects WHERE collection_id = ? AND stix_id = ?",
            (collection_id, stix_id),
        )
        return {r[0] for r in rows}

    def delete_versions(
        self,
        collection_id: int,
        stix_id: str,
        flt: ObjectFilter,
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> int:
        versions_sql, version_params = version_clause(flt)
        spec_sql = ""
        spec_params: tuple[object, ...] = ()
        if flt.spec_versions:
            spec_sql = f" AND spec_version IN ({','.join('?' * len(flt.spec_versions))})"
            spec_params = tuple(flt.spec_versions)
        where = f"collection_id = ? AND stix_id = ?{versions_sql}{spec_sql}"
        params = (collection_id, stix_id, *version_params, *spec_params)

        def txn(conn: sqlite3.Connection) -> int:
            deleted = delete_versions_txn(conn, where, params, now)
            refresh_first_last_txn(conn, collection_id, stix_id)
            if deleted:
                self._audit_txn(conn, audit, now)
            return deleted

        return self._db.run_write(txn)

    # --- keys -------------------------------------------------------------------------------
    def register_keys(
        self,
        org_id: int,
        keys: Sequence[NewKey],
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> list[OrgKey]:
        def txn(conn: sqlite3.Connection) -> list[OrgKey]:
            stored = keys_sql.register_keys_txn(conn, org_id, keys, now)
            self._audit_txn(conn, audit, now)
            return stored

        return self._db.run_write(txn)

    def revoke_key(
        self, key_id: str, at: int, reason: str, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> bool:
        def txn(conn: sqlite3.Connection) -> bool:
            done = keys_sql.revoke_key_txn(conn, key_id, at, reason)
            if done:
                self._audit_txn(conn, audit, now)
            return done

        return self._db.run_write(txn)

    def org_keys(self, org_id: int | None = None) -> list[OrgKey]:
        return keys_sql.keys_txn(self._db.reader(), org_id)

    def keys_by_id(self, key_ids: Iterable[str]) -> dict[str, OrgKey]:
        return keys_sql.keys_by_id_txn(self._db.reader(), list(key_ids))

    def current_keys(self, org_ids: Iterable[int], purpose: KeyPurpose) -> dict[int, OrgKey]:
        return keys_sql.current_keys_txn(self._db.reader(), list(org_ids), purpose)

    def wrapped_private(self, key_id: str) -> bytes | None:
        return keys_sql.wrapped_private_txn(self._db.reader(), key_id)

    # --- audit ------------------------------------------------------------------------------
    def append_audit(self, events: Sequence[AuditEvent], now: int) -> None:
        self._db.run_write(lambda conn: self._audit_txn(conn, events, now))

    def audit_entries(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        since: int | None = None,
        until: int | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        return audit_sql.find_entries_txn(
            self._db.reader(),
            action=action,
            actor=actor,
            since=since,
            until=until,
            after=after,
            limit=limit,
        )

    def iter_audit(self, start: int = 0) -> Iterator[AuditEntry]:
        return audit_sql.iter_entries_txn(self._db.reader(), start)

    def audit_heads(self) -> list[TreeHead]:
        return audit_sql.heads_txn(self._db.reader())

    def audit_leaves(self, size: int) -> list[bytes]:
        return audit_sql.leaves_txn(self._db.reader(), size)

    def audit_size(self) -> int:
        return audit_sql.size_txn(self._db.reader())

    # --- statuses ---------------------------------------------------------------------------
    # --- federation ---------------------------------------------------------------------------
    def add_peer(
        self,
        node_id: str,
        url: str,
        public_key: bytes,
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> Peer:
        def txn(conn: sqlite3.Connection) -> Peer:
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
        def txn(conn: sqlite3.Connection) -> None:
            for column, value in (("paused", paused), ("removed", removed), ("url", url)):
                if value is not None:
                    conn.execute(f"UPDATE peers SET {column} = ? WHERE id = ?", (value, peer_id))
            self._audit_txn(conn, audit, now)

        self._db.run_write(txn)

    def save_peer_directory(self, peer_id: int, version: int, document: bytes) -> None:
        self._db.run_write(
            lambda conn: conn.execute(
                "UPDATE peers SET directory_version = ?, directory_doc = ? WHERE id = ?",
                (version, document, peer_id),
            )
        )

    def directory_fingerprint(self) -> str:
        """Changes whenever an org, key, group, membership or peer directory changes (cheap:
        what the signed directory is rebuilt on, not on every write)."""
        row = self._db.reader().execute(_DIRECTORY_FINGERPRINT).fetchone()
        return "|".join(str(v) for v in row)

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

    def received_directories(self) -> list[bytes]:
        rows = self._db.reader().execute(
            "SELECT directory_doc FROM peers WHERE removed = 0 AND via_peer IS NULL"
            " AND directory_doc IS NOT NULL ORDER BY id"
        )
        return [bytes(row[0]) for row in rows]

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
        def txn(conn: sqlite3.Connection) -> list[str]:
            refused = fed_sql.merge_directory_txn(
                conn, peer_id, version, orgs, groups, channel_of, now
            )
            self._audit_txn(conn, audit, now)
            return refused

        return self._db.run_write(txn)

    def feed(self, flt: FeedFilter, after: int, limit: int) -> list[FeedRow]:
        return fed_sql.feed_txn(self._db.reader(), flt, after, limit)

    def feed_head(self) -> int:
        return fed_sql.feed_head_txn(self._db.reader())

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
        def txn(conn: sqlite3.Connection) -> tuple[int, int]:
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

    def save_status(self, status: StatusRecord) -> None:
        self._db.run_write(lambda conn: _save_status_txn(conn, status))

    def status(self, uuid: str) -> StatusRecord | None:
        row = (
            self._db.reader()
            .execute(
                "SELECT uuid, org_id, request_us, total, successes, failures FROM statuses"
                " WHERE uuid = ?",
                (uuid,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return StatusRecord(
            uuid=row[0],
            org_id=row[1],
            request_us=row[2],
            total=row[3],
            successes=[tuple(s) for s in orjson.loads(row[4])],
            failures=[tuple(f) for f in orjson.loads(row[5])],
        )


def _create_collection_txn(
    conn: sqlite3.Connection, channel: Channel, kind: AudienceKind, ref: int | None
) -> Collection:
    try:
        cur = conn.execute(
            "INSERT INTO collections(uuid, kind, ref, title, description) VALUES (?, ?, ?, ?, ?)"
            " RETURNING id",
            (channel.uuid, kind.value, ref, channel.title, channel.description),
        )
    except sqlite3.IntegrityError:
        raise Conflict(f"the {kind.value} channel {channel.title!r} already exists") from None
    return Collection(
        int(cur.fetchone()[0]), channel.uuid, kind, ref, channel.title, channel.description
    )


def _save_status_txn(conn: sqlite3.Connection, status: StatusRecord) -> None:
    conn.execute(
        "INSERT INTO statuses(uuid, org_id, request_us, total, successes, failures)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            status.uuid,
            status.org_id,
            status.request_us,
            status.total,
            orjson.dumps(list(status.successes)),
            orjson.dumps(list(status.failures)),
        ),
    )
