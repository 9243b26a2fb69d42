"""The sign-in pages at their edges, over real HTTP to a real `tabadol serve`: a node behind
a reverse proxy counts each browser by its own address; the form shown when a sign-in must
restart can be submitted; signing in again ends the session it replaces; a form posted with a
dead session comes back to the account page; a password typed into the e-mail field never
reaches the audit log; a Host header that is no host, and ids past what the database holds,
get a clear 400."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from tabadol.node.node import open_node
from tabadol.web import csrf

from ..conftest import LiveServer
from .people_web import ADMIN, PASSWORDS, PUBLISHER, Browser, csrf_of, make_node, next_code

PROXY = "127.0.0.1"


def _node(tmp_path: Path, factory: Callable[..., LiveServer], **env: str) -> LiveServer:
    """A served node with Sara (publisher) enrolled."""
    path = tmp_path / "node"
    links = make_node(path, {PUBLISHER: "publisher", ADMIN: "admin"})
    server = factory(path, env=env)
    with Browser(server.url) as browser:
        done, _ = browser.enrol(links[PUBLISHER], PASSWORDS[PUBLISHER], totp=False)
    assert done.status_code == 200, done.text
    return server


def _sign_in_from(server: LiveServer, forwarded_for: str, password: str) -> int:
    with Browser(server.url) as browser:
        browser.http.headers["X-Forwarded-For"] = forwarded_for
        return browser.sign_in(PUBLISHER, password).status_code


def test_behind_a_trusted_proxy_each_browser_has_its_own_counter(
    tmp_path: Path, live_server_factory: Callable[..., LiveServer]
) -> None:
    """With the proxy listed, twenty failures from one browser lock that browser only; the
    forwarded address of another still signs in. Unlisted, X-Forwarded-For is never read."""
    server = _node(tmp_path, live_server_factory, TABADOL_TRUSTED_PROXIES=PROXY)
    for i in range(20):  # a different e-mail each time: the address counter, not the account
        with Browser(server.url) as browser:
            browser.http.headers["X-Forwarded-For"] = "198.51.100.7"
            assert browser.sign_in(f"nobody{i}@pardis.example", "wrong").status_code == 401
    assert _sign_in_from(server, "198.51.100.7", PASSWORDS[PUBLISHER]) == 429
    assert _sign_in_from(server, "203.0.113.9", PASSWORDS[PUBLISHER]) == 303
    # a client cannot pick its address: the hop the proxy appended is the one counted
    assert _sign_in_from(server, "203.0.113.9, 198.51.100.7", PASSWORDS[PUBLISHER]) == 429


def test_without_trusted_proxies_forwarded_addresses_are_ignored(
    tmp_path: Path, live_server_factory: Callable[..., LiveServer]
) -> None:
    server = _node(tmp_path, live_server_factory)
    for i in range(20):
        with Browser(server.url) as browser:
            browser.http.headers["X-Forwarded-For"] = f"198.51.100.{i}"
            assert browser.sign_in(f"nobody{i}@pardis.example", "wrong").status_code == 401
    assert _sign_in_from(server, "203.0.113.9", PASSWORDS[PUBLISHER]) == 429


def test_the_restarted_sign_in_form_can_be_submitted(
    tmp_path: Path, live_server_factory: Callable[..., LiveServer]
) -> None:
    """Five wrong codes end the pending sign-in; the form then shown signs in (its CSRF
    token is bound to a new pre-session, not to the session that ended)."""
    path = tmp_path / "node"
    links = make_node(path, {ADMIN: "admin"})
    server = live_server_factory(path)
    with Browser(server.url) as browser:
        done, secret = browser.enrol(links[ADMIN], PASSWORDS[ADMIN], totp=True)
        assert done.status_code == 200, done.text
        assert browser.sign_in(ADMIN, PASSWORDS[ADMIN]).status_code == 303
        token = csrf_of(browser.get("/sign-in/factor").text)
        for _ in range(10):  # five wrong codes end the pending sign-in; a bound on the loop
            restarted = browser.http.post("/sign-in/factor", data={"code": "000000", "csrf": token})
            if 'action="/sign-in"' in restarted.text:
                break
        assert restarted.status_code == 401
        assert 'action="/sign-in"' in restarted.text
        assert browser.session is None
        fields = {"email": ADMIN, "password": PASSWORDS[ADMIN], "csrf": csrf_of(restarted.text)}
        form = browser.http.post("/sign-in", data=fields)  # that very form, as shown
        assert form.status_code == 303, form.text
        # the password opened a new pending sign-in; the factor's own counter stays locked
        assert browser.factor(next_code(secret)).status_code == 429


def test_signing_in_again_ends_the_session_it_replaces(
    tmp_path: Path, live_server_factory: Callable[..., LiveServer]
) -> None:
    server = _node(tmp_path, live_server_factory)
    with Browser(server.url) as browser:
        assert browser.sign_in(PUBLISHER, PASSWORDS[PUBLISHER]).status_code == 303
        first = browser.session
        assert browser.sign_in(PUBLISHER, PASSWORDS[PUBLISHER]).status_code == 303
        assert browser.session not in (None, first)
        with httpx.Client(base_url=server.url) as other:
            other.cookies.set("tabadol_session", first or "")
            assert other.get("/api/v1/me").status_code == 401


def test_a_form_posted_with_a_dead_session_comes_back_to_the_account_page(
    tmp_path: Path, live_server_factory: Callable[..., LiveServer]
) -> None:
    server = _node(tmp_path, live_server_factory)
    browser = Browser(server.url)
    """The form's own address answers POST only: after signing in the person lands on the
    account page, not on a 405."""
    dead = "a-session-that-ended-long-ago-0123456789ab"
    with browser, httpx.Client(base_url=server.url, follow_redirects=False) as other:
        other.cookies.set("tabadol_session", dead)
        answer = other.post("/account/tokens", data={"csrf": csrf.token_for(dead)})
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/sign-in?next=/account"
        page = other.get("/account")
        assert page.headers["location"] == "/sign-in?next=/account"


def test_a_password_typed_as_the_e_mail_is_not_logged(
    tmp_path: Path, live_server_factory: Callable[..., LiveServer]
) -> None:
    server = _node(tmp_path, live_server_factory)
    with Browser(server.url) as browser:
        typed = "my secret passphrase typed in the wrong field"
        assert browser.sign_in(typed, "anything").status_code == 401
    node = open_node(tmp_path / "node")
    try:
        entries = node.store.audit_entries(limit=10_000)
    finally:
        node.close()
    assert entries
    assert not any(typed in e.entry.decode() for e in entries)


def test_a_host_that_is_no_host_and_huge_ids_are_clear_refusals(
    tmp_path: Path, live_server_factory: Callable[..., LiveServer]
) -> None:
    server = _node(tmp_path, live_server_factory)
    with Browser(server.url) as browser:
        assert browser.sign_in(PUBLISHER, PASSWORDS[PUBLISHER]).status_code == 303
        huge = 2**63
        for url in (f"/account/tokens/{huge}/revoke", f"/account/sessions/{huge}/revoke"):
            answer = browser.http.post(url, data={"csrf": browser.api_csrf()})
            assert answer.status_code == 400, (url, answer.text)
    with Browser(server.url) as stranger:
        page = stranger.get("/sign-in")
        token = csrf_of(page.text)
        options = stranger.http.post(
            "/sign-in/passkey-options", headers={"Host": "[x", "X-CSRF-Token": token}
        )
        assert 400 <= options.status_code < 500, options.text
