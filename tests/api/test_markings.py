"""Markings over HTTP (issue 13, findings 2 and 3): the standard TLP marking-definitions are
the node's, served as their specifications define them and never a member's; a granular TLP
bounds the whole object as an object-level one does."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import stix2
from starlette.testclient import TestClient
from stix2validator import ValidationOptions, validate_instance

from tabadol.domain.filters import ObjectFilter
from tabadol.domain.model import Role
from tabadol.domain.sealed import wrapper_id
from tabadol.domain.tlp import STANDARD_MARKINGS, TLP, TLP2_MARKING_IDS
from tabadol.usecases.membership.principals import org_principal
from tabadol.usecases.reading import read
from tabadol.web.media import TAXII_21

from ..conftest import BACKENDS, Community


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run on SQLite and on PostgreSQL."""
    return str(request.param)


_TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
# TLP 2.0 as the OASIS documents publish them (cti-stix-common-objects,
# extension-definition-specifications/tlp-2.0): written out here, not derived from the code.
_OASIS_TLP2 = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


def oasis_tlp2(level: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": _OASIS_TLP2[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{level.upper()}",
        "extensions": {_TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def stix2_tlp1() -> list[dict[str, Any]]:
    """The TLP 1.0 definitions as the reference library holds them."""
    constants = (stix2.TLP_WHITE, stix2.TLP_GREEN, stix2.TLP_AMBER, stix2.TLP_RED)
    return [json.loads(c.serialize()) for c in constants]


STANDARD = [*stix2_tlp1(), *(oasis_tlp2(level) for level in _OASIS_TLP2)]
GREEN2 = oasis_tlp2("green")
RED2 = TLP2_MARKING_IDS[TLP.RED]
STRICT = ValidationOptions(version="2.1", strict=True)


def post(client: TestClient, com: Community, title: str, objects: list[Any], org: str) -> Any:
    response = client.post(
        f"/taxii2/root/collections/{com.collections[title]}/objects/",
        content=json.dumps({"objects": objects}),
        headers={**com.auth(org), "Content-Type": TAXII_21},
    )
    assert response.status_code == 202, response.text
    return response.json()


def get(client: TestClient, com: Community, title: str, suffix: str, org: str) -> Any:
    return client.get(
        f"/taxii2/root/collections/{com.collections[title]}/{suffix}", headers=com.auth(org)
    )


def note(content: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "content": content,
        "abstract": "an abstract",
        "object_refs": [f"indicator--{uuid.uuid4()}"],
        **extra,
    }


def red_part(selector: str = "content") -> list[dict[str, Any]]:
    return [{"marking_ref": RED2, "selectors": [selector]}]


# --- the standard markings: the node's -------------------------------------------------------
def test_the_nodes_markings_are_the_specifications_own() -> None:
    """The nine constants are the stix2 package's TLP 1.0 objects and the OASIS TLP 2.0 ones,
    and each parses with stix2's defaults and passes stix2-validator's strict mode."""
    assert {obj["id"]: obj for obj in STANDARD} == STANDARD_MARKINGS
    for obj in STANDARD_MARKINGS.values():
        stix2.parse(obj, allow_custom=False)
        result = validate_instance(obj, STRICT)
        assert result.is_valid, (obj["name"], [str(e) for e in result.errors])


def test_two_members_post_the_standard_marking_into_one_collection(
    client: TestClient, community: Community
) -> None:
    """misp-stix puts the TLP marking in every event: each member's post of it succeeds,
    again and in any key order, and stores nothing of theirs."""
    reordered = dict(reversed(list(GREEN2.items())))
    for org, obj in (("A", GREEN2), ("B", reordered), ("A", GREEN2), ("C", stix2_tlp1()[1])):
        status = post(client, community, "members", [obj, note(f"by {org}")], org)
        assert status["status"] == "complete", status
        assert status["success_count"] == 2, status
        assert status["failure_count"] == 0, status
        assert any("standard TLP" in s.get("message", "") for s in status["successes"])
    listed = get(client, community, "members", "objects/?match[type]=marking-definition", "C")
    assert listed.json().get("objects", []) == []  # stored nothing


@pytest.mark.parametrize("title", ["members", "public", "Org A", "AB group"])
def test_readers_resolve_the_standard_markings_in_every_readable_collection(
    client: TestClient, community: Community, title: str
) -> None:
    """By id, in any collection the reader can read, each definition comes back exactly as
    its specification writes it (never posted by anyone here)."""
    for obj in STANDARD:
        response = get(client, community, title, f"objects/{obj['id']}/", "A")
        assert response.status_code == 200, response.text
        (served,) = response.json()["objects"]
        assert served == obj
        stix2.parse(served, allow_custom=False)
        assert validate_instance(served, STRICT).is_valid
        versions = get(client, community, title, f"objects/{obj['id']}/versions/", "A")
        assert versions.json()["versions"] == [obj["created"]]
    # a collection the reader cannot read answers as before: not found
    assert get(client, community, "Org A", f"objects/{RED2}/", "C").status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"name": "TLP:CLEAR"},  # the TLP:RED id, renamed
        {"created_by_ref": "identity--0b5cbc68-5d2d-4ef6-8a6b-c35c5d4a8f4b"},
        {"extensions": {_TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "x"}}},
        {"x_note": "mine"},
    ],
)  # fmt: skip
def test_a_standard_id_with_other_content_is_refused(
    client: TestClient, community: Community, change: dict[str, Any]
) -> None:
    """A marking-definition reusing a standard id with anything else is refused with its
    reason; readers still get the specification's object."""
    forged = {**oasis_tlp2("red"), **change}
    status = post(client, community, "members", [forged], "A")
    assert status["failure_count"] == 1, status
    assert status["success_count"] == 0, status
    assert "standard TLP:RED marking-definition" in status["failures"][0]["message"]
    served = get(client, community, "members", f"objects/{RED2}/", "B").json()["objects"]
    assert served == [oasis_tlp2("red")]


def test_a_stored_copy_of_a_standard_marking_is_served_as_the_spec_writes_it(
    client: TestClient, community: Community
) -> None:
    """A copy stored under a member before the node owned the markings (written here straight
    through the store) is listed as the specification's object, not as the member signed it."""
    from tabadol.storage.contract import NewVersion

    node = community.node
    members = next(c for c in node.store.list_collections() if c.title == "members")
    forged = {**oasis_tlp2("red"), "name": "TLP:CLEAR", "created_by_ref": "identity--x"}
    version = NewVersion(
        stix_id=RED2,
        type="marking-definition",
        spec_version="2.1",
        version_us=1_664_582_400_000_000,
        created_by_ref=None,
        tlp="",
        tlp_defaulted=False,
        body=json.dumps(forged).encode(),
        sealed=False,
        search_body="",
        search_stems="",
        observables=frozenset(),
    )
    node.store.write_versions(members.id, community.orgs["A"].id, [version], node.clock())
    listed = get(client, community, "members", "objects/?match[type]=marking-definition", "B")
    assert listed.json()["objects"] == [oasis_tlp2("red")]


# --- granular markings bound the object --------------------------------------------------------
@pytest.mark.parametrize(
    ("title", "marking", "label"),
    [
        ("members", RED2, "TLP:RED"),
        ("public", RED2, "TLP:RED"),
        ("members", TLP2_MARKING_IDS[TLP.AMBER_STRICT], "TLP:AMBER+STRICT"),
        ("public", TLP2_MARKING_IDS[TLP.GREEN], "TLP:GREEN"),
        ("members", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED"),
    ],
)
def test_a_granular_tlp_beyond_the_audience_is_refused(
    client: TestClient, community: Community, title: str, marking: str, label: str
) -> None:
    """An object with a granular marking stricter than its channel allows is refused as an
    object-level one is, and nothing of it reaches the index, TAXII reads or the feed."""
    word = f"zq{uuid.uuid4().hex[:10]}"
    obj = note(
        f"secret {word}", granular_markings=[{"marking_ref": marking, "selectors": ["content"]}]
    )
    status = post(client, community, title, [obj], "A")
    assert status["failure_count"] == 1, status
    assert (
        f"{label} may not be shared with the audience {title!r}"
        in (status["failures"][0]["message"])
    )
    for org in "ABC":
        assert get(client, community, title, f"objects/{obj['id']}/", org).status_code == 404
        search = client.get("/api/v1/search", params={"q": word}, headers=community.auth(org))
        assert search.json()["hits"] == []
    changes = client.get("/api/v1/changes", headers=community.auth("B"))
    assert obj["id"] not in changes.text


def test_a_granular_red_part_seals_the_whole_object(
    client: TestClient, community: Community
) -> None:
    """In a group channel a TLP:RED part makes a TLP:RED item: sealed to the group, not
    indexed, out of reach of every other org; the object-level default stays the channel's."""
    node = community.node
    word = f"zq{uuid.uuid4().hex[:10]}"
    obj = note(f"secret {word}", granular_markings=red_part())
    status = post(client, community, "AB group", [obj], "A")
    assert status["success_count"] == 1, status
    principal = org_principal(node, community.orgs["B"], Role.READER)
    vis = read.visible(node, principal)
    sealed_id = wrapper_id(obj["id"])  # stored and served as a tabadol-sealed item
    (row,) = node.store.query_objects(vis, ObjectFilter(ids=frozenset({sealed_id})), None, 5)
    assert row.sealed
    assert row.tlp == "TLP:RED"
    assert word.encode() not in row.body
    for org in "ABC":
        search = client.get("/api/v1/search", params={"q": word}, headers=community.auth(org))
        assert search.json()["hits"] == []
    for org in ("C", "G"):
        assert get(client, community, "AB group", f"objects/{sealed_id}/", org).status_code == 404
        changes = client.get("/api/v1/changes", headers=community.auth(org))
        assert obj["id"].partition("--")[2] not in changes.text
    (opened,) = get(client, community, "AB group", f"objects/{sealed_id}/", "B").json()["objects"]
    assert opened["content"] == f"secret {word}"
    assert opened["granular_markings"] == red_part()
    assert opened["object_marking_refs"] == [TLP.AMBER.marking_id]  # the group's default


@pytest.mark.parametrize(
    "granular",
    [
        [],
        [{"marking_ref": RED2}],
        [{"marking_ref": RED2, "selectors": []}],
        [{"marking_ref": f"identity--{uuid.uuid4()}", "selectors": ["content"]}],
        [{"selectors": ["content"]}],
        ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],
    ],
)  # fmt: skip
def test_malformed_granular_markings_are_refused(
    client: TestClient, community: Community, granular: Any
) -> None:
    """A granular marking the bound could not read is refused, not stored unbounded."""
    status = post(client, community, "members", [note("x", granular_markings=granular)], "A")
    assert status["failure_count"] == 1, status
    assert "granular" in status["failures"][0]["message"]
