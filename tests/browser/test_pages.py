"""The pages in a real browser: the sign-in page laid out right to left for Persian and
Arabic and left to right for English, in the node's own font, under the strict CSP; the API
docs rendered from the node's own files with nothing fetched from elsewhere; and the
virtual authenticator the passkey tests use."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from .conftest import VirtualAuthenticator, Watched, WebServer

WAIT_MS = 20_000  # a bound on waiting for the page, never an assertion on its speed
LOCALES = {
    "fa": ("fa-IR", "rtl", "ورود"),
    "ar": ("ar-IQ", "rtl", "تسجيل الدخول"),
    "en": ("en-GB", "ltr", "Sign in"),
}


@pytest.mark.parametrize("lang", list(LOCALES))
def test_sign_in_page_follows_the_browser_language(
    web_server: WebServer,
    open_page: Callable[..., Watched],
    screenshot: Callable[[Page, str], Path],
    lang: str,
) -> None:
    """The browser's language picks the interface language: `<html lang dir>`, the computed
    direction of the body and the form, the translated title, the CSRF field, and the
    Vazirmatn font served by the node and in use — with no CSP violation."""
    locale, direction, title = LOCALES[lang]
    watched = open_page(locale)
    page = watched.page
    fonts: list[int] = []
    page.on(
        "response",
        lambda r: fonts.append(r.status) if re.search(r"/static/fonts/.*\.woff2$", r.url) else None,
    )
    page.goto(f"{web_server.url}/sign-in", wait_until="load", timeout=WAIT_MS)
    page.evaluate("document.fonts.ready.then(() => true)")
    assert page.get_attribute("html", "lang") == lang
    assert page.get_attribute("html", "dir") == direction
    assert page.evaluate("getComputedStyle(document.body).direction") == direction
    assert page.evaluate("getComputedStyle(document.querySelector('form')).direction") == (
        direction
    )
    assert page.locator("h1").inner_text() == title
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", page.input_value("input[name=csrf]"))
    assert fonts == [200]
    assert page.evaluate("document.fonts.check('16px Vazirmatn')")
    assert page.evaluate(
        "[...document.fonts].some(f => f.family.includes('Vazirmatn') && f.status === 'loaded')"
    )
    screenshot(page, f"sign-in-{lang}")


def test_the_api_docs_render_with_nothing_from_outside(
    web_server: WebServer,
    open_page: Callable[..., Watched],
    screenshot: Callable[[Page, str], Path],
) -> None:
    """/api/v1/docs renders Swagger UI and the node's operations from files the node serves:
    every request goes to the node (one that would not is aborted and fails the test), and
    the page runs under its CSP without a violation."""
    watched = open_page()
    page = watched.page
    page.goto(f"{web_server.url}/api/v1/docs", wait_until="load", timeout=WAIT_MS)
    page.wait_for_selector(".swagger-ui .opblock", timeout=WAIT_MS)
    assert "tabadol" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".swagger-ui .opblock").count() > 10
    page.locator(".swagger-ui .opblock-summary").first.click()  # an operation, expanded
    page.wait_for_selector(".swagger-ui .opblock-body", timeout=WAIT_MS)
    assert any("/api/v1/openapi.json" in url for url in watched.requests)
    assert all(url.startswith(web_server.url) for url in watched.requests), watched.requests
    watched.assert_clean()
    screenshot(page, "api-docs")


def test_the_virtual_authenticator_makes_a_passkey(
    web_server: WebServer,
    open_page: Callable[..., Watched],
    virtual_authenticator: Callable[[Page], VirtualAuthenticator],
) -> None:
    """The helper the passkey tests use: a credential created on a node page (relying party
    `localhost`) is held by Chromium's virtual authenticator."""
    page = open_page().page
    page.goto(f"{web_server.localhost_url}/sign-in", wait_until="load", timeout=WAIT_MS)
    authenticator = virtual_authenticator(page)
    created = page.evaluate(
        """async () => {
          const credential = await navigator.credentials.create({publicKey: {
            rp: {id: "localhost", name: "tabadol"},
            user: {id: new Uint8Array([1, 2, 3]), name: "ali@example.org", displayName: "Ali"},
            challenge: crypto.getRandomValues(new Uint8Array(32)),
            pubKeyCredParams: [{type: "public-key", alg: -7}],
            authenticatorSelection: {residentKey: "required", userVerification: "required"},
          }});
          return credential.id;
        }"""
    )
    held = authenticator.credentials()
    assert len(held) == 1
    assert held[0]["isResidentCredential"] is True
    assert held[0]["credentialId"].rstrip("=").replace("+", "-").replace("/", "_") == created


def test_the_watcher_sees_what_the_csp_refuses(
    web_server: WebServer, open_page: Callable[..., Watched]
) -> None:
    """The fixture itself: an inline style added to a node page is a CSP violation it
    records, and a request to another host is aborted and recorded (then cleared here, so
    that only this test's expectations decide)."""
    watched = open_page()
    page = watched.page
    page.goto(f"{web_server.url}/sign-in", wait_until="load", timeout=WAIT_MS)
    page.evaluate(
        """() => { const s = document.createElement("style");
                   s.textContent = "body { color: red }"; document.head.appendChild(s); }"""
    )
    page.evaluate("fetch('http://192.0.2.1/x').catch(() => null)")
    page.wait_for_function("true")  # let the binding deliver the report
    assert any(v["directive"].startswith("style-src") for v in watched.violations)
    assert any(v["directive"].startswith("connect-src") for v in watched.violations)
    with pytest.raises(PlaywrightError):
        page.goto("http://192.0.2.1/elsewhere", timeout=WAIT_MS)
    assert watched.outside == ["http://192.0.2.1/elsewhere"]
    assert len(watched.problems()) >= 3
    for recorded in (watched.violations, watched.errors, watched.outside):
        recorded.clear()
