"""Fast STIX 2.1 checks for the ingest path.

The `stix2` object model costs milliseconds per object, which would cap ingest far below the
target, so ingest checks the rules that matter for storage and access here (identifiers,
timestamps, spec_version, required properties of the known types, reference forms, property
names) and the test suite runs `stix2-validator` over what the node emits.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from tabadol.domain.errors import InvalidObject, TimestampError
from tabadol.domain.extensions import NEW_SDO, SEALED_EXTENSION, SEALED_TYPE
from tabadol.domain.sealed import CONTENT, LEGACY_PROPERTY, is_sealed, wrapper_id
from tabadol.domain.timestamps import parse_us
from tabadol.domain.tlp import TLP, strictest_granular_tlp, strictest_tlp

_TYPE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$", re.ASCII)
# Lower-case only (RFC 4122 section 3 writes UUIDs in lower case): identifiers are compared as
# strings everywhere (authorship, TLP markings), so an upper-case spelling of a known id must
# not pass as another id.
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_IDENTIFIER = re.compile(rf"^([a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9])--({_UUID})$", re.ASCII)
# The previous release's sealed form (domain/sealed.py), by the name callers knew it under.
SEALED_PROPERTY = LEGACY_PROPERTY
_PROPERTY_NAME = re.compile(r"^[a-z0-9_]{3,250}$", re.ASCII)

SCO_TYPES = frozenset(
    [
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    ]
)

# Properties a known type must have besides the common ones (STIX 2.1 section 4-6).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "attack-pattern": ("name",),
    "campaign": ("name",),
    "course-of-action": ("name",),
    "grouping": ("context", "object_refs"),
    "identity": ("name",),
    "incident": ("name",),
    "indicator": ("pattern", "pattern_type", "valid_from"),
    "infrastructure": ("name",),
    "intrusion-set": ("name",),
    "malware": ("is_family",),
    "malware-analysis": ("product",),
    "note": ("content", "object_refs"),
    "observed-data": ("first_observed", "last_observed", "number_observed"),
    "opinion": ("opinion", "object_refs"),
    "report": ("name", "published", "object_refs"),
    "threat-actor": ("name",),
    "tool": ("name",),
    "vulnerability": ("name",),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
    "marking-definition": (),
    "language-content": ("object_ref", "object_modified", "contents"),
    "extension-definition": ("name", "schema", "version", "extension_types"),
    SEALED_TYPE: CONTENT,  # an end-to-end encrypted item (domain/sealed.py)
}
_TIMESTAMP_PROPERTIES = (
    "valid_from",
    "valid_until",
    "published",
    "first_seen",
    "last_seen",
    "first_observed",
    "last_observed",
    "object_modified",
)
_NO_MODIFIED = frozenset({"marking-definition"})


@dataclass(slots=True)
class CheckedObject:
    """An object that passed the checks, with the columns the store indexes."""

    obj: dict[str, Any]
    type: str
    id: str
    spec_version: str
    version_us: int | None  # None: an object without timestamps; the node's date_added serves
    created_by_ref: str | None
    tlp: TLP | None  # the strictest TLP of `object_marking_refs` (None: the node defaults it)
    sealed: bool = False  # an end-to-end encrypted object: routing metadata in clear only
    # the strictest TLP of `granular_markings`: it bounds the whole object as well
    granular_tlp: TLP | None = None


def is_identifier(value: object, of_type: str | None = None) -> bool:
    """Whether `value` is a STIX identifier (`type--uuid`), optionally of one type."""
    if not isinstance(value, str):
        return False
    match = _IDENTIFIER.match(value)
    return match is not None and (of_type is None or match.group(1) == of_type)


def check_object(obj: object) -> CheckedObject:
    """Check one object; raise InvalidObject with a reason a person can act on."""
    if not isinstance(obj, dict):
        raise InvalidObject("a STIX object must be a JSON object")
    stix_type = obj.get("type")
    if (
        not isinstance(stix_type, str)
        or not 3 <= len(stix_type) <= 250
        or not _TYPE.match(stix_type)
    ):
        raise InvalidObject("'type' must be 3-250 lower-case ASCII letters, digits or hyphens")
    stix_id = obj.get("id")
    if not is_identifier(stix_id, stix_type):
        raise InvalidObject(f"'id' must be '{stix_type}--<uuid>' (a lower-case UUID)")
    assert isinstance(stix_id, str)
    is_sco = stix_type in SCO_TYPES
    spec_version = obj.get("spec_version", "2.1" if is_sco else None)
    if spec_version is None:
        raise InvalidObject("'spec_version' is required")
    if spec_version != "2.1":
        raise InvalidObject(f"'spec_version' must be '2.1', not {spec_version!r}")
    version_us = _check_timestamps(obj, stix_type, is_sco)
    sealed = is_sealed(obj)
    # the previous release's sealed form keeps the type's own properties in its ciphertext
    legacy_sealed = sealed and stix_type != SEALED_TYPE
    for name in () if legacy_sealed else _REQUIRED.get(stix_type, ()):
        if name not in obj:
            raise InvalidObject(f"a {stix_type} requires {name!r}")
    if stix_type == SEALED_TYPE:
        _check_sealed_item(obj)
    _check_properties(obj)
    created_by_ref = obj.get("created_by_ref")
    if created_by_ref is not None and not is_identifier(created_by_ref, "identity"):
        raise InvalidObject("'created_by_ref' must be an identity id")
    return CheckedObject(
        obj=obj,
        type=stix_type,
        id=stix_id,
        spec_version=spec_version,
        version_us=version_us,
        created_by_ref=created_by_ref,
        tlp=strictest_tlp(obj.get("object_marking_refs")),
        sealed=sealed,
        granular_tlp=strictest_granular_tlp(obj.get("granular_markings")),
    )


def _check_sealed_item(obj: dict[str, Any]) -> None:
    """A `tabadol-sealed` item names what it holds (`sealed_ref`, from which its own id is
    derived) and its own definition (STIX 2.1 section 7.3: a new SDO's `extensions` names it
    with `extension_type` "new-sdo")."""
    held = obj.get("sealed_ref")
    if not is_identifier(held) or is_identifier(held, SEALED_TYPE):
        raise InvalidObject(
            f"'sealed_ref' must be the id of the object inside (not of a {SEALED_TYPE})"
        )
    assert isinstance(held, str)
    if obj["id"] != wrapper_id(held):
        raise InvalidObject(
            f"the id of a {SEALED_TYPE} is derived from its sealed_ref: {wrapper_id(held)}"
        )
    extensions = obj.get("extensions")
    if not isinstance(extensions, dict) or extensions.get(SEALED_EXTENSION) != {
        "extension_type": NEW_SDO
    }:
        raise InvalidObject(
            f"a {SEALED_TYPE} names its definition: extensions[{SEALED_EXTENSION!r}]"
            f" = {{'extension_type': {NEW_SDO!r}}}"
        )


def _timestamp(obj: dict[str, Any], name: str) -> int:
    try:
        return parse_us(obj[name])
    except TimestampError as exc:
        raise InvalidObject(f"{name!r}: {exc}") from None


def _check_timestamps(obj: dict[str, Any], stix_type: str, is_sco: bool) -> int | None:
    if not is_sco:
        for name in ("created",) if stix_type in _NO_MODIFIED else ("created", "modified"):
            if name not in obj:
                raise InvalidObject(f"{name!r} is required")
    created = _timestamp(obj, "created") if "created" in obj else None
    modified = _timestamp(obj, "modified") if "modified" in obj else None
    if created is not None and modified is not None and modified < created:
        raise InvalidObject("'modified' is earlier than 'created'")
    for name in _TIMESTAMP_PROPERTIES:
        if name in obj:
            _timestamp(obj, name)
    return modified if modified is not None else created


# How each property name is checked, remembered per name: ingest sees few distinct names.
_PLAIN, _REF, _REFS, _UNCHECKED = range(4)
_NAME_KINDS: dict[str, int] = {"id": _UNCHECKED, "type": _UNCHECKED}
_NAME_KINDS_MAX = 50_000


def _name_kind(name: str) -> int:
    kind = _NAME_KINDS.get(name)
    if kind is not None:
        return kind
    if not _PROPERTY_NAME.match(name):
        raise InvalidObject(
            f"property name {name[:60]!r} must be 3-250 characters of a-z, 0-9 and '_'"
        )
    if name.startswith("x_"):
        kind = _UNCHECKED  # custom properties follow their own rules (ATT&CK leaves _ref empty)
    elif name.endswith("_ref"):
        kind = _REF
    elif name.endswith("_refs"):
        kind = _REFS
    else:
        kind = _PLAIN
    if len(_NAME_KINDS) < _NAME_KINDS_MAX:
        _NAME_KINDS[name] = kind
    return kind


_GOOD_REFS: set[str] = set()  # references seen valid: created_by_ref, markings and targets repeat
_GOOD_REFS_MAX = 200_000


def _is_ref(value: object) -> bool:
    if not isinstance(value, str):
        return False
    if value in _GOOD_REFS:
        return True
    if not is_identifier(value):
        return False
    if len(_GOOD_REFS) < _GOOD_REFS_MAX:
        _GOOD_REFS.add(value)
    return True


def _check_properties(obj: dict[str, Any]) -> None:
    for name, value in obj.items():
        kind = _name_kind(name)
        if kind == _REF and not _is_ref(value):
            raise InvalidObject(f"{name!r} must be a STIX identifier")
        if kind == _REFS and not (isinstance(value, list) and all(map(_is_ref, value))):
            raise InvalidObject(f"{name!r} must be a list of STIX identifiers")
    markings = obj.get("object_marking_refs")
    if markings is not None and not all(
        is_identifier(ref, "marking-definition") for ref in markings
    ):
        raise InvalidObject("'object_marking_refs' must list marking-definition ids")
    if "granular_markings" in obj:
        _check_granular_markings(obj["granular_markings"])
    if "revoked" in obj and not isinstance(obj["revoked"], bool):
        raise InvalidObject("'revoked' must be true or false")
    confidence = obj.get("confidence")
    if confidence is not None and (
        not isinstance(confidence, int)
        or isinstance(confidence, bool)
        or not 0 <= confidence <= 100
    ):
        raise InvalidObject("'confidence' must be an integer from 0 to 100")


def _check_granular_markings(granular: object) -> None:
    """Each granular marking names a marking-definition (or a language) and its selectors
    (STIX 2.1 section 7.2.3): a malformed one could hide a TLP from the audience bound."""
    if not isinstance(granular, list) or not granular:
        raise InvalidObject("'granular_markings' must be a non-empty list")
    for marking in granular:
        if not isinstance(marking, dict):
            raise InvalidObject("each granular marking must be a JSON object")
        selectors = marking.get("selectors")
        if not isinstance(selectors, list) or not selectors:
            raise InvalidObject("a granular marking requires a non-empty list of 'selectors'")
        if not all(isinstance(selector, str) and selector for selector in selectors):
            raise InvalidObject("granular marking 'selectors' must be non-empty strings")
        ref, lang = marking.get("marking_ref"), marking.get("lang")
        if (ref is None) == (lang is None):
            raise InvalidObject("a granular marking has either 'marking_ref' or 'lang'")
        if ref is not None and not is_identifier(ref, "marking-definition"):
            raise InvalidObject("a granular 'marking_ref' must be a marking-definition id")
        if lang is not None and not isinstance(lang, str):
            raise InvalidObject("a granular marking's 'lang' must be a string")


def new_bundle_id() -> str:
    """A fresh STIX bundle id (a bundle is a wrapper: its id is never stored)."""
    return f"bundle--{uuid.uuid4()}"
