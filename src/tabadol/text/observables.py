"""The observables of a STIX object: what correlates it with other objects.

Indicators found in its text and pattern (`text.extract`), the values of observable objects
(an `ipv4-addr`'s value, a `file`'s hashes), and names: the normalized name of a threat actor,
malware, campaign … so that a name spelled in Persian and in Arabic letters correlates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tabadol.text.extract import extract
from tabadol.text.fields import searchable_text
from tabadol.text.normalize import terms

_SCO_VALUES = {
    "ipv4-addr": "ipv4",
    "ipv6-addr": "ipv6",
    "domain-name": "domain",
    "url": "url",
    "email-addr": "email",
}
_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256"}
NAMED_TYPES = frozenset(
    {
        "threat-actor",
        "intrusion-set",
        "malware",
        "tool",
        "campaign",
        "attack-pattern",
        "infrastructure",
        "vulnerability",
    }
)
# Types whose free text is read for indicators: reports, notes, indicators and the objects
# that describe actors and incidents. Relationships and ATT&CK-style technique and mitigation
# descriptions cite and explain; reading them cost ingest a third and correlated nothing useful.
TEXT_TYPES = frozenset(
    {
        "report",
        "note",
        "opinion",
        "indicator",
        "grouping",
        "incident",
        "infrastructure",
        "malware-analysis",
        "sighting",
        "threat-actor",
        "intrusion-set",
        "campaign",
        "malware",
        "tool",
        "vulnerability",
    }
)
MAX_PER_OBJECT = 200  # a document listing thousands of indicators still costs a bounded index


def observables(obj: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(type, canonical value) pairs of `obj`."""
    found: set[tuple[str, str]] = set()
    kind = obj.get("type")
    value = obj.get("value")
    if kind in _SCO_VALUES and isinstance(value, str):
        for indicator in extract(value, allow_private=True):
            found.add((indicator.type, indicator.value))
    hashes = obj.get("hashes")
    if isinstance(hashes, dict):
        for algorithm, digest in hashes.items():
            if algorithm in _HASHES and isinstance(digest, str):
                found.add((_HASHES[algorithm], digest.lower()))
    if kind in NAMED_TYPES and isinstance(obj.get("name"), str):
        name = " ".join(terms(obj["name"]))
        if name:
            found.add(("name", name))
    if kind not in TEXT_TYPES:
        return found
    for indicator in extract(searchable_text(obj)):
        found.add((indicator.type, indicator.value))
        if len(found) >= MAX_PER_OBJECT:
            break
    return found
