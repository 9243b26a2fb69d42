"""The OpenAPI schema tells the truth (issue 14, finding 7): schemathesis runs every phase
(examples, coverage, fuzzing, stateful) with every check against a real node process and
finds nothing the schema does not say. The run is bounded for a 2-core machine (ten
examples an operation, one worker, a fixed seed so that a failure reproduces)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from tabadol.node.node import init_node, open_node
from tabadol.usecases.membership import api_tokens, organizations, sharing_groups
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.web.media import TAXII_21

from ..conftest import LiveServer, make_indicator

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONFIG = HERE / "schemathesis.toml"
RUN = "from schemathesis.cli import schemathesis; schemathesis()"  # the `schemathesis` command


def _populate(data: Path) -> str:
    """Two member orgs, a group, a guest; returns a publisher token of org A."""
    init_node(data)
    with open_node(data) as node:
        for name in ("Org A", "Org B"):
            organizations.add_org(node, name)
        organizations.add_org(node, "Org G", member=False)
        sharing_groups.create_group(node, OPERATOR, "AB group", "Org A")
        sharing_groups.add_group_member(node, OPERATOR, "AB group", "Org B")
        _, token = api_tokens.create_token(node, OPERATOR, "Org A", "publisher")
    return token


def test_schemathesis_finds_the_schema_true(
    tmp_path: Path, live_server_factory: Callable[..., LiveServer]
) -> None:
    """Every phase, every check, zero failures, against a node holding data."""
    data = tmp_path / "node"
    token = _populate(data)
    server = live_server_factory(data)
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_21}
    listing = httpx.get(f"{server.url}/taxii2/root/collections/", headers=headers).json()
    members = next(c["id"] for c in listing["collections"] if c["title"] == "members")
    posted = httpx.post(
        f"{server.url}/taxii2/root/collections/{members}/objects/",
        json={"objects": [make_indicator(description=f"seen at 198.51.100.{i}") for i in range(5)]},
        headers={**headers, "Content-Type": TAXII_21},
    )
    assert posted.status_code == 202
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks",
        "TABADOL_DATA": str(data),
        "TABADOL_FUZZ_ORG": "Org A",
        "TABADOL_FUZZ_MEMBER": "Org B",
        "TABADOL_FUZZ_COLLECTION": members,
    }
    command = [
        sys.executable, "-c", RUN, "--config-file", str(CONFIG), "run",
        f"{server.url}/api/v1/openapi.json",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--checks", "all",
        "--max-examples", "10",
        "--workers", "1",
        "--seed", "14",
        "--generation-database", "none",
        "--no-color",
    ]  # fmt: skip
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    summary = done.stdout.split("SUMMARY")[-1]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):  # ran, and passed
        assert f"✅ {phase}" in summary or f"⏭  {phase}" in summary, summary
    assert "✅ Stateful" in summary, summary
    assert "failure" not in summary, summary
