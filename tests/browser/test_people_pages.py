"""Enrolment, sign-in and the account page in Chromium: an admin enrols with a passkey
(Chromium's virtual authenticator), signs out and signs in with it; people enrol and sign in
with TOTP in Persian, Arabic and English — every page under the strict CSP with no
violation, and a screenshot of each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page

from ..conftest import LiveServer, free_port
from ..e2e.people_web import make_node, next_code
from .conftest import VirtualAuthenticator, Watched
from .people_steps import LOCALES, WAIT_MS, password_step

PASSWORD = "a long passphrase for the browser"
PASSKEY_ADMIN = "parisa@pardis.example"
TOTP_PEOPLE = {lang: f"totp-{lang}@pardis.example" for lang in ("fa", "ar", "en")}


class PeopleServer:
    def __init__(self, server: LiveServer, links: dict[str, str]) -> None:
        self.server = server
        self.links = links

    @property
    def url(self) -> str:  # WebAuthn needs a domain: the node as `localhost`
        return f"http://localhost:{self.server.port}"


@pytest.fixture(scope="module")
def people_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PeopleServer]:
    data = tmp_path_factory.mktemp("people-browser") / "node"
    invited = {PASSKEY_ADMIN: "admin", **dict.fromkeys(TOTP_PEOPLE.values(), "admin")}
    links = make_node(data, invited)
    server = LiveServer(data, free_port())
    server.start()
    try:
        yield PeopleServer(server, links)
    finally:
        server.stop()


def test_an_admin_enrols_with_a_passkey_and_signs_in_with_it(
    people_server: PeopleServer,
    open_page: Callable[..., Watched],
    virtual_authenticator: Callable[[Page], VirtualAuthenticator],
    screenshot: Callable[[Page, str], Path],
) -> None:
    """The enrolment page makes a passkey through WebAuthn (the challenge from the node,
    the credential verified there); after signing out, the passkey signs the admin in."""
    watched = open_page()
    page = watched.page
    url = people_server.url
    page.goto(f"{url}/enrol/{people_server.links[PASSKEY_ADMIN]}", timeout=WAIT_MS)
    authenticator = virtual_authenticator(page)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    screenshot(page, "enrol-passkey")
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#make-passkey")
    assert "Your account is ready" in page.inner_text("main")
    assert len(authenticator.credentials()) == 1

    password_step(page, url, PASSKEY_ADMIN, PASSWORD)
    assert page.locator("#use-passkey").is_visible()
    assert page.locator("#code").count() == 0  # no TOTP set up: only the passkey is offered
    screenshot(page, "factor-passkey")
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#use-passkey")
    assert page.url.endswith("/account")
    assert page.inner_text("#account-email") == PASSKEY_ADMIN
    assert "Passkeys: 1" in page.inner_text("main")
    first_count = authenticator.credentials()[0]["signCount"]

    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#sign-out button")
    assert page.url.endswith("/sign-in")
    page.goto(f"{url}/account", timeout=WAIT_MS)
    assert "/sign-in?next=/account" in page.url  # signed out: the account page sends back
    password_step(page, url, PASSKEY_ADMIN, PASSWORD)
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#use-passkey")
    assert page.url.endswith("/account")
    assert authenticator.credentials()[0]["signCount"] > first_count
    watched.assert_clean()


@pytest.mark.parametrize("lang", list(LOCALES))
def test_enrol_and_sign_in_with_totp_in_each_language(
    people_server: PeopleServer,
    open_page: Callable[..., Watched],
    screenshot: Callable[[Page, str], Path],
    lang: str,
) -> None:
    """In the browser's language (`<html lang dir>` and the computed direction): the
    enrolment page shows the secret as text and a QR code drawn by the node, a code
    confirms it; the sign-in asks for a code; the account page lists the sessions and makes
    a personal token. No CSP violation on any page."""
    locale, direction = LOCALES[lang]
    watched = open_page(locale)
    page = watched.page
    url = people_server.url
    email = TOTP_PEOPLE[lang]
    page.goto(f"{url}/enrol/{people_server.links[email]}", wait_until="load", timeout=WAIT_MS)
    assert page.get_attribute("html", "lang") == lang
    assert page.get_attribute("html", "dir") == direction
    assert page.evaluate("getComputedStyle(document.querySelector('form')).direction") == (
        direction
    )
    assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 0
    secret = page.input_value("input[name=totp_secret]")
    assert page.inner_text("#totp-secret").replace(" ", "") == secret
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.fill("#code", pyotp.TOTP(secret).now())
    screenshot(page, f"enrol-{lang}")
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#enrol button[type=submit]")
    assert page.locator(".notice").count() == 1

    page.goto(f"{url}/sign-in?next=/account", wait_until="load", timeout=WAIT_MS)
    screenshot(page, f"sign-in-{lang}")
    password_step(page, url, email, PASSWORD)
    assert page.get_attribute("html", "dir") == direction
    page.fill("#code", next_code(secret))
    screenshot(page, f"factor-{lang}")
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#totp-sign-in button[type=submit]")
    assert page.url.endswith("/account")
    assert page.get_attribute("html", "dir") == direction
    assert page.locator("#sessions tbody tr").count() == 1
    page.fill("#token-label", "script")
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#new-token-form button[type=submit]")
    assert page.inner_text("#new-token").startswith("tbd_")
    screenshot(page, f"account-{lang}")
    watched.assert_clean()
