"""The keys role in shared SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tabadol.domain.audit import AuditEvent
from tabadol.domain.keys import KeyPurpose, NewKey, OrgKey
from tabadol.storage.engine import Connection
from tabadol.storage.sql import keys as keys_sql
from tabadol.storage.sql.roles.role import SqlRole


class SqlKeys(SqlRole):
    """`contract.KeyStore`, over the statements of `sql/keys.py`."""

    def register_keys(
        self,
        org_id: int,
        keys: Sequence[NewKey],
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> list[OrgKey]:
        def txn(conn: Connection) -> list[OrgKey]:
            stored = keys_sql.register_keys_txn(conn, org_id, keys, now)
            self._audit_txn(conn, audit, now)
            return stored

        return self._db.run_write(txn)

    def revoke_key(
        self, key_id: str, at: int, reason: str, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> bool:
        def txn(conn: Connection) -> bool:
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
