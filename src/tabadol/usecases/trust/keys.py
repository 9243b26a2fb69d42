"""Org keys as a use case: registration of the public keys an org keeps itself (client
custody), rotation and revocation — each followed by a new directory record of the org."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tabadol.crypto.sealing import check_encryption_key, x25519_key_id
from tabadol.crypto.signing import check_public_key, key_id, unb64url
from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import (
    Conflict,
    Forbidden,
    InvalidEncryptionKey,
    InvalidInput,
    InvalidPublicKey,
    NotFound,
)
from tabadol.domain.keys import Custody, KeyPurpose, NewKey, OrgKey
from tabadol.domain.model import Org, Principal, PrincipalKind
from tabadol.domain.policy import may_manage_org
from tabadol.node.keyring import generate_node_held_keys
from tabadol.node.node import Node
from tabadol.usecases.membership.lookup import require_managed_org
from tabadol.usecases.trust.directory_record import publish_directory_record


def client_keys(public: dict[str, Any], node_key_id: str) -> list[NewKey]:
    """Keys an org registers from its own client: `{"sign": b64url, "encrypt": b64url}`."""
    try:
        sign_key = unb64url(str(public["sign"]))
        encrypt_key = unb64url(str(public["encrypt"]))
    except (KeyError, ValueError) as exc:
        raise InvalidInput(f"public keys: {exc}") from None
    try:
        check_public_key(sign_key)
    except InvalidPublicKey as exc:
        raise InvalidInput(f"signing key refused: {exc}") from None
    if key_id(sign_key) == node_key_id:
        raise InvalidInput("signing key refused: it is the node's key")
    try:
        check_encryption_key(encrypt_key)
    except InvalidEncryptionKey as exc:
        raise InvalidInput(f"encryption key refused: {exc}") from None
    return [
        NewKey(key_id(sign_key), KeyPurpose.SIGN, sign_key, None),
        NewKey(x25519_key_id(encrypt_key), KeyPurpose.ENCRYPT, encrypt_key, None),
    ]


def _require_manager(actor: Principal, org: Org) -> None:
    if not may_manage_org(actor, org.id):
        raise Forbidden(f"you may not manage the keys of {org.name!r}")


def rotate_keys(
    node: Node, actor: Principal, org: Org, public: dict[str, Any] | None = None
) -> list[OrgKey]:
    """New current keys for `org`; the old ones are retired (they keep verifying what they
    signed before now, and keep decrypting what was sealed to them)."""
    _require_manager(actor, org)
    if not org.hosted_here:
        raise Forbidden(f"{org.name!r} is hosted by a peer node: its keys change there")
    if org.custody is not Custody.NODE:
        if actor.kind is PrincipalKind.NODE_ADMIN:
            raise Forbidden(
                f"{org.name!r} keeps its keys: only its own admins register new ones (an"
                " operator who could would be able to read and sign as it)"
            )
        if public is None:
            raise Conflict(
                f"{org.name!r} keeps its keys client-side: give its new public keys"
                " (`tabadol key generate` prints them)"
            )
        keys = client_keys(public, node.node_key_id)
    else:
        if public is not None:
            raise Conflict(f"the node holds the keys of {org.name!r}; it generates them")
        keys = generate_node_held_keys(node)
    event = AuditEvent(
        "key.rotate", actor_of(actor), detail={"org": org.name, "keys": [k.key_id for k in keys]}
    )
    stored = node.store.register_keys(org.id, keys, node.clock(), audit=[event])
    publish_directory_record(node, org)
    return stored


def revoke_key(
    node: Node, actor: Principal, key_id_text: str, reason: str, since: int | None = None
) -> OrgKey:
    """Revoke a key from `since` (default now): versions made from then on that it signed
    are refused; what was sealed to it can no longer be sealed to it."""
    found = node.store.keys_by_id([key_id_text]).get(key_id_text)
    if found is None or not may_manage_org(actor, found.org_id):
        raise NotFound("no key of that id that you manage")  # not echoed: one answer, no oracle
    org = node.store.org_by_id(found.org_id)
    assert org is not None
    if not org.hosted_here:
        raise Forbidden(f"{org.name!r} is hosted by a peer node: its keys change there")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("give a reason for the revocation")
    now = node.clock()
    # from before 1970 (before any key of this node existed): from the key's start
    at = now if since is None else max(0, min(since, now))
    event = AuditEvent(
        "key.revoke",
        actor_of(actor),
        detail={"org": org.name, "key": key_id_text, "reason": reason[:500], "since": at},
    )
    if not node.store.revoke_key(key_id_text, at, reason[:500], now, audit=[event]):
        raise Conflict(f"the key {key_id_text} is already revoked")
    publish_directory_record(node, org)
    return node.store.keys_by_id([key_id_text])[key_id_text]


def parse_time(text: str) -> int:
    """An RFC 3339 time (or a date) given on the command line, in microseconds."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{text!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1_000_000)


def rotate_keys_of(
    node: Node, actor: Principal, org_name: str, public: dict[str, Any] | None = None
) -> list[OrgKey]:
    """`rotate_keys` for the org the caller names (NotFound if there is none, or if the caller
    may not manage it: the same answer)."""
    return rotate_keys(node, actor, require_managed_org(node, actor, org_name), public)
