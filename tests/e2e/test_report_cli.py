"""`tabadol report new` as a person's shell runs it: the operator on the data directory
acting as a node-custody org (break-glass once the org has admins), and a publisher through
the native API; the id printed as the last line; every refusal one line, exit 1, nothing
written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from tabadol.domain.model import Role
from tabadol.node.node import open_node
from tabadol.usecases.membership import api_tokens, lookup
from tabadol.usecases.membership.principals import OPERATOR, org_principal
from tabadol.usecases.reading.read import get_objects

from ..cli_runner import tabadol, tabadol_process
from ..conftest import LiveServer

ORG = "Pardis CERT"
GROUP = "ICS Working Group"
TEXT = (
    "کارزار فیشینگ از نشانی ۱۸۵.۲۲۰.۱۰۱.۴ و hxxp://evil-update[.]com/path استفاده کرد؛"
    " باج به 18ZaVcAT9uahY1jsgF4MQSE7TiZrCjgR3v و 18ZaVcAT9uahY1jsgF4MQSE7TiZrCjgR3w"
)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "node"
    tabadol("init", "--data", path)
    for name in (ORG, "Rafidain", "Northwind"):
        tabadol("org", "add", name, "--data", path)
    tabadol("group", "create", GROUP, "--owner", ORG, "--data", path)
    tabadol("group", "add", GROUP, "Rafidain", "--data", path)
    return path


def _read(data: Path, org: str, channel: str) -> dict[str, Any]:
    """What `org` reads in `channel`, by id (sealed items opened for it)."""
    with open_node(data) as node:
        principal = org_principal(node, lookup.require_org(node, org), Role.READER)
        uuid = next(c.uuid for c in node.store.list_collections() if c.title == channel)
        page = get_objects(node, principal, uuid, {})
    return {o["id"]: o for o in (orjson.loads(r.body) for r in page.rows)}


def _publishes(data: Path) -> int:
    with open_node(data) as node:
        return sum(1 for e in node.store.audit_entries(limit=10_000) if e.action == "publish")


def test_the_operator_writes_a_report_with_its_indicators(data: Path, tmp_path: Path) -> None:
    """--text-file and --extract: the report and every indicator found (the invalid wallet
    never) published to the group, one envelope; the id is the last line."""
    text_file = tmp_path / "report.txt"
    text_file.write_text(TEXT, encoding="utf-8")
    out, err = tabadol_process(
        "report", "new", "--org", ORG, "--title", "گزارش\u200cها", "--text-file", text_file,
        "--tlp", "amber", "--to", GROUP, "--extract", "--confidence", "۷۵", "--data", data,
    )  # fmt: skip
    report_id = out.strip().splitlines()[-1]
    assert report_id.startswith("report--")
    assert "published with 4 indicators" in err
    seen = _read(data, "Rafidain", GROUP)
    report = seen[report_id]
    assert report["name"] == "گزارش\u200cها"
    assert report["confidence"] == 75
    assert report["lang"] == "fa"
    patterns = sorted(seen[ref]["pattern"] for ref in report["object_refs"])
    assert patterns == [
        "[domain-name:value = 'evil-update.com']",
        "[ipv4-addr:value = '185.220.101.4']",
        "[url:value = 'http://evil-update.com/path']",
        "[x-crypto-wallet:address = '18ZaVcAT9uahY1jsgF4MQSE7TiZrCjgR3v'"
        " AND x-crypto-wallet:currency = 'BTC']",
    ]
    assert _publishes(data) == 1


def test_without_extract_a_note_names_its_author_only(data: Path) -> None:
    out, _ = tabadol(
        "report", "new", "--org", ORG, "--kind", "note", "--text", TEXT, "--tlp", "red",
        "--to", GROUP, "--data", data,
    )  # fmt: skip
    note_id = out.strip().splitlines()[-1]
    note = _read(data, "Rafidain", GROUP)[note_id]
    assert note["content"] == TEXT
    assert len(note["object_refs"]) == 1
    assert note["object_refs"][0].startswith("identity--")
    assert note_id not in _read(data, "Northwind", "members")


def test_acting_as_an_org_with_admins_is_a_break_glass_step(data: Path) -> None:
    with open_node(data) as node:
        api_tokens.create_token(node, OPERATOR, ORG, "admin")
    args = ["report", "new", "--org", ORG, "--title", "t", "--text", TEXT, "--to", GROUP]
    _, err = tabadol_process(*args, "--data", data, ok=False)
    assert "break-glass" in err
    assert _publishes(data) == 0
    tabadol(*args, "--data", data, "--break-glass", "the org asked, by phone")
    with open_node(data) as node:
        actions = [e.action for e in node.store.audit_entries(limit=100)]
    assert actions[-2:] == ["break-glass", "publish"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--text", "x", "--text-file", "f.txt", "--to", GROUP], "exactly one of"),
        (["--text-file", "missing.txt", "--to", GROUP], "missing.txt"),
        (["--text-file", "latin1.txt", "--to", GROUP], "not UTF-8"),
        (["--text", TEXT, "--to", "members", "--tlp", "red"], "TLP:RED may not be shared"),
        (["--text", TEXT, "--to", "Northwind", "--tlp", "amber"], "may not publish to that"),
        (["--text", TEXT, "--to", GROUP, "--tlp", "purple"], "unknown TLP"),
        (["--text", TEXT, "--to", GROUP, "--kind", "opinion"], "a report or a note"),
        (["--text", "  ", "--to", GROUP], "the text is empty"),
        (["--text", TEXT, "--to", GROUP, "--confidence", "۱۰۱"], "0 to 100"),
        (["--text", TEXT, "--to", GROUP, "--language", "de"], "the language is one of"),
        (["--text", TEXT], "--to"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    _, err = tabadol("report", "new", "--org", ORG, "--title", "t", *args, "--data", data, ok=False)
    assert says in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert _publishes(data) == 0


def test_a_report_needs_a_title(data: Path) -> None:
    _, err = tabadol(
        "report", "new", "--org", ORG, "--text", TEXT, "--to", GROUP, "--data", data, ok=False
    )
    assert "a report needs a title" in err


def test_a_publisher_writes_through_the_api(
    data: Path, live_server_factory: Callable[..., LiveServer]
) -> None:
    """--url and --token: POST /api/v1/reports; a reader's token and another org's name
    are one line each, nothing written."""
    with open_node(data) as node:
        _, publisher = api_tokens.create_token(node, OPERATOR, ORG, "publisher")
        _, reader = api_tokens.create_token(node, OPERATOR, ORG, "reader")
    server = live_server_factory(data)
    remote = ["--url", server.url, "--to", GROUP, "--title", "عنوان", "--text", TEXT]
    out, err = tabadol_process(
        "report", "new", "--org", ORG, *remote, "--token", publisher, "--extract"
    )
    report_id = out.strip().splitlines()[-1]
    assert report_id.startswith("report--")
    assert "published with 4 indicators" in err
    assert len(_read(data, "Rafidain", GROUP)[report_id]["object_refs"]) == 4

    _, err = tabadol_process("report", "new", "--org", ORG, *remote, "--token", reader, ok=False)
    assert "403" in err
    assert "may read but not publish" in err
    _, err = tabadol_process(
        "report", "new", "--org", "Rafidain", *remote, "--token", publisher, ok=False
    )
    assert "acts for 'Pardis CERT'" in err
    _, err = tabadol_process(
        "report", "new", "--org", ORG, *remote, "--token", publisher, "--tlp", "red",
        "--confidence", "x", ok=False,
    )  # fmt: skip
    assert "0 to 100" in err
    assert _publishes(data) == 1
