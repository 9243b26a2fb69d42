"""The audit role in shared SQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from tabadol.domain.audit import AuditEntry, AuditEvent, TreeHead
from tabadol.storage.sql import audit as audit_sql
from tabadol.storage.sql.roles.role import SqlRole


class SqlAudit(SqlRole):
    """`contract.AuditStore`, over the statements of `sql/audit.py`."""

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

    def audit_head_before(self, moment: int) -> TreeHead | None:
        return audit_sql.head_before_txn(self._db.reader(), moment)

    def audit_leaves(self, size: int) -> list[bytes]:
        return audit_sql.leaves_txn(self._db.reader(), size)

    def audit_size(self) -> int:
        return audit_sql.size_txn(self._db.reader())
