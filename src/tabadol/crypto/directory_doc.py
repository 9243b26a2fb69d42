"""A node's signed directory: the orgs it hosts with their keys, and the groups they own.

Peers fetch it to agree on who is who. It is a JSON document signed like an object (RFC 8785
canonical form without the signature property, Ed25519 by the node key), so anyone holding
the node key can check it offline, and a relaying node cannot change it.
"""

from __future__ import annotations

from typing import Any

from nacl.signing import SigningKey

from tabadol.crypto.canonical import SIGNATURE_PROPERTY, signing_payload
from tabadol.crypto.object_signature import read_signature, signature_property
from tabadol.crypto.signing import key_id, sign, verify
from tabadol.domain.errors import SignatureError

DOCUMENT_TYPE = "tabadol-directory"
GROUPS_TYPE = "tabadol-groups"  # the groups a node shares with one peer (not relayed)


def sign_document(document: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """A copy of `document` with the node's signature."""
    signed = {k: v for k, v in document.items() if k != SIGNATURE_PROPERTY}
    value = sign(key, signing_payload(signed))
    signed[SIGNATURE_PROPERTY] = signature_property(key_id(bytes(key.verify_key)), value)
    return signed


def verify_document(document: dict[str, Any], public_key: bytes, kind: str = DOCUMENT_TYPE) -> None:
    """Raise SignatureError unless `document` is a `kind` document signed by `public_key`."""
    if document.get("type") != kind:
        raise SignatureError(f"not a {kind} document")
    signature = read_signature(document)
    if signature is None:
        raise SignatureError("the directory is not signed")
    if signature.key_id != key_id(public_key):
        raise SignatureError("the directory is signed by another key than the peer's node key")
    verify(public_key, signing_payload(document), signature.value)
