"""An unmarked object takes the TLP of the container that lists it in the same envelope
(domain/containment.py): a MISP event's TLP reaches its attributes, which misp-stix leaves
unmarked, so a TLP:RED event never leaves its attributes at a channel's TLP:GREEN."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.testclient import TestClient

from tabadol.domain.containment import inherited_tlps
from tabadol.domain.tlp import TLP, TLP2_MARKING_IDS, strictest_tlp

from ..conftest import Community, make_indicator
from ..misp import misp_event, to_stix
from .test_relayed_copies import post

RED, AMBER, GREEN = (TLP2_MARKING_IDS[t] for t in (TLP.RED, TLP.AMBER, TLP.GREEN))


def _read(client: TestClient, com: Community, org: str, title: str) -> list[dict[str, Any]]:
    response = client.get(
        f"/taxii2/root/collections/{com.collections[title]}/objects/", headers=com.auth(org)
    )
    assert response.status_code == 200, response.text
    return list(response.json().get("objects", []))


def _container(refs: list[str], markings: list[str] | None) -> dict[str, Any]:
    report: dict[str, Any] = {
        "type": "report",
        "spec_version": "2.1",
        "id": f"report--{uuid.uuid4()}",
        "created": "2026-03-01T09:30:00.000Z",
        "modified": "2026-03-01T09:30:00.000Z",
        "name": "container",
        "published": "2026-03-01T09:30:00.000Z",
        "object_refs": refs,
    }
    if markings is not None:
        report["object_marking_refs"] = markings
    return report


def _listed(objects: list[dict[str, Any]]) -> set[str]:
    """Every id an object of the envelope lists in its object_refs."""
    return {ref for obj in objects for ref in obj.get("object_refs", [])}


def test_unmarked_objects_take_the_strictest_container_tlp_through_containers() -> None:
    unmarked, marked, nested = make_indicator(), make_indicator(), make_indicator()
    marked["object_marking_refs"] = [GREEN]
    inner = _container([nested["id"]], None)  # unmarked itself: passes on what it takes
    outer = _container([unmarked["id"], marked["id"], inner["id"]], [AMBER])
    red = _container([unmarked["id"]], [RED])
    taken = inherited_tlps([unmarked, marked, nested, inner, outer, red])
    assert taken[unmarked["id"]] is TLP.RED  # the strictest of the two containers
    assert taken[inner["id"]] is TLP.AMBER
    assert taken[nested["id"]] is TLP.AMBER
    assert marked["id"] not in taken  # its author's own marking is kept


def test_a_clear_container_lowers_nothing() -> None:
    unmarked = make_indicator()
    taken = inherited_tlps([unmarked, _container([unmarked["id"]], [TLP2_MARKING_IDS[TLP.CLEAR]])])
    assert taken.get(unmarked["id"], TLP.CLEAR) is TLP.CLEAR


def test_a_red_misp_event_is_refused_whole_in_members(
    client: TestClient, community: Community
) -> None:
    objects = to_stix(misp_event("red-members", "CERT Pardis", tlp="tlp:red"))
    listed = _listed(objects)
    status = post(client, community, "A", objects, "members")
    stored = [s["id"] for s in status.get("successes", []) if s.get("message") == "stored"]
    # none of the event's content is left behind at the channel's TLP:GREEN; only the MISP
    # org's identity, which the event names as its author but does not list, is stored
    assert stored
    assert not set(stored) & listed, stored
    reasons = {f["message"] for f in status["failures"]}
    assert any("listing it in this envelope" in r for r in reasons), reasons
    assert all("TLP:RED may not be shared" in r for r in reasons), reasons


def test_a_red_misp_event_in_a_group_is_red_throughout(
    client: TestClient, community: Community
) -> None:
    objects = to_stix(misp_event("red-group", "CERT Pardis", tlp="tlp:red"))
    status = post(client, community, "A", objects, "AB group")
    assert status["failure_count"] == 0, status["failures"]
    read = {o["id"]: o for o in _read(client, community, "B", "AB group")}  # opened by the node
    for obj in objects:
        if obj["id"] not in _listed(objects) and obj["type"] != "report":
            continue  # the author's identity and the standard marking: not the event's
        got = read[obj["id"]]
        assert strictest_tlp(got.get("object_marking_refs")) is TLP.RED, got
    outside = client.get(
        f"/taxii2/root/collections/{community.collections['AB group']}/objects/",
        headers=community.auth("C"),
    )
    assert outside.status_code == 404  # not C's channel at all
