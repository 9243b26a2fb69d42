"""A first pass over the main path: publish through TAXII, read it back."""

from __future__ import annotations

from starlette.testclient import TestClient

from tabadol.domain.extensions import PROVENANCE_EXTENSION
from tabadol.web.media import TAXII_21

from ..conftest import Community, make_indicator


def test_publish_then_read_back(client: TestClient, community: Community) -> None:
    """An indicator posted into `members` is read back by another member, marked GREEN, its
    authorship as posted (none) and its publisher in the node's provenance."""
    members = community.collections["members"]
    obj = make_indicator()
    headers = {**community.auth("A"), "Content-Type": TAXII_21}
    posted = client.post(
        f"/taxii2/root/collections/{members}/objects/", json={"objects": [obj]}, headers=headers
    )
    assert posted.status_code == 202, posted.text
    assert posted.json()["success_count"] == 1
    got = client.get(
        f"/taxii2/root/collections/{members}/objects/{obj['id']}/", headers=community.auth("B")
    )
    assert got.status_code == 200, got.text
    stored = got.json()["objects"][0]
    assert "created_by_ref" not in stored
    provenance = stored["extensions"][PROVENANCE_EXTENSION]
    assert provenance["publisher_ref"] == community.orgs["A"].identity_id
    assert stored["object_marking_refs"] == [
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    ]
