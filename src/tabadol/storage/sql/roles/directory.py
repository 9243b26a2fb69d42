"""The directory roles in shared SQL: orgs and tokens, groups and collections."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tabadol.domain.audience import AudienceKind
from tabadol.domain.audit import AuditEvent
from tabadol.domain.errors import Conflict
from tabadol.domain.keys import Custody, NewKey
from tabadol.domain.model import Collection, Group, Org, Token
from tabadol.storage.contract import Bearer, Channel
from tabadol.storage.engine import Connection
from tabadol.storage.errors import IntegrityViolation
from tabadol.storage.sql import keys as keys_sql
from tabadol.storage.sql.queries import in_clause
from tabadol.storage.sql.roles.people_rows import person_map
from tabadol.storage.sql.roles.role import SqlRole
from tabadol.storage.sql.rows import RowMap

ORG = RowMap(Org, convert={"member": bool, "custody": Custody})
TOKEN = RowMap(Token)
COLLECTION = RowMap(Collection, convert={"kind": AudienceKind})
# the bearer's one query: a token, its org (NULLs for the operator's) and a group per row
_BEARER_TOKEN = RowMap(Token, table="t")
_BEARER_ORG = RowMap(Org, table="o", convert={"member": bool, "custody": Custody})
_BEARER_PERSON = person_map("p")
# a group's own columns; its owners and members come from group_members
_GROUP_FIELDS = ("id", "uuid", "name", "created_by", "created", "home_peer")
_GROUP_COLUMNS = ", ".join(_GROUP_FIELDS)


class SqlOrgDirectory(SqlRole):
    """`contract.OrgDirectory`: a name, token or key taken is a Conflict."""

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
        def txn(conn: Connection) -> Org:
            try:
                cur = conn.execute(
                    "INSERT INTO orgs(name, identity_id, member, created, custody)"
                    " VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (name, identity_id, int(member), now, custody.value),
                )
            except IntegrityViolation:
                raise Conflict(f"an organization named {name!r} already exists") from None
            org = Org(
                id=cur.fetchone()[0],
                name=name,
                identity_id=identity_id,
                member=member,
                created=now,
                custody=custody,
            )
            if channel is not None:
                create_collection_txn(conn, channel, AudienceKind.ORG, org.id)
            keys_sql.register_keys_txn(conn, org.id, keys, now)
            self._audit_txn(conn, audit, now)
            return org

        return self._db.run_write(txn)

    def discard_new_org(self, org_id: int, now: int, audit: Sequence[AuditEvent] = ()) -> None:
        def txn(conn: Connection) -> None:
            conn.execute("DELETE FROM org_keys WHERE org_id = ?", (org_id,))
            conn.execute(
                "DELETE FROM collections WHERE kind = ? AND ref = ?",
                (AudienceKind.ORG.value, org_id),
            )
            conn.execute("DELETE FROM orgs WHERE id = ?", (org_id,))
            self._audit_txn(conn, audit, now)

        self._db.run_write(txn)

    def _one_org(self, where: str, value: object) -> Org | None:
        row = (
            self._db.reader()
            .execute(f"SELECT {ORG.select} FROM orgs WHERE {where} = ?", (value,))
            .fetchone()
        )
        return ORG(row) if row else None

    def org_by_name(self, name: str) -> Org | None:
        return self._one_org("name", name)

    def org_by_id(self, org_id: int) -> Org | None:
        return self._one_org("id", org_id)

    def org_by_identity(self, identity_id: str) -> Org | None:
        return self._one_org("identity_id", identity_id)

    def list_orgs(self) -> list[Org]:
        rows = self._db.reader().execute(f"SELECT {ORG.select} FROM orgs ORDER BY id")
        return ORG.all(rows)

    def orgs_by_ids(self, org_ids: Iterable[int]) -> dict[int, Org]:
        wanted = frozenset(org_ids)
        if not wanted:
            return {}
        where, params = in_clause("id", wanted)
        rows = self._db.reader().execute(f"SELECT {ORG.select} FROM orgs WHERE {where}", params)
        return {org.id: org for org in map(ORG, rows)}

    def create_token(
        self,
        org_id: int | None,
        role: str,
        label: str,
        secret_hash: bytes,
        prefix: str,
        now: int,
        *,
        person_id: int | None = None,
        expires: int | None = None,
        created_by_person: int | None = None,
        audit: Sequence[AuditEvent] = (),
    ) -> Token:
        def txn(conn: Connection) -> Token:
            try:
                cur = conn.execute(
                    "INSERT INTO tokens(org_id, role, label, secret_hash, prefix, created,"
                    " person_id, expires, created_by_person)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        org_id,
                        role,
                        label,
                        secret_hash,
                        prefix,
                        now,
                        person_id,
                        expires,
                        created_by_person,
                    ),
                )
            except IntegrityViolation:
                raise Conflict("a token with this secret already exists") from None
            token_id = int(cur.fetchone()[0])
            self._audit_txn(conn, audit, now)
            return Token(
                id=token_id,
                prefix=prefix,
                org_id=org_id,
                role=role,
                label=label,
                created=now,
                revoked=None,
                person_id=person_id,
                expires=expires,
                created_by_person=created_by_person,
            )

        return self._db.run_write(txn)

    def bearer(self, secret_hash: bytes) -> Bearer | None:
        rows = (
            self._db.reader()
            .execute(
                f"SELECT {_BEARER_TOKEN.select}, {_BEARER_ORG.select}, {_BEARER_PERSON.select},"
                " g.group_id FROM tokens t"
                " LEFT JOIN orgs o ON o.id = t.org_id"
                " LEFT JOIN people p ON p.id = t.person_id"
                " LEFT JOIN group_members g ON g.org_id = t.org_id"
                " WHERE t.secret_hash = ?",
                (secret_hash,),
            )
            .fetchall()
        )
        if not rows:
            return None
        first = rows[0]
        org_start, org_end = _BEARER_TOKEN.width, _BEARER_TOKEN.width + _BEARER_ORG.width
        person_end = org_end + _BEARER_PERSON.width
        return Bearer(
            token=_BEARER_TOKEN(first[:org_start]),
            org=_BEARER_ORG(first[org_start:org_end]) if first[org_start] is not None else None,
            group_ids=frozenset(row[person_end] for row in rows if row[person_end] is not None),
            person=_BEARER_PERSON(first[org_end:person_end])
            if first[org_end] is not None
            else None,
        )

    def token_by_id(self, token_id: int) -> Token | None:
        row = (
            self._db.reader()
            .execute(f"SELECT {TOKEN.select} FROM tokens WHERE id = ?", (token_id,))
            .fetchone()
        )
        return TOKEN(row) if row else None

    def list_tokens(self, org_id: int | None) -> list[Token]:
        if org_id is None:
            rows = self._db.reader().execute(
                f"SELECT {TOKEN.select} FROM tokens WHERE org_id IS NULL ORDER BY id"
            )
        else:
            rows = self._db.reader().execute(
                f"SELECT {TOKEN.select} FROM tokens WHERE org_id = ? ORDER BY id", (org_id,)
            )
        return TOKEN.all(rows)

    def tokens_of_person(self, person_id: int) -> list[Token]:
        rows = self._db.reader().execute(
            f"SELECT {TOKEN.select} FROM tokens WHERE person_id = ? ORDER BY id", (person_id,)
        )
        return TOKEN.all(rows)

    def revoke_token(self, token_id: int, now: int, *, audit: Sequence[AuditEvent] = ()) -> bool:
        def txn(conn: Connection) -> bool:
            cur = conn.execute(
                "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", (now, token_id)
            )
            if cur.rowcount == 1:
                self._audit_txn(conn, audit, now)
            return cur.rowcount == 1

        return self._db.run_write(txn)


class SqlGroupDirectory(SqlRole):
    """`contract.GroupDirectory`: a group and its channel are created in one transaction."""

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
        def txn(conn: Connection) -> int:
            try:
                cur = conn.execute(
                    "INSERT INTO groups(uuid, name, created_by, created) VALUES (?, ?, ?, ?)"
                    " RETURNING id",
                    (uuid, name, owner_org, now),
                )
            except IntegrityViolation:
                raise Conflict(f"a group named {name!r} already exists") from None
            group_id = int(cur.fetchone()[0])
            conn.execute(
                "INSERT INTO group_members(group_id, org_id, owner) VALUES (?, ?, 1)",
                (group_id, owner_org),
            )
            if channel is not None:
                create_collection_txn(conn, channel, AudienceKind.GROUP, group_id)
            self._audit_txn(conn, audit, now)
            return group_id

        group = self.group_by_id(self._db.run_write(txn))
        assert group is not None
        return group

    def _groups(self, where: str = "", params: tuple[object, ...] = ()) -> list[Group]:
        conn = self._db.reader()
        rows = conn.execute(
            f"SELECT {_GROUP_COLUMNS} FROM groups {where} ORDER BY id",
            params,
        ).fetchall()
        groups = []
        for row in rows:
            stored = dict(zip(_GROUP_FIELDS, row, strict=True))
            members = conn.execute(
                "SELECT org_id, owner FROM group_members WHERE group_id = ?", (stored["id"],)
            ).fetchall()
            owners = frozenset(org_id for org_id, owner in members if owner)
            everyone = frozenset(org_id for org_id, _ in members)
            groups.append(Group(**stored, owners=owners, members=everyone))
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
        def txn(conn: Connection) -> None:
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
        def txn(conn: Connection) -> bool:
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

    def create_collection(
        self, uuid: str, kind: AudienceKind, ref: int | None, title: str, description: str
    ) -> Collection:
        channel = Channel(uuid, title, description)
        return self._db.run_write(lambda conn: create_collection_txn(conn, channel, kind, ref))

    def list_collections(self) -> list[Collection]:
        rows = self._db.reader().execute(f"SELECT {COLLECTION.select} FROM collections ORDER BY id")
        return COLLECTION.all(rows)


def create_collection_txn(
    conn: Connection, channel: Channel, kind: AudienceKind, ref: int | None
) -> Collection:
    try:
        cur = conn.execute(
            "INSERT INTO collections(uuid, kind, ref, title, description) VALUES (?, ?, ?, ?, ?)"
            " RETURNING id",
            (channel.uuid, kind.value, ref, channel.title, channel.description),
        )
    except IntegrityViolation:
        raise Conflict(f"the {kind.value} channel {channel.title!r} already exists") from None
    return Collection(
        id=int(cur.fetchone()[0]),
        uuid=channel.uuid,
        kind=kind,
        ref=ref,
        title=channel.title,
        description=channel.description,
    )
