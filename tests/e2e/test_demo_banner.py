"""The first commands a newcomer is shown run as printed (issue 14, finding 12): each `curl`
line of the demo's banner is run, through a shell, against the demo it describes; each
member's printed sign-in (address, e-mail, password) signs in."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.demo.federation import demo_nodes
from tabadol.demo.people import EMAILS

from ..conftest import LiveServer, free_port, free_port_run
from ..federation.nodes import FedNode, wait_until
from .people_web import Browser


def _examples(stdout: str) -> list[str]:
    return [line.strip() for line in stdout.splitlines() if line.strip().startswith("curl ")]


def _sign_ins(stdout: str) -> list[tuple[str, str, str]]:
    """Each member's printed sign-in: (the address to open, the e-mail, the password)."""
    found = []
    for line in stdout.splitlines():
        if line.strip().startswith("sign in: "):
            words = line.split()
            found.append((words[2], words[4], words[6]))
    return found


def _signs_in(url: str, email: str, password: str) -> None:
    """The address answers with the sign-in form, and the printed e-mail and password, posted
    to it as a browser would, open a complete session: the API then knows the person."""
    base = url.removesuffix("/sign-in")
    browser = Browser(base)
    try:
        page = browser.get("/sign-in")
        assert page.status_code == 200
        assert 'action="/sign-in"' in page.text
        answer = browser.sign_in(email, password)
        assert answer.status_code == 303, answer.text
        me = browser.http.get("/api/v1/me")
        assert me.status_code == 200, me.text
        assert (me.json()["person"]["email"], me.json()["role"]) == (email, "publisher")
    finally:
        browser.close()


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
    sign_ins = _sign_ins(result.stdout)
    assert [email for _, email, _ in sign_ins] == list(EMAILS.values())
    server = LiveServer(data, port)
    server.start()
    try:
        assert {c["title"] for c in _run(listing)["collections"]} >= {"members", "public"}
        assert any("فیشینگ" in json.dumps(h, ensure_ascii=False) for h in _run(search)["hits"])
        for url, email, password in sign_ins:
            assert url == f"http://127.0.0.1:{port}/sign-in"
            _signs_in(url, email, password)
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
    sign_ins = _sign_ins(result.stdout)
    nodes = demo_nodes(root, port)
    assert [(url, email) for url, email, _ in sign_ins] == [
        (f"http://127.0.0.1:{n.port}/sign-in", EMAILS[n.org]) for n in nodes
    ]
    servers = [FedNode(n.org, n.data, port=n.port) for n in nodes]
    for fed in servers:
        fed.start()
    try:
        for url, email, password in sign_ins:  # each on the node of its org
            _signs_in(url, email, password)
        wait_until(lambda: bool(_run(search)["hits"]), "the banner's search finds the report")
    finally:
        for fed in servers:
            fed.stop()
