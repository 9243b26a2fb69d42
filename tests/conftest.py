"""Shared fixtures: a real node on a real SQLite file, a community in it, HTTP clients."""

from __future__ import annotations

import itertools
import json
import os
import random
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from starlette.testclient import TestClient
from stix2validator import ValidationOptions, validate_instance

from tabadol.client.remote import ClientKeys
from tabadol.config import Settings
from tabadol.domain.keys import Custody
from tabadol.domain.model import Org
from tabadol.node.node import Node, init_node, open_node
from tabadol.usecases.membership import api_tokens, organizations, sharing_groups
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.web.app import create_app
from tabadol.web.media import TAXII_21

# every STIX object a server emits during the session is judged at its end (issue 13)
pytest_plugins = ("tests.conformance.plugin",)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ICS_BUNDLE = DATA / "ics-attack-18.1.json"
MOBILE_BUNDLE = DATA / "mobile-attack-17.1.json"
# The ATT&CK bundles are read from ../shared/data beside the repository, never copied into it:
# a clone of the project alone skips the tests that need them.
needs_attack_data = pytest.mark.skipif(
    not (ICS_BUNDLE.exists() and MOBILE_BUNDLE.exists()),
    reason=f"the MITRE ATT&CK bundles are not at {DATA} (../shared/data beside the repository)",
)
START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


@pytest.fixture(autouse=True, scope="session")
def _key_secrets_outside_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Test nodes keep their key-wrapping secrets in a session directory (outside every data
    directory, as in production), not in the user's ~/.config; subprocesses inherit it."""
    home = tmp_path_factory.mktemp("xdg-config")
    previous = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(home)
    yield
    if previous is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = previous


@pytest.fixture(autouse=True)
def _pinned_keys_per_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's CLI client pins keys in a file of its own: test nodes come and go on
    reused ports, and a node at a pinned URL with another key is refused (client.pins)."""
    monkeypatch.setenv("TABADOL_PINS", str(tmp_path / "pinned-keys.json"))


class StepClock:
    """An injectable clock: each reading is one millisecond after the previous one."""

    def __init__(self, start: int = START_US, step: int = 1000) -> None:
        self._counter = itertools.count(start, step)

    def __call__(self) -> int:
        return next(self._counter)


@pytest.fixture
def backend() -> str:
    """The storage backend of the node fixtures: SQLite, unless a module asks for both
    (`@pytest.fixture(params=BACKENDS) def backend`)."""
    return "sqlite"


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture
def data_dir(tmp_path: Path, backend: str) -> Path:
    path = tmp_path / "node"
    if backend == "postgres":
        from .pg import database_url, fresh_schema

        init_node(path, Settings(database_url=database_url(), database_schema=fresh_schema()))
    else:
        init_node(path)
    return path


@pytest.fixture
def node(data_dir: Path) -> Iterator[Node]:
    with open_node(data_dir, clock=StepClock()) as opened:
        yield opened


@dataclass
class Community:
    """Three member orgs (A, B, C), a guest org G, a group of A and B, tokens by role."""

    node: Node
    orgs: dict[str, Org]
    tokens: dict[str, str] = field(default_factory=dict)  # "A:publisher" -> secret
    collections: dict[str, str] = field(default_factory=dict)  # title -> TAXII id

    def token(self, org: str, role: str = "publisher") -> str:
        """The secret of `org`'s token with `role`; `token("operator")` is the node-admin's."""
        return self.tokens["operator" if org == "operator" else f"{org}:{role}"]

    def auth(self, org: str, role: str = "publisher") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(org, role)}", "Accept": TAXII_21}


@pytest.fixture
def community(node: Node) -> Community:
    return build_community(node)


def build_community(node: Node) -> Community:
    """Create the standard test community in `node`."""
    orgs = {name: organizations.add_org(node, f"Org {name}") for name in "ABC"}
    orgs["G"] = organizations.add_org(node, "Org G", member=False)
    sharing_groups.create_group(node, OPERATOR, "AB group", "Org A")
    sharing_groups.add_group_member(node, OPERATOR, "AB group", "Org B")
    com = Community(node, orgs)
    for name in "ABCG":
        for role in ("reader", "publisher", "admin"):  # the admin last: minting a token for
            # an org that has its own admins is the operator's break-glass step
            _, secret = api_tokens.create_token(node, OPERATOR, f"Org {name}", role)
            com.tokens[f"{name}:{role}"] = secret
    _, com.tokens["operator"] = api_tokens.create_token(node, OPERATOR, None, "node-admin")
    com.collections = {c.title: c.uuid for c in node.store.list_collections()}
    return com


_VALIDATION = ValidationOptions(version="2.1", strict=False)
_validated: set[bytes] = set()


def assert_valid_stix(objects: list[Any]) -> None:
    """stix2-validator finds no error in any of `objects` (each distinct object checked once)."""
    for obj in objects:
        key = json.dumps(obj, sort_keys=True).encode()
        if key in _validated:
            continue
        result = validate_instance(obj, _VALIDATION)
        assert result.is_valid, (obj.get("id"), [str(e) for e in result.errors])
        _validated.add(key)


def assert_strict_stix(objects: list[Any], *, except_checks: tuple[str, ...] = ()) -> None:
    """Each object parses with the reference `stix2` library's defaults (no custom
    properties) and passes stix2-validator in strict mode (SHOULDs and deprecated custom
    properties are errors): what a generic STIX 2.1 consumer accepts. `except_checks`:
    validator checks a caller knowingly leaves out, by name (say why where it is used)."""
    import stix2

    options = ValidationOptions(version="2.1", strict=True, disabled=list(except_checks))
    for obj in objects:
        stix2.parse(obj, allow_custom=False)
        result = validate_instance(obj, options)
        assert result.is_valid, (obj.get("id"), [str(e) for e in result.errors])


def _validate_emitted(response: httpx.Response) -> None:
    """Response hook: every STIX object in a TAXII envelope the server sends is validated."""
    if not response.headers.get("content-type", "").startswith("application/taxii+json"):
        return
    response.read()
    if response.status_code != 200 or not response.content:
        return
    body = response.json()
    objects = body.get("objects") if isinstance(body, dict) else None
    if isinstance(objects, list):
        # an item sealed by the previous release (x_tabadol_sealed, stored before or relayed by
        # a peer) keeps only routing metadata in clear: not a complete object of its type
        assert_valid_stix(
            [
                o
                for o in objects
                if isinstance(o, dict) and "spec_version" in o and "x_tabadol_sealed" not in o
            ]
        )


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    """In-process HTTP to the app; every emitted STIX object goes through stix2-validator."""
    app = create_app(lambda: node)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.event_hooks["response"].append(_validate_emitted)
        yield test_client


def stix_id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def make_indicator(
    *, modified: str = "2026-01-02T03:04:05.000Z", marking: str | None = None, **extra: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id("indicator"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "name": "bad IP",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    if marking is not None:
        obj["object_marking_refs"] = [marking]
    obj.update(extra)
    return obj


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_run(count: int) -> int:
    """The first of `count` consecutive loopback ports free now. Drawn below Linux's
    ephemeral range (32768-60999), so no outgoing connection of the machine (a database
    client, an HTTP client) takes one of them before the servers bind: a port next to one the
    kernel handed out as free may well be such a connection's."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 32_000 - count)
        if all(_bindable(port) for port in range(base, base + count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports found")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class LiveServer:
    """`tabadol serve` in its own process on a loopback port."""

    data_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    args: list[str] = field(default_factory=list)  # more `tabadol serve` options
    env: dict[str, str] = field(default_factory=dict)  # TABADOL_* settings of this server
    scheme: str = "http"
    verify: ssl.SSLContext | bool = True  # how `start` reaches an HTTPS server

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def _log(self) -> int:
        return os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        env = {**os.environ, "TABADOL_LOG_LEVEL": "warning", **self.env}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tabadol",
                "serve",
                "--data",
                str(self.data_dir),
                "--port",
                str(self.port),
                *self.args,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._log(),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                httpx.get(f"{self.url}/taxii2/", timeout=0.5, verify=self.verify)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not start in time")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def live_server_factory() -> Iterator[Callable[..., LiveServer]]:
    """Starts `tabadol serve` on a data directory (keyword arguments: LiveServer's fields)."""
    servers: list[LiveServer] = []

    def start(data: Path, **options: Any) -> LiveServer:
        server = LiveServer(data, free_port(), **options)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def client_org(community: Community) -> tuple[Org, ClientKeys]:
    """Org K keeps its keys: the node knows only its public keys (an older client may still
    sign in the older form)."""
    held = ClientKeys(SigningKey.generate(), PrivateKey.generate())
    org = organizations.add_org(
        community.node, "Org K", custody=Custody.CLIENT, public_keys=held.public()
    )
    _, community.tokens["K:publisher"] = api_tokens.create_token(
        community.node, OPERATOR, "Org K", "publisher"
    )
    community.collections = {c.title: c.uuid for c in community.node.store.list_collections()}
    return org, held
