"""The published key directory: every org's public keys with their history, and the node
key — what a verifier needs, offline or on a peer."""

from __future__ import annotations

from typing import Any

from tabadol.crypto.signing import b64url
from tabadol.domain.keys import OrgKey
from tabadol.domain.timestamps import format_us
from tabadol.node.node import Node


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
