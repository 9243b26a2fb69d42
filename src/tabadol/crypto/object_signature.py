"""Member signatures on STIX objects: attach, read and verify `x_tabadol_signature`.

The signature is a custom property, not a STIX extension: an extension would need an
`extension-definition` object and an `extensions` entry that every consumer must carry
along, while a custom `x_` property passes through any STIX 2.1 tool unchanged. Its value:

    {"alg": "Ed25519", "key_id": "ed25519:<b64url>", "value": "<b64url of 64 bytes>"}

It covers the RFC 8785 canonical JSON of the object without this one property.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nacl.signing import SigningKey

from tabadol.crypto.canonical import SIGNATURE_PROPERTY, canonical, signing_payload
from tabadol.crypto.signing import b64url, sign, unb64url, verify
from tabadol.domain.errors import SignatureError

ALGORITHM = "Ed25519"


@dataclass(frozen=True, slots=True)
class ObjectSignature:
    key_id: str
    value: bytes


def signature_property(key_id: str, signature: bytes) -> dict[str, str]:
    """The value of `x_tabadol_signature` for a signature made with `key_id`."""
    return {"alg": ALGORITHM, "key_id": key_id, "value": b64url(signature)}


def attach_signature(obj: dict[str, Any], signing_key: SigningKey, key_id: str) -> None:
    """Sign `obj` in place (replacing any signature it carried)."""
    obj.pop(SIGNATURE_PROPERTY, None)
    obj[SIGNATURE_PROPERTY] = signature_property(key_id, sign(signing_key, canonical(obj)))


def read_signature(obj: Mapping[str, Any]) -> ObjectSignature | None:
    """The object's signature; None if it has none; SignatureError if it is malformed."""
    raw = obj.get(SIGNATURE_PROPERTY)
    if raw is None:
        return None
    if (
        not isinstance(raw, dict)
        or raw.get("alg") != ALGORITHM
        or not isinstance(raw.get("key_id"), str)
        or not isinstance(raw.get("value"), str)
    ):
        raise SignatureError(
            f"{SIGNATURE_PROPERTY} must be {{'alg': 'Ed25519', 'key_id': …, 'value': …}}"
        )
    return ObjectSignature(raw["key_id"], unb64url(raw["value"]))


def verify_object(obj: Mapping[str, Any], signature: ObjectSignature, public_key: bytes) -> None:
    """Return if `signature` is the key's signature of `obj`; else SignatureError."""
    verify(public_key, signing_payload(obj), signature.value)
