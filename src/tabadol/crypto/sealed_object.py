"""End-to-end encrypted STIX objects: the sealed form the node stores and serves.

A sealed object keeps, in clear, only the routing metadata a node needs (type, id, spec
version, timestamps, author, TLP marking) and carries the whole signed object as
ciphertext in `x_tabadol_sealed`:

    {"alg": "XChaCha20-Poly1305+X25519-SealedBox", "nonce": …, "ciphertext": …,
     "key_commitment": …, "recipients": {"x25519:<key id>": "<content key sealed to it>", …}}

The routing metadata is the associated data, so ciphertext cannot be moved to another
object, version, author or marking. The sealed form is itself signed by its author (so a
node verifies who sent it without reading it); the plaintext inside carries its own.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any

import orjson
from nacl.public import PrivateKey

from tabadol.crypto.canonical import SIGNATURE_PROPERTY, canonical
from tabadol.crypto.sealing import Sealed, open_sealed, seal
from tabadol.crypto.signing import b64url, unb64url
from tabadol.domain.errors import SealingError, SignatureError
from tabadol.domain.extensions import SIGNATURE_EXTENSION

SEALED_PROPERTY = "x_tabadol_sealed"
ALGORITHM = "XChaCha20-Poly1305+X25519-SealedBox"
ROUTING = (
    "type",
    "spec_version",
    "id",
    "created",
    "modified",
    "created_by_ref",
    "object_marking_refs",
)


def routing_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {name: obj[name] for name in ROUTING if name in obj}


def seal_object(obj: Mapping[str, Any], recipients: Mapping[str, bytes]) -> dict[str, Any]:
    """The sealed form of `obj` (signed or not), readable by the holders of `recipients`."""
    routing = routing_of(obj)
    try:
        plaintext = orjson.dumps(obj)
    except orjson.JSONEncodeError as exc:  # e.g. nested deeper than orjson writes
        raise SealingError(f"cannot be encoded for sealing: {exc}") from None
    sealed = seal(plaintext, recipients, canonical(routing))
    routing[SEALED_PROPERTY] = {
        "alg": ALGORITHM,
        "nonce": b64url(sealed.nonce),
        "ciphertext": b64url(sealed.ciphertext),
        "key_commitment": b64url(sealed.commitment),
        "recipients": {kid: b64url(box) for kid, box in sealed.sealed_keys.items()},
    }
    return routing


def parse_sealed(obj: Mapping[str, Any]) -> Sealed:
    """The ciphertext parts of a sealed object; SealingError if they are malformed."""
    raw = obj.get(SEALED_PROPERTY)
    try:
        if not isinstance(raw, dict) or raw.get("alg") != ALGORITHM:
            raise SealingError(f"{SEALED_PROPERTY} must name the algorithm {ALGORITHM}")
        recipients = raw.get("recipients")
        if not isinstance(recipients, dict) or not recipients:
            raise SealingError("a sealed object names its recipients")
        return Sealed(
            nonce=unb64url(_text(raw.get("nonce"))),
            ciphertext=unb64url(_text(raw.get("ciphertext"))),
            sealed_keys={str(kid): unb64url(_text(box)) for kid, box in recipients.items()},
            commitment=unb64url(_text(raw.get("key_commitment"))),
        )
    except (SignatureError, binascii.Error) as exc:
        raise SealingError(f"malformed {SEALED_PROPERTY}: {exc}") from None


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise SealingError(f"{SEALED_PROPERTY} holds base64url text")
    return value


def extra_properties(obj: Mapping[str, Any]) -> set[str]:
    """Properties a sealed object may not carry in clear (they would leak content). Its
    signature is read in either form: `x_tabadol_signature` (what tabadol writes on sealed
    forms) or an `extensions` holding the signature extension alone."""
    extra = set(obj) - {*ROUTING, SEALED_PROPERTY, SIGNATURE_PROPERTY}
    extensions = obj.get("extensions")
    if isinstance(extensions, dict) and extensions and set(extensions) <= {SIGNATURE_EXTENSION}:
        extra.discard("extensions")
    return extra


def open_object(obj: Mapping[str, Any], private_key: PrivateKey) -> dict[str, Any]:
    """The plaintext object, for a recipient; SealingError for anyone else or tampering."""
    routing = routing_of(obj)
    plaintext = open_sealed(parse_sealed(obj), private_key, canonical(routing))
    try:
        inner = orjson.loads(plaintext)
    except orjson.JSONDecodeError:  # the author sealed something that is not JSON
        raise SealingError("the sealed content is not a JSON object") from None
    if not isinstance(inner, dict) or routing_of(inner) != routing:
        raise SealingError("the sealed content does not match its routing metadata")
    return inner
