"""The people role in shared SQL (persons, links, second factors); sessions and failure
counters are in `sessions.py`. Every write takes its audit events in its own transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tabadol.domain.audit import AuditEvent
from tabadol.domain.errors import Conflict
from tabadol.domain.model import Role
from tabadol.domain.people import (
    EnrolmentLink,
    Passkey,
    Person,
    PersonStatus,
)
from tabadol.storage.contract import (
    FactorRemoval,
    NewLink,
    NewPasskey,
    PersonSecrets,
    Redemption,
)
from tabadol.storage.engine import Connection
from tabadol.storage.errors import IntegrityViolation
from tabadol.storage.sql.roles.people_rows import LINK, PASSKEY, PERSON
from tabadol.storage.sql.roles.role import SqlRole


def end_access_txn(conn: Connection, person_id: int, now: int) -> None:
    """Every live session and personal token of the person revoked, and their unused links
    dropped, now."""
    conn.execute("DELETE FROM person_links WHERE person_id = ? AND used IS NULL", (person_id,))
    _end_sessions_txn(conn, person_id, now)
    revoke_tokens_txn(conn, person_id, now, made_by_them=True)


def _end_sessions_txn(
    conn: Connection, person_id: int, now: int, *, keep: int | None = None
) -> None:
    """Every live session of the person but `keep` (None: every one) revoked now."""
    conn.execute(
        "UPDATE person_sessions SET revoked = ? WHERE person_id = ? AND revoked IS NULL"
        " AND id <> ?",
        (now, person_id, -1 if keep is None else keep),
    )


def _ending_sessions_but(keep: int | None) -> Callable[[Connection, int, int], None]:
    """`_end_sessions_txn` keeping `keep`, for `SqlPeople._update_person`'s `then`."""
    return lambda conn, person_id, now: _end_sessions_txn(conn, person_id, now, keep=keep)


def revoke_tokens_txn(conn: Connection, person_id: int, now: int, *, made_by_them: bool) -> None:
    """The person's personal tokens revoked now — and, with `made_by_them`, the org tokens
    they made (which live no longer than their maker's access)."""
    conn.execute(
        "UPDATE tokens SET revoked = ? WHERE revoked IS NULL AND (person_id = ?"
        + (" OR created_by_person = ?)" if made_by_them else ")"),
        (now, person_id, person_id) if made_by_them else (now, person_id),
    )


def _insert_link_txn(conn: Connection, person_id: int, link: NewLink, now: int) -> EnrolmentLink:
    conn.execute(
        "DELETE FROM person_links WHERE person_id = ? AND used IS NULL", (person_id,)
    )  # a newer link replaces the ones not used yet
    cur = conn.execute(
        "INSERT INTO person_links(person_id, purpose, secret_hash, created, expires, issued_by)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (person_id, link.purpose.value, link.secret_hash, now, link.expires, link.issued_by),
    )
    return EnrolmentLink(
        int(cur.fetchone()[0]), person_id, link.purpose, now, link.expires, None, link.issued_by
    )


def _insert_passkey_txn(conn: Connection, person_id: int, passkey: NewPasskey, now: int) -> Passkey:
    try:
        cur = conn.execute(
            "INSERT INTO passkeys(person_id, credential_id, public_key, sign_count, label,"
            " created) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (
                person_id,
                passkey.credential_id,
                passkey.public_key,
                passkey.sign_count,
                passkey.label,
                now,
            ),
        )
    except IntegrityViolation:
        raise Conflict("this passkey is registered already") from None
    return Passkey(
        int(cur.fetchone()[0]),
        person_id,
        passkey.credential_id,
        passkey.public_key,
        passkey.sign_count,
        passkey.label,
        now,
        None,
    )


class SqlPeople(SqlRole):
    """`contract.PeopleDirectory`'s persons, links and second factors."""

    def create_person(
        self,
        org_id: int,
        email: str,
        name: str,
        role: Role,
        now: int,
        link: NewLink,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> tuple[Person, EnrolmentLink]:
        def txn(conn: Connection) -> tuple[Person, EnrolmentLink]:
            try:
                cur = conn.execute(
                    "INSERT INTO people(org_id, email, name, role, status, created)"
                    " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    (org_id, email, name, role.value, PersonStatus.INVITED.value, now),
                )
            except IntegrityViolation:
                raise Conflict("a person with this e-mail address exists on this node") from None
            person_id = int(cur.fetchone()[0])
            made = _insert_link_txn(conn, person_id, link, now)
            self._audit_txn(conn, audit, now)
            person = Person(
                person_id, org_id, email, name, role, PersonStatus.INVITED, now, False, False, 0
            )
            return person, made

        return self._db.run_write(txn)

    def _one_person(self, where: str, value: object) -> Person | None:
        row = (
            self._db.reader()
            .execute(f"SELECT {PERSON.select} FROM people p WHERE p.{where} = ?", (value,))
            .fetchone()
        )
        return PERSON(row) if row else None

    def person_by_id(self, person_id: int) -> Person | None:
        return self._one_person("id", person_id)

    def person_by_email(self, email: str) -> Person | None:
        return self._one_person("email", email)

    def list_people(self, org_id: int) -> list[Person]:
        rows = self._db.reader().execute(
            f"SELECT {PERSON.select} FROM people p WHERE p.org_id = ? ORDER BY p.id", (org_id,)
        )
        return PERSON.all(rows)

    def person_secrets(self, person_id: int) -> PersonSecrets | None:
        row = (
            self._db.reader()
            .execute(
                "SELECT password_hash, totp_wrapped, totp_last_step FROM people WHERE id = ?",
                (person_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        wrapped = None if row[1] is None else bytes(row[1])
        return PersonSecrets(row[0], wrapped, row[2])

    def set_password_hash(self, person_id: int, password_hash: str) -> None:
        self._db.run_write(
            lambda conn: conn.execute(
                "UPDATE people SET password_hash = ? WHERE id = ?", (password_hash, person_id)
            )
        )

    def _update_person(
        self,
        person_id: int,
        sets: str,
        values: tuple[object, ...],
        now: int,
        audit: Sequence[AuditEvent],
        *,
        then: Callable[[Connection, int, int], None] | None = None,
    ) -> bool:
        """SET `sets` on the person's row; when it is there, run `then(conn, person_id, now)`
        (what the change ends: sessions, access) and append the audit events, in the same
        transaction."""

        def txn(conn: Connection) -> bool:
            cur = conn.execute(f"UPDATE people SET {sets} WHERE id = ?", (*values, person_id))
            if cur.rowcount != 1:
                return False
            if then is not None:
                then(conn, person_id, now)
            self._audit_txn(conn, audit, now)
            return True

        return self._db.run_write(txn)

    def set_person_role(
        self, person_id: int, role: Role, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> bool:
        return self._update_person(person_id, "role = ?", (role.value,), now, audit)

    def set_person_status(
        self,
        person_id: int,
        status: PersonStatus,
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> bool:
        return self._update_person(
            person_id,
            "status = ?",
            (status.value,),
            now,
            audit,
            then=end_access_txn if status is PersonStatus.DISABLED else None,
        )

    def remove_person(self, person_id: int, now: int, *, audit: Sequence[AuditEvent] = ()) -> bool:
        def txn(conn: Connection) -> bool:
            end_access_txn(conn, person_id, now)
            for table in ("person_sessions", "person_links", "passkeys"):
                conn.execute(f"DELETE FROM {table} WHERE person_id = ?", (person_id,))
            if conn.execute("DELETE FROM people WHERE id = ?", (person_id,)).rowcount != 1:
                return False  # nothing above changed anything: the person was not there
            self._audit_txn(conn, audit, now)
            return True

        return self._db.run_write(txn)

    def add_link(
        self, person_id: int, link: NewLink, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> EnrolmentLink:
        return self._write_audited(
            lambda conn: _insert_link_txn(conn, person_id, link, now), audit, now
        )

    def link_by_secret(self, secret_hash: bytes) -> tuple[EnrolmentLink, Person] | None:
        row = (
            self._db.reader()
            .execute(
                f"SELECT {LINK.select}, {PERSON.select} FROM person_links l"
                " JOIN people p ON p.id = l.person_id WHERE l.secret_hash = ?",
                (secret_hash,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return LINK(row[: LINK.width]), PERSON(row[LINK.width :])

    def redeem_link(
        self, link_id: int, now: int, redemption: Redemption, *, audit: Sequence[AuditEvent] = ()
    ) -> bool:
        def txn(conn: Connection) -> bool:
            row = conn.execute(
                "UPDATE person_links SET used = ? WHERE id = ? AND used IS NULL AND expires > ?"
                " RETURNING person_id",
                (now, link_id, now),
            ).fetchone()
            if row is None:
                return False
            person_id = int(row[0])
            conn.execute(
                "UPDATE people SET password_hash = ?, status = CASE status"
                " WHEN 'invited' THEN 'active' ELSE status END WHERE id = ?",
                (redemption.password_hash, person_id),
            )
            if redemption.totp_wrapped is not None:
                conn.execute(
                    "UPDATE people SET totp_wrapped = ?, totp_last_step = ? WHERE id = ?",
                    (redemption.totp_wrapped, redemption.totp_step, person_id),
                )
            _end_sessions_txn(conn, person_id, now)
            revoke_tokens_txn(conn, person_id, now, made_by_them=False)
            if redemption.passkey is not None:
                _insert_passkey_txn(conn, person_id, redemption.passkey, now)
            self._audit_txn(conn, audit, now)
            return True

        return self._db.run_write(txn)

    def set_totp(
        self,
        person_id: int,
        totp_wrapped: bytes | None,
        now: int,
        *,
        step: int | None = None,
        end_sessions_but: int | None = None,
        audit: Sequence[AuditEvent] = (),
    ) -> bool:
        return self._update_person(
            person_id,
            "totp_wrapped = ?, totp_last_step = ?",
            (totp_wrapped, step),
            now,
            audit,
            then=None if end_sessions_but is None else _ending_sessions_but(end_sessions_but),
        )

    def change_password(
        self,
        person_id: int,
        password_hash: str,
        now: int,
        *,
        end_sessions_but: int | None,
        audit: Sequence[AuditEvent] = (),
    ) -> bool:
        return self._update_person(
            person_id,
            "password_hash = ?",
            (password_hash,),
            now,
            audit,
            then=_ending_sessions_but(end_sessions_but),
        )

    def remove_factor(
        self,
        person_id: int,
        now: int,
        *,
        passkey_id: int | None = None,
        keep_one: bool,
        end_sessions_but: int | None,
        audit: Sequence[AuditEvent] = (),
    ) -> FactorRemoval:
        def txn(conn: Connection) -> FactorRemoval:
            locked = conn.execute(  # the person's row first: their factor changes queue here,
                "UPDATE people SET totp_wrapped = totp_wrapped WHERE id = ?",  # and the count
                (person_id,),  # below (a statement of its own) sees the one before
            ).rowcount
            if locked != 1:
                return FactorRemoval.ABSENT
            row = conn.execute(
                "SELECT totp_wrapped IS NOT NULL,"
                " (SELECT COUNT(*) FROM passkeys WHERE person_id = people.id)"
                " FROM people WHERE id = ?",
                (person_id,),
            ).fetchone()
            has_totp, passkeys = bool(row[0]), int(row[1])
            if passkey_id is None:
                present = has_totp
            else:
                present = (
                    conn.execute(
                        "SELECT 1 FROM passkeys WHERE id = ? AND person_id = ?",
                        (passkey_id, person_id),
                    ).fetchone()
                    is not None
                )
            if not present:
                return FactorRemoval.ABSENT
            if keep_one and int(has_totp) + passkeys <= 1:
                return FactorRemoval.LAST
            if passkey_id is None:
                conn.execute(
                    "UPDATE people SET totp_wrapped = NULL, totp_last_step = NULL WHERE id = ?",
                    (person_id,),
                )
            else:
                conn.execute("DELETE FROM passkeys WHERE id = ?", (passkey_id,))
            _end_sessions_txn(conn, person_id, now, keep=end_sessions_but)
            self._audit_txn(conn, audit, now)
            return FactorRemoval.REMOVED

        return self._db.run_write(txn)

    def add_passkey(
        self, person_id: int, passkey: NewPasskey, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> Passkey:
        return self._write_audited(
            lambda conn: _insert_passkey_txn(conn, person_id, passkey, now), audit, now
        )

    def passkeys_of(self, person_id: int) -> list[Passkey]:
        rows = self._db.reader().execute(
            f"SELECT {PASSKEY.select} FROM passkeys WHERE person_id = ? ORDER BY id", (person_id,)
        )
        return PASSKEY.all(rows)

    def passkey_by_credential(self, credential_id: bytes) -> Passkey | None:
        row = (
            self._db.reader()
            .execute(
                f"SELECT {PASSKEY.select} FROM passkeys WHERE credential_id = ?", (credential_id,)
            )
            .fetchone()
        )
        return PASSKEY(row) if row else None

    def remove_passkey(
        self, person_id: int, passkey_id: int, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> bool:
        def txn(conn: Connection) -> bool:
            cur = conn.execute(
                "DELETE FROM passkeys WHERE id = ? AND person_id = ?", (passkey_id, person_id)
            )
            if cur.rowcount == 1:
                self._audit_txn(conn, audit, now)
            return cur.rowcount == 1

        return self._db.run_write(txn)
