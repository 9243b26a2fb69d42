"""Steps the browser tests of the people pages share: the sign-in form's password step and
the TOTP code that follows it, and the languages the pages are tried in."""

from __future__ import annotations

from playwright.sync_api import Page

from ..e2e.people_web import next_code

WAIT_MS = 20_000  # a bound on waiting for a page, never an assertion on its speed
LOCALES = {"fa": ("fa-IR", "rtl"), "ar": ("ar-IQ", "rtl"), "en": ("en-GB", "ltr")}


def password_step(page: Page, url: str, email: str, password: str) -> None:
    """The e-mail and password on the sign-in form (coming back to the account page), on to
    the second-factor page."""
    page.goto(f"{url}/sign-in?next=/account", wait_until="load", timeout=WAIT_MS)
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("form[action='/sign-in'] button[type=submit]")
    assert "/sign-in/factor" in page.url


def totp_step(page: Page, secret: str) -> None:
    """The authenticator's code on the second-factor page, on to the account page."""
    page.fill("#code", next_code(secret))
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#totp-sign-in button[type=submit]")
    assert page.url.endswith("/account")
