"""The native API's people routes over real HTTP to a served node: every route, and every
refusal — readers and publishers do not manage people, another org's admin neither sees
nor touches ours (nor learns which addresses exist elsewhere), the operator names a reason,
personal tokens stay within their person's role and lifetime, and a disabled person's
token and open stream end at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tabadol.domain.errors import Forbidden, InvalidInput
from tabadol.node.node import Node, init_node, open_node
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.people import accounts, enrolment, personal_tokens, sessions, sign_in

from ..conftest import LiveServer

PASSWORD = "correct horse battery staple"
CHEAP = {"argon2_time_cost": 1, "argon2_memory_kib": 8, "argon2_parallelism": 1}
ALI = "ali@a.example"
SETUP = "setting up the test"


@dataclass
class Site:
    """A served node with orgs A and B, a token per role of A, B's admin, the operator's."""

    data: Path
    url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def call(self, who: str, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens.get(who, who)}"}
        return httpx.request(method, f"{self.url}/api/v1{path}", headers=headers, **kw)

    def node(self) -> Any:
        return open_node(self.data, **CHEAP)


@pytest.fixture
def site(tmp_path: Path, live_server_factory: Callable[..., LiveServer]) -> Site:
    data = tmp_path / "node"
    init_node(data)
    made = Site(data, "")
    with made.node() as node:
        for name in ("Org A", "Org B"):
            organizations.add_org(node, name)
        for who, org, role in [
            ("reader", "Org A", "reader"),
            ("publisher", "Org A", "publisher"),
            ("admin", "Org A", "admin"),
            ("other", "Org B", "admin"),
            ("operator", None, "node-admin"),
        ]:
            reason = SETUP if org == "Org A" and role != "admin" else None
            _, made.tokens[who] = api_tokens.create_token(
                node, OPERATOR, org, role, break_glass=reason
            )
    made.url = live_server_factory(data).url
    return made


def enrolled(node: Node, email: str, role: str = "publisher", org: str = "Org A") -> None:
    made = accounts.invite(node, OPERATOR, org, email, role, break_glass=SETUP)
    enrolment.redeem(node, made.url.rsplit("/", 1)[1], PASSWORD)


def personal_token(node: Node, email: str, role: str, days: int = 30) -> str:
    """Signed in as the person would be, a personal token made from their session."""
    signed = sign_in.sign_in(node, email, PASSWORD, address="192.0.2.5")
    principal = sessions.session_principal(node, signed.secret)
    return personal_tokens.create_personal_token(node, principal, role, days, "script")[1]


def test_an_admin_manages_the_orgs_people_through_each_route(site: Site) -> None:
    people = "/orgs/Org A/people"
    made = site.call("admin", "POST", people, json={"email": "Ali@A.example", "role": "reader"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["person"]["email"] == ALI
    assert body["person"]["status"] == "invited"
    assert "/enrol/" in body["enrolment_url"]
    assert body["expires"]
    listed = site.call("admin", "GET", people).json()
    assert [(p["email"], p["role"], p["status"]) for p in listed] == [(ALI, "reader", "invited")]
    with site.node() as node:
        enrolment.redeem(node, body["enrolment_url"].rsplit("/", 1)[1], PASSWORD)
        signed = sign_in.sign_in(node, ALI, PASSWORD, address="192.0.2.9", user_agent="curl")
    one = site.call("admin", "GET", f"{people}/{ALI}").json()
    assert (one["status"], one["has_password"], one["factors"]) == ("active", True, [])
    assert one["last_sign_in"] is not None

    changed = site.call("admin", "PATCH", f"{people}/{ALI}", json={"role": "publisher"})
    assert changed.json()["role"] == "publisher"
    assert site.call("admin", "PATCH", f"{people}/{ALI}", json={}).status_code == 400
    both = {"role": "reader", "status": "disabled"}
    assert site.call("admin", "PATCH", f"{people}/{ALI}", json=both).status_code == 400

    listed_sessions = site.call("admin", "GET", f"{people}/{ALI}/sessions").json()
    assert [(s["id"], s["address"], s["revoked"]) for s in listed_sessions] == [
        (signed.session.id, "192.0.2.9", None)
    ]
    path = f"{people}/{ALI}/sessions/{signed.session.id}"
    assert site.call("admin", "DELETE", path).status_code == 204
    assert site.call("admin", "DELETE", path).status_code == 404  # ended already
    assert site.call("admin", "GET", f"{people}/{ALI}/sessions").json()[0]["revoked"]

    disabled = site.call("admin", "PATCH", f"{people}/{ALI}", json={"status": "disabled"})
    assert disabled.json()["status"] == "disabled"
    again = site.call("admin", "PATCH", f"{people}/{ALI}", json={"status": "disabled"})
    assert again.status_code == 409
    assert site.call("admin", "POST", f"{people}/{ALI}/reset").status_code == 409
    enabled = site.call("admin", "PATCH", f"{people}/{ALI}", json={"status": "active"})
    assert enabled.json()["status"] == "active"
    reset = site.call("admin", "POST", f"{people}/{ALI}/reset")
    assert reset.status_code == 200
    assert "/enrol/" in reset.json()["enrolment_url"]

    taken = site.call("admin", "POST", people, json={"email": ALI, "role": "reader"})
    assert taken.status_code == 409
    for bad in ({"email": "no-at-sign", "role": "reader"}, {"email": ALI, "role": "king"}):
        assert site.call("admin", "POST", people, json=bad).status_code == 400

    removed = site.call("admin", "DELETE", f"{people}/{ALI}")
    assert removed.status_code == 200
    assert removed.json()["email"] == ALI
    assert site.call("admin", "GET", f"{people}/{ALI}").status_code == 404
    assert site.call("admin", "GET", people).json() == []


ROUTES = [
    ("GET", "/orgs/{org}/people", None),
    ("POST", "/orgs/{org}/people", {"email": "new@a.example", "role": "reader"}),
    ("GET", "/orgs/{org}/people/{email}", None),
    ("PATCH", "/orgs/{org}/people/{email}", {"role": "reader"}),
    ("PATCH", "/orgs/{org}/people/{email}", {"status": "disabled"}),
    ("DELETE", "/orgs/{org}/people/{email}", None),
    ("POST", "/orgs/{org}/people/{email}/reset", None),
    ("GET", "/orgs/{org}/people/{email}/sessions", None),
    ("DELETE", "/orgs/{org}/people/{email}/sessions/1", None),
]


def _answer(site: Site, who: str, method: str, path: str, body: Any) -> tuple[int, Any]:
    answer = site.call(who, method, path, json=body)
    return answer.status_code, answer.json()


def test_readers_and_publishers_of_the_org_do_not_manage_its_people(site: Site) -> None:
    """Each route answers them what it answers for an org that does not exist, and nothing
    changes."""
    with site.node() as node:
        enrolled(node, ALI)
    for who in ("reader", "publisher"):
        for method, template, body in ROUTES:
            ours = template.format(org="Org A", email=ALI)
            none = template.format(org="No Such Org", email=ALI)
            got = _answer(site, who, method, ours, body)
            assert got[0] == 404, (who, method, ours, got)
            assert got == _answer(site, who, method, none, body)
    listed = site.call("admin", "GET", "/orgs/Org A/people").json()
    assert [(p["email"], p["role"], p["status"]) for p in listed] == [(ALI, "publisher", "active")]


def test_another_orgs_admin_neither_sees_nor_touches_ours(site: Site) -> None:
    """Org B's admin gets, for our org, the answer of an org that does not exist; and asking
    for our person under its own org, the answer of an address that exists nowhere — so no
    route tells it which addresses are taken elsewhere."""
    with site.node() as node:
        enrolled(node, ALI)
        enrolled(node, "bo@b.example", org="Org B")
    for method, template, body in ROUTES:
        if method == "POST" and template.endswith("/people"):
            continue  # inviting into B is B's own business (an address is unique on the node)
        ours = _answer(site, "other", method, template.format(org="Org A", email=ALI), body)
        assert ours[0] == 404, (method, template, ours)
        absent = template.format(org="No Such Org", email=ALI)
        assert ours == _answer(site, "other", method, absent, body)
        here = _answer(site, "other", method, template.format(org="Org B", email=ALI), body)
        nobody = template.format(org="Org B", email="nobody@a.example")
        assert here == _answer(site, "other", method, nobody, body), (method, template)
        assert here[0] == (404 if "{email}" in template else 200)
    listed = site.call("admin", "GET", "/orgs/Org A/people").json()
    assert [(p["email"], p["status"]) for p in listed] == [(ALI, "active")]


def test_the_operator_names_a_reason_for_an_org_that_has_admins(site: Site) -> None:
    """Org A has an admin: each change the operator makes to its people is refused (403,
    nothing written) without a reason and recorded, shown to the org's admins, with one.
    Reading the list needs none."""
    people = "/orgs/Org A/people"
    body = {"email": ALI, "role": "reader"}
    refused = site.call("operator", "POST", people, json=body)
    assert refused.status_code == 403
    assert "break-glass" in refused.json()["description"]
    assert site.call("admin", "GET", people).json() == []  # nothing was written
    made = site.call("operator", "POST", people, json={**body, "break_glass": "ticket 12"})
    assert made.status_code == 201
    with site.node() as node:
        enrolment.redeem(node, made.json()["enrolment_url"].rsplit("/", 1)[1], PASSWORD)
        signed = sign_in.sign_in(node, ALI, PASSWORD, address="192.0.2.5")
    assert site.call("operator", "GET", people).status_code == 200
    changes = [
        ("PATCH", f"{people}/{ALI}", {"role": "publisher"}),
        ("POST", f"{people}/{ALI}/reset", {}),
        ("DELETE", f"{people}/{ALI}/sessions/{signed.session.id}", None),
        ("PATCH", f"{people}/{ALI}", {"status": "disabled"}),
        ("DELETE", f"{people}/{ALI}", None),
    ]
    for method, path, change in changes:
        refused = site.call("operator", method, path, json=change)
        assert refused.status_code == 403, (method, path, refused.text)
    listed = site.call("admin", "GET", people).json()
    assert [(p["role"], p["status"]) for p in listed] == [("reader", "active")]
    for method, path, change in changes:
        reason = f"ticket for {method} {path}"
        if method == "DELETE":
            done = site.call("operator", method, path, params={"break_glass": reason})
        else:
            done = site.call("operator", method, path, json={**change, "break_glass": reason})
        assert done.status_code < 300, (method, path, done.text)
    steps = site.call("admin", "GET", "/orgs/Org A/break-glass").json()
    assert [s["act"] for s in steps] == [
        "person.invite",
        "person.role",
        "person.reset",
        "person.session.revoke",
        "person.disable",
        "person.remove",
    ]


def test_me_names_the_org_the_role_and_the_person(site: Site) -> None:
    org_token = site.call("admin", "GET", "/me").json()
    assert (org_token["org"], org_token["role"], org_token["person"]) == ("Org A", "admin", None)
    operator = site.call("operator", "GET", "/me").json()
    assert (operator["kind"], operator["org"], operator["person"]) == ("node-admin", None, None)
    with site.node() as node:
        enrolled(node, ALI, "publisher")
        secret = personal_token(node, ALI, "reader")
    mine = site.call(secret, "GET", "/me").json()
    assert (mine["org"], mine["role"], mine["person"]["email"]) == ("Org A", "reader", ALI)
    assert mine["session_id"] is None
    assert httpx.get(f"{site.url}/api/v1/me").status_code == 401


def test_personal_tokens_stay_within_their_persons_role_and_lifetime(site: Site) -> None:
    """Made from a session only (a token, personal or not, gets 403), never above the
    person's role, 1 to personal_token_max_days days; listed and revoked by their person,
    and acting with the person's current role when it drops."""
    with site.node() as node:
        enrolled(node, ALI, "publisher")
        signed = sign_in.sign_in(node, ALI, PASSWORD, address="192.0.2.5")
        principal = sessions.session_principal(node, signed.secret)
        with pytest.raises(Forbidden, match="at most yours"):
            personal_tokens.create_personal_token(node, principal, "admin", 30)
        for days in (0, node.settings.personal_token_max_days + 1):
            with pytest.raises(InvalidInput, match="expires in 1 to"):
                personal_tokens.create_personal_token(node, principal, "reader", days)
        token, secret = personal_tokens.create_personal_token(node, principal, "publisher", 30)
    body = {"role": "reader", "expires_in_days": 30}
    for who in ("admin", secret):  # an org token; a personal token (no session)
        refused = site.call(who, "POST", "/me/tokens", json=body)
        assert refused.status_code == 403, refused.text
    for days in (0, 3651, "soon"):
        bad = site.call(secret, "POST", "/me/tokens", json={**body, "expires_in_days": days})
        assert bad.status_code == 400, bad.text
    no_expiry = site.call(secret, "POST", "/me/tokens", json={"role": "reader"})
    assert no_expiry.status_code == 400
    assert site.call("admin", "GET", "/me/tokens").status_code == 403  # not a person
    listed = site.call(secret, "GET", "/me/tokens").json()
    assert [(t["id"], t["role"], t["expires"] is not None) for t in listed] == [
        (token.id, "publisher", True)
    ]

    site.call("admin", "PATCH", f"/orgs/Org A/people/{ALI}", json={"role": "reader"})
    assert site.call(secret, "GET", "/me").json()["role"] == "reader"  # lowered at once
    assert site.call(secret, "DELETE", "/me/tokens/999999").status_code == 404
    revoked = site.call(secret, "DELETE", f"/me/tokens/{token.id}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked"] is not None
    assert site.call(secret, "GET", "/me").status_code == 401


def test_a_disabled_persons_token_and_open_stream_end_at_once(site: Site) -> None:
    with site.node() as node:
        enrolled(node, ALI, "reader")
        secret = personal_token(node, ALI, "reader")
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.stream("GET", f"{site.url}/api/v1/stream", headers=headers, timeout=15) as stream:
        assert stream.status_code == 200
        path = f"/orgs/Org A/people/{ALI}"
        assert site.call("admin", "PATCH", path, json={"status": "disabled"}).status_code == 200
        list(stream.iter_lines())  # the stream ends (a read timeout would fail the test)
    refused = site.call(secret, "GET", "/me")
    assert refused.status_code == 401
    assert refused.json()["http_status"] == "401"
