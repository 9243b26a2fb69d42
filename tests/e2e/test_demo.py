"""The demo community: what `make demo` serves is what the README promises."""

from __future__ import annotations

from pathlib import Path

import httpx
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.demo.community import GROUP
from tabadol.demo.federation import demo_nodes
from tabadol.node.node import open_node
from tabadol.web.app import create_app
from tabadol.web.media import TAXII_21

from ..conftest import free_port_run
from ..federation.nodes import FedNode, wait_until


def test_demo_sets_up_three_members_a_group_and_three_languages(tmp_path: Path) -> None:
    """`tabadol demo --single --no-serve` creates the community once and prints a token per member;
    each member then sees exactly its channels, with reports in fa, ar and en."""
    data = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--data", str(data), "--no-serve", "--single"])
    assert result.exit_code == 0, result.stderr
    tokens = [line.split(": ")[-1] for line in result.stdout.splitlines() if ": tbd_" in line]
    assert len(tokens) == 3
    again = CliRunner().invoke(app, ["demo", "--data", str(data), "--no-serve", "--single"])
    assert again.exit_code == 0

    with open_node(data) as node, TestClient(create_app(lambda: node)) as client:
        seen: dict[int, set[str]] = {}
        contents: dict[int, set[str]] = {}
        languages: set[str] = set()
        for index, token in enumerate(tokens):
            headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_21}
            listed = client.get("/taxii2/root/collections/", headers=headers).json()
            seen[index] = {c["title"] for c in listed["collections"]}
            for collection in listed["collections"]:
                url = f"/taxii2/root/collections/{collection['id']}/objects/"
                body = client.get(url, headers=headers).json()
                languages |= {o["lang"] for o in body.get("objects", []) if "lang" in o}
                contents.setdefault(index, set()).update(
                    o["content"] for o in body.get("objects", []) if "content" in o
                )
        assert len(node.store.list_orgs()) == 3  # the second run added nothing
        db = (data / node.settings.database).read_bytes()
    red = next(c for c in contents[1] if "لا تُشارك" in c)  # sealed, opened for a recipient
    assert red in contents[0]
    assert red not in contents[2]
    assert red.encode() not in db
    assert "ICS Working Group" in seen[0]
    assert "ICS Working Group" in seen[1]
    assert "ICS Working Group" not in seen[2]
    assert languages == {"fa", "ar", "en"}


def test_the_demo_federation_delivers_each_report_where_it_may_be_read(tmp_path: Path) -> None:
    """`tabadol demo` (what `make demo` runs): three nodes, one member each. Served, the
    Persian and Arabic reports reach every node, the working group's items (the RED note
    sealed) reach the two members' nodes only, and Northwind's own note stays home."""
    root = tmp_path / "demo"
    port = free_port_run(3)  # the demo's nodes listen on port, port + 1 and port + 2
    result = CliRunner().invoke(
        app, ["demo", "--data", str(root), "--no-serve", "--port", str(port)]
    )
    assert result.exit_code == 0, result.stderr
    tokens = [line.split(": ")[-1] for line in result.stdout.splitlines() if ": tbd_" in line]
    nodes = demo_nodes(root, port)
    servers = [FedNode(n.org, n.data, port=n.port) for n in nodes]
    for fed, token in zip(servers, tokens, strict=True):
        fed.tokens[fed.name] = token
        fed.start()
    try:
        pardis, rafidain, northwind = servers

        def titles(fed: FedNode, collection: str) -> set[str]:
            return {o.get("name") or o.get("content", "") for o in fed.read(fed.name, collection)}

        wait_until(
            lambda: (
                {"کارزار فیشینگ علیه مشتریان بانک‌ها", "حملة تصيّد تستهدف عملاء المصارف"}
                <= titles(northwind, "members")
            ),
            "the Persian and Arabic reports at Northwind's node",
        )
        red = "عناوين المحطتين المتأثرتين: ١٠٫٢٠٫٣٠٫٤٠ و١٠٫٢٠٫٣٠٫٤١. لا تُشارك."
        wait_until(lambda: red in titles(pardis, GROUP), "the RED note, opened at Pardis's node")
        wait_until(
            lambda: "آسیب‌پذیری در رابط وب کنترل‌گرهای صنعتی" in titles(rafidain, GROUP),
            "Pardis's group report at Rafidain's node",
        )
        assert GROUP not in {c for c in _collections(northwind)}
        (own,) = [o for o in northwind.read(northwind.name, northwind.name) if o["type"] == "note"]
        assert own["content"].startswith("Internal: incident 2026-114")  # sealed, opened for it
        for other in nodes[:2]:
            files = b"".join(p.read_bytes() for p in other.data.glob("tabadol.db*"))
            assert own["id"].encode() not in files  # an org's own items never leave its node
            assert red.encode() not in files  # RED travels and rests as ciphertext
    finally:
        for fed in servers:
            fed.stop()


def _collections(fed: FedNode) -> list[str]:
    listed = httpx.get(f"{fed.url}/taxii2/root/collections/", headers=fed.auth(fed.name))
    return [c["title"] for c in listed.json()["collections"]]
