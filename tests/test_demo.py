"""The demo community: what `make demo` serves is what the README promises."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient
from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.services.node import open_node
from tabadol.web.app import create_app
from tabadol.web.media import TAXII_21


def test_demo_sets_up_three_members_a_group_and_three_languages(tmp_path: Path) -> None:
    """`tabadol demo --no-serve` creates the community once and prints a token per member;
    each member then sees exactly its channels, with reports in fa, ar and en."""
    data = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--data", str(data), "--no-serve"])
    assert result.exit_code == 0, result.stderr
    tokens = [line.split(": ")[-1] for line in result.stdout.splitlines() if ": tbd_" in line]
    assert len(tokens) == 3
    again = CliRunner().invoke(app, ["demo", "--data", str(data), "--no-serve"])
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
