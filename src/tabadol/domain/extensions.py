"""tabadol's own properties as STIX 2.1 property extensions (spec section 7.3).

`extension-definition` objects name them, each with a JSON schema the node serves at
`/api/v1/schemas/<name>.json` (the definition's `schema`, relative to the node that served
it):

- the signature: `extensions[SIGNATURE_EXTENSION] = {"extension_type":
  "property-extension", "alg": "Ed25519", "key_id": …, "value": …}` on every signed object;
- the directory record: `extensions[DIRECTORY_EXTENSION] = {"extension_type":
  "property-extension", "custody": …, "keys": […]}` on an org's identity;
- provenance and audience: what the node attests of every object it stores (who published
  it, on which node, for which audience), outside the author's signature (`NODE_ATTESTED`);
- the sealed item: a new SDO of type `tabadol-sealed` carrying an end-to-end encrypted
  object (routing metadata in clear), which generic clients parse and skip.

Their author is one fixed tabadol identity, not the node's: every node serves the very same
objects (same ids, same bytes), so a definition relayed by a peer or posted back by a member
is the one a node already holds, and posting it unchanged is an idempotent success. The node
serves that identity too, so `created_by_ref` resolves. All are constants, never a member's.
"""

from __future__ import annotations

import copy
from typing import Any

from tabadol.domain.tlp import STANDARD_MARKINGS

TABADOL_IDENTITY = "identity--39b67a5c-6004-4cb3-9d5a-8c022c07910b"
SIGNATURE_EXTENSION = "extension-definition--7a3625c4-f04e-4fca-8d8b-5cb1243886e8"
DIRECTORY_EXTENSION = "extension-definition--d77e5234-c579-4586-a43c-f5ad0388c0fe"
PROVENANCE_EXTENSION = "extension-definition--e8bda143-d96b-4b9c-bebb-38cac60e96bf"
AUDIENCE_EXTENSION = "extension-definition--0645b778-993f-4ea8-aa46-caac6a95a0cc"
SEALED_EXTENSION = "extension-definition--1a7ae33f-0163-448c-9fc5-39ccbe03430b"
SEALED_TYPE = "tabadol-sealed"  # the STIX type of an end-to-end encrypted item (new SDO)
PROPERTY_EXTENSION = "property-extension"
NEW_SDO = "new-sdo"
# What the node attests on every object it serves, outside the author's signature: who
# published it, from which node, and for which audience (added as stored, never as posted).
NODE_ATTESTED = frozenset({PROVENANCE_EXTENSION, AUDIENCE_EXTENSION})
_CREATED = "2026-12-01T00:00:00.000Z"
SCHEMA_PATH = "/api/v1/schemas/"

_B64URL = "^[A-Za-z0-9_-]+$"
_TIME = {"type": ["string", "null"], "format": "date-time"}
_IDENTITY_REF = {"type": "string", "pattern": "^identity--[0-9a-f-]{36}$"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "tabadol-signature": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tabadol signature (STIX 2.1 property extension)",
        "description": (
            "Ed25519 signature of the RFC 8785 canonical JSON of the object without this"
            " extension's entry (and without `extensions` if no other entry is left)."
        ),
        "type": "object",
        "properties": {
            "extension_type": {"const": PROPERTY_EXTENSION},
            "alg": {"const": "Ed25519"},
            "key_id": {"type": "string", "pattern": "^ed25519:[A-Za-z0-9_-]+$"},
            "value": {"type": "string", "pattern": _B64URL},
        },
        "required": ["extension_type", "alg", "key_id", "value"],
        "additionalProperties": False,
    },
    "tabadol-directory-record": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tabadol directory record (STIX 2.1 property extension of an identity)",
        "description": (
            "Who holds the org's private keys, and every public key of the org with its"
            " history, as the node's key directory (/api/v1/keys) lists them."
        ),
        "type": "object",
        "properties": {
            "extension_type": {"const": PROPERTY_EXTENSION},
            "custody": {"enum": ["node", "client"]},
            "keys": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "key_id": {"type": "string"},
                        "purpose": {"enum": ["sign", "encrypt"]},
                        "public_key": {"type": "string", "pattern": _B64URL},
                        "created": {"type": "string", "format": "date-time"},
                        "valid_until": _TIME,
                        "revoked": _TIME,
                        "revocation_reason": {"type": ["string", "null"]},
                    },
                    "required": ["key_id", "purpose", "public_key", "created"],
                },
            },
        },
        "required": ["extension_type", "custody", "keys"],
        "additionalProperties": False,
    },
    "tabadol-provenance": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tabadol provenance (STIX 2.1 property extension)",
        "description": (
            "Who published the object into the exchange and on which node, as the node that"
            " serves it attests (outside the author's signature). `created_by_ref` stays as"
            " posted: the publisher may relay another producer's object."
        ),
        "type": "object",
        "properties": {
            "extension_type": {"const": PROPERTY_EXTENSION},
            "publisher_ref": _IDENTITY_REF,
            "node": {"type": "string", "format": "uuid"},
        },
        "required": ["extension_type", "publisher_ref", "node"],
        "additionalProperties": False,
    },
    "tabadol-audience": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tabadol audience (STIX 2.1 property extension)",
        "description": (
            "Who the item is for: the audience channel it was published to (and its TLP),"
            " as the node that serves it attests (outside the author's signature); an"
            " export carries it so that an import elsewhere keeps the audience. An org"
            " channel names its org (`org_ref`, `org`: its name), a group channel its group"
            " (`group`: its name, `group_id`: its uuid)."
        ),
        "type": "object",
        "properties": {
            "extension_type": {"const": PROPERTY_EXTENSION},
            "kind": {"enum": ["org", "group", "members", "public"]},
            "org_ref": _IDENTITY_REF,
            "org": {"type": "string", "minLength": 1},
            "group": {"type": "string", "minLength": 1},
            "group_id": {"type": "string", "format": "uuid"},
            "tlp": {"type": "string"},
        },
        "required": ["extension_type", "kind", "tlp"],
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": "org"}}},
                "then": {"required": ["org_ref", "org"]},
            },
            {
                "if": {"properties": {"kind": {"const": "group"}}},
                "then": {"required": ["group", "group_id"]},
            },
        ],
        "additionalProperties": False,
    },
    SEALED_TYPE: {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tabadol sealed item (STIX 2.1 new SDO)",
        "description": (
            "An end-to-end encrypted STIX object: in clear only its routing metadata; the"
            " whole signed object is the ciphertext, readable by the holders of the named"
            " X25519 keys. Generic clients parse it and skip it. `sealed_ref` is the id of"
            " the object inside; the item's uuid is the first 16 bytes of SHA-256(the bytes"
            " of the UUID 611a7ecf-c1d0-40a1-8b9a-c375c41ebe0e, then that id in UTF-8) as a"
            " version-4 UUID. The associated data of the ciphertext is"
            " the RFC 8785 form of the item's spec_version, created, modified, created_by_ref"
            " and object_marking_refs with `sealed_ref` as id and its type as type."
        ),
        "type": "object",
        "properties": {
            "type": {"const": SEALED_TYPE},
            "id": {"type": "string", "pattern": "^tabadol-sealed--[0-9a-f-]{36}$"},
            "sealed_ref": {"type": "string", "pattern": "^[a-z0-9-]+--[0-9a-f-]{36}$"},
            "alg": {"const": "XChaCha20-Poly1305+X25519-SealedBox"},
            "nonce": {"type": "string", "pattern": _B64URL},
            "ciphertext": {"type": "string", "pattern": _B64URL},
            "key_commitment": {"type": "string", "pattern": _B64URL},
            "recipients": {
                "type": "object",
                "additionalProperties": {"type": "string", "pattern": _B64URL},
                "minProperties": 1,
            },
        },
        "required": [
            "type",
            "id",
            "sealed_ref",
            "alg",
            "nonce",
            "ciphertext",
            "key_commitment",
            "recipients",
        ],
    },
}


def _definition(
    stix_id: str, name: str, description: str, kind: str = PROPERTY_EXTENSION
) -> dict[str, Any]:
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": stix_id,
        "created_by_ref": TABADOL_IDENTITY,
        "created": _CREATED,
        "modified": _CREATED,
        "name": name,
        "description": description,
        "schema": f"{SCHEMA_PATH}{name}.json",
        "version": "1.0.0",
        "extension_types": [kind],
    }


EXTENSION_DEFINITIONS: dict[str, dict[str, Any]] = {
    SIGNATURE_EXTENSION: _definition(
        SIGNATURE_EXTENSION,
        "tabadol-signature",
        "The Ed25519 signature of the member that published the object (or of the node,"
        " on an org's directory record).",
    ),
    DIRECTORY_EXTENSION: _definition(
        DIRECTORY_EXTENSION,
        "tabadol-directory-record",
        "An org's key custody and public keys with their history, on its identity.",
    ),
    PROVENANCE_EXTENSION: _definition(
        PROVENANCE_EXTENSION,
        "tabadol-provenance",
        "Which member published the object and on which node, as the serving node attests.",
    ),
    AUDIENCE_EXTENSION: _definition(
        AUDIENCE_EXTENSION,
        "tabadol-audience",
        "The audience channel (and TLP) an item was published to, as the serving node"
        " attests; kept through export and import.",
    ),
    SEALED_EXTENSION: _definition(
        SEALED_EXTENSION,
        SEALED_TYPE,
        "An end-to-end encrypted item: routing metadata in clear, the signed object inside.",
        NEW_SDO,
    ),
}

TABADOL_IDENTITY_OBJECT: dict[str, Any] = {
    "type": "identity",
    "spec_version": "2.1",
    "id": TABADOL_IDENTITY,
    "created_by_ref": TABADOL_IDENTITY,
    "created": _CREATED,
    "modified": _CREATED,
    "name": "tabadol",
    "description": "The tabadol project: author of tabadol's STIX extension definitions.",
    "identity_class": "system",
}

# Every object the node serves from constants, by id: the standard TLP markings, the
# extension definitions and their author. Readable in every collection; never stored.
NODE_OBJECTS: dict[str, dict[str, Any]] = {
    **STANDARD_MARKINGS,
    **EXTENSION_DEFINITIONS,
    TABADOL_IDENTITY: TABADOL_IDENTITY_OBJECT,
}


def node_object(stix_id: str) -> dict[str, Any] | None:
    """A fresh copy of the node-defined object with this id, or None."""
    obj = NODE_OBJECTS.get(stix_id)
    return copy.deepcopy(obj) if obj is not None else None
