"""The session-wide conformance check (issue 13) records what really leaves the servers: TAXII
reads, the member feed and `tabadol export` in this process, a `tabadol serve` subprocess, and
a session with a refused object fails (or only reports, when asked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.node.node import open_node
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.web.media import TAXII_21

from ..conformance.plugin import MODE, RECORD_DIR, SITE, SOURCE, Conformance, conformance_of
from ..conftest import Community, LiveServer, make_indicator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def conformance(request: pytest.FixtureRequest) -> Conformance:
    found = conformance_of(request.config)
    if found is None:
        pytest.skip(f"{MODE}=off: nothing is recorded")
    return found


def _channels(conformance: Conformance, stix_id: str) -> set[str]:
    entries = conformance.ledger.emitted.values()
    return {c for e in entries if e.obj.get("id") == stix_id for c in e.channels}


def test_taxii_reads_the_member_feed_and_export_are_recorded(
    conformance: Conformance, client: TestClient, community: Community, tmp_path: Path
) -> None:
    """An indicator A posts is recorded as posted; read back by B over TAXII (a page and by
    id), in B's change feed and in B's export, it is recorded in each channel."""
    indicator = make_indicator()
    members = community.collections["members"]
    url = f"/taxii2/root/collections/{members}/objects/"
    posted = client.post(
        url,
        json={"objects": [indicator]},
        headers={**community.auth("A"), "Content-Type": TAXII_21},
    )
    assert posted.json()["success_count"] == 1
    assert (indicator["id"], indicator["modified"]) in conformance.ledger.posted
    reader = community.auth("B", "reader")
    assert client.get(url, headers=reader).status_code == 200
    assert client.get(f"{url}{indicator['id']}/", headers=reader).status_code == 200
    assert client.get("/api/v1/changes", headers=reader).status_code == 200
    bundle = tmp_path / "export.json"
    data = str(community.node.data_dir)
    export = ["export", "--org", "Org B", "--data", data, "-o", str(bundle)]
    done = CliRunner().invoke(app, [*export, "--break-glass", "conformance test"])
    assert done.exit_code == 0, done.output
    assert _channels(conformance, indicator["id"]) == {
        "TAXII objects",
        "TAXII object",
        "member feed",
        "export",
    }
    missing = client.get(f"{url}indicator--00000000-0000-4000-8000-000000000000/", headers=reader)
    assert missing.status_code == 404


def test_a_server_in_a_subprocess_records_what_it_emits(
    conformance: Conformance, data_dir: Path, live_server_factory: Callable[[Path], LiveServer]
) -> None:
    """`tabadol serve` run as a process writes what it emitted and what was posted to it into
    the session's directory, attributed to the test that started it."""
    with open_node(data_dir) as node:
        organizations.add_org(node, "Relay CERT")
        secret = api_tokens.create_token(node, OPERATOR, "Relay CERT", "publisher")[1]
    server = live_server_factory(data_dir)
    headers = {"Authorization": f"Bearer {secret}", "Accept": TAXII_21}
    listed = httpx.get(f"{server.url}/taxii2/root/collections/", headers=headers).json()
    (members,) = [c["id"] for c in listed["collections"] if c["title"] == "members"]
    url = f"{server.url}/taxii2/root/collections/{members}/objects/"
    indicator = make_indicator()
    posted = httpx.post(
        url, json={"objects": [indicator]}, headers={**headers, "Content-Type": TAXII_21}
    )
    assert posted.json()["success_count"] == 1
    assert httpx.get(url, headers=headers).status_code == 200
    records = [
        json.loads(line)
        for path in Path(os.environ[RECORD_DIR]).glob("record-*.jsonl")
        for line in path.read_text().splitlines()
    ]
    # every process of the session records here, what other tests posted too (objects
    # without an id among them): only this indicator's records are this test's
    mine = [
        r
        for r in records
        if r["kind"] != "failure"
        and isinstance(r.get("object"), dict)
        and r["object"].get("id") == indicator["id"]
    ]
    assert {(r["kind"], r["channel"]) for r in mine} == {
        ("posted", ""),
        ("emitted", "TAXII objects"),
    }
    assert all(r["source"].startswith(os.environ[SOURCE]) for r in mine)


_CHILD_TEST = """
def test_emits(request):
    from tests.conformance.plugin import conformance_of

    sink = conformance_of(request.config).sink
    sink.emitted({OBJECT}, "TAXII objects")
"""


@pytest.mark.parametrize(("mode", "exit_code"), [("enforce", 1), ("report", 0)])
def test_a_refused_object_fails_the_session_unless_only_reporting(
    tmp_path: Path, mode: str, exit_code: int
) -> None:
    """A session in which a server emitted an object the tools refuse ends with exit status 1
    and names the object and the reason; `report` prints the same and passes."""
    # a property the node would have added (the previous release's sealed form is excused)
    bad = make_indicator(x_tabadol_added={"alg": "xchacha20poly1305"})
    (tmp_path / "conftest.py").write_text('pytest_plugins = ("tests.conformance.plugin",)\n')
    (tmp_path / "test_child.py").write_text(_CHILD_TEST.replace("{OBJECT}", repr(bad)))
    python_path = [str(ROOT), str(ROOT / "src")]
    env = {k: v for k, v in os.environ.items() if k not in (RECORD_DIR, SOURCE, "PYTHONPATH")}
    env.update({MODE: mode, "PYTHONPATH": os.pathsep.join(python_path)})
    assert str(SITE) not in env["PYTHONPATH"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == exit_code, done.stdout + done.stderr
    assert bad["id"] in done.stdout
    assert "unexpected property x_tabadol_added" in done.stdout
    assert "1 emitted objects are not STIX the field accepts" in done.stdout
