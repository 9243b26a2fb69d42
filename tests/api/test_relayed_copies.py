"""The same object relayed by two members into one channel (issue 13): an identical copy is an
idempotent success that stores nothing; other content under the same version, a new version
of another member's object, or a sealed copy is refused with its reason. SQLite and
PostgreSQL answer the same."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from tabadol.domain.sealed import wrapper_id
from tabadol.domain.tlp import TLP
from tabadol.usecases.publishing.relayed import (
    NEW_VERSION_REFUSAL,
    RELAYED_MESSAGE,
    SEALED_REFUSAL,
)
from tabadol.web.media import TAXII_21

from ..conftest import BACKENDS, Community, make_indicator

PRODUCER = f"identity--{uuid.uuid4()}"  # a MISP org neither member is (a UUIDv4 producer)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run on SQLite and on PostgreSQL."""
    return str(request.param)


def post(client: TestClient, com: Community, org: str, objects: list[Any], title: str) -> Any:
    response = client.post(
        f"/taxii2/root/collections/{com.collections[title]}/objects/",
        content=json.dumps({"objects": objects}),
        headers={**com.auth(org), "Content-Type": TAXII_21},
    )
    assert response.status_code == 202, response.text
    return response.json()


def versions(client: TestClient, com: Community, org: str, stix_id: str, title: str) -> list[str]:
    response = client.get(
        f"/taxii2/root/collections/{com.collections[title]}/objects/{stix_id}/versions/",
        headers=com.auth(org),
    )
    assert response.status_code == 200, response.text
    return list(response.json()["versions"])


def relayed_objects() -> list[dict[str, Any]]:
    """A producer's indicator and the IP it names (an SCO: no timestamps, its content is its
    version), as a member's MISP export writes them."""
    ip = {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{uuid.uuid4()}"}
    ip["value"] = "198.51.100.7"
    return [make_indicator(created_by_ref=PRODUCER), ip]


def test_an_identical_copy_is_an_idempotent_success(
    client: TestClient, community: Community
) -> None:
    """Org B relays what Org A relayed: every object a success saying another member
    published it, nothing stored (one version, still Org A's: Org B may not delete it)."""
    objects = relayed_objects()
    first = post(client, community, "A", copy.deepcopy(objects), "members")
    assert first["success_count"] == 2
    again = post(client, community, "B", copy.deepcopy(objects), "members")
    assert again["failure_count"] == 0
    assert [s["message"] for s in again["successes"]] == [RELAYED_MESSAGE] * 2
    assert [s["version"] for s in again["successes"]] == [s["version"] for s in first["successes"]]
    for obj in objects:
        assert len(versions(client, community, "B", obj["id"], "members")) == 1
    url = f"/taxii2/root/collections/{community.collections['members']}/objects/{objects[0]['id']}/"
    assert client.delete(url, headers=community.auth("B")).status_code == 403
    assert client.get(url, headers=community.auth("B")).status_code == 200


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(
            lambda o: o.update(description="rewritten"),
            "other content (differs in: description)",
            id="same-version-other-content",
        ),
        pytest.param(
            lambda o: o.update(object_marking_refs=[TLP.AMBER.marking_id]),
            "other content (differs in: object_marking_refs)",
            id="same-version-other-marking",
        ),
        pytest.param(
            lambda o: o.update(modified="2026-02-02T00:00:00.000Z", description="rewritten"),
            NEW_VERSION_REFUSAL,
            id="new-version",
        ),
    ],
)
def test_another_content_is_refused_with_its_reason(
    client: TestClient, community: Community, change: Any, reason: str
) -> None:
    """Org B may not rewrite the object Org A published here, under its version or a new one;
    the reason names what differs, and Org A's version stays the only one."""
    indicator, ip = relayed_objects()
    post(client, community, "A", [copy.deepcopy(indicator), ip], "members")
    changed = copy.deepcopy(indicator)
    change(changed)
    status = post(client, community, "B", [changed], "members")
    (failure,) = status["failures"]
    assert failure["id"] == indicator["id"]
    assert reason in failure["message"]
    assert len(versions(client, community, "A", indicator["id"], "members")) == 1


def test_an_sco_with_other_content_is_refused(client: TestClient, community: Community) -> None:
    """An SCO has no version of its own: another value under Org A's id is refused."""
    _, ip = relayed_objects()
    post(client, community, "A", [ip], "members")
    status = post(client, community, "B", [{**ip, "value": "198.51.100.8"}], "members")
    (failure,) = status["failures"]
    assert "differs in: value" in failure["message"]


def test_a_publisher_reposting_an_sco_stores_no_new_version(
    client: TestClient, community: Community
) -> None:
    """Org A re-pushing the same event: its SCOs are already stored (one version each), as
    its timestamped objects are; a changed SCO is a new version."""
    _, ip = relayed_objects()
    post(client, community, "A", [ip], "members")
    again = post(client, community, "A", [ip], "members")
    assert [s["message"] for s in again["successes"]] == ["this version was already stored"]
    assert len(versions(client, community, "A", ip["id"], "members")) == 1
    post(client, community, "A", [{**ip, "value": "198.51.100.9"}], "members")
    assert len(versions(client, community, "A", ip["id"], "members")) == 2


def test_a_sealed_copy_cannot_be_compared(client: TestClient, community: Community) -> None:
    """In the AB group, an AMBER+STRICT object is sealed afresh by each publisher's node:
    Org B's copy of Org A's cannot be compared, and is refused saying so."""
    indicator = make_indicator(created_by_ref=PRODUCER, marking=TLP.AMBER_STRICT.marking_id)
    assert post(client, community, "A", [copy.deepcopy(indicator)], "AB group")["failures"] == []
    status = post(client, community, "B", [indicator], "AB group")
    (failure,) = status["failures"]
    assert failure["id"] == indicator["id"]  # as posted; the message names its sealed item
    assert failure["message"] == f"{SEALED_REFUSAL} (sealed: {wrapper_id(indicator['id'])})"
