"""The account page's second factors in Chromium: an admin signed in with TOTP adds a passkey
(Chromium's virtual authenticator), signs out, signs in with the passkey and removes the
TOTP — then cannot remove the passkey, their last factor. The page in Persian, Arabic and
English, screenshotted. No CSP violation on any page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page

from tabadol.node.node import open_node
from tabadol.usecases.membership import organizations
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.people import accounts, enrolment, totp

from .conftest import VirtualAuthenticator, Watched, WebServer
from .people_steps import LOCALES, WAIT_MS, password_step, totp_step

PASSWORD = "a long passphrase for the account"


def _admin(web_server: WebServer, org: str, email: str) -> str:
    """An admin of a new org of the running node, enrolled with TOTP; the TOTP secret."""
    node = open_node(web_server.server.data_dir)
    try:
        organizations.add_org(node, org)
        invitation = accounts.invite(node, OPERATOR, org, email, "admin")
        secret = totp.new_secret()
        setup = totp.TotpSetup(secret, pyotp.TOTP(secret).now())
        enrolment.redeem(node, invitation.url.rsplit("/", 1)[1], PASSWORD, totp=setup)
    finally:
        node.close()
    return secret


def test_an_admin_adds_a_passkey_signs_in_with_it_and_drops_the_app(
    web_server: WebServer,
    open_page: Callable[..., Watched],
    virtual_authenticator: Callable[[Page], VirtualAuthenticator],
    screenshot: Callable[[Page, str], Path],
) -> None:
    email = "nima@factors.example"
    secret = _admin(web_server, "Factors CERT", email)
    watched = open_page()
    page = watched.page
    url = web_server.localhost_url  # WebAuthn refuses an IP address as relying party
    password_step(page, url, email, PASSWORD)
    authenticator = virtual_authenticator(page)
    totp_step(page, secret)
    assert page.inner_text("#totp-state") == "Set up."
    page.fill("#passkey-label", "work laptop")
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#add-passkey")
    assert page.url.endswith("/account")
    assert len(authenticator.credentials()) == 1
    assert "work laptop" in page.inner_text("#passkeys")
    screenshot(page, "account-with-passkey")

    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#sign-out button")
    password_step(page, url, email, PASSWORD)
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#use-passkey")
    assert page.url.endswith("/account")
    assert page.locator("#passkeys tbody tr[data-passkey]").count() == 1
    assert "—" not in page.inner_text("#passkeys tbody tr[data-passkey]")  # last used: now

    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#remove-totp button")
    assert page.inner_text("#totp-state") == "Not set up."
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#passkeys tbody tr[data-passkey] button")
    assert "This is your last second factor" in page.inner_text(".problem")
    assert page.locator("#passkeys tbody tr[data-passkey]").count() == 1
    screenshot(page, "account-last-factor")
    expected = "Failed to load resource: the server responded with a status of 409 (Conflict)"
    assert watched.errors == [expected]  # Chromium's note of the refusal page's status
    watched.errors.clear()
    watched.assert_clean()


@pytest.mark.parametrize("lang", list(LOCALES))
def test_the_account_page_in_each_language(
    web_server: WebServer,
    open_page: Callable[..., Watched],
    screenshot: Callable[[Page, str], Path],
    lang: str,
) -> None:
    """The factors and password sections in the browser's language and direction, the
    authenticator's QR code drawn by the node (under the CSP)."""
    locale, direction = LOCALES[lang]
    email = f"account-{lang}@factors.example"
    secret = _admin(web_server, f"Factors {lang}", email)
    watched = open_page(locale)
    page = watched.page
    password_step(page, web_server.localhost_url, email, PASSWORD)
    totp_step(page, secret)
    assert page.get_attribute("html", "dir") == direction
    assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == (
        direction
    )
    page.click("#totp-setup summary")
    assert page.evaluate("document.querySelector('#totp-setup img.qr').naturalWidth") > 0
    assert page.locator("#password-form").is_visible()
    screenshot(page, f"account-factors-{lang}")
    watched.assert_clean()
