"""The HTTP surface around the routes (issue 14): discovery never reflects `Host` or
`X-Forwarded-*` (finding 4), every route refuses an oversized body with 413 in its error
format (finding 6), 405 names what is allowed (finding 7), every response carries the
security headers and `no-store` (finding 8), and every response carries a request id
(finding 10)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tabadol.config import load_settings
from tabadol.domain.errors import InvalidInput
from tabadol.node.node import Node, open_node
from tabadol.web.app import create_app
from tabadol.web.body import API_BODY_LIMIT
from tabadol.web.media import TAXII_21

from ..conftest import Community, StepClock, build_community

EVIL = "evil.example"
SPOOFING = {
    "Host": EVIL,
    "X-Forwarded-Host": EVIL,
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Prefix": "/elsewhere",
    "Forwarded": f"host={EVIL};proto=https",
}


def _discovery(client: TestClient, community: Community) -> dict[str, object]:
    response = client.get("/taxii2/", headers={**community.auth("A"), **SPOOFING})
    assert response.status_code == 200
    assert EVIL not in response.text
    assert all(EVIL not in value for value in response.headers.values())
    body: dict[str, object] = response.json()
    return body


def test_discovery_without_public_url_is_relative(client: TestClient, community: Community) -> None:
    """Without `public_url`, the API root is the relative URL TAXII 2.1 (4.1.1) allows,
    whatever the request's Host and forwarding headers say."""
    disco = _discovery(client, community)
    assert disco["api_roots"] == ["/taxii2/root/"]
    assert disco["default"] == "/taxii2/root/"


@pytest.fixture
def public_node(data_dir: Path) -> Iterator[Node]:
    with open_node(
        data_dir, clock=StepClock(), public_url="https://cti.example.org/exchange/"
    ) as opened:
        yield opened


def test_discovery_with_public_url_uses_it(public_node: Node) -> None:
    """With `public_url`, the API root is under it, whatever the request says."""
    community = build_community(public_node)
    with TestClient(create_app(lambda: public_node)) as client:
        disco = _discovery(client, community)
    assert disco["api_roots"] == ["https://cti.example.org/exchange/taxii2/root/"]


def test_no_redirect_is_built_from_host(client: TestClient, community: Community) -> None:
    """A path without its trailing slash is not redirected to a URL made from `Host`."""
    response = client.get(
        "/taxii2/root", headers={**community.auth("A"), **SPOOFING}, follow_redirects=False
    )
    assert response.status_code == 404
    assert "location" not in response.headers
    assert EVIL not in response.text


@pytest.mark.parametrize(
    "url",
    ["ftp://x.example", "https://", "https://x.example/?a=b", "https://u:p@x.example", "x"],
)
def test_public_url_must_be_an_http_url(tmp_path: Path, url: str) -> None:
    """A public_url that is not an http(s) URL with a host is refused with its reason."""
    with pytest.raises(InvalidInput, match="public_url"):
        load_settings(tmp_path, env={"TABADOL_PUBLIC_URL": url})


# --- bodies ---------------------------------------------------------------------------------
def _chunks(size: int, chunk: int = 16 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        yield b" " * min(chunk, size - sent)
        sent += chunk


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/groups"),
        ("POST", "/api/v1/orgs"),
        ("POST", "/api/v1/orgs/Org A/tokens"),
        ("POST", "/api/v1/keys/ed25519:x/revoke"),
        ("GET", "/api/v1/whoami"),
        ("GET", "/taxii2/root/collections/"),
        ("DELETE", "/api/v1/tokens/1"),
    ],
)
def test_every_route_refuses_a_large_body_with_413(
    client: TestClient, community: Community, method: str, path: str, chunked: bool
) -> None:
    """A body over the route's limit is a 413 in the route's error format, declared
    (Content-Length) or not (chunked)."""
    size = API_BODY_LIMIT + 1
    content = _chunks(size) if chunked else b" " * size
    response = client.request(
        method,
        path,
        content=content,
        headers={**community.auth("A", "admin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    expected = TAXII_21 if path.startswith("/taxii2") else "application/json"
    assert response.headers["content-type"] == expected
    assert response.json()["http_status"] == "413"


def test_taxii_post_takes_max_request_bytes(client: TestClient, community: Community) -> None:
    """The TAXII POST of objects takes bodies past the API limit (up to max_request_bytes)."""
    members = community.collections["members"]
    padding = "x" * (API_BODY_LIMIT + 10)
    body = '{"objects": [], "padding": "' + padding + '"}'
    response = client.post(
        f"/taxii2/root/collections/{members}/objects/",
        content=body.encode(),
        headers={**community.auth("A"), "Content-Type": TAXII_21},
    )
    assert response.status_code != 413


# --- headers --------------------------------------------------------------------------------
REQUESTS = [
    ("GET", "/taxii2/", "A"),
    ("GET", "/api/v1/whoami", "A"),
    ("GET", "/api/v1/whoami", None),  # 401
    ("GET", "/api/v1/nowhere", "A"),  # 404
    ("PUT", "/api/v1/whoami", "A"),  # 405
    ("GET", "/api/v1/openapi.json", None),
    ("GET", "/federation/v1/node", None),
    ("GET", "/api/v1/search?q=secret", "A"),
]


@pytest.mark.parametrize(("method", "path", "who"), REQUESTS)
def test_every_response_carries_the_security_headers(
    client: TestClient, community: Community, method: str, path: str, who: str | None
) -> None:
    """nosniff, a CSP forbidding everything and framing, no referrer, no-store, a request
    id — on answers of every kind."""
    headers = community.auth(who) if who else {}
    response = client.request(method, path, headers=headers)
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    assert "server" not in response.headers or "uvicorn" not in response.headers["server"]


def test_an_unexpected_error_is_a_500_with_the_headers_and_one_log_record(
    client: TestClient, community: Community, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """A bug answers 500 in the error format, with the same headers, and is logged once."""

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("tabadol.web.api.organizations.list_orgs", broken)
    with caplog.at_level(logging.INFO):
        response = client.get("/api/v1/orgs", headers=community.auth("A"))
    assert response.status_code == 500
    assert response.json() == {
        "title": "Internal error",
        "description": "the server could not complete the request",
        "http_status": "500",
    }
    assert response.headers["x-content-type-options"] == "nosniff"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None


def test_the_docs_page_runs_only_the_nodes_own_files(client: TestClient) -> None:
    """The Swagger UI page has no inline script and loads nothing from elsewhere: its CSP
    allows the node's own files only (the browser test renders it, tests/browser)."""
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "<script>" not in response.text
    assert "//" not in response.text  # no URL of another host, no scheme-relative one


def test_a_request_id_is_echoed_when_it_is_a_token(client: TestClient) -> None:
    """A client's X-Request-Id is echoed when it is a short token, replaced otherwise."""
    echoed = client.get("/federation/v1/node", headers={"X-Request-Id": "abc-123.x"})
    assert echoed.headers["x-request-id"] == "abc-123.x"
    replaced = client.get("/federation/v1/node", headers={"X-Request-Id": "a b\tc" + "x" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/taxii2/root/collections/c/objects/o/", "DELETE, GET"),
        ("PATCH", "/taxii2/root/collections/c/objects/", "GET, POST"),
        ("DELETE", "/api/v1/groups", "GET, POST"),
        ("POST", "/api/v1/whoami", "GET"),
    ],
)
def test_405_names_the_allowed_methods(
    client: TestClient, community: Community, method: str, path: str, allowed: str
) -> None:
    """405 carries `Allow` with every method of the path (GET and DELETE of a TAXII object
    are two routes), in the error format."""
    response = client.request(method, path, headers=community.auth("A"))
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json()["http_status"] == "405"


def test_the_access_log_has_no_query_string(
    client: TestClient, community: Community, caplog: pytest.LogCaptureFixture
) -> None:
    """One access line per request: method, path, status — never the search terms."""
    with caplog.at_level(logging.INFO, logger="tabadol.access"):
        response = client.get(
            "/api/v1/search",
            params={"q": "زرین‌کلاه", "org": "Org A"},
            headers=community.auth("A"),
        )
    assert response.status_code == 200
    lines = [r for r in caplog.records if r.name == "tabadol.access"]
    assert len(lines) == 1
    assert lines[0].getMessage().startswith("GET /api/v1/search 200 ")
    logged = " ".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "q=" not in logged
    assert "Org A" not in logged
    assert "%D8" not in logged.upper()


def test_the_openapi_document_says_what_the_server_does(client: TestClient) -> None:
    """No 422 anywhere (validation errors are 400); TAXII routes answer and take TAXII's
    media type; each route has its security; 405 and 413 answers are in the error format."""
    document = client.get("/api/v1/openapi.json").json()
    operations = [
        (path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()
    ]
    assert all("422" not in op["responses"] for _, _, op in operations)
    get_objects = document["paths"]["/taxii2/root/collections/{collection_id}/objects/"]
    assert TAXII_21 in get_objects["get"]["responses"]["200"]["content"]
    assert TAXII_21 in get_objects["post"]["requestBody"]["content"]
    assert "match[version]" in [p["name"] for p in get_objects["get"]["parameters"]]
    assert get_objects["get"]["security"] == [{"HTTPBearer": []}]
    assert document["paths"]["/federation/v1/node"]["get"]["security"] == []
    changes = document["paths"]["/federation/v1/changes"]["get"]
    assert changes["security"] == [{"PeerSignature": []}]
    assert {"HTTPBearer", "PeerSignature"} <= document["components"]["securitySchemes"].keys()
    assert all("400" in op["responses"] and "413" in op["responses"] for _, _, op in operations)
