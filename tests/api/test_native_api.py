"""The native JSON API: the directory through HTTP, with the same access rules as the CLI."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from ..conftest import BACKENDS, Community


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run on SQLite and on PostgreSQL."""
    return str(request.param)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_openapi_schema_documents_the_api(client: TestClient) -> None:
    """The OpenAPI schema lists the native endpoints and the bearer scheme."""
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/orgs",
        "/api/v1/orgs/{org}/tokens",
        "/api/v1/groups",
        "/api/v1/groups/{group}/members",
        "/api/v1/tokens/{token_id}",
    ):
        assert path in schema["paths"], path
    assert any(
        s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values()
    )


def test_whoami(client: TestClient, community: Community) -> None:
    """whoami names the org, the role and the groups of the token."""
    me = client.get("/api/v1/whoami", headers=bearer(community.token("B", "reader"))).json()
    assert me == {
        "kind": "org",
        "org": "Org B",
        "identity_id": community.orgs["B"].identity_id,
        "role": "reader",
        "groups": ["AB group"],
    }
    assert client.get("/api/v1/whoami").status_code == 401


def test_operator_adds_orgs_members_cannot(client: TestClient, community: Community) -> None:
    """Only the operator adds organizations; a duplicate name is a 409."""
    made = client.post(
        "/api/v1/orgs", json={"name": "Org D"}, headers=bearer(community.token("operator"))
    )
    assert made.status_code == 201
    assert made.json()["identity_id"].startswith("identity--")
    again = client.post(
        "/api/v1/orgs", json={"name": "Org D"}, headers=bearer(community.token("operator"))
    )
    assert again.status_code == 409
    denied = client.post(
        "/api/v1/orgs", json={"name": "Org E"}, headers=bearer(community.token("A", "admin"))
    )
    assert denied.status_code == 403
    names = [
        o["name"] for o in client.get("/api/v1/orgs", headers=bearer(community.token("A"))).json()
    ]
    assert "Org D" in names
    guest = client.get("/api/v1/orgs", headers=bearer(community.token("G")))
    assert guest.status_code == 403


def test_org_admin_manages_own_tokens_only(client: TestClient, community: Community) -> None:
    """An org admin creates, lists and revokes its org's tokens; not another org's."""
    admin = bearer(community.token("A", "admin"))
    created = client.post("/api/v1/orgs/Org A/tokens", json={"role": "reader"}, headers=admin)
    assert created.status_code == 201
    secret = created.json()["token"]
    assert client.get("/api/v1/whoami", headers=bearer(secret)).json()["role"] == "reader"
    listed = client.get("/api/v1/orgs/Org A/tokens", headers=admin).json()
    assert all("token" not in t for t in listed)
    assert client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=admin).status_code == 200
    assert client.get("/api/v1/whoami", headers=bearer(secret)).status_code == 401
    # another org's tokens, or one's own with a non-admin token: as if there were no such org
    assert client.get("/api/v1/orgs/Org B/tokens", headers=admin).status_code == 404
    publisher = bearer(community.token("A", "publisher"))
    assert client.post("/api/v1/orgs/Org A/tokens", json={}, headers=publisher).status_code == 404


def test_groups_are_managed_by_owner_admins(client: TestClient, community: Community) -> None:
    """A member admin creates a group, adds a member; others cannot change or even see it."""
    admin_c = bearer(community.token("C", "admin"))
    made = client.post(
        "/api/v1/groups", json={"name": "C-A channel", "owner": "Org C"}, headers=admin_c
    )
    assert made.status_code == 201
    added = client.post(
        "/api/v1/groups/C-A channel/members", json={"org": "Org A"}, headers=admin_c
    )
    assert added.json()["members"] == ["Org A", "Org C"]
    admin_a = bearer(community.token("A", "admin"))
    tried = client.post(
        "/api/v1/groups/C-A channel/members", json={"org": "Org B"}, headers=admin_a
    )
    assert tried.status_code == 403
    admin_b = bearer(community.token("B", "admin"))
    hidden = client.post(
        "/api/v1/groups/C-A channel/members", json={"org": "Org B"}, headers=admin_b
    )
    assert hidden.status_code == 404
    assert "C-A channel" not in [
        g["name"] for g in client.get("/api/v1/groups", headers=admin_b).json()
    ]
    as_other = client.post("/api/v1/groups", json={"name": "X", "owner": "Org A"}, headers=admin_c)
    assert as_other.status_code == 403


def test_validation_errors_use_the_error_body(client: TestClient, community: Community) -> None:
    """A malformed native request is a 400 with the TAXII-style error body, not a 422."""
    response = client.post(
        "/api/v1/orgs", json={"name": ""}, headers=bearer(community.token("operator"))
    )
    assert response.status_code == 400
    assert response.json()["http_status"] == "400"
