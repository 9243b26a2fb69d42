"""Semantic validation on ingest (issue 13, finding 5): each STIX 2.1 type's value rules,
refused per object over TAXII with the property and the rule named, the envelope's valid
objects stored; a peer's items go through the same admission and are refused the same."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tabadol.domain.tlp import TLP
from tabadol.usecases.federation.sync_in import apply_page

from ..conftest import BACKENDS, Community, make_indicator
from ..federation.test_federation_security import _entry, _fake_peer, _member

TAXII = "application/taxii+json;version=2.1"
STAMP = "2026-01-01T00:00:00.000Z"
LATER = "2026-02-01T00:00:00.000Z"
UUID = "a7b8c9d0-1111-4222-8333-444455556666"
REPORT_REF = f"indicator--{UUID}"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Both engines: the refusals come before storage, the stored neighbours do not."""
    return str(request.param)


def sdo(kind: str, **props: Any) -> dict[str, Any]:
    """An object of `kind` as the spec's examples write them (fixed ids, per type)."""
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{UUID}",
        "created": STAMP,
        "modified": STAMP,
        **props,
    }


def sco(kind: str, **props: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{UUID}", **props}


# (invalid object, the reason the status names)
INVALID = {
    "report-empty-object-refs": (
        sdo("report", name="Q1", published=STAMP, object_refs=[]),
        "report: object_refs must not be empty",
    ),
    "note-empty-object-refs": (
        sdo("note", content="seen", object_refs=[]),
        "note: object_refs must not be empty",
    ),
    "grouping-empty-object-refs": (
        sdo("grouping", context="suspicious-activity", object_refs=[]),
        "grouping: object_refs must not be empty",
    ),
    "indicator-pattern-does-not-parse": (
        make_indicator(pattern="[ipv4-addr:value = '198.51.100.7'"),
        "indicator: pattern is not a valid STIX pattern",
    ),
    "indicator-pattern-not-a-pattern": (
        make_indicator(pattern="198.51.100.7"),
        "indicator: pattern is not a valid STIX pattern",
    ),
    "indicator-valid-until-before-valid-from": (
        make_indicator(valid_until="2025-12-31T00:00:00Z"),
        "indicator: valid_until must be later than valid_from",
    ),
    "indicator-valid-until-equal-valid-from": (
        make_indicator(valid_until="2026-01-01T00:00:00Z"),
        "indicator: valid_until must be later than valid_from",
    ),
    "indicator-types-not-a-list": (
        make_indicator(indicator_types="malicious-activity"),
        "indicator: indicator_types must be a list of strings",
    ),
    "opinion-outside-closed-vocabulary": (
        sdo("opinion", opinion="maybe", object_refs=[REPORT_REF]),
        "opinion: opinion must be one of agree",
    ),
    "campaign-last-seen-before-first-seen": (
        sdo("campaign", name="C", first_seen=LATER, last_seen=STAMP),
        "campaign: last_seen must be later than first_seen",
    ),
    "malware-family-without-name": (
        sdo("malware", is_family=True),
        "malware: name is required when is_family is true",
    ),
    "malware-sample-refs-of-wrong-type": (
        sdo("malware", is_family=False, sample_refs=[f"identity--{UUID}"]),
        "malware: sample_refs must name file or artifact ids",
    ),
    "identity-lang-not-a-tag": (
        sdo("identity", name="ACME", lang="english please"),
        "identity: lang must be an RFC 5646 language tag",
    ),
    "location-without-place": (
        sdo("location", name="somewhere"),
        "location: one of region, country, or latitude with longitude is required",
    ),
    "location-latitude-out-of-range": (
        sdo("location", latitude=91, longitude=0),
        "location: latitude must be a number from -90 to 90",
    ),
    "observed-data-count-zero": (
        sdo(
            "observed-data",
            first_observed=STAMP,
            last_observed=STAMP,
            number_observed=0,
            object_refs=[f"ipv4-addr--{UUID}"],
        ),
        "observed-data: number_observed must be an integer from 1 to 999999999",
    ),
    "relationship-to-a-relationship": (
        sdo(
            "relationship",
            relationship_type="related-to",
            source_ref=REPORT_REF,
            target_ref=f"relationship--{UUID}",
        ),
        "relationship: target_ref must name an SDO or SCO, not a relationship",
    ),
    "sighting-of-an-sco": (
        sdo("sighting", sighting_of_ref=f"ipv4-addr--{UUID}"),
        "sighting: sighting_of_ref must name an SDO, not a ipv4-addr",
    ),
    "sighting-where-sighted-not-identity": (
        sdo(
            "sighting",
            sighting_of_ref=REPORT_REF,
            where_sighted_refs=[f"malware--{UUID}"],
        ),
        "sighting: where_sighted_refs must name identity or location ids",
    ),
    "marking-definition-without-definition": (
        {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": f"marking-definition--{UUID}",
            "created": STAMP,
            "definition_type": "statement",
        },
        "marking-definition: definition must be an object",
    ),
    "extension-definition-unknown-extension-type": (
        sdo(
            "extension-definition",
            name="x",
            schema="https://example.org/schema.json",
            version="1.0",
            extension_types=["new-thing"],
            created_by_ref=f"identity--{UUID}",
        ),
        "extension-definition: extension_types must list new-sdo",
    ),
    "language-content-bad-contents": (
        sdo(
            "language-content",
            object_ref=REPORT_REF,
            object_modified=STAMP,
            contents={"de": "nicht ein Objekt"},
        ),
        "language-content: contents must map RFC 5646 language tags to objects",
    ),
    "network-traffic-without-ends": (
        sco("network-traffic", protocols=["tcp"]),
        "network-traffic: one of src_ref, dst_ref is required",
    ),
    "file-without-hashes-or-name": (
        sco("file", size=10),
        "file: one of hashes, name is required",
    ),
    "domain-name-resolves-to-a-file": (
        sco("domain-name", value="example.org", resolves_to_refs=[f"file--{UUID}"]),
        "domain-name: resolves_to_refs must name ipv4-addr or ipv6-addr or domain-name ids",
    ),
}

# Valid edge cases: open vocabularies keep any value, custom types and properties pass.
VALID = {
    "indicator-open-pattern-type": make_indicator(
        pattern="rule x { condition: true }", pattern_type="yara"
    ),
    "indicator-unknown-indicator-type": make_indicator(indicator_types=["brand-new-type"]),
    "indicator-with-qualifiers": make_indicator(
        pattern="[ipv4-addr:value = '198.51.100.7'] START t'2026-01-01T00:00:00Z'"
        " STOP t'2026-01-02T00:00:00Z'",
        valid_until="2026-06-01T00:00:00Z",
    ),
    "report-custom-report-type": sdo(
        "report", name="Q1", published=STAMP, object_refs=[REPORT_REF], report_types=["ours"]
    ),
    "identity-lang-subtags": sdo("identity", name="ACME", lang="fa-IR"),
    "location-by-coordinates": sdo("location", latitude=-33.9, longitude=151.2),
    "campaign-seen-once": sdo("campaign", name="C", first_seen=STAMP, last_seen=STAMP),
    "custom-type": sdo("x-mitre-tactic", name="Collection", x_mitre_shortname="collection"),
    "custom-property": make_indicator(x_acme_score=7),
    "relationship-to-an-sco": sdo(
        "relationship",
        relationship_type="communicates-with",
        source_ref=f"malware--{UUID}",
        target_ref=f"ipv4-addr--{UUID}",
    ),
}


def _post(client: TestClient, com: Community, objects: list[Any]) -> dict[str, Any]:
    url = f"/taxii2/root/collections/{com.collections['members']}/objects/"
    response = client.post(
        url, json={"objects": objects}, headers={**com.auth("A"), "Content-Type": TAXII}
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def _stored(client: TestClient, com: Community, stix_id: str) -> bool:
    url = f"/taxii2/root/collections/{com.collections['members']}/objects/{stix_id}/"
    return client.get(url, headers=com.auth("A")).status_code == 200


@pytest.mark.parametrize(("obj", "reason"), INVALID.values(), ids=INVALID.keys())
def test_invalid_object_refused_with_its_reason_the_rest_stored(
    client: TestClient, community: Community, obj: dict[str, Any], reason: str
) -> None:
    """The invalid object is a failure naming the property and rule; its neighbour is stored."""
    valid = make_indicator()
    status = _post(client, community, [valid, obj])
    assert status["success_count"] == 1, status
    [failure] = status["failures"]
    assert failure["id"] == obj["id"]
    assert reason in failure["message"], failure["message"]
    assert _stored(client, community, valid["id"])
    assert not _stored(client, community, obj["id"])


@pytest.mark.parametrize("obj", VALID.values(), ids=VALID.keys())
def test_valid_edge_cases_are_accepted(
    client: TestClient, community: Community, obj: dict[str, Any]
) -> None:
    status = _post(client, community, [obj])
    assert status["failure_count"] == 0, status
    assert _stored(client, community, obj["id"])


def test_sync_in_refuses_the_same(community: Community) -> None:
    """A peer's report with an empty object_refs and its indicator whose pattern does not
    parse are refused with the same reasons; its valid item is stored."""
    node = community.node
    member = _member("Org P1")
    fake = _fake_peer(node, member)
    green = [TLP.GREEN.marking_id]
    author = {"created_by_ref": member.identity_id, "object_marking_refs": green}
    empty = member.signed(sdo("report", name="Q1", published=STAMP, object_refs=[], **author))
    broken = member.signed(make_indicator(pattern="[ipv4-addr:value = ", **author))
    fine = member.signed(make_indicator(**author))
    entries = [_entry(o, member.identity_id, TLP.GREEN) for o in (empty, broken, fine)]
    result = apply_page(node, fake.peer, entries, cursor=3, head=3)
    reasons = dict(result.refused)
    assert set(reasons) == {empty["id"], broken["id"]}
    assert "report: object_refs must not be empty" in reasons[empty["id"]]
    assert "indicator: pattern is not a valid STIX pattern" in reasons[broken["id"]]
    assert result.stored == 1
