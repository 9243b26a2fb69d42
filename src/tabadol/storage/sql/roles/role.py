"""What every role of the shared store runs on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from tabadol.domain.audit import AuditEvent
from tabadol.storage.engine import Connection, Engine
from tabadol.storage.sql.audit import HeadSigner, append_audit_txn

T = TypeVar("T")


class SqlRole:
    """An engine's connections (`_db`) and the signer of the audit log's tree heads; each
    engine's store sets both. A write records its audit events in its own transaction."""

    _db: Engine
    _head_signer: HeadSigner | None

    def _audit_txn(self, conn: Connection, events: Sequence[AuditEvent], now: int) -> None:
        append_audit_txn(conn, events, now, self._head_signer)

    def _write_audited(
        self, write: Callable[[Connection], T], audit: Sequence[AuditEvent], now: int
    ) -> T:
        """`write`, then the audit events, in one transaction: what `write` returns."""

        def txn(conn: Connection) -> T:
            made = write(conn)
            self._audit_txn(conn, audit, now)
            return made

        return self._db.run_write(txn)
