"""The audit role: the append-only log, its Merkle tree and its signed heads."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from tabadol.domain.audit import AuditEntry, AuditEvent, TreeHead


class AuditStore(Protocol):
    """Entries are appended (with a signed tree head), never changed; the other roles append
    theirs inside the transaction of the change they record."""

    def append_audit(self, events: Sequence[AuditEvent], now: int) -> None: ...
    def audit_entries(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        since: int | None = None,
        until: int | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]: ...
    def iter_audit(self, start: int = 0) -> Iterator[AuditEntry]: ...
    def audit_heads(self) -> list[TreeHead]: ...
    def audit_head_before(self, moment: int) -> TreeHead | None:
        """The newest signed head made at or before `moment`, if any."""
        ...

    def audit_leaves(self, size: int) -> list[bytes]: ...
    def audit_size(self) -> int: ...
