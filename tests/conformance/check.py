"""The field's verdict on emitted STIX: `stix2.parse` with its defaults (`allow_custom=False`)
and stix2-validator in strict mode, as a generic STIX 2.1 consumer runs them (issue 13).

An emitted object is held against the node only for what the node did to it: a reason a tool
gives that the object as its producer wrote it (posted over TAXII, imported, handed to the
client CLI) does not have. A member relaying MITRE ATT&CK relays `x_mitre_*` properties and
`x-mitre-*` types that no strict consumer accepts, and a test's indicator without a
description fails a SHOULD: those are the producer's content, which the node keeps as posted.
Objects the node makes itself (directory records, derived indicators, sealed forms, served
constants) have no producer form and are judged whole.

This module imports no tabadol code, so that `bench/stix_conformance.py` can judge what a
release without `tabadol.domain.extensions` emits; the ids below are that module's constants
(a test holds them equal).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
import stix2
import stix2.exceptions
from stix2validator import ValidationOptions, validate_instance

PARSE = "stix2.parse"
VALIDATOR = "stix2-validator"
TOOLS = (PARSE, VALIDATOR)

SIGNATURE_EXTENSION = "extension-definition--7a3625c4-f04e-4fca-8d8b-5cb1243886e8"
TABADOL_EXTENSIONS = frozenset(
    {
        SIGNATURE_EXTENSION,
        "extension-definition--d77e5234-c579-4586-a43c-f5ad0388c0fe",  # directory record
        "extension-definition--e8bda143-d96b-4b9c-bebb-38cac60e96bf",  # provenance
        "extension-definition--0645b778-993f-4ea8-aa46-caac6a95a0cc",  # audience
        "extension-definition--1a7ae33f-0163-448c-9fc5-39ccbe03430b",  # sealed item
    }
)
OLD_SIGNATURE = "x_tabadol_signature"
OLD_SEALED = "x_tabadol_sealed"
SEALED_TYPE = "tabadol-sealed"

_STIX_ID = re.compile(
    r"\b([a-z0-9][a-z0-9-]*)--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)
_STRICT = ValidationOptions(version="2.1", strict=True)
# An org's identity id is a UUIDv5 derived from its node and name on purpose (reserved ids,
# issue 13 finding 4); STIX 2.1 says SHOULD for UUIDv4, so strict mode leaves that one check
# out for identities with such an id, as `assert_strict_stix` does in tests/api/test_extensions.
_STRICT_DERIVED_IDENTITY = ValidationOptions(version="2.1", strict=True, disabled=["uuid-check"])


def canonical(obj: Any) -> bytes:
    """Sorted-key JSON: orjson (ten times faster, it matters on ATT&CK-sized pages), or the
    standard library for what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def content_hash(obj: Any) -> str:
    return hashlib.sha256(canonical(obj)).hexdigest()


def is_previous_sealed_form(obj: dict[str, Any]) -> bool:
    """The previous release's sealed form (`x_tabadol_sealed` on the inner type), which this
    release never writes: an item stored before it, or relayed by a peer still on it, served
    as its author signed it (only the author could re-seal it). Counted, not held."""
    return OLD_SEALED in obj and obj.get("type") != SEALED_TYPE


def is_sealed_form(obj: dict[str, Any]) -> bool:
    """tabadol's wire form of an end-to-end encrypted item (either release's)."""
    return obj.get("type") == SEALED_TYPE or OLD_SEALED in obj


def producer_form(obj: Any) -> dict[str, Any] | None:
    """The object as its producer wrote it: without the entries tabadol adds (its signature,
    the node's records). None for a sealed form: tabadol's client made it, so it has no
    producer form to excuse. A signature in the older form (`x_tabadol_signature`) stays: an
    object posted signed that way is kept as signed (the node cannot re-sign it), while a node
    that adds it to what was posted unsigned is held to it."""
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or is_sealed_form(obj):
        return None
    out = dict(obj)
    extensions = out.get("extensions")
    if isinstance(extensions, dict):
        kept = {k: v for k, v in extensions.items() if k not in TABADOL_EXTENSIONS}
        if kept:
            out["extensions"] = kept
        else:
            del out["extensions"]
    return out


def _cache_key(obj: dict[str, Any]) -> str:
    """The object with its signature's key and value masked: neither tool reads them, and the
    same ATT&CK object signed on each test's node is then judged once per session."""
    masked = dict(obj)
    extensions = masked.get("extensions")
    if isinstance(extensions, dict) and isinstance(extensions.get(SIGNATURE_EXTENSION), dict):
        entry = {**extensions[SIGNATURE_EXTENSION], "key_id": "", "value": ""}
        masked["extensions"] = {**extensions, SIGNATURE_EXTENSION: entry}
    if isinstance(masked.get(OLD_SIGNATURE), dict):
        masked[OLD_SIGNATURE] = {**masked[OLD_SIGNATURE], "key_id": "", "value": ""}
    return content_hash(masked)


def _without_ids(message: str) -> str:
    return _STIX_ID.sub(r"\1--…", message)


def parse_reasons(obj: dict[str, Any]) -> tuple[str, ...]:
    """Why `stix2.parse(obj, allow_custom=False)` refuses `obj` (empty: it parses). stix2 stops
    at its first error; unexpected properties are taken out and the parse tried again, so
    each extra property is its own reason and what hides behind them shows."""
    work, reasons = dict(obj), []
    for _ in range(3):
        try:
            stix2.parse(work, allow_custom=False)
            break
        except stix2.exceptions.ExtraPropertiesError as exc:
            reasons += [f"unexpected property {name}" for name in exc.properties]
            work = {k: v for k, v in work.items() if k not in exc.properties}
        except stix2.exceptions.MissingPropertiesError as exc:
            reasons += [f"missing required property {name}" for name in exc.properties]
            break
        except stix2.exceptions.ParseError as exc:
            text = str(exc)
            unknown = "unknown object type" in text
            reasons.append(f"unknown object type {obj.get('type')}" if unknown else text)
            break
        except Exception as exc:  # stix2 raises ValueError, TypeError, STIXError… by property
            reasons.append(_without_ids(f"{type(exc).__name__}: {exc}"))
            break
    return tuple(reasons)


def _validator_options(obj: dict[str, Any]) -> ValidationOptions:
    stix_id = obj.get("id", "")
    if obj.get("type") == "identity" and isinstance(stix_id, str):
        try:
            if uuid.UUID(stix_id.partition("--")[2]).version == 5:
                return _STRICT_DERIVED_IDENTITY
        except ValueError:
            pass
    return _STRICT


def validator_reasons(obj: dict[str, Any]) -> tuple[str, ...]:
    """stix2-validator's strict errors (its warnings are errors in strict mode), without the
    object id each message starts with."""
    result = validate_instance(obj, _validator_options(obj))
    if result.is_valid:
        return ()
    reasons = []
    for error in result.errors:
        text = str(error)
        prefix = f"{obj.get('id')}: "
        reasons.append(_without_ids(text.removeprefix(prefix)))
    return tuple(reasons)


@dataclass(frozen=True)
class Verdict:
    """Each tool's reasons for refusing one object (empty: accepted)."""

    reasons: dict[str, tuple[str, ...]]

    def refused_by(self, tool: str) -> bool:
        return bool(self.reasons[tool])

    @property
    def accepted(self) -> bool:
        return not any(self.reasons.values())

    def beyond(self, baselines: Iterable[Verdict]) -> Verdict:
        """The reasons none of `baselines` (the producer's forms) has: the node's doing."""
        known = list(baselines)
        return Verdict(
            {
                tool: tuple(r for r in reasons if not any(r in b.reasons[tool] for b in known))
                for tool, reasons in self.reasons.items()
            }
        )


class Judge:
    """Both tools on each distinct object once per session (the validator takes ~6 ms an
    object on this machine), with the time they took."""

    def __init__(self) -> None:
        self._cache: dict[str, Verdict] = {}
        self.seconds = {tool: 0.0 for tool in TOOLS}
        self.runs = 0

    def verdict(self, obj: dict[str, Any]) -> Verdict:
        key = _cache_key(obj)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        started = time.perf_counter()
        parsed = parse_reasons(obj)
        middle = time.perf_counter()
        validated = validator_reasons(obj)
        self.seconds[PARSE] += middle - started
        self.seconds[VALIDATOR] += time.perf_counter() - middle
        self.runs += 1
        verdict = Verdict({PARSE: parsed, VALIDATOR: validated})
        self._cache[key] = verdict
        return verdict


@dataclass
class Emitted:
    """One distinct emitted object, where it left the server and in which tests."""

    obj: dict[str, Any]
    channels: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)


@dataclass
class Judged:
    emitted: Emitted
    verdict: Verdict  # everything the tools say
    held: Verdict  # what the node is answerable for (beyond the producer's forms)


class Ledger:
    """What left the server (deduplicated by content) and what producers posted (by id and
    version), judged together at the end."""

    def __init__(self) -> None:
        self.emitted: dict[str, Emitted] = {}
        self.posted: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self.posted_ids: dict[str, set[tuple[str, str]]] = {}
        self.seen = 0  # emitted objects before deduplication

    def add_emitted(self, obj: Any, channel: str, source: str = "") -> None:
        if not isinstance(obj, dict) or "type" not in obj:
            return
        self.seen += 1
        key = content_hash(obj)
        entry = self.emitted.get(key)
        if entry is None:
            entry = self.emitted[key] = Emitted(obj)
        entry.channels.add(channel)
        if source:
            entry.sources.add(source)

    def add_posted(self, obj: Any) -> None:
        form = producer_form(obj)
        if form is None:
            return
        version = (form["id"], str(form.get("modified", "")))
        self.posted.setdefault(version, {})[content_hash(form)] = form
        self.posted_ids.setdefault(form["id"], set()).add(version)

    def baselines(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        """The producer's forms of this version; failing that, of the id's other versions (a
        version the node derives, as derive does for a report, keeps its producer's text)."""
        version = (str(obj.get("id")), str(obj.get("modified", "")))
        forms = self.posted.get(version)
        if forms:
            return list(forms.values())
        versions = self.posted_ids.get(version[0], set())
        return [form for v in versions for form in self.posted[v].values()]

    def judge(self, judge: Judge) -> list[Judged]:
        out = []
        for entry in self.emitted.values():
            verdict = judge.verdict(entry.obj)
            held = verdict
            if not verdict.accepted:
                own = [entry.obj] if is_previous_sealed_form(entry.obj) else []
                baselines = own or self.baselines(entry.obj)
                held = verdict.beyond(judge.verdict(b) for b in baselines)
            out.append(Judged(entry, verdict, held))
        return out


def reasons_by_cause(judged: Iterable[Judged], tool: str) -> Counter[str]:
    """How many objects each held reason refuses, `type: reason`."""
    counts: Counter[str] = Counter()
    for item in judged:
        for reason in set(item.held.reasons[tool]):
            counts[f"{item.emitted.obj.get('type')}: {reason}"] += 1
    return counts
