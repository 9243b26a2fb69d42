"""The keys role: the signing and encryption keys of orgs, with their history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from tabadol.domain.audit import AuditEvent
from tabadol.domain.keys import KeyPurpose, NewKey, OrgKey


class KeyStore(Protocol):
    """Org keys: registered, retired by their successor, revoked; private halves wrapped."""

    def register_keys(
        self, org_id: int, keys: Sequence[NewKey], now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> list[OrgKey]:
        """Add keys; each retires the org's current key of its purpose (valid until now)."""
        ...

    def revoke_key(
        self, key_id: str, at: int, reason: str, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> bool: ...
    def org_keys(self, org_id: int | None = None) -> list[OrgKey]: ...
    def keys_by_id(self, key_ids: Iterable[str]) -> dict[str, OrgKey]: ...
    def current_keys(self, org_ids: Iterable[int], purpose: KeyPurpose) -> dict[int, OrgKey]: ...
    def wrapped_private(self, key_id: str) -> bytes | None: ...
