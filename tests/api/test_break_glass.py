"""The operator's power is bounded and visible (issue 14, finding 1): acting as an org that
has its own admins takes a break-glass step with a reason, audited in the transaction of the
act and shown to the org's admins until one of them acknowledges it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tabadol.usecases.membership import organizations
from tabadol.usecases.trust.audit import verify_log

from ..conftest import Community

REASON = "Org A's admin lost every token: ticket 4711"


def test_the_operator_mints_a_token_for_an_org_with_admins_only_with_a_reason(
    client: TestClient, community: Community
) -> None:
    """Without a reason the operator's token is refused (403, nothing created); with one the
    token is made, the step is in the audit log, and the org's admins see it, naming the
    token's prefix (to revoke it) — until one of them acknowledges it."""
    operator = {"Authorization": f"Bearer {community.token('operator')}"}
    admin = {"Authorization": f"Bearer {community.token('A', 'admin')}"}
    path = "/api/v1/orgs/Org A/tokens"
    before = client.get(path, headers=admin).json()
    refused = client.post(path, json={"role": "admin"}, headers=operator)
    assert refused.status_code == 403
    assert "break-glass" in refused.json()["description"]
    assert client.get(path, headers=admin).json() == before  # nothing was created

    made = client.post(path, json={"role": "admin", "break_glass": REASON}, headers=operator)
    assert made.status_code == 201, made.text
    steps = client.get("/api/v1/orgs/Org A/break-glass", headers=admin).json()
    assert [(s["act"], s["reason"], s["detail"]["prefix"]) for s in steps] == [
        ("token.create", REASON, made.json()["prefix"])
    ]
    assert steps[0]["actor"].startswith("node-admin/token:")
    minted = {"Authorization": f"Bearer {made.json()['token']}"}
    assert client.get("/api/v1/whoami", headers=minted).json()["org"] == "Org A"

    entry = steps[0]["entry"]
    ack = f"/api/v1/orgs/Org A/break-glass/{entry}/acknowledge"
    assert client.post(ack, headers=operator).status_code == 403  # not for the operator
    assert client.post(ack, headers=admin).status_code == 200
    assert client.get("/api/v1/orgs/Org A/break-glass", headers=admin).json() == []
    assert client.post(ack, headers=admin).status_code == 404  # acknowledged already
    node = community.node
    actions = [e.action for e in node.store.audit_entries(limit=10_000)]
    assert actions[-3:] == ["token.create", "break-glass", "break-glass.acknowledge"]
    assert verify_log(node).ok


def test_only_the_orgs_admins_see_its_break_glass_steps(
    client: TestClient, community: Community
) -> None:
    """Another org's admin, and the org's own publisher, get the answer of an org that does
    not exist; the operator sees the pending steps it took."""
    operator = {"Authorization": f"Bearer {community.token('operator')}"}
    made = client.post(
        "/api/v1/orgs/Org A/tokens",
        json={"role": "reader", "break_glass": REASON},
        headers=operator,
    )
    assert made.status_code == 201
    for who in (("B", "admin"), ("A", "publisher")):
        headers = {"Authorization": f"Bearer {community.token(*who)}"}
        seen = client.get("/api/v1/orgs/Org A/break-glass", headers=headers)
        missing = client.get("/api/v1/orgs/Nobody/break-glass", headers=headers)
        assert seen.status_code == missing.status_code == 404
        assert seen.json()["title"] == missing.json()["title"]
    listed = client.get("/api/v1/orgs/Org A/break-glass", headers=operator).json()
    assert [s["reason"] for s in listed] == [REASON]


def test_an_org_without_admins_needs_no_break_glass(
    client: TestClient, community: Community
) -> None:
    """The operator mints a new org's first tokens (its first admin included) plainly."""
    organizations.add_org(community.node, "Org New")
    operator = {"Authorization": f"Bearer {community.token('operator')}"}
    for role in ("publisher", "admin"):
        made = client.post("/api/v1/orgs/Org New/tokens", json={"role": role}, headers=operator)
        assert made.status_code == 201, made.text
    again = client.post("/api/v1/orgs/Org New/tokens", json={"role": "reader"}, headers=operator)
    assert again.status_code == 403  # now it has an admin of its own


def test_the_operator_changes_a_group_of_owners_with_admins_only_with_a_reason(
    client: TestClient, community: Community
) -> None:
    """Adding a reader to a group is acting as its owners: without a reason it is refused
    and changes nothing; with one, the owner's admins see the step."""
    operator = {"Authorization": f"Bearer {community.token('operator')}"}
    admin = {"Authorization": f"Bearer {community.token('A', 'admin')}"}
    path = "/api/v1/groups/AB group/members"
    refused = client.post(path, json={"org": "Org C"}, headers=operator)
    assert refused.status_code == 403
    groups = client.get("/api/v1/groups", headers=operator).json()
    assert "Org C" not in next(g for g in groups if g["name"] == "AB group")["members"]
    added = client.post(path, json={"org": "Org C", "break_glass": REASON}, headers=operator)
    assert added.status_code == 200
    assert "Org C" in added.json()["members"]
    steps = client.get("/api/v1/orgs/Org A/break-glass", headers=admin).json()
    assert [(s["act"], s["detail"]["group"]) for s in steps] == [("group.add-member", "AB group")]
    removed = client.delete(f"{path}/Org C", headers=operator)
    assert removed.status_code == 403
    removed = client.delete(f"{path}/Org C", params={"break_glass": REASON}, headers=operator)
    assert removed.status_code == 200


def test_an_orgs_own_admin_needs_no_break_glass_and_a_reason_may_not_hide_its_text(
    client: TestClient, community: Community
) -> None:
    """An org's admin mints its own tokens plainly; a reason holding bidi controls (which
    would show the admins another text than the one stored) is refused."""
    admin = {"Authorization": f"Bearer {community.token('A', 'admin')}"}
    operator = {"Authorization": f"Bearer {community.token('operator')}"}
    made = client.post("/api/v1/orgs/Org A/tokens", json={"role": "reader"}, headers=admin)
    assert made.status_code == 201
    hidden = client.post(
        "/api/v1/orgs/Org A/tokens",
        json={"role": "reader", "break_glass": "routine \u202ekcatta\u202c check"},
        headers=operator,
    )
    assert hidden.status_code == 400
    assert "U+202E" in hidden.json()["description"]
    assert client.get("/api/v1/orgs/Org A/break-glass", headers=admin).json() == []
