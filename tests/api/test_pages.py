"""The pages and static files over HTTP (web.pages, web.templating, web.assets): the page
headers, the language a request gets, the CSRF token bound to the browser's cookie, files
served by hashed name with long caching, and enrolment secrets kept out of the access log."""

from __future__ import annotations

import gzip
import logging
import re

import pytest
from starlette.testclient import TestClient

from tabadol.web import cookies, csrf
from tabadol.web.assets import assets
from tabadol.web.logs import logged_path as edge_path
from tabadol.web.templating import PAGE_CSP

_HIDDEN = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')


def _token(html: str) -> str:
    found = _HIDDEN.search(html)
    assert found is not None
    return found.group(1)


def test_a_page_carries_the_strict_headers(client: TestClient) -> None:
    response = client.get("/sign-in")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == PAGE_CSP
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in PAGE_CSP
    assert "unsafe" not in PAGE_CSP
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in response.text
    assert " style=" not in response.text


def test_a_browser_without_a_cookie_gets_a_presession_its_form_is_bound_to(
    client: TestClient,
) -> None:
    """The form's token is the HMAC of the pre-session secret set with the page
    (HttpOnly, SameSite=Strict); the next page keeps the same secret."""
    first = client.get("/sign-in")
    header = first.headers["set-cookie"]
    assert header.startswith(f"{cookies.PRESESSION_COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/"):
        assert attribute in header
    secret = client.cookies[cookies.PRESESSION_COOKIE]
    assert _token(first.text) == csrf.token_for(secret)
    again = client.get("/sign-in")
    assert "set-cookie" not in again.headers
    assert _token(again.text) == csrf.token_for(secret)


def test_a_signed_in_browsers_forms_are_bound_to_its_session(client: TestClient) -> None:
    client.cookies.set(cookies.SESSION_COOKIE, "the-session-secret")
    client.cookies.set(cookies.PRESESSION_COOKIE, "an-older-presession")
    response = client.get("/sign-in")
    assert _token(response.text) == csrf.token_for("the-session-secret")
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("how", "lang", "direction"),
    [
        ({"headers": {"Accept-Language": "fa-IR,fa;q=0.9"}}, "fa", "rtl"),
        ({"headers": {"Accept-Language": "ar"}}, "ar", "rtl"),
        ({"headers": {"Accept-Language": "en-GB"}}, "en", "ltr"),
        ({"headers": {"Accept-Language": "de"}}, "en", "ltr"),
        (
            {"cookies": {cookies.LANG_COOKIE: "ar"}, "headers": {"Accept-Language": "fa"}},
            "ar",
            "rtl",
        ),
        ({"params": {"lang": "fa"}, "headers": {"Accept-Language": "ar"}}, "fa", "rtl"),
        ({"params": {"lang": "xx"}, "headers": {"Accept-Language": "ar"}}, "ar", "rtl"),
    ],
    ids=[
        "accept-fa",
        "accept-ar",
        "accept-en",
        "unknown-to-en",
        "cookie-first",
        "query-first",
        "bad-query-ignored",
    ],
)
def test_the_interface_language(
    client: TestClient, how: dict[str, dict[str, str]], lang: str, direction: str
) -> None:
    for name, value in how.get("cookies", {}).items():
        client.cookies.set(name, value)
    response = client.get("/sign-in", headers=how.get("headers", {}), params=how.get("params", {}))
    assert response.status_code == 200
    assert f'<html lang="{lang}" dir="{direction}">' in response.text


def test_choosing_a_language_is_remembered(client: TestClient) -> None:
    client.get("/sign-in", params={"lang": "ar"})
    assert client.cookies[cookies.LANG_COOKIE] == "ar"
    assert '<html lang="ar" dir="rtl">' in client.get("/sign-in").text


def test_page_text_is_escaped(client: TestClient) -> None:
    """Autoescaping is on: a hostile query or header never reaches the page as markup."""
    response = client.get(
        "/sign-in", params={"lang": "<script>"}, headers={"Accept-Language": '"><script>x'}
    )
    assert "<script>" not in response.text


def test_static_files_are_served_by_hashed_name_with_long_caching(client: TestClient) -> None:
    css = assets().by_name["css/base.css"]
    assert re.fullmatch(r"css/base\.[0-9a-f]{12}\.css", css.path)
    response = client.get(css.url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["etag"] == css.etag
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.content == css.body  # decoded from gzip by the client
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(css.gzipped or b"") == css.body
    again = client.get(css.url, headers={"If-None-Match": css.etag})
    assert again.status_code == 304
    assert again.content == b""


def test_the_font_is_served_by_the_node(client: TestClient) -> None:
    font = assets().by_name["fonts/Vazirmatn-wght.woff2"]
    response = client.get(font.url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "font/woff2"
    assert response.content[:4] == b"wOF2"
    assert font.url in client.get(assets().url("css/base.css")).text


@pytest.mark.parametrize(
    "path",
    [
        "/static/css/base.css",
        "/static/css/base.000000000000.css",
        "/static/../app.py",
        "/static/templates/base.html",
        "/static/",
    ],
)
def test_only_the_hashed_names_are_served(client: TestClient, path: str) -> None:
    """A plain name, a stale hash or any other path is 404 in the error format."""
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["http_status"] == "404"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/enrol/s3cr3t-Enrolment_Link", "/enrol/…"),
        ("/enrol/s3cr3t-Enrolment_Link/totp", "/enrol/…/totp"),
        ("/%65nrol/s3cr3t-Enrolment_Link", "/enrol/…"),
        ("/ENROL/s3cr3t-Enrolment_Link", "/enrol/…"),
    ],
)
def test_the_access_log_never_shows_an_enrolment_secret(
    client: TestClient, caplog: pytest.LogCaptureFixture, path: str, logged: str
) -> None:
    with caplog.at_level(logging.INFO, logger="tabadol.access"):
        client.get(path)
    lines = [r for r in caplog.records if r.name == "tabadol.access"]
    assert len(lines) == 1
    assert lines[0].path == logged  # type: ignore[attr-defined]
    assert "s3cr3t" not in lines[0].getMessage()


def test_doubled_slashes_do_not_hide_an_enrolment_secret() -> None:
    """`//enrol//SECRET` (a raw request line; HTTP clients read it as a host) is redacted."""
    scope = {"path": "//enrol//s3cr3t", "raw_path": b"//enrol//s3cr3t"}
    assert edge_path(scope) == "/enrol/…"


def test_other_paths_are_logged_as_sent(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tabadol.access"):
        client.get("/enrolment/abc")
        client.get("/sign-in")
    paths = [r.path for r in caplog.records if r.name == "tabadol.access"]  # type: ignore[attr-defined]
    assert paths == ["/enrolment/abc", "/sign-in"]
