"""Browser tests: a real `tabadol serve` and a real Chromium — Debian's `chromium` package,
driven by Playwright for Python through `executable_path`. No browser is ever downloaded
(never `playwright install`); `make test` installs the package when it is missing.

Fixtures and helpers:
- `browser` (session): Chromium, headless, with the flags below; Playwright gives each
  launch a fresh, temporary user-data-dir and removes it at close. Without chromium the
  tests are skipped, with the reason — except under CI (`CI` set), where that is a failure.
- `web_server` (session): `tabadol serve` on a fresh SQLite data directory; `.url` is
  `http://127.0.0.1:PORT`, `.localhost_url` the same server as `http://localhost:PORT`
  (WebAuthn needs a domain as its relying party id; Chromium resolves `localhost` to
  127.0.0.1 here).
- `open_page(locale="en-US")`: a new browser context (no cookies) and its page, watched:
  every CSP violation (a `securitypolicyviolation` listener injected before any page
  script), every console error and uncaught exception, and every request — one to a host
  other than the node is aborted and recorded. At the end of the test any of these fails
  it; `Watched.assert_clean()` checks mid-test.
- `screenshot(page, name)`: a full-page PNG in `$TABADOL_SCREENSHOTS/<test>/` when that
  variable is set (for a reviewer to look at), else under the test's tmp directory; returns
  the path.
- `virtual_authenticator(page)`: adds Chromium's virtual WebAuthn authenticator to the page
  through CDP (CTAP2, internal transport, resident keys, user verification that succeeds),
  for passkey tests; `.credentials()` lists what it holds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, CDPSession, Page, Route, sync_playwright

from tabadol.node.node import init_node

from ..conftest import LiveServer, free_port

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP localhost 127.0.0.1",
]
NODE_HOSTS = {"127.0.0.1", "localhost"}
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__tabadolCspViolation(JSON.stringify({
    directive: event.violatedDirective, blocked: event.blockedURI,
    source: event.sourceFile, line: event.lineNumber,
  }));
});
"""


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    return found


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Chromium for this package's tests, closed when they are done: Playwright's sync API
    keeps an event loop running in the main thread while it is open, and later tests that
    start one of their own (`asyncio.run`) must not find it."""
    path = chromium_path()
    if path is None:
        message = "Debian's chromium is not installed (`make chromium` installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: under CI the browser tests must run")
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=FLAGS, headless=True)
        yield launched
        launched.close()


@dataclass
class WebServer:
    server: LiveServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def localhost_url(self) -> str:
        return f"http://localhost:{self.server.port}"


@pytest.fixture(scope="package")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """One node for the browser tests of the session (its pages hold no state yet)."""
    data = tmp_path_factory.mktemp("browser-node") / "node"
    init_node(data)
    server = LiveServer(data, free_port())
    server.start()
    try:
        yield WebServer(server)
    finally:
        server.stop()


@dataclass
class Watched:
    """A page and what it did: the CSP violations, console errors and requests."""

    page: Page
    violations: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # requests that would leave the node

    def problems(self) -> list[str]:
        return (
            [f"CSP violation: {v}" for v in self.violations]
            + [f"console error: {e}" for e in self.errors]
            + [f"request leaving the node: {u}" for u in self.outside]
        )

    def assert_clean(self) -> None:
        assert not self.problems(), "\n".join(self.problems())


def _watch(browser: Browser, locale: str) -> Watched:
    context = browser.new_context(locale=locale)
    page = context.new_page()
    watched = Watched(page)

    def violation(_source: Any, report: str) -> None:
        watched.violations.append(json.loads(report))

    def route(route: Route) -> None:
        url = route.request.url
        watched.requests.append(url)
        if url.startswith("data:") or urlsplit(url).hostname in NODE_HOSTS:
            route.continue_()
        else:
            watched.outside.append(url)
            route.abort()

    context.expose_binding("__tabadolCspViolation", violation)
    context.add_init_script(CSP_LISTENER)
    context.route("**/*", route)
    page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: watched.errors.append(f"uncaught: {error}"))
    return watched


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Watched]]:
    opened: list[Watched] = []

    def open_(locale: str = "en-US") -> Watched:
        watched = _watch(browser, locale)
        opened.append(watched)
        return watched

    yield open_
    problems = [p for watched in opened for p in watched.problems()]
    for watched in opened:
        watched.page.context.close()
    if problems:
        pytest.fail("the page misbehaved:\n" + "\n".join(problems))


@pytest.fixture
def screenshot(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[Page, str], Path]:
    root = os.environ.get("TABADOL_SCREENSHOTS")
    base = Path(root) if root else tmp_path / "screenshots"
    folder = base / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def take(page: Page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@dataclass
class VirtualAuthenticator:
    cdp: CDPSession
    authenticator_id: str

    def credentials(self) -> list[dict[str, Any]]:
        answer = self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id}
        )
        credentials: list[dict[str, Any]] = answer["credentials"]
        return credentials


def add_virtual_authenticator(page: Page) -> VirtualAuthenticator:
    """Chromium's virtual authenticator on `page`: a platform passkey that always verifies."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return VirtualAuthenticator(cdp, added["authenticatorId"])


@pytest.fixture
def virtual_authenticator() -> Callable[[Page], VirtualAuthenticator]:
    return add_virtual_authenticator
