"""End-to-end encrypted STIX objects: seal an object into a `tabadol-sealed` item, open one.

The item (domain/sealed.py) keeps in clear only the routing metadata a node needs and carries
the whole signed object as ciphertext:

    "sealed_ref": "<the inner id>", "alg": "XChaCha20-Poly1305+X25519-SealedBox",
    "nonce": …, "ciphertext": …, "key_commitment": …,
    "recipients": {"x25519:<key id>": "<content key sealed to it>", …}

The associated data is the RFC 8785 form of the inner routing (`sealed_ref`'s type and id
with the wrapper's spec version, timestamps, author and markings) — for an object that has
its own timestamps exactly what the previous release's form (`x_tabadol_sealed`) bound,
which is still opened. The caller signs the item (crypto/object_signature.py): a node verifies who
sent it without reading it; the plaintext inside carries its own signature.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any

import orjson
from nacl.public import PrivateKey

from tabadol.crypto.canonical import canonical
from tabadol.crypto.sealing import Sealed, open_sealed, seal
from tabadol.crypto.signing import b64url, unb64url
from tabadol.domain.errors import SealingError, SignatureError
from tabadol.domain.extensions import NEW_SDO, SEALED_EXTENSION, SEALED_TYPE
from tabadol.domain.sealed import (
    ALGORITHM,
    LEGACY_PROPERTY,
    inner_id,
    inner_routing,
    is_wrapper,
    matches_routing,
    routing_of,
    wrapper_id,
)

SEALED_PROPERTY = LEGACY_PROPERTY  # the previous release's form, still opened


def _wrapper_routing(obj: Mapping[str, Any], stamp: str | None) -> dict[str, Any]:
    """The wrapper's clear metadata for `obj`: its routing under the wrapper's type and id,
    with the spec version and timestamps a new SDO needs where `obj` has none (`stamp`: the
    sealing time, for an object with no timestamp at all)."""
    routing = routing_of(obj)
    created = routing.get("created") or routing.get("modified") or stamp
    if created is None:
        raise SealingError("an object without timestamps is sealed with the sealing time")
    wrapper = {
        "type": SEALED_TYPE,
        "spec_version": routing.get("spec_version", "2.1"),
        "id": wrapper_id(str(obj.get("id", ""))),
        "created": created,
        "modified": routing.get("modified") or created,
    }
    wrapper |= {k: routing[k] for k in ("created_by_ref", "object_marking_refs") if k in routing}
    return wrapper


def seal_object(
    obj: Mapping[str, Any], recipients: Mapping[str, bytes], *, stamp: str | None = None
) -> dict[str, Any]:
    """The `tabadol-sealed` item holding `obj` (signed or not; the item is not signed yet),
    readable by the holders of `recipients`. `stamp` (RFC 3339) dates an item whose object
    has no timestamp of its own (a cyber-observable)."""
    wrapper = _wrapper_routing(obj, stamp)
    wrapper["sealed_ref"] = obj.get("id")
    try:
        plaintext = orjson.dumps(obj)
    except orjson.JSONEncodeError as exc:  # e.g. nested deeper than orjson writes
        raise SealingError(f"cannot be encoded for sealing: {exc}") from None
    sealed = seal(plaintext, recipients, canonical(inner_routing(wrapper)))
    wrapper |= {
        "alg": ALGORITHM,
        "nonce": b64url(sealed.nonce),
        "ciphertext": b64url(sealed.ciphertext),
        "key_commitment": b64url(sealed.commitment),
        "recipients": {kid: b64url(box) for kid, box in sealed.sealed_keys.items()},
        "extensions": {SEALED_EXTENSION: {"extension_type": NEW_SDO}},
    }
    return wrapper


def parse_sealed(obj: Mapping[str, Any]) -> Sealed:
    """The ciphertext parts of a sealed item (either form); SealingError if malformed."""
    raw = obj if is_wrapper(obj) else obj.get(LEGACY_PROPERTY)
    where = SEALED_TYPE if is_wrapper(obj) else LEGACY_PROPERTY
    try:
        if not isinstance(raw, Mapping) or raw.get("alg") != ALGORITHM:
            raise SealingError(f"{where} must name the algorithm {ALGORITHM}")
        recipients = raw.get("recipients")
        if not isinstance(recipients, dict) or not recipients:
            raise SealingError("a sealed object names its recipients")
        return Sealed(
            nonce=unb64url(_text(raw.get("nonce"), where)),
            ciphertext=unb64url(_text(raw.get("ciphertext"), where)),
            sealed_keys={str(kid): unb64url(_text(box, where)) for kid, box in recipients.items()},
            commitment=unb64url(_text(raw.get("key_commitment"), where)),
        )
    except (SignatureError, binascii.Error) as exc:
        raise SealingError(f"malformed {where}: {exc}") from None


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise SealingError(f"{where} holds base64url text")
    return value


def open_object(obj: Mapping[str, Any], private_key: PrivateKey) -> dict[str, Any]:
    """The plaintext object of a sealed item (either form), for a recipient; SealingError
    for anyone else, for tampering, or for content that is not the object the item names."""
    if is_wrapper(obj) and obj.get("id") != wrapper_id(inner_id(obj)):
        raise SealingError("the item's id is not the one derived from its sealed_ref")
    routing = inner_routing(obj)
    plaintext = open_sealed(parse_sealed(obj), private_key, canonical(routing))
    try:
        inner = orjson.loads(plaintext)
    except orjson.JSONDecodeError:  # the author sealed something that is not JSON
        raise SealingError("the sealed content is not a JSON object") from None
    if not isinstance(inner, dict) or not matches_routing(inner, routing):
        raise SealingError("the sealed content does not match its routing metadata")
    return inner
