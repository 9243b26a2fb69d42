"""STIX indicators derived from the text of an object (a report, a note …), linked back to it.

The organization that published the source asks for it; the indicators go into the same
channel with the same TLP marking, each with a `derived-from` relationship to the source, and
are published (signed, sealed where the TLP says so) like anything else that org publishes.
Ids are derived from the source and the value, and stamped with the source's `created`
(which every version of it keeps), so asking twice stores nothing new.

The source, when it lists objects (`object_refs`: a report, note, opinion or grouping), gets a
new version naming the derived indicators and vulnerabilities, signed like anything else the
org publishes — unless the org keeps its own keys: the node cannot sign a new version for it,
so its client adds them (the indicators are still published and linked back).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from tabadol.crypto.canonical import unsigned
from tabadol.domain.errors import Forbidden, NotFound
from tabadol.domain.keys import Custody
from tabadol.domain.model import Principal
from tabadol.domain.sealed import is_sealed, lookup_ids
from tabadol.domain.timestamps import format_us, parse_us
from tabadol.domain.tlp import strictest_tlp
from tabadol.node.node import Node
from tabadol.storage.contract import StatusRecord
from tabadol.text.extract import Indicator, extract
from tabadol.text.fields import searchable_text
from tabadol.usecases.publishing.publish import publish_objects
from tabadol.usecases.reading.read import get_object, readable_collection

_NAMESPACE = uuid.UUID("5f8c1f5e-9a44-4c8e-9a3e-2b8f0d7c6a10")

_PATTERNS = {
    "ipv4": "[ipv4-addr:value = '{}']",
    "ipv6": "[ipv6-addr:value = '{}']",
    "domain": "[domain-name:value = '{}']",
    "url": "[url:value = '{}']",
    "email": "[email-addr:value = '{}']",
    "md5": "[file:hashes.MD5 = '{}']",
    "sha1": "[file:hashes.'SHA-1' = '{}']",
    "sha256": "[file:hashes.'SHA-256' = '{}']",
    "btc": "[x-crypto-wallet:address = '{}' AND x-crypto-wallet:currency = 'BTC']",
    "eth": "[x-crypto-wallet:address = '{}' AND x-crypto-wallet:currency = 'ETH']",
    "xmr": "[x-crypto-wallet:address = '{}' AND x-crypto-wallet:currency = 'XMR']",
    "trx": "[x-crypto-wallet:address = '{}' AND x-crypto-wallet:currency = 'TRX']",
}


def _id(kind: str, source: str, indicator: Indicator) -> str:
    """The same id each time an indicator is derived from the same source (deriving again
    stores nothing new): a UUIDv4 whose random bits come from a hash of the source and the
    value. STIX 2.1 asks SDO and SRO ids to be UUIDv4 (stix2-validator's strict mode checks
    the version; UUIDv5 is for SCOs)."""
    digest = uuid.uuid5(_NAMESPACE, f"{source}|{indicator.type}|{indicator.value}").bytes
    return f"{kind}--{uuid.UUID(bytes=digest, version=4)}"


def derived_objects(
    source: Mapping[str, Any], indicator: Indicator, stamp: str, author: str
) -> list[dict[str, Any]]:
    """The indicator (or vulnerability, for a CVE) and its relationship to the source, by
    the org that derives them (their author: the node does not fill `created_by_ref`)."""
    common: dict[str, Any] = {
        "spec_version": "2.1",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": author,
    }
    markings = [
        ref for ref in source.get("object_marking_refs", []) if strictest_tlp([ref]) is not None
    ]
    if markings:
        common["object_marking_refs"] = markings
    if indicator.type == "cve":
        target: dict[str, Any] = {
            "type": "vulnerability",
            "id": _id("vulnerability", source["id"], indicator),
            "name": indicator.value,
            "description": f"{indicator.value}, named in {source['id']}.",
            "external_references": [{"source_name": "cve", "external_id": indicator.value}],
            **common,
        }
    else:
        value = indicator.value.replace("\\", "\\\\").replace("'", "\\'")
        target = {
            "type": "indicator",
            "id": _id("indicator", source["id"], indicator),
            "name": f"{indicator.type} {indicator.value}",
            "description": f"The {indicator.type} {indicator.value} named in {source['id']}.",
            "pattern": _PATTERNS[indicator.type].format(value),
            "pattern_type": "stix",
            "valid_from": stamp,
            "indicator_types": ["malicious-activity"],
            **common,
        }
    link = {
        "type": "relationship",
        "id": _id("relationship", source["id"], indicator),
        "relationship_type": "derived-from",
        "source_ref": target["id"],
        "target_ref": source["id"],
        "description": f"Derived by its publisher from the text of {source['id']}.",
        **common,
    }
    return [target, link]


def derive_indicators(
    node: Node, principal: Principal, collection_uuid: str, stix_id: str
) -> StatusRecord:
    """Publish the indicators in `stix_id`'s text as STIX, linked to it, as its publisher."""
    collection = readable_collection(node, principal, collection_uuid)
    # a sealed source is found by its own id or by the sealed item's (domain/sealed.py)
    page = get_object(node, principal, collection_uuid, stix_id, {})
    if not page.rows:
        raise NotFound("no such object")
    authors = {a for i in lookup_ids(stix_id) for a in node.store.authors_of(collection.id, i)}
    if principal.org_id not in authors:
        raise Forbidden("indicators are derived by the organization that published the object")
    source = orjson.loads(page.rows[-1].body)
    if is_sealed(source):
        raise Forbidden("the node cannot read this sealed object for you: derive on the client")
    stamp = source.get("created") or source.get("modified")
    found = extract(searchable_text(source))
    assert principal.org is not None
    author = principal.org.identity_id
    objects = [
        obj for indicator in found for obj in derived_objects(source, indicator, stamp, author)
    ]
    if principal.org.custody is Custody.NODE:
        objects += _listing_them(source, objects, node.clock())
    return publish_objects(node, principal, collection, objects)


def _listing_them(
    source: Mapping[str, Any], derived: list[dict[str, Any]], now_us: int
) -> list[dict[str, Any]]:
    """A new version of the source whose `object_refs` also names the derived indicators
    (and vulnerabilities), or nothing when it already does or lists no objects."""
    refs = source.get("object_refs")
    if not isinstance(refs, list):
        return []
    new = [o["id"] for o in derived if o["type"] != "relationship" and o["id"] not in refs]
    if not new:
        return []
    version = unsigned(source)  # the node signs the new version (either form of the old goes)
    version["object_refs"] = [*refs, *new]
    # later than the version it follows, even if the clock is behind the source's timestamp
    version["modified"] = format_us(max(now_us, parse_us(source["modified"]) + 1000))
    return [version]
