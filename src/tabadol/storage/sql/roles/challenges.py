"""The people role in shared SQL, continued: WebAuthn challenges.

A challenge is stored under its binding (the SHA-256 of the purpose and the cookie secret of
the browser it was issued to), replaces any earlier one of that binding, and is deleted when
taken: it answers one ceremony, once, before it expires.
"""

from __future__ import annotations

from tabadol.storage.engine import Connection
from tabadol.storage.sql.roles.role import SqlRole


class SqlChallenges(SqlRole):
    """`contract.PeopleDirectory`'s WebAuthn challenges."""

    def put_challenge(self, binding: bytes, challenge: bytes, expires: int, now: int) -> None:
        def txn(conn: Connection) -> None:
            conn.execute("DELETE FROM webauthn_challenges WHERE expires <= ?", (now,))
            conn.execute(
                "INSERT INTO webauthn_challenges(binding, challenge, expires) VALUES (?, ?, ?)"
                " ON CONFLICT(binding) DO UPDATE SET challenge = excluded.challenge,"
                " expires = excluded.expires",
                (binding, challenge, expires),
            )

        self._db.run_write(txn)

    def take_challenge(self, binding: bytes, now: int) -> bytes | None:
        def txn(conn: Connection) -> bytes | None:
            row = conn.execute(
                "DELETE FROM webauthn_challenges WHERE binding = ? RETURNING challenge, expires",
                (binding,),
            ).fetchone()
            if row is None or int(row[1]) <= now:
                return None
            return bytes(row[0])

        return self._db.run_write(txn)
