"""The people role in shared SQL, continued: sessions and the counters of failed sign-ins."""

from __future__ import annotations

from collections.abc import Sequence

from tabadol.domain.audit import AuditEvent
from tabadol.domain.keys import Custody
from tabadol.domain.model import Org
from tabadol.domain.people import (
    FAILURE_WINDOW,
    FailureCounter,
    PersonSession,
    after_failure,
    locked_for,
)
from tabadol.storage.contract import NewSession, Reservation, SessionBearer
from tabadol.storage.engine import Connection
from tabadol.storage.sql.queries import in_clause
from tabadol.storage.sql.roles.people import revoke_tokens_txn
from tabadol.storage.sql.roles.people_rows import PERSON, SESSION
from tabadol.storage.sql.roles.role import SqlRole
from tabadol.storage.sql.rows import RowMap

_ORG = RowMap(Org, table="o", convert={"member": bool, "custody": Custody})
_FAILURE = RowMap(FailureCounter)
_KEEP_ENDED = 30 * 24 * 3600 * 1_000_000  # ended sessions stay listed this long (µs)


def _insert_session_txn(
    conn: Connection, person_id: int, new: NewSession, now: int
) -> PersonSession:
    conn.execute(  # the person's sessions that ended long ago are forgotten
        "DELETE FROM person_sessions WHERE person_id = ? AND expires < ?",
        (person_id, now - _KEEP_ENDED),
    )
    cur = conn.execute(
        "INSERT INTO person_sessions(person_id, secret_hash, created, last_seen, expires,"
        " address, user_agent, stage, factor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            person_id,
            new.secret_hash,
            now,
            now,
            new.expires,
            new.address,
            new.user_agent,
            new.stage.value,
            new.factor.value,
        ),
    )
    return PersonSession(
        int(cur.fetchone()[0]),
        person_id,
        now,
        now,
        new.expires,
        None,
        new.address,
        new.user_agent,
        new.stage,
        new.factor,
    )


class SqlSessions(SqlRole):
    """`contract.PeopleDirectory`'s sessions and failure counters."""

    def create_session(
        self, person_id: int, new: NewSession, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> PersonSession:
        return self._write_audited(
            lambda conn: _insert_session_txn(conn, person_id, new, now), audit, now
        )

    def complete_session(
        self,
        pending_id: int,
        new: NewSession,
        now: int,
        *,
        totp_step: int | None = None,
        passkey_use: tuple[int, int] | None = None,
        audit: Sequence[AuditEvent] = (),
    ) -> PersonSession | None:
        def txn(conn: Connection) -> PersonSession | None:
            row = conn.execute(
                "UPDATE person_sessions SET revoked = ? WHERE id = ? AND revoked IS NULL"
                " RETURNING person_id",
                (now, pending_id),
            ).fetchone()
            if row is None:
                return None
            person_id = int(row[0])
            if totp_step is not None and not _accept_step_txn(conn, person_id, totp_step):
                raise _Replayed  # rolls the revocation back: nothing changed
            if passkey_use is not None:
                conn.execute(
                    "UPDATE passkeys SET sign_count = ?, last_used = ? WHERE id = ?",
                    (passkey_use[1], now, passkey_use[0]),
                )
            made = _insert_session_txn(conn, person_id, new, now)
            self._audit_txn(conn, audit, now)
            return made

        try:
            return self._db.run_write(txn)
        except _Replayed:
            return None

    def session_bearer(self, secret_hash: bytes) -> SessionBearer | None:
        rows = (
            self._db.reader()
            .execute(
                f"SELECT {SESSION.select}, {PERSON.select}, {_ORG.select}, g.group_id"
                " FROM person_sessions s JOIN people p ON p.id = s.person_id"
                " JOIN orgs o ON o.id = p.org_id"
                " LEFT JOIN group_members g ON g.org_id = p.org_id"
                " WHERE s.secret_hash = ?",
                (secret_hash,),
            )
            .fetchall()
        )
        if not rows:
            return None
        first = rows[0]
        person_at = SESSION.width
        org_at = person_at + PERSON.width
        groups_at = org_at + _ORG.width
        return SessionBearer(
            session=SESSION(first[:person_at]),
            person=PERSON(first[person_at:org_at]),
            org=_ORG(first[org_at:groups_at]),
            group_ids=frozenset(r[groups_at] for r in rows if r[groups_at] is not None),
        )

    def session_by_id(self, session_id: int) -> PersonSession | None:
        row = (
            self._db.reader()
            .execute(
                f"SELECT {SESSION.select} FROM person_sessions s WHERE s.id = ?", (session_id,)
            )
            .fetchone()
        )
        return SESSION(row) if row else None

    def touch_session(self, session_id: int, now: int) -> None:
        self._db.run_write(
            lambda conn: conn.execute(
                "UPDATE person_sessions SET last_seen = ? WHERE id = ? AND last_seen < ?",
                (now, session_id, now),
            )
        )

    def list_sessions(self, person_id: int) -> list[PersonSession]:
        rows = self._db.reader().execute(
            f"SELECT {SESSION.select} FROM person_sessions s WHERE s.person_id = ? ORDER BY s.id",
            (person_id,),
        )
        return SESSION.all(rows)

    def revoke_sessions(
        self,
        person_id: int,
        now: int,
        *,
        session_id: int | None = None,
        with_tokens: bool = False,
        audit: Sequence[AuditEvent] = (),
    ) -> int:
        def txn(conn: Connection) -> int:
            sql = "UPDATE person_sessions SET revoked = ? WHERE person_id = ? AND revoked IS NULL"
            params: tuple[object, ...] = (now, person_id)
            if session_id is not None:
                sql, params = sql + " AND id = ?", (*params, session_id)
            count = conn.execute(sql, params).rowcount
            if with_tokens:
                revoke_tokens_txn(conn, person_id, now, made_by_them=False)
            if count or with_tokens:
                self._audit_txn(conn, audit, now)
            return count

        return self._db.run_write(txn)

    def failure_counters(self, keys: Sequence[str]) -> dict[str, FailureCounter]:
        if not keys:
            return {}
        where, params = in_clause("key", frozenset(keys))
        rows = self._db.reader().execute(
            f"SELECT {_FAILURE.select} FROM sign_in_failures WHERE {where}", params
        )
        return {counter.key: counter for counter in _FAILURE.all(rows)}

    def reserve_attempt(self, keys: Sequence[str], now: int) -> Reservation:
        """See `contract.PeopleDirectory.reserve_attempt`."""

        def txn(conn: Connection) -> Reservation:
            conn.execute(  # counters nobody has failed under for a while are forgotten
                "DELETE FROM sign_in_failures WHERE last_failure < ?"
                " AND (locked_until IS NULL OR locked_until < ?)",
                (now - FAILURE_WINDOW, now),
            )
            before: dict[str, FailureCounter] = {}
            for key in keys:
                row = conn.execute(
                    f"SELECT {_FAILURE.select} FROM sign_in_failures WHERE key = ?", (key,)
                ).fetchone()
                if row:
                    before[key] = _FAILURE(row)
            wait = max((locked_for(before.get(key), now) for key in keys), default=0)
            if wait:
                return Reservation(wait, before, {})
            counted = {}
            for key in keys:
                counter = after_failure(before.get(key), key, now)
                _store_counter_txn(conn, counter)
                counted[key] = counter
            return Reservation(0, before, counted)

        return self._db.run_write(txn)

    def release_attempt(
        self,
        reservation: Reservation,
        *,
        clear: Sequence[str] = (),
        audit: Sequence[AuditEvent] = (),
        now: int = 0,
    ) -> None:
        """See `contract.PeopleDirectory.release_attempt`."""

        def txn(conn: Connection) -> None:
            for key in clear:
                conn.execute("DELETE FROM sign_in_failures WHERE key = ?", (key,))
            for key in reservation.counted:
                if key in clear:
                    continue
                previous = reservation.before.get(key)
                conn.execute(  # one failure fewer, and the lock it had before (if any)
                    "UPDATE sign_in_failures SET failures = failures - 1, locked_until = ?"
                    " WHERE key = ? AND failures > 0",
                    (previous.locked_until if previous else None, key),
                )
            conn.execute("DELETE FROM sign_in_failures WHERE failures <= 0")
            self._audit_txn(conn, audit, now)

        self._db.run_write(txn)

    def clear_failures(self, key: str) -> None:
        self._db.run_write(
            lambda conn: conn.execute("DELETE FROM sign_in_failures WHERE key = ?", (key,))
        )


def _store_counter_txn(conn: Connection, counter: FailureCounter) -> None:
    conn.execute(
        "INSERT INTO sign_in_failures(key, failures, last_failure, locked_until)"
        " VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
        " failures = excluded.failures, last_failure = excluded.last_failure,"
        " locked_until = excluded.locked_until",
        (counter.key, counter.failures, counter.last_failure, counter.locked_until),
    )


class _Replayed(Exception):
    """A TOTP step accepted already: the transaction is rolled back."""


def _accept_step_txn(conn: Connection, person_id: int, step: int) -> bool:
    """Record `step` as the person's last accepted TOTP step, unless it or a later one is."""
    cur = conn.execute(
        "UPDATE people SET totp_last_step = ? WHERE id = ?"
        " AND (totp_last_step IS NULL OR totp_last_step < ?)",
        (step, person_id, step),
    )
    return cur.rowcount == 1
