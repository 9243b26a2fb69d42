"""The SQLite implementation of the storage contract (the embedded default)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tabadol.domain.audience import AudienceKind
from tabadol.domain.audit import AuditEntry, AuditEvent, TreeHead
from tabadol.domain.errors import Conflict, InvalidFilter
from tabadol.domain.filters import ObjectFilter
from tabadol.domain.keys import Custody, KeyPurpose, NewKey, OrgKey
from tabadol.domain.model import Collection, Group, Org, Token
from tabadol.domain.policy import Visibility
from tabadol.storage.base import (
    AuditBuilder,
    Channel,
    Correlation,
    NewVersion,
    SearchFilter,
    SearchRow,
    StatusBuilder,
    StatusRecord,
    StoredRow,
    WriteOutcome,
)
from tabadol.storage.sqlite import audit as audit_sql
from tabadol.storage.sqlite import keys as keys_sql
from tabadol.storage.sqlite.audit import HeadSigner, append_audit_txn
from tabadol.storage.sqlite.connections import Connections
from tabadol.storage.sqlite.queries import in_clause, object_query, search_query, version_clause

_ORG_COLUMNS = "id, name, identity_id, member, created, custody"
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


class SQLiteStore:
    """Objects as compact JSON plus index columns; every read takes a Visibility."""

    def __init__(self, path: Path, head_signer: HeadSigner | None = None) -> None:
        self._db = Connections(path)
        self._head_signer = head_signer

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
                    " VALUES (?, ?, ?, ?, ?)",
                    (name, identity_id, int(member), now, custody.value),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"an organization named {name!r} already exists") from None
            org = Org(cur.lastrowid or 0, name, identity_id, member, now, custody)
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
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (org_id, role, label, secret_hash, prefix, now),
                )
            except sqlite3.IntegrityError:
                raise Conflict("a token with this secret already exists") from None
            self._audit_txn(conn, audit, now)
            return Token(cur.lastrowid or 0, prefix, org_id, role, label, now, None)

        return self._db.run_write(txn)

    def token_by_hash(self, secret_hash: bytes) -> Token | None:
        row = (
            self._db.reader()
            .execute(f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE secret_hash = ?", (secret_hash,))
            .fetchone()
        )
        return _token(row) if row else None

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
                    "INSERT INTO groups(uuid, name, created_by, created) VALUES (?, ?, ?, ?)",
                    (uuid, name, owner_org, now),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"a group named {name!r} already exists") from None
            group_id = cur.lastrowid or 0
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
            f"SELECT id, uuid, name, created_by, created FROM groups {where} ORDER BY id", params
        ).fetchall()
        groups = []
        for gid, uuid, name, created_by, created in rows:
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
            outcomes, next_added = _write_batch_txn(
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
        self, visible: Visibility, match: str, flt: SearchFilter, limit: int, offset: int
    ) -> list[SearchRow]:
        if visible.empty:
            return []
        sql, params = search_query(visible, match, flt, limit, offset)
        try:
            rows = self._db.reader().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:  # an FTS5 expression it cannot parse
            raise InvalidFilter(f"the search expression is not valid: {exc}") from None
        return [SearchRow(*row) for row in rows]

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
            for table, column in (("search_index", "rowid"), ("observables", "date_added")):
                conn.execute(
                    f"DELETE FROM {table} WHERE {column} IN (SELECT date_added FROM objects"
                    f" WHERE {where})",
                    params,
                )
            conn.execute(
                "INSERT INTO tombstones(collection_id, stix_id, version_us, author_org,"
                f" deleted_at) SELECT collection_id, stix_id, version_us, author_org, ?"
                f" FROM objects WHERE {where}",
                (now, *params),
            )
            deleted = conn.execute(f"DELETE FROM objects WHERE {where}", params).rowcount
            _refresh_first_last_txn(conn, collection_id, stix_id)
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
            "INSERT INTO collections(uuid, kind, ref, title, description) VALUES (?, ?, ?, ?, ?)",
            (channel.uuid, kind.value, ref, channel.title, channel.description),
        )
    except sqlite3.IntegrityError:
        raise Conflict(f"the {kind.value} channel {channel.title!r} already exists") from None
    return Collection(
        cur.lastrowid or 0, channel.uuid, kind, ref, channel.title, channel.description
    )


_ID_CHUNK = 5000  # ids per IN (...) query, well under SQLite's variable limit


@dataclass
class _Known:
    """What the collection already holds (or this batch added) of one object id."""

    owner: int
    versions: set[int]
    first: int | None = None  # the stored first/last before this batch, if any
    last: int | None = None


def _known_versions_txn(
    conn: sqlite3.Connection, collection_id: int, stix_ids: list[str]
) -> dict[str, _Known]:
    known: dict[str, _Known] = {}
    for start in range(0, len(stix_ids), _ID_CHUNK):
        chunk = stix_ids[start : start + _ID_CHUNK]
        rows = conn.execute(
            "SELECT stix_id, author_org, version_us FROM objects WHERE collection_id = ?"
            f" AND stix_id IN ({','.join('?' * len(chunk))})",
            (collection_id, *chunk),
        )
        for stix_id, owner, version_us in rows:
            entry = known.setdefault(stix_id, _Known(owner, set()))
            entry.versions.add(version_us)
    for entry in known.values():
        entry.first, entry.last = min(entry.versions), max(entry.versions)
    return known


def _write_batch_txn(
    conn: sqlite3.Connection,
    collection_id: int,
    author_org: int,
    versions: Sequence[NewVersion],
    date_added: int,
) -> tuple[list[tuple[WriteOutcome, int]], int]:
    """Decide each version's outcome from one look-up of the envelope's ids, then insert
    the new ones with `executemany` and fix the first/last flags of what was there before.
    Measured: about twice as fast as a SELECT and an INSERT per object."""
    known = _known_versions_txn(conn, collection_id, list({v.stix_id for v in versions}))
    outcomes: list[tuple[WriteOutcome, int]] = []
    rows: list[list[object]] = []
    stored_versions: list[NewVersion] = []  # the version of each row, in order
    touched: list[str] = []  # the stix_id of each row, in order
    for version in versions:
        version_us = version.version_us if version.version_us is not None else date_added
        entry = known.get(version.stix_id)
        if entry is not None and entry.owner != author_org:
            outcomes.append((WriteOutcome.OWNED_BY_OTHER, version_us))
            continue
        if entry is not None and version_us in entry.versions:
            outcomes.append((WriteOutcome.EXISTS, version_us))
            continue
        if entry is None:
            entry = known[version.stix_id] = _Known(author_org, set())
        entry.versions.add(version_us)
        rows.append(
            [
                collection_id,
                version.stix_id,
                version.type,
                version.spec_version,
                version_us,
                date_added,
                0,
                0,
                author_org,
                version.created_by_ref,
                version.tlp,
                int(version.tlp_defaulted),
                version.body,
                int(version.sealed),
            ]
        )
        touched.append(version.stix_id)
        stored_versions.append(version)
        outcomes.append((WriteOutcome.STORED, version_us))
        date_added += 1
    bounds = {sid: (min(known[sid].versions), max(known[sid].versions)) for sid in set(touched)}
    for stix_id, (first, last) in bounds.items():
        entry = known[stix_id]
        if entry.first is not None and first < entry.first:
            _clear_flag_txn(conn, "is_first", collection_id, stix_id, entry.first)
        if entry.last is not None and last > entry.last:
            _unindex_txn(conn, collection_id, stix_id, entry.last)
            _clear_flag_txn(conn, "is_last", collection_id, stix_id, entry.last)
    for stix_id, row in zip(touched, rows, strict=True):
        first, last = bounds[stix_id]
        row[6] = int(row[4] == first)
        row[7] = int(row[4] == last)
    searchable = [
        (row[5], version.search_body, version.search_stems)
        for row, version in zip(rows, stored_versions, strict=True)
        if row[7] and (version.search_body or version.search_stems)
    ]
    if searchable:
        conn.executemany(
            "INSERT INTO search_index(rowid, body, stems) VALUES (?, ?, ?)", searchable
        )
    observed = [
        (kind, value, row[5])
        for row, version in zip(rows, stored_versions, strict=True)
        if row[7]
        for kind, value in version.observables
    ]
    if observed:
        conn.executemany(
            "INSERT INTO observables(kind, value, date_added) VALUES (?, ?, ?)", observed
        )
    conn.executemany(
        "INSERT INTO objects(collection_id, stix_id, type, spec_version, version_us, date_added,"
        " is_first, is_last, author_org, created_by_ref, tlp, tlp_defaulted, body, sealed)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return outcomes, date_added


def _unindex_txn(
    conn: sqlite3.Connection, collection_id: int, stix_id: str, version_us: int
) -> None:
    """The version is no longer the latest: search and correlation see latest versions only."""
    for table, column in (("search_index", "rowid"), ("observables", "date_added")):
        conn.execute(
            f"DELETE FROM {table} WHERE {column} = (SELECT date_added FROM objects"
            " WHERE collection_id = ? AND stix_id = ? AND version_us = ?)",
            (collection_id, stix_id, version_us),
        )


def _clear_flag_txn(
    conn: sqlite3.Connection, flag: str, collection_id: int, stix_id: str, version_us: int
) -> None:
    conn.execute(
        f"UPDATE objects SET {flag} = 0 WHERE collection_id = ? AND stix_id = ? AND version_us = ?",
        (collection_id, stix_id, version_us),
    )


def _refresh_first_last_txn(conn: sqlite3.Connection, collection_id: int, stix_id: str) -> None:
    conn.execute(
        "UPDATE objects SET"
        " is_first = (version_us = (SELECT min(version_us) FROM objects o"
        "   WHERE o.collection_id = objects.collection_id AND o.stix_id = objects.stix_id)),"
        " is_last = (version_us = (SELECT max(version_us) FROM objects o"
        "   WHERE o.collection_id = objects.collection_id AND o.stix_id = objects.stix_id))"
        " WHERE collection_id = ? AND stix_id = ?",
        (collection_id, stix_id),
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
