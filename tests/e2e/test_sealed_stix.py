"""Sealed items are valid STIX 2.1 for every reader (issue 13, finding 7), through a real
`tabadol serve`: a recipient gets the opened object, any other member of the audience the
`tabadol-sealed` item, and generic clients (stix2 without custom content, stix2-validator in
strict mode, taxii2-client with stix2's TAXIICollectionSource) parse everything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import stix2
from taxii2client.v21 import ApiRoot

from tabadol.domain.extensions import SEALED_EXTENSION, SEALED_TYPE
from tabadol.domain.model import Role
from tabadol.domain.sealed import is_sealed, wrapper_id
from tabadol.domain.tlp import TLP
from tabadol.node.node import open_node
from tabadol.usecases.membership import lookup, sharing_groups
from tabadol.usecases.membership.principals import OPERATOR, org_principal
from tabadol.usecases.publishing.publish import publish_objects
from tabadol.web.media import TAXII_21

from ..conftest import Community, LiveServer, assert_strict_stix, build_community, stix_id
from .test_taxii2_client import _bearer

STAMP = "2026-01-01T00:00:00.000Z"


def _indicator(marking: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id("indicator"),
        "created": STAMP,
        "modified": STAMP,
        "name": "staging server",
        "description": "Hosts the second stage of the intrusion.",
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '198.51.100.23']",
        "pattern_type": "stix",
        "valid_from": STAMP,
        "object_marking_refs": [marking],
    }


def _report(refs: list[str]) -> dict[str, Any]:
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": stix_id("report"),
        "created": STAMP,
        "modified": STAMP,
        "name": "Intrusion at the ministry",
        "description": "گزارش محرمانه: نفوذ به شبکه‌ی وزارت",
        "report_types": ["attack-pattern"],
        "published": STAMP,
        "object_refs": refs,
        "object_marking_refs": [TLP.RED.marking_id],
    }


Served = tuple[LiveServer, Community, dict[str, dict[str, Any]]]


@pytest.fixture
def served(data_dir: Path, live_server_factory: Callable[[Path], LiveServer]) -> Served:
    """A's RED report and indicator (sealed to A and B) and an AMBER indicator in clear in
    the AB group; C joins the group afterwards, so it reads the sealed items unopened."""
    red = _indicator(TLP.RED.marking_id)
    items = {"red": red, "report": _report([red["id"]]), "amber": _indicator(TLP.AMBER.marking_id)}
    with open_node(data_dir) as node:
        com = build_community(node)
        group = next(c for c in node.store.list_collections() if c.title == "AB group")
        principal = org_principal(node, lookup.require_org(node, "Org A"), Role.PUBLISHER)
        status = publish_objects(node, principal, group, list(items.values()))
        assert not status.failures, status.failures
        sharing_groups.add_group_member(node, OPERATOR, "AB group", "Org C", break_glass="test")
    return live_server_factory(data_dir), com, items


def _get(server: LiveServer, com: Community, who: str, tail: str) -> Any:
    url = f"{server.url}/taxii2/root/collections/{com.collections['AB group']}/{tail}"
    response = httpx.get(url, headers=com.auth(who, "reader"))
    assert response.status_code == 200, response.text
    return response.json()


def _objects(server: LiveServer, com: Community, who: str, tail: str = "") -> list[Any]:
    return list(_get(server, com, who, f"objects/{tail}")["objects"])


def test_recipients_and_other_members_read_strict_stix(served: Served) -> None:
    """A and B (recipients) get the opened report and indicator; C gets their
    `tabadol-sealed` items; each object either reads passes `stix2.parse(allow_custom=False)`
    and the strict validator, by list, by id and by versions."""
    server, com, items = served
    sealed_ids = {wrapper_id(items[k]["id"]) for k in ("red", "report")}
    for who in ("A", "B"):
        listed = _objects(server, com, who)
        assert {o["id"] for o in listed} == {o["id"] for o in items.values()}
        assert not any(is_sealed(o) for o in listed)
        (report,) = _objects(server, com, who, f"{wrapper_id(items['report']['id'])}/")
        assert report["description"] == items["report"]["description"]
        assert_strict_stix([*listed, report])
    listed = _objects(server, com, "C")
    assert {o["id"] for o in listed} == sealed_ids | {items["amber"]["id"]}
    for sealed in (o for o in listed if o["id"] in sealed_ids):
        assert sealed["type"] == SEALED_TYPE
        assert SEALED_EXTENSION in sealed["extensions"]
        assert "name" not in sealed
        assert not any(name.startswith("x_") for name in sealed)
        assert _objects(server, com, "C", f"{sealed['id']}/") == [sealed]
        versions = _get(server, com, "C", f"objects/{sealed['id']}/versions/")["versions"]
        assert versions == [sealed["modified"]]
    assert_strict_stix(listed)


@pytest.mark.parametrize("who", ["A", "C"])
def test_taxii2_client_and_stix2_collection_source_parse_a_collection_with_sealed_items(
    served: Served, who: str
) -> None:
    """stix2's TAXIICollectionSource over taxii2-client (no custom content allowed) parses
    the whole collection, for a recipient and for a member who is not one, and finds a
    sealed item by the id it is served under."""
    server, com, items = served
    api_root = ApiRoot(f"{server.url}/taxii2/root/", auth=_bearer(com.token(who, "reader")))
    (collection,) = [c for c in api_root.collections if c.title == "AB group"]
    source = stix2.TAXIICollectionSource(collection, allow_custom=False)
    parsed = source.query()
    assert len(parsed) == len(items)
    report_id = wrapper_id(items["report"]["id"])
    found = source.get(report_id)
    if who == "A":
        assert {o["id"] for o in parsed} == {o["id"] for o in items.values()}
        assert found is None  # the node served the opened report, whose id is the report's
    else:
        assert sum(1 for o in parsed if o["type"] == SEALED_TYPE) == 2
        assert found is not None
        assert found["sealed_ref"] == items["report"]["id"]
    manifest = collection.get_manifest()
    assert {o["id"] for o in manifest["objects"]} >= {report_id}
    assert manifest["objects"]  # the manifest names the item by its stored id, for both
    headers = {"Authorization": f"Bearer {com.token(who)}", "Accept": TAXII_21}
    plain = httpx.get(f"{collection.url}objects/{items['report']['id']}/", headers=headers)
    (by_own_id,) = plain.json()["objects"]  # the report's own id finds its sealed item too
    assert by_own_id["id"] == (items["report"]["id"] if who == "A" else report_id)
