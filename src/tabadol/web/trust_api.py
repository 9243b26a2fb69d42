"""The native API's trust endpoints (/api/v1): published keys, key rotation and revocation,
encryption recipients for client-side sealing, signed audit tree heads, and the JSON schemas
of tabadol's STIX extensions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tabadol.crypto.signing import b64url
from tabadol.usecases.reading.read import extension_schema
from tabadol.usecases.trust import audit, keys
from tabadol.usecases.trust.key_directory import key_directory_for, key_record, sealing_recipients
from tabadol.web.api import SCHEMA_TEXT, TEXT_PATTERN, Caller, _node

router = APIRouter(prefix="/api/v1", tags=["trust"])
RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"


class PublicKeysIn(BaseModel):
    sign: str = Field(description="Ed25519 public key, base64url (client custody).")
    encrypt: str = Field(description="X25519 public key, base64url (client custody).")


class RotateIn(BaseModel):
    public_keys: PublicKeysIn | None = Field(
        default=None, description="New public keys of a client-custody org; omit otherwise."
    )


class RevokeIn(BaseModel):
    reason: str = Field(
        min_length=1, max_length=500, pattern=TEXT_PATTERN, json_schema_extra=SCHEMA_TEXT
    )
    since: str | None = Field(
        default=None,
        pattern=RFC3339,
        json_schema_extra={"format": "date-time"},
        description="RFC 3339: revoked from this moment on (default now).",
    )


@router.get("/keys")
def key_directory(request: Request, principal: Caller) -> dict[str, Any]:
    """Every org's public keys with their history, and the node key: what `tabadol verify`
    and any offline verifier needs. Public keys are not secret; members and the operator
    read them (the member list itself is for members)."""
    return key_directory_for(_node(request), principal)


@router.post("/orgs/{org}/keys", status_code=201)
def rotate(request: Request, principal: Caller, org: str, body: RotateIn) -> list[dict[str, Any]]:
    """Rotate an org's keys (an admin of the org, or the operator)."""
    node = _node(request)
    public = body.public_keys.model_dump() if body.public_keys else None
    stored = keys.rotate_keys_of(node, principal, org, public)
    return [key_record(k) for k in stored]


@router.post("/keys/{key_id}/revoke")
def revoke(request: Request, principal: Caller, key_id: str, body: RevokeIn) -> dict[str, Any]:
    """Revoke a key: versions made from `since` on that it signed are refused."""
    node = _node(request)
    since = keys.parse_time(body.since.upper()) if body.since else None  # RFC 3339 allows t, z
    return key_record(keys.revoke_key(node, principal, key_id, body.reason, since))


@router.get("/collections/{collection_id}/recipients")
def recipients(request: Request, principal: Caller, collection_id: str) -> dict[str, Any]:
    """The current encryption keys of the audience of a collection one may publish into:
    what a client-custody org seals its restricted items to."""
    found = sealing_recipients(_node(request), principal, collection_id)
    return {
        "collection": found.collection.uuid,
        "default_tlp": found.default_tlp.label,
        "recipients": [
            {
                "org": r.org.name,
                "identity_id": r.org.identity_id,
                "key_id": r.key.key_id,
                "public_key": b64url(r.key.public_key),
            }
            for r in found.recipients
        ],
    }


@router.get("/audit/head")
def audit_head(request: Request, principal: Caller) -> dict[str, Any]:
    """The newest signed tree head of the audit log: members and peers keep these, so a
    rewritten history is caught (`tabadol audit verify --head FILE`)."""
    return audit.signed_head_for(_node(request), principal)


@router.get("/schemas/{name}.json")
def schema(name: str) -> dict[str, Any]:
    """The JSON schema an extension-definition's `schema` names: public, no token needed
    (the definitions are served to every reader, and a schema says nothing about content)."""
    return extension_schema(name)
