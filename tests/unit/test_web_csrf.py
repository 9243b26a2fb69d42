"""CSRF tokens and the cookies they are bound to (web.csrf, web.cookies): a known-answer
token, constant-time comparison, the check as a dependency over HTTP, and the attributes of
the session cookie."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from fastapi import Depends, FastAPI
from starlette.responses import Response
from starlette.testclient import TestClient

from tabadol.config import Settings
from tabadol.domain.errors import TabadolError
from tabadol.web import cookies, csrf
from tabadol.web.errors import on_tabadol_error

SECRET = "k3J9v0m1Q2w3E4r5T6y7U8i9O0p1A2s3D4f5G6h7J8k"


def test_the_token_is_hmac_sha256_of_the_label_keyed_by_the_secret() -> None:
    """Known answer: base64url (no padding) of HMAC-SHA256(secret, b"tabadol csrf v1"),
    the pinned value computed with `openssl dgst -sha256 -hmac`."""
    expected = hmac.new(SECRET.encode(), b"tabadol csrf v1", hashlib.sha256).digest()
    assert csrf.token_for(SECRET) == base64.urlsafe_b64encode(expected).decode().rstrip("=")
    assert csrf.token_for(SECRET) == "K-O4FPTQ3EPoHcDU6RnkzNtRMMXzp3bL1FYQZ52zHCE"
    assert csrf.token_for(SECRET + "x") != csrf.token_for(SECRET)


@pytest.mark.parametrize(
    ("secret", "presented", "ok"),
    [
        (SECRET, csrf.token_for(SECRET), True),
        (SECRET, csrf.token_for("another secret"), False),
        (SECRET, csrf.token_for(SECRET)[:-1], False),
        (SECRET, csrf.token_for(SECRET) + "=", False),
        (SECRET, "", False),
        (SECRET, None, False),
        (None, csrf.token_for(SECRET), False),
        ("", csrf.token_for(""), False),
        (SECRET, "تبادل\x00", False),  # not ASCII: refused, never an error
    ],
    ids=[
        "right",
        "other-secret",
        "truncated",
        "padded",
        "empty",
        "absent",
        "no-secret",
        "empty-secret",
        "non-ascii",
    ],
)
def test_matches(secret: str | None, presented: str | None, ok: bool) -> None:
    assert csrf.matches(secret, presented) is ok


@pytest.fixture
def guarded() -> TestClient:
    """A route that changes state, guarded by `csrf.require`, in the node's error format."""
    app = FastAPI()
    app.add_exception_handler(TabadolError, on_tabadol_error)

    @app.api_route(
        "/change", methods=["GET", "POST", "DELETE"], dependencies=[Depends(csrf.require)]
    )
    def change() -> dict[str, bool]:
        return {"changed": True}

    return TestClient(app)


def _post(client: TestClient, cookie: dict[str, str], **kwargs: object) -> int:
    client.cookies.clear()
    for name, value in cookie.items():
        client.cookies.set(name, value)
    return client.post("/change", **kwargs).status_code  # type: ignore[arg-type]


def test_a_form_with_the_token_of_its_cookie_passes(guarded: TestClient) -> None:
    session = {cookies.SESSION_COOKIE: SECRET}
    presession = {cookies.PRESESSION_COOKIE: SECRET}
    assert _post(guarded, session, data={"csrf": csrf.token_for(SECRET)}) == 200
    assert _post(guarded, presession, data={"csrf": csrf.token_for(SECRET)}) == 200
    assert _post(guarded, session, files={"csrf": (None, csrf.token_for(SECRET))}) == 200
    assert _post(guarded, session, headers={"X-CSRF-Token": csrf.token_for(SECRET)}) == 200


def test_a_state_change_without_its_token_is_refused(guarded: TestClient) -> None:
    """403 in the error format for: no token, a wrong one, a token of another secret, a
    pre-session token once a session exists, a token in JSON, no cookie at all; DELETE too."""
    session = {cookies.SESSION_COOKIE: SECRET}
    both = {cookies.SESSION_COOKIE: SECRET, cookies.PRESESSION_COOKIE: "pre"}
    refused = [
        _post(guarded, session),
        _post(guarded, session, data={"csrf": "wrong"}),
        _post(guarded, session, data={"csrf": csrf.token_for("other")}),
        _post(guarded, both, data={"csrf": csrf.token_for("pre")}),
        _post(guarded, session, json={"csrf": csrf.token_for(SECRET)}),
        _post(guarded, {}, data={"csrf": csrf.token_for(SECRET)}),
    ]
    assert refused == [403] * len(refused)
    guarded.cookies.set(cookies.SESSION_COOKIE, SECRET)
    response = guarded.delete("/change")
    assert response.status_code == 403
    assert response.json()["http_status"] == "403"
    assert "reload the page" in response.json()["description"]


def test_reads_and_bearer_requests_need_no_token(guarded: TestClient) -> None:
    """Safe methods change nothing; a bearer header is no cookie another site can send."""
    guarded.cookies.set(cookies.SESSION_COOKIE, SECRET)
    assert guarded.get("/change").status_code == 200
    assert guarded.post("/change", headers={"Authorization": "Bearer t"}).status_code == 200


@pytest.mark.parametrize(
    ("settings", "secure"),
    [
        (Settings(), False),
        (Settings(public_url="http://cti.example.org"), False),
        (Settings(public_url="https://cti.example.org"), True),
        (Settings(tls_cert_file="cert.pem", tls_key_file="key.pem"), True),
    ],
    ids=["plain", "http-public-url", "https-public-url", "tls"],
)
def test_the_session_cookie_attributes(settings: Settings, secure: bool) -> None:
    """HttpOnly, SameSite=Strict, Path=/; Secure exactly when browsers reach the node
    over TLS, and then the `__Host-` name (no sibling subdomain can set it). Clearing it
    sends the same name and attributes with an expiry in the past."""
    response = Response()
    cookies.set_session(response, SECRET, settings)
    cookies.clear_session(response, settings)
    set_session, cleared = response.headers.getlist("set-cookie")
    for header in (set_session, cleared):
        attributes = [a.strip().lower() for a in header.split(";")]
        assert "httponly" in attributes
        assert "samesite=strict" in attributes
        assert "path=/" in attributes
        assert ("secure" in attributes) is secure
    name = "__Host-tabadol_session" if secure else "tabadol_session"
    assert set_session.startswith(f"{name}={SECRET};")
    assert cleared.startswith(f"{name}=")
    assert "domain=" not in set_session.lower()
    assert "max-age=0" in cleared.lower()
