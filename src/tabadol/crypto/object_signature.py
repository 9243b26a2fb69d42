"""Member signatures on STIX objects: attach, read and verify them.

The node writes the signature as a STIX 2.1 property extension (domain/extensions.py), so
the objects it emits parse with the reference STIX library's defaults:

    "extensions": {"extension-definition--7a3625c4-…": {"extension_type": "property-extension",
                   "alg": "Ed25519", "key_id": "ed25519:<b64url>", "value": "<b64url, 64 bytes>"}}

It reads that form and the older custom property `x_tabadol_signature` (same value without
`extension_type`): objects stored before, peers running older code and members' clients that
still write it keep verifying, since a signature cannot be moved without its author
re-signing. Sealed items (crypto/sealed_object.py) are signed in the extension form too; the
previous release's sealed form carried the older property. Either form covers
the RFC 8785 canonical JSON of the object without its signature (canonical.signing_payload).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nacl.signing import SigningKey

from tabadol.crypto.canonical import SIGNATURE_PROPERTY, canonical, signing_payload, unsigned
from tabadol.crypto.signing import b64url, sign, unb64url, verify
from tabadol.domain.errors import SignatureError
from tabadol.domain.extensions import PROPERTY_EXTENSION, SIGNATURE_EXTENSION

ALGORITHM = "Ed25519"


@dataclass(frozen=True, slots=True)
class ObjectSignature:
    key_id: str
    value: bytes


def signature_property(key_id: str, signature: bytes) -> dict[str, str]:
    """The value of the older `x_tabadol_signature` (directory documents; the previous
    release's objects and sealed forms)."""
    return {"alg": ALGORITHM, "key_id": key_id, "value": b64url(signature)}


def set_signature(
    obj: dict[str, Any], key_id: str, signature: bytes, *, legacy: bool = False
) -> None:
    """Put a signature made over `signing_payload(obj)` on `obj` in place (the extension
    form, or `x_tabadol_signature` when `legacy`: what the previous release wrote, which the
    node no longer writes on objects), replacing any it carried. A new
    `extensions` dict is made: the caller's nested one is never changed."""
    bare = unsigned(obj)
    obj.clear()
    obj.update(bare)
    value = signature_property(key_id, signature)
    if legacy:
        obj[SIGNATURE_PROPERTY] = value
        return
    extensions = obj.get("extensions")
    extensions = dict(extensions) if isinstance(extensions, dict) else {}
    extensions[SIGNATURE_EXTENSION] = {"extension_type": PROPERTY_EXTENSION, **value}
    obj["extensions"] = extensions


def attach_signature(
    obj: dict[str, Any], signing_key: SigningKey, key_id: str, *, legacy: bool = False
) -> None:
    """Sign `obj` in place (replacing any signature it carried)."""
    set_signature(obj, key_id, sign(signing_key, canonical(unsigned(obj))), legacy=legacy)


def _raw_signature(obj: Mapping[str, Any]) -> tuple[str, Any]:
    """(where, value) of the object's signature; (…, None) if it has none."""
    extensions = obj.get("extensions")
    new = extensions.get(SIGNATURE_EXTENSION) if isinstance(extensions, dict) else None
    old = obj.get(SIGNATURE_PROPERTY)
    if new is not None and old is not None:
        raise SignatureError(f"two signatures: {SIGNATURE_PROPERTY} and the extension")
    if new is not None:
        if not isinstance(new, dict) or new.get("extension_type") != PROPERTY_EXTENSION:
            raise SignatureError(
                f"the signature extension must be a {PROPERTY_EXTENSION}"
                " {'extension_type', 'alg': 'Ed25519', 'key_id', 'value'}"
            )
        if set(new) != {"extension_type", "alg", "key_id", "value"}:
            raise SignatureError("the signature extension holds extension_type, alg, key_id, value")
        return "the signature extension", new
    return SIGNATURE_PROPERTY, old


def read_signature(obj: Mapping[str, Any]) -> ObjectSignature | None:
    """The object's signature in either form; None if it has none; SignatureError if it is
    malformed or the object carries both forms."""
    where, raw = _raw_signature(obj)
    if raw is None:
        return None
    if (
        not isinstance(raw, dict)
        or raw.get("alg") != ALGORITHM
        or not isinstance(raw.get("key_id"), str)
        or not isinstance(raw.get("value"), str)
    ):
        raise SignatureError(f"{where} must be {{'alg': 'Ed25519', 'key_id': …, 'value': …}}")
    return ObjectSignature(raw["key_id"], unb64url(raw["value"]))


def verify_object(obj: Mapping[str, Any], signature: ObjectSignature, public_key: bytes) -> None:
    """Return if `signature` is the key's signature of `obj`; else SignatureError."""
    verify(public_key, signing_payload(obj), signature.value)
