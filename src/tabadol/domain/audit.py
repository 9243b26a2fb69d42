"""Audit entries: one security-relevant action each, appended to a Merkle log.

An entry is stored as its canonical JSON; its leaf hash covers those bytes, and the
entry names the previous leaf hash too, so an edit, a deletion or a reordering is found at
its first position, and signed tree heads catch a history rewritten whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tabadol.domain.model import Principal, PrincipalKind


class Outcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"
    PARTIAL = "partial"  # some objects of a request stored, others refused


@dataclass(frozen=True, slots=True)
class AuditEvent:
    action: str  # e.g. "publish", "delete", "read-restricted", "token.create", "key.rotate"
    actor: str
    outcome: Outcome = Outcome.OK
    object_ids: Sequence[str] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """An entry as read back from the log."""

    position: int  # 0-based index of the leaf
    at: int
    action: str
    actor: str
    outcome: str
    object_ids: Sequence[str]
    detail: Mapping[str, Any]
    entry: bytes  # the canonical JSON the leaf hash covers
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A signed statement by the node: the log had `tree_size` entries with this root."""

    tree_size: int
    root_hash: bytes
    at: int
    key_id: str
    signature: bytes


OPERATOR_ACTOR = "operator"


def actor_part(text: str) -> str:
    """A name inside an actor string, with `%` and `/` escaped (`%25`, `%2F`): an org name
    or an address can then never read as another actor's `/person:` or `/token:` part."""
    return text.replace("%", "%25").replace("/", "%2F")


def actor_of(principal: Principal) -> str:
    """Who did it, as the log names it (never a secret: tokens appear by id): an org's
    token `org:NAME/token:7`, a person `org:NAME/person:EMAIL` (signed in) or
    `org:NAME/person:EMAIL/token:7` (by a personal token); NAME and EMAIL escaped by
    `actor_part`, so the string has one reading."""
    if principal.kind is PrincipalKind.ORG and principal.org is not None:
        email = principal.person_email
        person = f"/person:{actor_part(email)}" if email else ""
        token = f"/token:{principal.token_id}" if principal.token_id is not None else ""
        return f"org:{actor_part(principal.org.name)}{person}{token}"
    if principal.kind is PrincipalKind.NODE_ADMIN:
        return (
            OPERATOR_ACTOR
            if principal.token_id is None
            else f"node-admin/token:{principal.token_id}"
        )
    return "anonymous"


def operator_as_org(principal: Principal) -> str:
    """The CLI acts for an org on the operator's authority: the log says both."""
    return f"{OPERATOR_ACTOR} as org:{actor_part(principal.org.name) if principal.org else ''}"


def head_payload(tree_size: int, root_hash: bytes, at: int) -> bytes:
    """The bytes a tree head signature covers (fixed layout, no JSON ambiguity)."""
    return (
        b"tabadol audit tree head v1\x00"
        + tree_size.to_bytes(8, "big")
        + root_hash
        + at.to_bytes(8, "big", signed=True)
    )
