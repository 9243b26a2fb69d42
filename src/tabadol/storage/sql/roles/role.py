"""What every role of the shared store runs on."""

from __future__ import annotations

from collections.abc import Sequence

from tabadol.domain.audit import AuditEvent
from tabadol.storage.engine import Connection, Engine
from tabadol.storage.sql.audit import HeadSigner, append_audit_txn


class SqlRole:
    """An engine's connections (`_db`) and the signer of the audit log's tree heads; each
    engine's store sets both. A write records its audit events in its own transaction."""

    _db: Engine
    _head_signer: HeadSigner | None

    def _audit_txn(self, conn: Connection, events: Sequence[AuditEvent], now: int) -> None:
        append_audit_txn(conn, events, now, self._head_signer)
