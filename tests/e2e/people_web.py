"""Helpers of the people tests over real HTTP: a node with an org and invited people, and a
browser-like client (cookies kept, forms posted with the CSRF token of the page they came
from)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx
import pyotp
from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.node.node import open_node
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.people import accounts

from ..conftest import LiveServer

ORG = "Pardis CERT"
ADMIN = "ali@pardis.example"
PUBLISHER = "sara@pardis.example"
READER = "omid@pardis.example"  # invited, never enrolled
PASSWORDS = {ADMIN: "a long passphrase of ali", PUBLISHER: "sara's own long passphrase"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_TOTP = re.compile(r'name="totp_secret" value="([A-Z2-7]+)"')


def make_node(path: Path, people: dict[str, str]) -> dict[str, str]:
    """A node with Pardis CERT and `people` (email -> role) invited by the operator (the
    org has no admin yet): their enrolment secrets, by email."""
    result = CliRunner().invoke(app, ["init", "--data", str(path)])
    assert result.exit_code == 0, result.stdout
    result = CliRunner().invoke(app, ["org", "add", ORG, "--data", str(path)])
    assert result.exit_code == 0, result.stdout
    node = open_node(path)
    try:
        return {
            email: accounts.invite(node, OPERATOR, ORG, email, role).url.rsplit("/", 1)[-1]
            for email, role in people.items()
        }
    finally:
        node.close()


def operator_acts(path: Path, act: str, email: str, *args: Any) -> None:
    """The operator changes a person on the data directory (a break-glass step: the org has
    its own admin by now), while the server runs."""
    node = open_node(path)
    try:
        getattr(accounts, act)(
            node, OPERATOR, ORG, email, *args, break_glass="the org asked, by phone"
        )
    finally:
        node.close()


def audit_actors(path: Path) -> list[tuple[str, str]]:
    node = open_node(path)
    try:
        return [(e.action, e.actor) for e in node.store.audit_entries(limit=10_000)]
    finally:
        node.close()


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, html
    return found.group(1)


def totp_secret_of(html: str) -> str:
    found = _TOTP.search(html)
    assert found is not None, html
    return found.group(1)


def next_code(secret: str) -> str:
    """A code of the next time step (inside the accepted window, never the step a code
    already used — at enrolment — had)."""
    return pyotp.TOTP(secret).at(int(time.time()) + 30)


@dataclass
class Browser:
    """Cookies and forms, like a browser without script."""

    url: str
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def session(self) -> str | None:
        return self.http.cookies.get("tabadol_session")

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def submit(
        self, page: str, action: str, fields: dict[str, str], csrf: str | None = "page"
    ) -> httpx.Response:
        """GET `page`, then POST `fields` to `action` with the page's CSRF token (`csrf`:
        "page", another value, or None for none)."""
        token = csrf_of(self.get(page).text) if csrf == "page" else csrf
        data = dict(fields)
        if token is not None:
            data["csrf"] = token
        return self.http.post(action, data=data)

    def enrol(self, secret: str, password: str, *, totp: bool) -> tuple[httpx.Response, str]:
        page = self.get(f"/enrol/{secret}")
        assert page.status_code == 200, page.text
        fields = {"password": password, "confirm": password, "csrf": csrf_of(page.text)}
        totp_secret = ""
        if totp:
            totp_secret = totp_secret_of(page.text)
            fields |= {"totp_secret": totp_secret, "code": pyotp.TOTP(totp_secret).now()}
        return self.http.post(f"/enrol/{secret}", data=fields), totp_secret

    def sign_in(self, email: str, password: str, next_path: str = "") -> httpx.Response:
        fields = {"email": email, "password": password, "next": next_path}
        return self.submit("/sign-in", "/sign-in", fields)

    def factor(self, code: str) -> httpx.Response:
        return self.submit("/sign-in/factor", "/sign-in/factor", {"code": code})

    def api_csrf(self) -> str:
        """The CSRF token of this browser's session (as a page carries it for scripts)."""
        return csrf_of(self.get("/account").text)


@dataclass
class PeopleNode:
    """A served node of `make_node`, and the browsers a test opened on it (closed after)."""

    path: Path
    server: LiveServer
    links: dict[str, str]
    opened: list[Browser] = field(default_factory=list)

    def browser(self) -> Browser:
        made = Browser(self.server.url)
        self.opened.append(made)
        return made

    def close(self) -> None:
        for browser in self.opened:
            browser.close()

    @classmethod
    def serve(cls, path: Path, live_server_factory: Callable[..., LiveServer]) -> Self:
        """Ali (admin), Sara (publisher) and Omid (reader) invited on a node at `path`,
        served."""
        links = make_node(path, {ADMIN: "admin", PUBLISHER: "publisher", READER: "reader"})
        return cls(path, live_server_factory(path), links)


def enrol_ali_and_sara(node: PeopleNode) -> tuple[Browser, str]:
    """Ali (admin, TOTP) and Sara (publisher, password only) enrolled: the browser that did
    it, and Ali's TOTP secret."""
    browser = node.browser()
    done, secret = browser.enrol(node.links[ADMIN], PASSWORDS[ADMIN], totp=True)
    assert done.status_code == 200, done.text
    done, _ = browser.enrol(node.links[PUBLISHER], PASSWORDS[PUBLISHER], totp=False)
    assert done.status_code == 200, done.text
    return browser, secret
