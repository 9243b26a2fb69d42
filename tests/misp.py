"""MISP events as a MISP instance exports them, converted with misp-stix (the converter MISP
itself uses) to STIX 2.1 and back, and what of an event a round trip must keep."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stix2
from misp_stix_converter import InternalSTIX2toMISPParser, MISPtoSTIX21Parser
from pymisp import MISPEvent, MISPGalaxy, MISPGalaxyCluster, MISPObject, MISPOrganisation

EVENT_TIME = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
_NAMESPACE = uuid.UUID("3f0e6c1e-4c1b-4e43-9d55-7d3c2b6a9e10")


def _uuid(seed: str, name: str) -> str:
    """Stable uuids: a MISP event synced to several instances keeps its uuids there."""
    return str(uuid.uuid5(_NAMESPACE, f"{seed}:{name}"))


def misp_event(seed: str, org: str, tlp: str = "tlp:green") -> MISPEvent:
    """A published event of MISP org `org` with the attribute types members exchange most:
    network indicators, a hash, a sender, a vulnerability, a file object with hashes, a TLP
    tag and a threat-actor galaxy cluster. Every element has its uuid and timestamp, as a
    MISP instance exports it (so two instances holding the event convert it identically)."""
    event = MISPEvent()
    event.uuid = _uuid(seed, "event")
    event.info = f"Spear-phishing wave against ministries ({seed})"
    event.date = EVENT_TIME.date()
    event.threat_level_id = 2
    event.analysis = 1
    event.published = True
    orgc = MISPOrganisation()
    orgc.name, orgc.uuid = org, _uuid(org, "org")
    event.Orgc = orgc
    event.add_tag(tlp)
    for name, kind, value, category, to_ids in (
        ("ip", "ip-dst", "203.0.113.7", "Network activity", True),
        ("domain", "domain", f"login-{seed}.example.com", "Network activity", True),
        ("url", "url", f"https://login-{seed}.example.com/owa", "Network activity", False),
        ("payload", "sha256", uuid.uuid5(_NAMESPACE, seed).hex * 2, "Payload delivery", True),
        ("sender", "email-src", f"hr-{seed}@example.net", "Payload delivery", False),
        ("cve", "vulnerability", "CVE-2024-3400", "External analysis", False),
    ):
        event.add_attribute(
            kind,
            value,
            category=category,
            to_ids=to_ids,
            uuid=_uuid(seed, name),
            comment=f"{name} seen by {org}",
        )
    sample = MISPObject("file")
    sample.uuid = _uuid(seed, "file")
    for relation, value in (
        ("filename", "invoice-2026.pdf.exe"),
        ("md5", uuid.uuid5(_NAMESPACE, seed + "md5").hex),
        ("sha1", uuid.uuid5(_NAMESPACE, seed + "sha1").hex + "0" * 8),
        ("sha256", uuid.uuid5(_NAMESPACE, seed + "sha256").hex * 2),
    ):
        sample.add_attribute(relation, value, uuid=_uuid(seed, relation), to_ids=True)
    event.add_object(sample)
    event.galaxies.append(_threat_actor(seed))
    return _as_exported(event)


def _threat_actor(seed: str) -> MISPGalaxy:
    galaxy = MISPGalaxy()
    galaxy.from_dict(
        uuid=_uuid(seed, "galaxy"),
        name="Threat Actor",
        type="threat-actor",
        description="Threat actors are characteristics of malicious actors.",
        namespace="misp",
    )
    cluster = MISPGalaxyCluster()
    cluster.from_dict(
        uuid=_uuid(seed, "cluster"),
        value="OilRig",
        type="threat-actor",
        description="An Iranian threat group operating since at least 2014.",
        tag_name='misp-galaxy:threat-actor="OilRig"',
        meta={"synonyms": ["APT34", "Helix Kitten"]},
    )
    galaxy.clusters.append(cluster)
    return galaxy


def _as_exported(event: MISPEvent) -> MISPEvent:
    """The event as a MISP instance exports it: PyMISP leaves the timestamps of what it
    builds to the server, which stamps every element when it saves the event."""
    data = json.loads(event.to_json())
    stamp = str(int(EVENT_TIME.timestamp()))
    data["timestamp"] = data["publish_timestamp"] = stamp
    for attribute in data.get("Attribute", []):
        attribute["timestamp"] = stamp
    for obj in data.get("Object", []):
        obj["timestamp"] = stamp
        for attribute in obj.get("Attribute", []):
            attribute["timestamp"] = stamp
    exported = MISPEvent()
    exported.load(data)
    return exported


def to_stix(event: MISPEvent) -> list[dict[str, Any]]:
    """The STIX 2.1 objects misp-stix makes of the event (its bundle's `objects`)."""
    parser = MISPtoSTIX21Parser()
    parser.parse_misp_event(json.loads(event.to_json()))
    objects: list[dict[str, Any]] = json.loads(parser.bundle.serialize())["objects"]
    return objects


def to_misp(objects: list[dict[str, Any]]) -> MISPEvent:
    """The MISP event misp-stix makes of a bundle it made (read back from the exchange)."""
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    parser = InternalSTIX2toMISPParser()
    parser.load_stix_bundle(stix2.parse(bundle, allow_custom=True))
    parser.parse_stix_bundle()
    event: MISPEvent = parser.misp_event
    return event


def event_objects(objects: list[dict[str, Any]], event_uuid: str) -> list[dict[str, Any]]:
    """The objects of one event among a collection's: its report, what the report lists and
    the identity of its author — what a MISP user importing that event takes."""
    by_id = {o["id"]: o for o in objects}
    report = by_id[f"report--{event_uuid}"]
    wanted = [report["id"], report["created_by_ref"], *report["object_refs"]]
    return [by_id[stix_id] for stix_id in wanted if stix_id in by_id]


@dataclass(frozen=True)
class EventFacts:
    """What a MISP user expects an event to keep through an exchange."""

    info: str
    attributes: frozenset[tuple[str, str, str, bool]]  # (type, value, category, to_ids)
    objects: frozenset[tuple[str, frozenset[tuple[str, str, str]]]]  # name, (relation, type, v)
    tags: frozenset[str]
    clusters: frozenset[tuple[str, str]]  # (galaxy type, cluster value)
    # (value, comment): misp-stix itself keeps no attribute comment today; a round trip
    # through the exchange is compared with one straight through misp-stix on these
    comments: frozenset[tuple[str, str]]


def facts(event: MISPEvent) -> EventFacts:
    return EventFacts(
        info=event.info,
        attributes=frozenset(
            (a.type, a.value, a.category, bool(a.to_ids)) for a in event.attributes
        ),
        objects=frozenset(
            (o.name, frozenset((a.object_relation, a.type, a.value) for a in o.attributes))
            for o in event.objects
        ),
        tags=frozenset(tag.name for tag in event.tags),
        clusters=frozenset(
            (galaxy.type, cluster.value) for galaxy in event.galaxies for cluster in galaxy.clusters
        ),
        comments=frozenset((a.value, a.get("comment") or "") for a in event.attributes),
    )


def assert_nothing_lost(sent: MISPEvent, received: MISPEvent) -> None:
    """Every attribute (type, value, category, to_ids), object, tag, galaxy cluster and the
    info of `sent` are in `received` (misp-stix adds tags of its own: those may be extra)."""
    before, after = facts(sent), facts(received)
    assert after.info == before.info
    assert after.attributes == before.attributes
    assert after.objects == before.objects
    assert before.tags <= after.tags, before.tags - after.tags
    assert after.clusters == before.clusters
