"""TAXII 2.1 behaviour over HTTP: resources, versions, headers, status, delete, defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tabadol.node.node import open_node
from tabadol.usecases.membership import api_tokens, organizations, principals
from tabadol.usecases.publishing.relayed import NEW_VERSION_REFUSAL
from tabadol.web.app import create_app
from tabadol.web.media import STIX_21, TAXII_21

from ..conftest import BACKENDS, Community, StepClock, make_indicator


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run on SQLite and on PostgreSQL."""
    return str(request.param)


GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


def post(client: TestClient, com: Community, title: str, objects: list, org: str = "A") -> dict:
    response = client.post(
        f"/taxii2/root/collections/{com.collections[title]}/objects/",
        content=json.dumps({"objects": objects}),
        headers={**com.auth(org), "Content-Type": TAXII_21},
    )
    assert response.status_code == 202, response.text
    assert response.headers["content-type"] == TAXII_21
    return response.json()


def get(client: TestClient, com: Community, title: str, suffix: str = "", org: str = "A", **params):  # type: ignore[no-untyped-def]
    return client.get(
        f"/taxii2/root/collections/{com.collections[title]}/{suffix}",
        params=params,
        headers=com.auth(org),
    )


def three_versions(stix_id: str | None = None) -> list[dict]:
    first = make_indicator(modified="2026-01-01T00:00:00.000Z")
    stix_id = stix_id or first["id"]
    return [
        {**first, "id": stix_id, "modified": stamp}
        for stamp in (
            "2026-01-03T00:00:00.000Z",
            "2026-01-01T00:00:00.000Z",
            "2026-01-02T00:00:00.000Z",
        )
    ]


def test_discovery_and_api_root(client: TestClient, community: Community) -> None:
    """Discovery points at the API root, which announces TAXII 2.1 and the size limit."""
    disco = client.get("/taxii2/", headers=community.auth("A")).json()
    assert disco["default"] == disco["api_roots"][0]
    assert disco["api_roots"][0].endswith("/taxii2/root/")
    root = client.get("/taxii2/root/", headers=community.auth("A")).json()
    assert root["versions"] == [TAXII_21]
    assert root["max_content_length"] == community.node.settings.max_request_bytes


def test_collections_are_the_audience_channels(client: TestClient, community: Community) -> None:
    """Member A lists members, public, its own channel and its group; a reader cannot write."""
    listed = client.get("/taxii2/root/collections/", headers=community.auth("A")).json()
    titles = {c["title"]: c for c in listed["collections"]}
    assert set(titles) == {"members", "public", "Org A", "AB group"}
    assert all(c["media_types"] == [STIX_21] for c in titles.values())
    as_reader = client.get("/taxii2/root/collections/", headers=community.auth("A", "reader"))
    assert {c["can_write"] for c in as_reader.json()["collections"]} == {False}
    one = get(client, community, "AB group").json()
    assert one == titles["AB group"]


def test_versions_first_last_all(client: TestClient, community: Community) -> None:
    """Versions posted out of order: last/first/all/timestamp select the right ones."""
    versions = three_versions()
    stix_id = versions[0]["id"]
    assert post(client, community, "members", versions)["success_count"] == 3

    def modified(**params: str) -> list[str]:
        body = get(client, community, "members", f"objects/{stix_id}/", **params).json()
        return sorted(o["modified"] for o in body["objects"])

    assert modified() == ["2026-01-03T00:00:00.000Z"]
    assert modified(**{"match[version]": "first"}) == ["2026-01-01T00:00:00.000Z"]
    assert len(modified(**{"match[version]": "all"})) == 3
    assert modified(**{"match[version]": "first,last"}) == [
        "2026-01-01T00:00:00.000Z",
        "2026-01-03T00:00:00.000Z",
    ]
    assert modified(**{"match[version]": "2026-01-02T00:00:00Z"}) == ["2026-01-02T00:00:00.000Z"]
    listed = get(client, community, "members", f"objects/{stix_id}/versions/").json()
    assert sorted(listed["versions"]) == [
        "2026-01-01T00:00:00.000Z",
        "2026-01-02T00:00:00.000Z",
        "2026-01-03T00:00:00.000Z",
    ]


def test_repost_is_idempotent(client: TestClient, community: Community) -> None:
    """Posting the same version twice stores it once; both posts report success."""
    obj = make_indicator()
    first = post(client, community, "members", [obj])
    again = post(client, community, "members", [obj, obj])
    assert first["successes"][0]["message"] == "stored"
    assert again["success_count"] == 2
    assert {s["message"] for s in again["successes"]} == {"this version was already stored"}
    body = get(client, community, "members", f"objects/{obj['id']}/versions/").json()
    assert len(body["versions"]) == 1


def test_date_added_headers_and_paging(client: TestClient, community: Community) -> None:
    """Pages carry X-TAXII-Date-Added-First/Last; `next` continues exactly after the last."""
    objs = [make_indicator() for _ in range(5)]
    post(client, community, "members", objs)
    first = get(client, community, "members", "objects/", limit="2", **{"match[type]": "indicator"})
    body = first.json()
    assert body["more"] is True
    assert first.headers["X-TAXII-Date-Added-First"] < first.headers["X-TAXII-Date-Added-Last"]
    seen = [o["id"] for o in body["objects"]]
    while body["more"]:
        page = get(
            client,
            community,
            "members",
            "objects/",
            limit="2",
            next=body["next"],
            **{"match[type]": "indicator"},
        )
        body = page.json()
        seen += [o["id"] for o in body.get("objects", [])]
    assert seen == [o["id"] for o in objs]
    added = get(
        client,
        community,
        "members",
        "objects/",
        added_after=first.headers["X-TAXII-Date-Added-Last"],
        **{"match[type]": "indicator"},
    ).json()
    assert [o["id"] for o in added["objects"]] == [o["id"] for o in objs[2:]]


def test_next_token_is_bound_to_its_filters(client: TestClient, community: Community) -> None:
    """A `next` token reused with other filters is refused instead of skipping objects."""
    post(client, community, "members", [make_indicator() for _ in range(3)])
    body = get(client, community, "members", "objects/", limit="1").json()
    other = get(
        client,
        community,
        "members",
        "objects/",
        limit="1",
        next=body["next"],
        **{"match[type]": "malware"},
    )
    assert other.status_code == 400


def test_manifest_records(client: TestClient, community: Community) -> None:
    """Manifest entries carry id, date_added, version and the STIX media type."""
    obj = make_indicator()
    post(client, community, "members", [obj])
    body = get(client, community, "members", "manifest/", **{"match[id]": obj["id"]}).json()
    (record,) = body["objects"]
    assert record["id"] == obj["id"]
    assert record["version"] == obj["modified"]
    assert record["media_type"] == STIX_21
    assert record["date_added"].endswith("Z")


def test_status_is_private_to_the_poster(client: TestClient, community: Community) -> None:
    """The poster reads its status; another member gets the same 404 as for a missing one."""
    status = post(client, community, "members", [make_indicator()])
    mine = client.get(f"/taxii2/root/status/{status['id']}/", headers=community.auth("A"))
    assert mine.json() == status
    theirs = client.get(f"/taxii2/root/status/{status['id']}/", headers=community.auth("B"))
    missing = client.get(
        "/taxii2/root/status/00000000-0000-4000-8000-000000000000/", headers=community.auth("B")
    )
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_delete_removes_versions(client: TestClient, community: Community) -> None:
    """DELETE with match[version] removes that version; first/last follow; then all go."""
    versions = three_versions()
    stix_id = versions[0]["id"]
    post(client, community, "members", versions)
    url = f"/taxii2/root/collections/{community.collections['members']}/objects/{stix_id}/"
    gone = client.delete(url, params={"match[version]": "last"}, headers=community.auth("A"))
    assert gone.status_code == 200
    latest = get(client, community, "members", f"objects/{stix_id}/").json()
    assert latest["objects"][0]["modified"] == "2026-01-02T00:00:00.000Z"
    assert client.delete(url, headers=community.auth("B")).status_code == 403
    assert client.delete(url, headers=community.auth("A")).status_code == 200
    assert get(client, community, "members", f"objects/{stix_id}/").status_code == 404


def test_unmarked_object_takes_the_channel_default(
    client: TestClient, community: Community
) -> None:
    """Unmarked objects get GREEN in members and AMBER+STRICT in an org channel, recorded."""
    in_members, in_own = make_indicator(), make_indicator()
    post(client, community, "members", [in_members])
    post(client, community, "Org A", [in_own])
    got = get(client, community, "members", f"objects/{in_members['id']}/").json()["objects"][0]
    assert got["object_marking_refs"] == [GREEN]
    own = get(client, community, "Org A", f"objects/{in_own['id']}/").json()["objects"][0]
    assert own["object_marking_refs"] == [AMBER_STRICT]


def test_red_may_go_to_a_group_but_not_to_members(client: TestClient, community: Community) -> None:
    """TLP:RED is accepted in a group channel and refused, with a reason, in members."""
    red = make_indicator(marking=RED)
    refused = post(client, community, "members", [red])
    assert refused["failure_count"] == 1
    assert "TLP:RED" in refused["failures"][0]["message"]
    accepted = post(client, community, "AB group", [red])
    assert accepted["success_count"] == 1


def test_limit_is_clamped_to_the_maximum(data_dir: Path) -> None:
    """A limit above page_size_max is served as page_size_max, with `more` set."""
    with open_node(data_dir, clock=StepClock(), page_size_max=2) as node:
        organizations.add_org(node, "Solo")
        _, secret = api_tokens.create_token(node, principals.OPERATOR, "Solo", "publisher")
        members = next(c.uuid for c in node.store.list_collections() if c.title == "members")
        headers = {"Authorization": f"Bearer {secret}", "Content-Type": TAXII_21}
        with TestClient(create_app(lambda: node)) as client:
            client.post(
                f"/taxii2/root/collections/{members}/objects/",
                content=json.dumps({"objects": [make_indicator() for _ in range(3)]}),
                headers=headers,
            )
            body = client.get(
                f"/taxii2/root/collections/{members}/objects/?limit=100", headers=headers
            ).json()
    assert len(body["objects"]) == 2
    assert body["more"] is True


@pytest.mark.parametrize("enabled", [True, False], ids=["anonymous on", "anonymous off"])
def test_anonymous_reads_public_only_when_enabled(data_dir: Path, enabled: bool) -> None:
    """With anonymous_public_read the public channel is readable without a token, nothing else."""
    with (
        open_node(data_dir, clock=StepClock(), anonymous_public_read=enabled) as node,
        TestClient(create_app(lambda: node)) as client,
    ):
        response = client.get("/taxii2/root/collections/", headers={"Accept": TAXII_21})
    if not enabled:
        assert response.status_code == 401
        return
    titles = [c["title"] for c in response.json()["collections"]]
    assert titles == ["public"]


def test_another_org_posting_a_new_version_is_refused(
    client: TestClient, community: Community
) -> None:
    """B posting a new version of A's object is told the id belongs to another publisher
    here (an identical copy is another matter: tests/api/test_relayed_copies.py)."""
    obj = make_indicator()
    post(client, community, "members", [obj], org="A")
    newer = {**obj, "modified": "2026-02-01T00:00:00.000Z"}
    status = post(client, community, "members", [newer], org="B")
    assert status["success_count"] == 0
    assert status["failures"][0]["message"] == NEW_VERSION_REFUSAL
