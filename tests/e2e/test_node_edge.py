"""`tabadol serve` as an operator runs it (issue 14): bodies refused before they are read
(finding 6), an aborted upload as one log line (finding 8), logs as one JSON object a line
with request ids and never a secret or restricted content (finding 10), and HTTPS from a
certificate and key (finding 9) — each against a real server process over a real socket."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import trustme

from tabadol.domain.tlp import TLP
from tabadol.node.node import init_node, open_node
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.web.media import TAXII_21

from ..conftest import LiveServer, make_indicator

Factory = Callable[..., LiveServer]
WAIT_S = 20.0  # a bound on waiting for the server, never an assertion on its speed


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A node with org A (publisher token) and the operator's token."""
    path = tmp_path / "node"
    init_node(path)
    with open_node(path) as node:
        organizations.add_org(node, "Org A")
        _, publisher = api_tokens.create_token(node, OPERATOR, "Org A", "publisher")
        _, operator = api_tokens.create_token(node, OPERATOR, None, "node-admin")
    return path, {"publisher": publisher, "operator": operator}


def _first_line(server: LiveServer, request: bytes) -> bytes:
    """Send `request` (headers and part of a body, never all of it) and read the status
    line the server answers with while the rest of the body is still owed."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT_S) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def _head(method: str, path: str, token: str, extra: str) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


@pytest.mark.parametrize(
    "path", ["/api/v1/groups", "/api/v1/orgs", "/taxii2/root/collections/x/objects/"]
)
def test_a_large_body_is_refused_before_it_is_sent(
    data: tuple[Path, dict[str, str]], live_server_factory: Factory, path: str
) -> None:
    """A declared 40 MiB body, and a chunked one past the limit without its end, are
    answered 413 while the client still owes most of the body."""
    server = live_server_factory(data[0])
    token = data[1]["operator"]
    declared = _head("POST", path, token, "Content-Length: 41943040\r\n") + b"{" * 1024
    assert _first_line(server, declared) == b"HTTP/1.1 413 Request Entity Too Large"
    chunk = b"4000\r\n" + b" " * 0x4000 + b"\r\n"
    chunks = 5 if path.startswith("/api") else 1100  # past 64 KiB, and past 16 MiB
    chunked = _head("POST", path, token, "Transfer-Encoding: chunked\r\n") + chunk * chunks
    assert _first_line(server, chunked) == b"HTTP/1.1 413 Request Entity Too Large"


def _log_lines(server: LiveServer) -> list[str]:
    return server.log_path.read_text(encoding="utf-8").splitlines()


def _wait_for_line(server: LiveServer, needle: str) -> list[str]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        lines = _log_lines(server)
        if any(needle in line for line in lines):
            return lines
        time.sleep(0.05)
    raise AssertionError(f"no log line with {needle!r}: {_log_lines(server)}")


@pytest.mark.parametrize("path", ["/taxii2/root/collections/{members}/objects/", "/api/v1/orgs"])
def test_an_aborted_upload_is_one_log_line(
    data: tuple[Path, dict[str, str]], live_server_factory: Factory, path: str
) -> None:
    """A client that goes away mid-upload leaves one info line naming the request, no
    ERROR and no traceback."""
    server = live_server_factory(data[0], env={"TABADOL_LOG_LEVEL": "info"})
    token = data[1]["publisher"] if "taxii2" in path else data[1]["operator"]
    members = httpx.get(
        f"{server.url}/taxii2/root/collections/", headers={"Authorization": f"Bearer {token}"}
    ).json()["collections"][0]["id"]
    target = path.format(members=members)
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT_S) as sock:
        head = _head("POST", target, token, "Content-Length: 60000\r\n")  # under the limits
        if "taxii2" in path:
            head = head.replace(b"application/json", TAXII_21.encode())
        sock.sendall(head + b'{"objects": [')
    lines = _wait_for_line(server, "aborted")
    about = [line for line in lines if target in line]
    assert len(about) == 1, about
    assert "aborted by the client" in about[0]
    assert not any("Traceback" in line or " ERROR " in line for line in lines), lines


def test_logs_are_json_with_request_ids_and_hold_no_secret(
    data: tuple[Path, dict[str, str]], live_server_factory: Factory
) -> None:
    """At debug level, in JSON: each line is one object with a request id (the client's,
    when it sent one); no token, and nothing of a RED item's content or of a search, is in
    any line."""
    path, tokens = data
    server = live_server_factory(
        path, env={"TABADOL_LOG_LEVEL": "debug", "TABADOL_LOG_FORMAT": "json"}
    )
    marker = "zarinkolah" + uuid.uuid4().hex[:8]
    publisher = {"Authorization": f"Bearer {tokens['publisher']}", "Accept": TAXII_21}
    collections = httpx.get(f"{server.url}/taxii2/root/collections/", headers=publisher).json()
    own = next(c["id"] for c in collections["collections"] if c["title"] == "Org A")
    red = make_indicator(description=marker, object_marking_refs=[TLP.RED.marking_id])
    objects_url = f"{server.url}/taxii2/root/collections/{own}/objects/"
    posted = httpx.post(
        objects_url,
        json={"objects": [red]},
        headers={**publisher, "Content-Type": TAXII_21, "X-Request-Id": "publish-red-1"},
    )
    assert posted.status_code == 202, posted.text
    assert posted.headers["x-request-id"] == "publish-red-1"
    assert marker in httpx.get(objects_url, headers=publisher).text
    found = httpx.get(f"{server.url}/api/v1/search", params={"q": marker}, headers=publisher)
    assert found.status_code == 200  # sealed: not in the index; the query is what matters here
    made = httpx.post(
        f"{server.url}/api/v1/orgs/Org A/tokens",
        json={"role": "reader"},
        headers={"Authorization": f"Bearer {tokens['operator']}"},
    )
    assert made.status_code == 201
    fresh = made.json()["token"]
    assert httpx.get(f"{server.url}/api/v1/whoami", headers={"Authorization": f"Bearer {fresh}"})
    bogus = "tbd_" + uuid.uuid4().hex
    denied = httpx.get(f"{server.url}/api/v1/whoami", headers={"Authorization": f"Bearer {bogus}"})
    assert denied.status_code == 401
    _wait_for_line(server, "/api/v1/whoami")
    server.stop()
    text = server.log_path.read_text(encoding="utf-8")
    events = [json.loads(line) for line in text.splitlines()]  # every line is one object
    published = [e for e in events if e.get("request_id") == "publish-red-1"]
    assert [e["status"] for e in published if e["logger"] == "tabadol.access"] == [202]
    assert all({"time", "level", "logger", "request_id", "message"} <= e.keys() for e in events)
    for secret in (tokens["publisher"], tokens["operator"], fresh, bogus, marker):
        assert secret not in text


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 issued by a CA made here, and a client context trusting
    only that CA."""
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    cert, key = tmp_path / "node.pem", tmp_path / "node.key"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    client = ssl.create_default_context()
    authority.configure_trust(client)
    return cert, key, client


def test_serve_speaks_https_with_a_certificate_and_key(
    data: tuple[Path, dict[str, str]],
    live_server_factory: Factory,
    tls_files: tuple[Path, Path, ssl.SSLContext],
) -> None:
    """`serve --tls-cert --tls-key` serves HTTPS that a client verifies against the CA (and
    a client that does not trust it refuses), with HSTS on the answers."""
    path, tokens = data
    cert, key, trusting = tls_files
    server = live_server_factory(
        path, args=["--tls-cert", str(cert), "--tls-key", str(key)], scheme="https",
        verify=trusting,
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {tokens['publisher']}"}
    response = httpx.get(f"{server.url}/taxii2/", headers=headers, verify=trusting)
    assert response.status_code == 200
    assert response.headers["strict-transport-security"].startswith("max-age=")
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{server.url}/taxii2/", headers=headers)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"http://127.0.0.1:{server.port}/taxii2/", headers=headers)


def test_tls_from_the_config_file(
    data: tuple[Path, dict[str, str]],
    live_server_factory: Factory,
    tls_files: tuple[Path, Path, ssl.SSLContext],
) -> None:
    """The same from tabadol.toml (tls_cert_file, tls_key_file)."""
    path, tokens = data
    cert, key, trusting = tls_files
    config = path / "tabadol.toml"
    config.write_text(config.read_text() + f'tls_cert_file = "{cert}"\ntls_key_file = "{key}"\n')
    server = live_server_factory(path, scheme="https", verify=trusting)
    response = httpx.get(
        f"{server.url}/api/v1/whoami",
        headers={"Authorization": f"Bearer {tokens['publisher']}"},
        verify=trusting,
    )
    assert response.json()["org"] == "Org A"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tls-cert", "missing.pem", "--tls-key", "missing.key"], "missing.pem"),
        (["--tls-cert", "only.pem"], "tls_cert_file and tls_key_file go together"),
        (["--log-level", "loud"], "log_level"),
        (["--log-format", "xml"], "log_format"),
    ],
)
def test_serve_refuses_bad_tls_and_log_options_in_one_line(
    data: tuple[Path, dict[str, str]], args: list[str], message: str
) -> None:
    """A certificate that cannot be loaded, or an unknown log level or format, is one line
    and exit code 1, before anything is served."""
    done = subprocess.run(
        [sys.executable, "-m", "tabadol", "serve", "--data", str(data[0]), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        cwd=data[0],
    )
    assert done.returncode == 1
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
