"""A person's whole life over real HTTP to a real `tabadol serve`: invited, enrolled with a
password and TOTP, signed in, acting (publishing with the session and with a personal token,
audited by name), losing a role, disabled (session refused at once, an open stream ended),
removed — and each refusal: enumeration, brute force, a replayed enrolment link, session
fixation, CSRF, an open redirect in `next`."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tabadol.node.node import collection_uuid, open_node
from tabadol.web.federation_api import MAX_STREAMS_PER_READER

from ..conftest import LiveServer, make_indicator
from .people_web import (
    ADMIN,
    PASSWORDS,
    PUBLISHER,
    READER,
    Browser,
    PeopleNode,
    audit_actors,
    enrol_ali_and_sara,
    make_node,
    next_code,
    operator_acts,
)

TAXII = "application/taxii+json;version=2.1"
WRONG = "The email address or the password is wrong."


class Node(PeopleNode):
    def objects_url(self) -> str:
        node = open_node(self.path)
        try:
            return f"/taxii2/root/collections/{collection_uuid(node, 'members')}/objects/"
        finally:
            node.close()


@pytest.fixture
def people_node(tmp_path: Path, live_server_factory: Callable[..., LiveServer]) -> Iterator[Node]:
    made = Node.serve(tmp_path / "node", live_server_factory)
    yield made
    made.close()


def _publish(
    http: httpx.Client, url: str, headers: dict[str, str], name: str
) -> tuple[httpx.Response, str]:
    indicator = make_indicator(name=name)
    response = http.post(
        url,
        json={"objects": [indicator]},
        headers={"Content-Type": TAXII, "Accept": TAXII, **headers},
    )
    return response, str(indicator["id"])


def _stream_until_closed(
    url: str, token: str, ended: threading.Event, opened: threading.Event
) -> None:
    with httpx.stream(
        "GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as response:
        assert response.status_code == 200
        opened.set()
        for _ in response.iter_raw():
            pass
    ended.set()


def test_the_life_of_a_person(people_node: Node) -> None:
    """Enrol with password and TOTP, sign in with a code, act with the session and with a
    personal token (audited by name), lose the publisher role, be disabled (the session is
    refused at once and an open stream ends), be removed."""
    node = people_node
    _, totp_secret = enrol_ali_and_sara(node)

    admin = node.browser()
    step = admin.sign_in(ADMIN, PASSWORDS[ADMIN], "/account")
    assert step.status_code == 303
    assert step.headers["location"].startswith("/sign-in/factor")
    pending = admin.session
    assert admin.get("/api/v1/whoami").status_code == 401  # pending: not signed in yet
    done = admin.factor(next_code(totp_secret))  # its form fetched without `next`:
    assert (done.status_code, done.headers["location"]) == (303, "/inbox")  # the landing
    assert admin.session not in (None, pending)
    account = admin.get("/account")
    assert account.status_code == 200
    assert ADMIN in account.text
    assert ">admin<" in account.text

    sara = node.browser()
    step = sara.sign_in(PUBLISHER, PASSWORDS[PUBLISHER])
    assert (step.status_code, step.headers["location"]) == (303, "/inbox")
    whoami = sara.get("/api/v1/whoami").json()
    assert (whoami["org"], whoami["role"]) == ("Pardis CERT", "publisher")

    made = sara.submit(
        "/account", "/account/tokens", {"role": "publisher", "days": "7", "label": "script"}
    )
    assert made.status_code == 201
    found = re.search(r'id="new-token">(tbd_[A-Za-z0-9_-]+)<', made.text)
    assert found is not None
    token = found.group(1)
    assert token not in sara.get("/account").text  # shown once

    objects = node.objects_url()
    csrf = sara.api_csrf()
    by_session, first = _publish(sara.http, objects, {"X-CSRF-Token": csrf}, "by session")
    assert by_session.status_code == 202, by_session.text
    bearer = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=node.server.url, timeout=30) as script:
        by_token, second = _publish(script, objects, bearer, "by token")
        assert by_token.status_code == 202, by_token.text
        for stix_id in (first, second):
            read = script.get(f"{objects}{stix_id}/", headers={**bearer, "Accept": TAXII})
            assert read.status_code == 200
            assert read.json()["objects"][0]["id"] == stix_id
    actors = audit_actors(node.path)
    person = f"org:Pardis CERT/person:{PUBLISHER}"
    assert ("person.sign-in", person) in actors
    assert any(a.startswith(person + "/token:") for _, a in actors)
    assert ("person.token.create", person) in actors
    assert any(act == "person.sign-in" and a.endswith(ADMIN) for act, a in actors)

    operator_acts(node.path, "set_role", PUBLISHER, "reader")
    again, _ = _publish(sara.http, objects, {"X-CSRF-Token": csrf}, "as a reader")
    assert again.status_code == 403
    with httpx.Client(base_url=node.server.url, timeout=30) as script:
        again, _ = _publish(script, objects, bearer, "token as a reader")
        assert again.status_code == 403
    assert sara.get("/api/v1/whoami").json()["role"] == "reader"

    opened, ended = threading.Event(), threading.Event()
    reader = threading.Thread(
        target=_stream_until_closed,
        args=(f"{node.server.url}/api/v1/stream", token, ended, opened),
        daemon=True,
    )
    reader.start()
    assert opened.wait(30)
    operator_acts(node.path, "disable", PUBLISHER)
    refused = sara.get("/api/v1/whoami")
    assert refused.status_code == 401
    assert "description" in refused.json()
    gone = sara.get("/account")
    assert (gone.status_code, gone.headers["location"]) == (303, "/sign-in?next=/account")
    reader.join(30)
    assert ended.is_set()  # the stream ended once the person was disabled
    denied = sara.sign_in(PUBLISHER, PASSWORDS[PUBLISHER])
    assert denied.status_code == 401
    assert WRONG in denied.text

    operator_acts(node.path, "remove", PUBLISHER)
    denied = sara.sign_in(PUBLISHER, PASSWORDS[PUBLISHER])
    assert denied.status_code == 401
    assert WRONG in denied.text
    actions = [act for act, _ in audit_actors(node.path)]
    for act in ("person.role", "person.disable", "person.remove"):
        assert act in actions


def test_unknown_email_and_wrong_password_get_one_answer(people_node: Node) -> None:
    """The same status and the same page, byte for byte, for an address nobody has and for
    a person's address with a wrong password."""
    enrol_ali_and_sara(people_node)
    browser = people_node.browser()
    unknown = browser.sign_in("nobody@pardis.example", "some long password here")
    wrong = browser.sign_in(PUBLISHER, "not sara's long passphrase")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.text == wrong.text
    assert WRONG in unknown.text
    assert browser.session is None


def test_brute_force_is_locked_out_even_with_the_right_password(people_node: Node) -> None:
    """Five wrong passwords, then the right one: 429 with Retry-After and the wait."""
    enrol_ali_and_sara(people_node)
    browser = people_node.browser()
    for attempt in range(5):
        answer = browser.sign_in(PUBLISHER, f"wrong password number {attempt}")
        assert answer.status_code == 401
    locked = browser.sign_in(PUBLISHER, PASSWORDS[PUBLISHER])
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    assert "Too many attempts" in locked.text
    assert browser.session is None
    assert any(act == "person.sign-in" for act, _ in audit_actors(people_node.path))


def test_a_used_enrolment_link_is_gone_and_writes_nothing(people_node: Node) -> None:
    """The link works once: again it is a clear 410 page, a new password is not set."""
    enrol_ali_and_sara(people_node)
    browser = people_node.browser()
    link = people_node.links[PUBLISHER]
    page = browser.get(f"/enrol/{link}")
    assert page.status_code == 410
    assert "This link is not valid" in page.text
    replay = browser.submit(
        "/sign-in",
        f"/enrol/{link}",
        {"password": "another long passphrase", "confirm": "another long passphrase"},
    )
    assert replay.status_code == 410
    assert browser.sign_in(PUBLISHER, "another long passphrase").status_code == 401
    assert browser.sign_in(PUBLISHER, PASSWORDS[PUBLISHER]).status_code == 303
    assert browser.get(f"/enrol/{'x' * 43}").status_code == 410


def test_enrolment_refuses_weak_or_mismatched_passwords_and_a_missing_factor(
    people_node: Node,
) -> None:
    """Each refusal is a 400 page saying why, and the link still works afterwards."""
    browser = people_node.browser()
    admin_link = people_node.links[ADMIN]
    page = f"/enrol/{admin_link}"
    cases = {
        ("short pw", "short pw"): "at least 12 characters",
        ("a long passphrase", "another passphrase"): "The two passwords differ.",
        (ADMIN, ADMIN): "must not be your email address",
        ("password1234", "password1234"): "one of the most common",
        ("a long passphrase", "a long passphrase"): "needs a second factor",
    }
    for (password, confirm), said in cases.items():
        answer = browser.submit(page, page, {"password": password, "confirm": confirm})
        assert answer.status_code == 400, (password, answer.text)
        assert said in answer.text
    wrong_code = browser.submit(
        page,
        page,
        {
            "password": "a long passphrase",
            "confirm": "a long passphrase",
            "totp_secret": "A" * 32,
            "code": "000000",
        },
    )
    assert wrong_code.status_code == 400
    done, _ = browser.enrol(admin_link, PASSWORDS[ADMIN], totp=True)
    assert done.status_code == 200


def test_a_session_cookie_planted_before_sign_in_is_never_the_one_after(
    people_node: Node,
) -> None:
    """Session fixation: a cookie set before sign-in is replaced at each stage, and the
    planted value authenticates nothing."""
    _, totp_secret = enrol_ali_and_sara(people_node)
    browser = people_node.browser()
    planted = "planted-by-someone-else-0123456789abcdefghij"
    browser.http.cookies.set("tabadol_session", planted, domain="127.0.0.1", path="/")
    assert browser.sign_in(ADMIN, PASSWORDS[ADMIN]).status_code == 303
    pending = browser.session
    assert pending not in (None, planted)
    assert browser.factor(next_code(totp_secret)).status_code == 303
    assert browser.session not in (None, planted, pending)
    assert browser.get("/api/v1/whoami").status_code == 200
    with httpx.Client(base_url=people_node.server.url) as other:
        for old in (planted, pending):
            other.cookies.set("tabadol_session", old or "")
            assert other.get("/api/v1/whoami").status_code == 401


def _signed_in(node: Node) -> Browser:
    enrol_ali_and_sara(node)
    browser = node.browser()
    assert browser.sign_in(PUBLISHER, PASSWORDS[PUBLISHER]).status_code == 303
    return browser


@pytest.mark.parametrize("csrf", [None, "wrong-token"])
def test_every_state_changing_form_needs_its_csrf_token(people_node: Node, csrf: Any) -> None:
    """Each form posted without its token, or with another, is a 403 page and changes
    nothing: the session still works, no token is made, no session ended."""
    browser = _signed_in(people_node)
    made = browser.submit("/account", "/account/tokens", {"role": "reader", "days": "1"})
    assert made.status_code == 201
    account = browser.get("/account").text
    token_id = re.search(r'data-token="(\d+)"', account)
    session_id = re.search(r'data-session="(\d+)"', account)
    assert token_id is not None
    assert session_id is not None
    forms = {
        "/sign-in": {"email": PUBLISHER, "password": PASSWORDS[PUBLISHER]},
        "/sign-in/factor": {"code": "123456"},
        f"/enrol/{people_node.links[READER]}": {"password": "x" * 20, "confirm": "x" * 20},
        "/sign-out": {},
        "/account/tokens": {"role": "reader", "days": "1"},
        f"/account/tokens/{token_id.group(1)}/revoke": {},
        f"/account/sessions/{session_id.group(1)}/revoke": {},
        "/account/sign-out-everywhere": {},
    }
    before = browser.session
    for action, fields in forms.items():
        answer = browser.submit("/account", action, fields, csrf=csrf)
        assert answer.status_code == 403, action
        assert "did not come from this node" in answer.text
    assert browser.session == before
    after = browser.get("/account").text
    assert after.count("data-token=") == 1
    assert browser.get("/api/v1/whoami").status_code == 200
    assert browser.get(f"/enrol/{people_node.links[READER]}").status_code == 200  # unused


def test_a_cookie_authenticated_api_write_needs_the_csrf_header(people_node: Node) -> None:
    """A TAXII POST and the passkey options, authenticated by the session cookie, are refused
    without the session's `X-CSRF-Token` or with another's; with it the POST is accepted."""
    browser = _signed_in(people_node)
    objects = people_node.objects_url()
    for headers in ({}, {"X-CSRF-Token": "another-token"}):
        refused, _ = _publish(browser.http, objects, headers, "forged")
        assert refused.status_code == 403
        assert refused.json()["http_status"] == "403"
    accepted, _ = _publish(browser.http, objects, {"X-CSRF-Token": browser.api_csrf()}, "ok")
    assert accepted.status_code == 202
    assert browser.http.post("/sign-in/passkey-options").status_code == 403


def test_signing_out_ends_the_session_for_pages_and_api(people_node: Node) -> None:
    """After signing out the old cookie is refused: the API with 401 in its error format,
    the pages with a redirect to the sign-in form. Signing out everywhere ends the others."""
    browser = _signed_in(people_node)
    other = people_node.browser()
    assert other.sign_in(PUBLISHER, PASSWORDS[PUBLISHER]).status_code == 303
    old = browser.session
    assert browser.submit("/account", "/sign-out", {}).status_code == 303
    with httpx.Client(base_url=people_node.server.url) as stale:
        stale.cookies.set("tabadol_session", old or "")
        answer = stale.get("/api/v1/whoami")
        assert answer.status_code == 401
        assert answer.json()["http_status"] == "401"
        page = stale.get("/account")
        assert (page.status_code, page.headers["location"]) == (303, "/sign-in?next=/account")
    assert other.get("/api/v1/whoami").status_code == 200
    assert other.submit("/account", "/account/sign-out-everywhere", {}).status_code == 303
    with httpx.Client(base_url=people_node.server.url) as stale:
        stale.cookies.set("tabadol_session", other.session or "x")
        assert stale.get("/api/v1/whoami").status_code == 401


@pytest.mark.parametrize(
    ("next_path", "location"),
    [
        ("//evil.example/x", "/inbox"),
        ("https://evil.example/", "/inbox"),
        ("/\\evil.example", "/inbox"),
        ("javascript:alert(1)", "/inbox"),
        ("/account?tab=tokens", "/account?tab=tokens"),
    ],
)
def test_next_is_a_path_on_this_node(people_node: Node, next_path: str, location: str) -> None:
    """No open redirect: `next` is followed only when it is a local path."""
    enrol_ali_and_sara(people_node)
    browser = people_node.browser()
    answer = browser.sign_in(PUBLISHER, PASSWORDS[PUBLISHER], next_path)
    assert (answer.status_code, answer.headers["location"]) == (303, location)


def test_streams_are_counted_per_person_signed_in(people_node: Node) -> None:
    """A signed-in person's open streams count against their own slots, not against one slot
    shared by every session: Sara's fifth stream is refused (429), Omid's first is served."""
    browser = people_node.browser()
    passwords = {**PASSWORDS, READER: "omid's long passphrase"}
    for who in (PUBLISHER, READER):
        done, _ = browser.enrol(people_node.links[who], passwords[who], totp=False)
        assert done.status_code == 200, done.text
    sara, omid = people_node.browser(), people_node.browser()
    for person, email in ((sara, PUBLISHER), (omid, READER)):
        assert person.sign_in(email, passwords[email]).status_code == 303
    url = f"{people_node.server.url}/api/v1/stream"

    def open_stream(person: Browser, stack: ExitStack) -> int:
        cookies = dict(person.http.cookies)
        response = stack.enter_context(httpx.stream("GET", url, cookies=cookies, timeout=30))
        return response.status_code

    with ExitStack() as stack:
        assert [open_stream(sara, stack) for _ in range(MAX_STREAMS_PER_READER)] == [200] * 4
        assert open_stream(sara, stack) == 429
        assert open_stream(omid, stack) == 200


def test_over_tls_the_session_cookie_is_host_only(
    tmp_path: Path, live_server_factory: Callable[..., LiveServer]
) -> None:
    """Behind a TLS proxy (`public_url` https) the secrets are `__Host-` cookies, Secure: a
    cookie of the plain name (which a sibling subdomain could plant) is not a session."""
    path = tmp_path / "node"
    links = make_node(path, {PUBLISHER: "publisher"})
    server = live_server_factory(path, env={"TABADOL_PUBLIC_URL": "https://node.example"})

    def posted(page_path: str, fields: dict[str, str]) -> httpx.Response:
        """GET the form, POST it with its CSRF token and the cookie it set (sent by hand:
        a client keeps a Secure cookie for https only, and this proxy's inside is http)."""
        page = httpx.get(f"{server.url}{page_path}")
        pre = page.headers["set-cookie"]
        assert pre.startswith("__Host-tabadol_csrf=")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        return httpx.post(
            f"{server.url}{page_path}",
            data={**fields, "csrf": token.group(1)},
            headers={"Cookie": pre.split(";", 1)[0]},
        )

    password = PASSWORDS[PUBLISHER]
    enrolled = posted(f"/enrol/{links[PUBLISHER]}", {"password": password, "confirm": password})
    assert enrolled.status_code == 200, enrolled.text
    signed = posted("/sign-in", {"email": PUBLISHER, "password": password})
    assert signed.status_code == 303, signed.text
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("__Host-tabadol_session=")
    assert "secure" in cookie.lower()
    assert "domain" not in cookie.lower()
    secret = cookie.split(";", 1)[0].split("=", 1)[1]
    me = f"{server.url}/api/v1/me"
    assert httpx.get(me, headers={"Cookie": f"__Host-tabadol_session={secret}"}).status_code == 200
    assert httpx.get(me, headers={"Cookie": f"tabadol_session={secret}"}).status_code == 401
