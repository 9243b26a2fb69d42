"""The first commands a newcomer is shown run as printed (issue 14, finding 12): each `curl`
line of the demo's banner is run, through a shell, against the demo it describes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.demo.federation import demo_nodes

from ..conftest import LiveServer, free_port, free_port_run
from ..federation.nodes import FedNode, wait_until


def _examples(stdout: str) -> list[str]:
    return [line.strip() for line in stdout.splitlines() if line.strip().startswith("curl ")]


def _run(line: str) -> Any:
    """The line through a shell, as a person pastes it; its output as JSON."""
    done = subprocess.run(line, shell=True, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, (line, done.stderr)
    return json.loads(done.stdout)


def test_the_single_node_banner_runs_as_printed(tmp_path: Path) -> None:
    """The collections listing and the Persian search both answer: collections listed, and
    the search (its word URL-encoded) finds Pardis's report."""
    data, port = tmp_path / "demo", free_port()
    result = CliRunner().invoke(
        app, ["demo", "--single", "--no-serve", "--data", str(data), "--port", str(port)]
    )
    assert result.exit_code == 0, result.stderr
    listing, search = _examples(result.stdout)
    server = LiveServer(data, port)
    server.start()
    try:
        assert {c["title"] for c in _run(listing)["collections"]} >= {"members", "public"}
        assert any("فیشینگ" in json.dumps(h, ensure_ascii=False) for h in _run(search)["hits"])
    finally:
        server.stop()


def test_the_federation_banner_runs_as_printed(tmp_path: Path) -> None:
    """Run against the three served nodes, the banner's search on Northwind's node finds
    Pardis's Persian report once the nodes have synced."""
    root, port = tmp_path / "demo", free_port_run(3)
    result = CliRunner().invoke(
        app, ["demo", "--data", str(root), "--no-serve", "--port", str(port)]
    )
    assert result.exit_code == 0, result.stderr
    (search,) = _examples(result.stdout)
    assert "--data-urlencode" in search
    servers = [FedNode(n.org, n.data, port=n.port) for n in demo_nodes(root, port)]
    for fed in servers:
        fed.start()
    try:
        wait_until(lambda: bool(_run(search)["hits"]), "the banner's search finds the report")
    finally:
        for fed in servers:
            fed.stop()
