"""Org keys: generation (node custody), registration (client custody), rotation,
revocation, the private keys the node holds, and the published key directory."""

from __future__ import annotations

import datetime as dt
from typing import Any

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from tabadol.crypto.sealing import InvalidEncryptionKey, check_encryption_key, x25519_key_id
from tabadol.crypto.signing import InvalidPublicKey, b64url, check_public_key, key_id, unb64url
from tabadol.crypto.wrapping import UnwrapError, load_or_create_secret, unwrap, wrap
from tabadol.domain.audience import AudienceKind
from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import Forbidden, InvalidInput, KeysUnavailable, NotFound
from tabadol.domain.keys import Custody, KeyPurpose, NewKey, OrgKey
from tabadol.domain.model import Collection, Org, Principal, PrincipalKind
from tabadol.domain.policy import may_manage_org
from tabadol.domain.timestamps import format_us
from tabadol.services.node import Node


def _secret(node: Node) -> bytes:
    """The key-wrapping secret; made on first use only while no key is wrapped under it (a
    lost secret is never silently replaced: keys made later would not match the backup)."""
    path = node.key_secret_path
    if not path.exists() and any(k.held_by_node for k in node.store.org_keys()):
        raise KeysUnavailable(
            f"the key secret {path} is missing while the node holds keys wrapped under it:"
            " restore it (setting key_secret_file)"
        )
    try:
        return load_or_create_secret(path)
    except UnwrapError as exc:
        raise KeysUnavailable(str(exc)) from None


def generate_node_held_keys(node: Node) -> list[NewKey]:
    """A fresh signing and encryption key pair, the private halves wrapped (only under the
    secret that opens the keys already held: a wrong secret would strand the new keys)."""
    secret = _secret(node)
    held = next((k for k in node.store.org_keys() if k.held_by_node), None)
    if held is not None:
        _private(node, held)  # KeysUnavailable if this secret does not open it
    signing = SigningKey.generate()
    encryption = PrivateKey.generate()
    sign_id = key_id(bytes(signing.verify_key))
    enc_id = x25519_key_id(bytes(encryption.public_key))
    return [
        NewKey(
            sign_id,
            KeyPurpose.SIGN,
            bytes(signing.verify_key),
            wrap(secret, sign_id, bytes(signing)),
        ),
        NewKey(
            enc_id,
            KeyPurpose.ENCRYPT,
            bytes(encryption.public_key),
            wrap(secret, enc_id, bytes(encryption)),
        ),
    ]


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


def _private(node: Node, key: OrgKey) -> bytes:
    """A node-held private key, unwrapped once per process and kept in memory only."""
    cached = node.unwrapped.get(key.key_id)
    if cached is not None:
        return cached
    wrapped = node.store.wrapped_private(key.key_id)
    if wrapped is None:
        raise Forbidden(f"the node does not hold the private key {key.key_id}")
    try:
        private = unwrap(_secret(node), key.key_id, wrapped)
    except UnwrapError:
        raise KeysUnavailable(
            f"the key secret {node.key_secret_path} does not open the org keys the node holds:"
            " restore the right secret (setting key_secret_file)"
        ) from None
    with node.unwrapped_lock:
        node.unwrapped[key.key_id] = private
    return private


def signing_key_of(node: Node, key: OrgKey) -> SigningKey:
    return SigningKey(_private(node, key))


def decryption_key_of(node: Node, key: OrgKey) -> PrivateKey:
    return PrivateKey(_private(node, key))


def audience_orgs(node: Node, collection: Collection) -> list[int]:
    """The orgs an item of this collection is sealed to: exactly its audience."""
    if collection.kind is AudienceKind.ORG:
        assert collection.ref is not None
        return [collection.ref]
    if collection.kind is AudienceKind.GROUP:
        assert collection.ref is not None
        group = node.store.group_by_id(collection.ref)
        return sorted(group.members) if group else []
    if collection.kind is AudienceKind.MEMBERS:
        return [org.id for org in node.store.list_orgs() if org.member]
    raise InvalidInput("public items are not encrypted: everyone may read them")


def current_key(node: Node, org: Org, purpose: KeyPurpose) -> OrgKey | None:
    return node.store.current_keys([org.id], purpose).get(org.id)


# --- rotation and revocation --------------------------------------------------------------
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
            raise InvalidInput(
                f"{org.name!r} keeps its keys client-side: give its new public keys"
                " (`tabadol key generate` prints them)"
            )
        keys = client_keys(public, node.node_key_id)
    else:
        if public is not None:
            raise InvalidInput(f"the node holds the keys of {org.name!r}; it generates them")
        keys = generate_node_held_keys(node)
    event = AuditEvent(
        "key.rotate", actor_of(actor), detail={"org": org.name, "keys": [k.key_id for k in keys]}
    )
    stored = node.store.register_keys(org.id, keys, node.clock(), audit=[event])
    publish_key_directory(node, org)
    return stored


def revoke_key(
    node: Node, actor: Principal, key_id_text: str, reason: str, since: int | None = None
) -> OrgKey:
    """Revoke a key from `since` (default now): versions made from then on that it signed
    are refused; what was sealed to it can no longer be sealed to it."""
    found = node.store.keys_by_id([key_id_text]).get(key_id_text)
    if found is None:
        raise NotFound(f"no key {key_id_text!r}")
    org = node.store.org_by_id(found.org_id)
    assert org is not None
    _require_manager(actor, org)
    if not org.hosted_here:
        raise Forbidden(f"{org.name!r} is hosted by a peer node: its keys change there")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("give a reason for the revocation")
    now = node.clock()
    at = now if since is None else min(since, now)
    if at < 0:
        raise InvalidInput("revocation times before 1970 are not supported")
    event = AuditEvent(
        "key.revoke",
        actor_of(actor),
        detail={"org": org.name, "key": key_id_text, "reason": reason[:500], "since": at},
    )
    if not node.store.revoke_key(key_id_text, at, reason[:500], now, audit=[event]):
        raise InvalidInput(f"the key {key_id_text} is already revoked")
    publish_key_directory(node, org)
    return node.store.keys_by_id([key_id_text])[key_id_text]


# --- the published directory ---------------------------------------------------------------
def key_record(key: OrgKey) -> dict[str, Any]:
    """A key as the node publishes it (native API and STIX identities)."""
    return {
        "key_id": key.key_id,
        "purpose": key.purpose.value,
        "public_key": b64url(key.public_key),
        "created": format_us(key.created),
        "valid_until": format_us(key.valid_until) if key.valid_until is not None else None,
        "revoked": format_us(key.revoked_at) if key.revoked_at is not None else None,
        "revocation_reason": key.revoked_reason,
    }


def key_directory(node: Node) -> dict[str, Any]:
    """Every org's public keys with their history, and the node key: what a verifier needs."""
    by_org: dict[int, list[OrgKey]] = {}
    for key in node.store.org_keys():
        by_org.setdefault(key.org_id, []).append(key)
    return {
        "node": {
            "node_id": node.node_id,
            "key_id": node.node_key_id,
            "public_key": b64url(bytes(node.node_key.verify_key)),
        },
        "organizations": [
            {
                "name": org.name,
                "identity_id": org.identity_id,
                "custody": org.custody.value,
                "keys": [key_record(k) for k in by_org.get(org.id, [])],
            }
            for org in node.store.list_orgs()
        ],
    }


def publish_key_directory(node: Node, org: Org) -> None:
    """A new version of the org's identity carrying its keys, so peers and clients that
    read STIX learn of rotations and revocations (node-signed: the node is the directory)."""
    from tabadol.services.directory import publish_identity  # the use cases sit side by side

    if org.member:
        publish_identity(node, org)


def parse_time(text: str) -> int:
    """An RFC 3339 time (or a date) given on the command line, in microseconds."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{text!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1_000_000)
