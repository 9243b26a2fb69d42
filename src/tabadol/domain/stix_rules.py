"""Semantic rules of the STIX 2.1 types, as data: what each type's values must be.

`stix.check_object` holds the fast shape checks every object needs for storage and access
(ids, timestamps, reference forms, the required properties); this module adds each type's
value rules from the specification, so that what the node stores and serves is STIX a
consumer can use: a report's `object_refs` is not empty, a `stix` pattern parses (with
`stix2-patterns`, the grammar stix2-validator uses), a reference names an id of the type the
spec says, an end comes after its start, a closed vocabulary holds one of its values.

Each rule is a function of the object returning the broken rule or None; a type's rules are a
row of `RULES`. Calling `stix2`'s object model or stix2-validator per object would cost
milliseconds each (bench/README.md), far beyond the 10% of ingest this may cost.

What is left open, on purpose: custom types (`x-…`, e.g. ATT&CK's) and custom properties;
open vocabularies (`indicator_types`, `report_types`, `identity_class`, `pattern_type` …:
strings, any value); SCOs beyond their required properties and reference types
(`process`, `user-account`, `windows-registry-key`, `x509-certificate` have none required).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from stix2patterns.validator import run_validator  # type: ignore[import-untyped]

from tabadol.domain.errors import InvalidObject, TimestampError
from tabadol.domain.stix import SCO_TYPES
from tabadol.domain.timestamps import parse_us

Rule = Callable[[dict[str, Any]], str | None]

# RFC 5646 language tags, in their general form (language, then subtags).
_LANG = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$", re.ASCII)
_MAX_COUNT = 999_999_999
# Types a relationship may not relate: SROs and the meta objects (STIX 2.1 section 5.1).
_NOT_RELATABLE = frozenset(
    [
        "relationship",
        "sighting",
        "marking-definition",
        "language-content",
        "extension-definition",
        "bundle",
    ]
)


def _type_of(ref: str) -> str:
    return ref.partition("--")[0]


# --- rules, made by small factories ---------------------------------------------------------
def text(name: str) -> Rule:
    def rule(obj: dict[str, Any]) -> str | None:
        value = obj.get(name)
        return None if value is None or isinstance(value, str) else f"{name} must be a string"

    return rule


def non_empty(name: str) -> Rule:
    def rule(obj: dict[str, Any]) -> str | None:
        value = obj.get(name)
        if name in obj and (not isinstance(value, list | str | dict) or not value):
            return f"{name} must not be empty"
        return None

    return rule


def strings(name: str) -> Rule:
    """A list of strings: an open vocabulary keeps any value."""

    def rule(obj: dict[str, Any]) -> str | None:
        value = obj.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"{name} must be a list of strings"
        return None

    return rule


def one_of(name: str, values: Iterable[str]) -> Rule:
    """A closed vocabulary (an enumeration): only its values."""
    allowed = frozenset(values)
    listed = ", ".join(sorted(allowed))

    def rule(obj: dict[str, Any]) -> str | None:
        value = obj.get(name)
        if value is None or (isinstance(value, str) and value in allowed):
            return None
        return f"{name} must be one of {listed}"

    return rule


def boolean(name: str) -> Rule:
    def rule(obj: dict[str, Any]) -> str | None:
        value = obj.get(name)
        return None if value is None or isinstance(value, bool) else f"{name} must be a boolean"

    return rule


def integer(name: str, low: int, high: int) -> Rule:
    def rule(obj: dict[str, Any]) -> str | None:
        value = obj.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"{name} must be an integer from {low} to {high}"
        return None

    return rule


def number(name: str, low: float, high: float) -> Rule:
    def rule(obj: dict[str, Any]) -> str | None:
        value = obj.get(name)
        if value is None:
            return None
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric or not low <= value <= high:
            return f"{name} must be a number from {low:g} to {high:g}"
        return None

    return rule


def refs_to(name: str, *types: str) -> Rule:
    """A `_ref` or `_refs` property names ids of these types only (its form is checked)."""
    listed = " or ".join(types)

    def rule(obj: dict[str, Any]) -> str | None:
        value = obj.get(name)
        if value is None:
            return None
        refs = value if isinstance(value, list) else [value]
        if all(_type_of(ref) in types for ref in refs):
            return None
        return f"{name} must name {listed} ids"

    return rule


def relatable(name: str, *, sdo_only: bool = False) -> Rule:
    """A relationship's ends and a sighting's subject are SDOs (or SCOs), never an SRO or a
    meta object; `sdo_only`: a sighting is of an SDO."""

    def rule(obj: dict[str, Any]) -> str | None:
        ref = obj.get(name)
        if not isinstance(ref, str):
            return None
        kind = _type_of(ref)
        if kind in _NOT_RELATABLE or (sdo_only and kind in _SCO):
            return f"{name} must name {'an SDO' if sdo_only else 'an SDO or SCO'}, not a {kind}"
        return None

    return rule


def any_of(*names: str) -> Rule:
    def rule(obj: dict[str, Any]) -> str | None:
        return None if any(n in obj for n in names) else f"one of {', '.join(names)} is required"

    return rule


def requires(name: str, other: str) -> Rule:
    def rule(obj: dict[str, Any]) -> str | None:
        return f"{name} requires {other}" if name in obj and other not in obj else None

    return rule


def later(first: str, last: str, *, strictly: bool = False) -> Rule:
    """`last` comes after `first` (or at the same time, unless `strictly`)."""

    def rule(obj: dict[str, Any]) -> str | None:
        if first not in obj or last not in obj:
            return None
        try:
            start, end = parse_us(obj[first]), parse_us(obj[last])
        except TimestampError as exc:
            return f"{first if 'first' in str(exc) else last} is not a timestamp ({exc})"
        if end > start or (end == start and not strictly):
            return None
        return f"{last} must be later than {first}" + ("" if strictly else " or equal to it")

    return rule


# The one-comparison form most indicators take (and `derive` makes), which the grammar
# certainly accepts: parsing with stix2-patterns (ANTLR in Python) costs ~0.5 ms a pattern,
# more than storing the object. Hash paths are left to stix2-patterns, which checks the value.
_SIMPLE_PATTERN = re.compile(
    r"^\[(?![^=]*hashes)[a-z][a-z0-9-]*[a-z0-9]:[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*"
    r" = '(?:[^'\\]|\\['\\])*'\]$"
)
_GOOD_PATTERNS: set[str] = set()  # patterns seen valid: a feed repeats its indicators' versions
_GOOD_PATTERNS_MAX = 100_000


def stix_pattern(obj: dict[str, Any]) -> str | None:
    """A pattern of `pattern_type: stix` parses (STIX 2.1 patterning, with stix2-patterns)."""
    pattern = obj.get("pattern")
    if obj.get("pattern_type") != "stix" or not isinstance(pattern, str):
        return None
    if pattern in _GOOD_PATTERNS or _SIMPLE_PATTERN.match(pattern):
        return None
    errors = run_validator(pattern, stix_version="2.1")
    if errors:
        return f"pattern is not a valid STIX pattern ({errors[0].removeprefix('FAIL: ')})"
    if len(_GOOD_PATTERNS) < _GOOD_PATTERNS_MAX:
        _GOOD_PATTERNS.add(pattern)
    return None


def kill_chain_phases(obj: dict[str, Any]) -> str | None:
    phases = obj.get("kill_chain_phases")
    if phases is None:
        return None
    if not isinstance(phases, list) or not all(
        isinstance(p, dict)
        and isinstance(p.get("kill_chain_name"), str)
        and isinstance(p.get("phase_name"), str)
        for p in phases
    ):
        return "kill_chain_phases must list objects with kill_chain_name and phase_name"
    return None


def external_references(obj: dict[str, Any]) -> str | None:
    refs = obj.get("external_references")
    if refs is None:
        return None
    if not isinstance(refs, list) or not all(
        isinstance(r, dict) and isinstance(r.get("source_name"), str) for r in refs
    ):
        return "external_references must list objects with a source_name"
    return None


def lang(obj: dict[str, Any]) -> str | None:
    value = obj.get("lang")
    if value is None or (isinstance(value, str) and _LANG.match(value)):
        return None
    return "lang must be an RFC 5646 language tag"


def marking_definition(obj: dict[str, Any]) -> str | None:
    """STIX 2.1 section 7.2.1: a definition_type with its definition (tlp or statement), or
    extensions (TLP 2.0 and other extension-defined markings)."""
    kind, definition = obj.get("definition_type"), obj.get("definition")
    if kind is None:
        return None if "extensions" in obj else "definition_type or extensions is required"
    if not isinstance(definition, dict):
        return "definition must be an object when definition_type is given"
    if kind == "tlp" and definition.get("tlp") not in ("white", "green", "amber", "red"):
        return "definition.tlp must be one of white, green, amber, red"
    if kind == "statement" and not isinstance(definition.get("statement"), str):
        return "definition.statement must be a string"
    return None


def language_contents(obj: dict[str, Any]) -> str | None:
    contents = obj.get("contents")
    if not isinstance(contents, dict) or not contents:
        return "contents must be a non-empty object of language tags"
    if not all(_LANG.match(k) and isinstance(v, dict) for k, v in contents.items()):
        return "contents must map RFC 5646 language tags to objects"
    return None


def location(obj: dict[str, Any]) -> str | None:
    if "region" in obj or "country" in obj or ("latitude" in obj and "longitude" in obj):
        return None
    return "one of region, country, or latitude with longitude is required"


def family_named(obj: dict[str, Any]) -> str | None:
    return (
        "name is required when is_family is true"
        if obj.get("is_family") is True and ("name" not in obj)
        else None
    )


def extension_types(obj: dict[str, Any]) -> str | None:
    """A closed vocabulary of a list: each value one of the five extension types."""
    kinds = obj.get("extension_types")
    if isinstance(kinds, list) and all(k in _EXTENSION_TYPES for k in kinds):
        return None
    return "extension_types must list " + ", ".join(_EXTENSION_TYPES)


# --- the table ------------------------------------------------------------------------------
_SCO = SCO_TYPES
_COMMON: tuple[Rule, ...] = (lang, external_references, strings("labels"))
_EXTENSION_TYPES = (
    "new-sdo",
    "new-sco",
    "new-sro",
    "property-extension",
    "toplevel-property-extension",
)
_NAMED = (text("name"), text("description"))
_SEEN = later("first_seen", "last_seen")
_VALUE = (text("value"),)
_ADDRESS_REFS = ("ipv4-addr", "ipv6-addr", "domain-name")
_OPINIONS = ("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree")
_ENCRYPTIONS = ("AES-256-GCM", "ChaCha20Poly1305", "mime-type-indicated")

RULES: dict[str, tuple[Rule, ...]] = {
    # SDOs (STIX 2.1 section 4)
    "attack-pattern": (*_NAMED, kill_chain_phases, strings("aliases")),
    "campaign": (*_NAMED, _SEEN, strings("aliases")),
    "course-of-action": _NAMED,
    "grouping": (*_NAMED, text("context"), non_empty("object_refs")),
    "identity": (*_NAMED, strings("roles"), strings("sectors")),
    "incident": _NAMED,
    "indicator": (
        *_NAMED,
        text("pattern"),
        text("pattern_type"),
        strings("indicator_types"),
        later("valid_from", "valid_until", strictly=True),
        stix_pattern,
        kill_chain_phases,
    ),
    "infrastructure": (*_NAMED, _SEEN, kill_chain_phases, strings("infrastructure_types")),
    "intrusion-set": (*_NAMED, _SEEN, strings("aliases"), strings("goals")),
    "location": (
        location,
        number("latitude", -90, 90),
        number("longitude", -180, 180),
        requires("latitude", "longitude"),
        requires("longitude", "latitude"),
        requires("precision", "latitude"),
    ),
    "malware": (
        *_NAMED,
        boolean("is_family"),
        family_named,
        _SEEN,
        kill_chain_phases,
        strings("malware_types"),
        refs_to("sample_refs", "file", "artifact"),
        refs_to("operating_system_refs", "software"),
    ),
    "malware-analysis": (
        text("product"),
        any_of("result", "analysis_sco_refs"),
        refs_to("host_vm_ref", "software"),
        refs_to("operating_system_ref", "software"),
        refs_to("installed_software_refs", "software"),
        refs_to("sample_ref", "file", "artifact", "network-traffic"),
    ),
    "note": (text("content"), non_empty("object_refs"), strings("authors")),
    "observed-data": (
        later("first_observed", "last_observed"),
        integer("number_observed", 1, _MAX_COUNT),
        any_of("object_refs", "objects"),
        non_empty("object_refs"),
    ),
    "opinion": (one_of("opinion", _OPINIONS), non_empty("object_refs"), strings("authors")),
    "report": (*_NAMED, non_empty("object_refs"), strings("report_types")),
    "threat-actor": (*_NAMED, _SEEN, strings("aliases"), strings("threat_actor_types")),
    "tool": (*_NAMED, kill_chain_phases, strings("tool_types")),
    "vulnerability": _NAMED,
    # SROs (section 5)
    "relationship": (
        text("relationship_type"),
        relatable("source_ref"),
        relatable("target_ref"),
        later("start_time", "stop_time", strictly=True),
    ),
    "sighting": (
        relatable("sighting_of_ref", sdo_only=True),
        refs_to("observed_data_refs", "observed-data"),
        refs_to("where_sighted_refs", "identity", "location"),
        integer("count", 0, _MAX_COUNT),
        _SEEN,
    ),
    # meta objects (section 7)
    "marking-definition": (marking_definition, text("name")),
    "extension-definition": (
        text("name"),
        text("version"),
        non_empty("extension_types"),
        extension_types,
    ),
    "language-content": (language_contents,),
    # SCOs (section 6): the required properties of each, and what their references name
    "artifact": (any_of("payload_bin", "url"), one_of("encryption_algorithm", _ENCRYPTIONS)),
    "autonomous-system": (integer("number", 0, 2**32 - 1),),
    "directory": (text("path"), refs_to("contains_refs", "file", "directory")),
    "domain-name": (*_VALUE, refs_to("resolves_to_refs", *_ADDRESS_REFS)),
    "email-addr": (*_VALUE, refs_to("belongs_to_ref", "user-account")),
    "email-message": (
        boolean("is_multipart"),
        refs_to("from_ref", "email-addr"),
        refs_to("sender_ref", "email-addr"),
        refs_to("to_refs", "email-addr"),
        refs_to("cc_refs", "email-addr"),
        refs_to("bcc_refs", "email-addr"),
        refs_to("raw_email_ref", "artifact"),
    ),
    "file": (
        any_of("hashes", "name"),
        refs_to("parent_directory_ref", "directory"),
        refs_to("contains_refs", *_SCO),
        refs_to("content_ref", "artifact"),
    ),
    "ipv4-addr": (
        *_VALUE,
        refs_to("resolves_to_refs", "mac-addr"),
        refs_to("belongs_to_refs", "autonomous-system"),
    ),
    "ipv6-addr": (
        *_VALUE,
        refs_to("resolves_to_refs", "mac-addr"),
        refs_to("belongs_to_refs", "autonomous-system"),
    ),
    "mac-addr": _VALUE,
    "mutex": (text("name"),),
    "network-traffic": (
        any_of("src_ref", "dst_ref"),
        non_empty("protocols"),
        strings("protocols"),
        refs_to("src_ref", *_ADDRESS_REFS, "mac-addr"),
        refs_to("dst_ref", *_ADDRESS_REFS, "mac-addr"),
        integer("src_port", 0, 65535),
        integer("dst_port", 0, 65535),
    ),
    "software": (text("name"),),
    "url": _VALUE,
}
_WITH_COMMON: dict[str, tuple[Rule, ...]] = {
    kind: rules if kind in _SCO else (*_COMMON, *rules) for kind, rules in RULES.items()
}


def check_rules(obj: dict[str, Any], stix_type: str) -> None:
    """Raise InvalidObject naming the type, the property and the rule an object breaks
    ("report: object_refs must not be empty"); custom types pass (their rules are their own)."""
    for rule in _WITH_COMMON.get(stix_type, ()):
        broken = rule(obj)
        if broken is not None:
            raise InvalidObject(f"{stix_type}: {broken}")
