"""The published key directory: every org's public keys with their history, and the node
key — what a verifier needs, offline or on a peer; and the current keys of a collection's
audience, which a client that keeps its own keys seals restricted items to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tabadol.crypto.signing import b64url, key_id
from tabadol.domain.errors import Forbidden, InvalidInput
from tabadol.domain.keys import KeyPurpose, OrgKey
from tabadol.domain.model import Collection, Org, Principal
from tabadol.domain.timestamps import format_us
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node
from tabadol.usecases.membership.lookup import require_org
from tabadol.usecases.membership.principals import member_or_operator
from tabadol.usecases.publishing.recipients import audience_orgs
from tabadol.usecases.reading.read import get_collection


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


def key_directory(node: Node, org_name: str | None = None) -> dict[str, Any]:
    """Every org's public keys with their history (only `org_name`'s, if given), the node
    key, and the node keys of its peers (each signs the directory records of its own orgs,
    which this node serves as they came): what a verifier needs."""
    only = require_org(node, org_name).id if org_name else None
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
            if only is None or org.id == only
        ],
        "peers": [
            {
                "node_id": peer.node_id,
                "key_id": key_id(peer.public_key),
                "public_key": b64url(peer.public_key),
            }
            for peer in node.store.peers()
        ],
    }


def key_directory_for(node: Node, actor: Principal) -> dict[str, Any]:
    """The key directory as the native API serves it: public keys are not secret, but the
    member list in it is for members (and the operator)."""
    if not member_or_operator(actor):
        raise Forbidden("the key directory is for members")
    return key_directory(node)


def list_keys(node: Node, org_name: str | None = None) -> list[OrgKey]:
    """Every key with its history (only `org_name`'s, if given), for the operator."""
    org_id = require_org(node, org_name).id if org_name else None
    return node.store.org_keys(org_id)


@dataclass(frozen=True, slots=True)
class Recipient:
    org: Org
    key: OrgKey  # its current encryption key


@dataclass(frozen=True, slots=True)
class SealingRecipients:
    """Whom a client-custody org seals a restricted item of a collection to."""

    collection: Collection
    default_tlp: TLP
    recipients: list[Recipient]


def sealing_recipients(node: Node, actor: Principal, collection_uuid: str) -> SealingRecipients:
    """The current encryption keys of the audience of a collection the caller may publish
    into (none for a public one: nothing is sealed there)."""
    view = get_collection(node, actor, collection_uuid)
    if not view.can_write:
        raise Forbidden("you may not publish into this collection")
    try:
        org_ids = audience_orgs(node, view.collection)
    except InvalidInput:
        org_ids = []  # public: nothing is sealed there
    current = node.store.current_keys(org_ids, KeyPurpose.ENCRYPT)
    orgs = node.store.orgs_by_ids(current)
    return SealingRecipients(
        view.collection,
        node.channel_defaults.for_kind(view.collection.kind),
        [Recipient(orgs[org_id], key) for org_id, key in sorted(current.items())],
    )
