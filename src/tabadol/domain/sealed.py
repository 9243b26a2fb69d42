"""The shape of an end-to-end encrypted ("sealed") item, as the node sees it without a key.

Since issue 13 a sealed item is a STIX 2.1 object of its own type, defined by tabadol's
`new-sdo` extension (domain/extensions.py), so a generic STIX client parses it and skips it:

    {"type": "tabadol-sealed", "spec_version": "2.1", "id": "tabadol-sealed--<uuid>",
     "created", "modified", "created_by_ref", "object_marking_refs",
     "sealed_ref": "report--<uuid>", "alg", "nonce", "ciphertext", "key_commitment",
     "recipients": {"x25519:<key id>": "<content key sealed to it>", …},
     "extensions": {<sealed extension>: {"extension_type": "new-sdo"}, <signature>: {…}}}

`sealed_ref` is the id of the object inside, and the item's own uuid is derived from it (a
hash in a tabadol namespace, `wrapper_id`): every version of one object is one item, and two
objects whose ids share a uuid (STIX derives the uuid of an observable from its value alone,
and tabadol derives an indicator and its relationship from one name) are two items. The node
stores and serves the item under its own id (what `/objects/{id}/`, `match[id]`, versions,
deletes, the feed and sync see); a recipient that opens it finds the inner id. The *inner
routing* — `sealed_ref`'s type and id with the item's spec version, timestamps, author and
markings — is the ciphertext's associated data, so ciphertext cannot move to another object,
version, author or marking.

The previous release's form is still read (stored objects, peers on that release): the inner
object's own type and id with the ciphertext in the custom property `x_tabadol_sealed`; its
routing metadata is the associated data, which is the same inner routing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

from tabadol.domain.extensions import (
    NODE_ATTESTED,
    SEALED_EXTENSION,
    SEALED_TYPE,
    SIGNATURE_EXTENSION,
)

LEGACY_PROPERTY = "x_tabadol_sealed"  # the previous release's sealed form: read, never written
LEGACY_SIGNATURE = "x_tabadol_signature"  # how that form was signed
ALGORITHM = "XChaCha20-Poly1305+X25519-SealedBox"
# What the node needs in clear to store and route an item (and the associated data).
ROUTING = (
    "type",
    "spec_version",
    "id",
    "created",
    "modified",
    "created_by_ref",
    "object_marking_refs",
)
# What a wrapper carries besides its routing: the id of what is inside, the ciphertext's parts.
CONTENT = ("sealed_ref", "alg", "nonce", "ciphertext", "key_commitment", "recipients")
_NAMESPACE = uuid.UUID("611a7ecf-c1d0-40a1-8b9a-c375c41ebe0e")  # of sealed items' uuids
# The extensions a sealed item may carry in clear: its own type's, the author's signature,
# and what the node attests of every stored object (provenance, audience).
CLEAR_EXTENSIONS = frozenset({SEALED_EXTENSION, SIGNATURE_EXTENSION}) | NODE_ATTESTED
# Properties an inner object may lack that its wrapper has: a new SDO needs both timestamps
# and a spec version, which a cyber-observable (or a marking-definition's `modified`) may not.
STAMPED = frozenset({"spec_version", "created", "modified"})


def is_wrapper(obj: Mapping[str, Any]) -> bool:
    """Whether `obj` is a sealed item in this release's form (`tabadol-sealed`)."""
    return obj.get("type") == SEALED_TYPE


def is_legacy(obj: Mapping[str, Any]) -> bool:
    """Whether `obj` is a sealed item in the previous release's form (`x_tabadol_sealed`)."""
    return LEGACY_PROPERTY in obj and not is_wrapper(obj)


def is_sealed(obj: Mapping[str, Any]) -> bool:
    """Whether `obj` is a sealed item, in either form."""
    return is_wrapper(obj) or LEGACY_PROPERTY in obj


def wrapper_id(inner_id: str) -> str:
    """The id the sealed item holding `inner_id` is stored and served under: the first 16
    bytes of SHA-256(namespace || inner id) as a version-4 UUID. Derived, so every version
    and every node agree; written as version 4 because STIX 2.1 asks an SDO's id for one
    (stix2-validator's strict mode refuses a UUIDv5 there)."""
    digest = hashlib.sha256(_NAMESPACE.bytes + inner_id.encode()).digest()
    return f"{SEALED_TYPE}--{uuid.UUID(bytes=digest[:16], version=4)}"


def lookup_ids(stix_id: str) -> frozenset[str]:
    """The ids a lookup of `stix_id` (TAXII `objects/{id}/`, `match[id]`, a delete) matches:
    the id itself and, for any object but a sealed item, the sealed item that would hold it
    (whose `sealed_ref`, in clear, names that id anyway): a publisher deletes, and a recipient
    reads, a sealed object by the id it was posted with."""
    if stix_id.startswith(f"{SEALED_TYPE}--"):
        return frozenset({stix_id})
    return frozenset({stix_id, wrapper_id(stix_id)})


def inner_id(obj: Mapping[str, Any]) -> str:
    """The id of the object a sealed item holds (either form; its own id if not sealed)."""
    return str(obj.get("sealed_ref" if is_wrapper(obj) else "id", ""))


def routing_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The routing metadata an object carries (those of ROUTING it has)."""
    return {name: obj[name] for name in ROUTING if name in obj}


def inner_routing(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The routing of the object a sealed item holds, read from its clear metadata: the
    ciphertext's associated data (for either form)."""
    routing = routing_of(obj)
    if is_wrapper(obj):
        routing["id"] = inner_id(obj)
        routing["type"] = routing["id"].partition("--")[0]
    return routing


def matches_routing(inner: Mapping[str, Any], named: Mapping[str, Any]) -> bool:
    """Whether the opened object is the one its wrapper names: every routing property it has
    equals the wrapper's, and it lacks only what a wrapper stamps (STAMPED)."""
    own, absent = routing_of(inner), object()
    if any(named.get(name, absent) != value for name, value in own.items()):
        return False
    return set(named) - set(own) <= STAMPED


def clear_extras(obj: Mapping[str, Any]) -> set[str]:
    """What a sealed item carries in clear beyond its routing metadata, ciphertext and
    signature: refused (it could leak content). For this release's form, also the entries of
    `extensions` other than CLEAR_EXTENSIONS; the previous form carried no extension but,
    once the signature moved into one, that one."""
    if is_wrapper(obj):
        allowed = {*ROUTING, *CONTENT, "extensions"}
        clear_extensions = CLEAR_EXTENSIONS
    else:
        allowed = {*ROUTING, LEGACY_PROPERTY, LEGACY_SIGNATURE, "extensions"}
        clear_extensions = frozenset({SIGNATURE_EXTENSION})
    extras = set(obj) - allowed
    extensions = obj.get("extensions")
    if "extensions" in obj:
        if not isinstance(extensions, dict):
            extras.add("extensions")
        else:
            extras |= {f"extensions[{name}]" for name in set(extensions) - clear_extensions}
    return extras
