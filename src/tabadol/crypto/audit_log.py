"""The bytes of an audit entry and the checks `audit verify` runs over them. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from tabadol.crypto.canonical import canonical
from tabadol.crypto.signing import b64url
from tabadol.domain.audit import AuditEvent
from tabadol.domain.errors import MalformedAuditEntry

ENTRY_VERSION = 1


def encode_entry(position: int, at: int, event: AuditEvent, prev_leaf: bytes | None) -> bytes:
    """The canonical JSON of one entry; it names the previous leaf, chaining the entries."""
    return canonical(
        {
            "v": ENTRY_VERSION,
            "position": position,
            "at": at,
            "action": event.action,
            "actor": event.actor,
            "outcome": event.outcome.value,
            "objects": list(event.object_ids),
            "detail": dict(event.detail),
            "prev": b64url(prev_leaf) if prev_leaf is not None else "",
        }
    )


def decode_entry(entry: bytes) -> Mapping[str, Any]:
    value = orjson.loads(entry)
    if not isinstance(value, dict):
        raise MalformedAuditEntry("an audit entry is a JSON object")
    return value
