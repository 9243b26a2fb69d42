"""`tabadol user …` as a person's shell runs it (a real process on a real data directory):
the operator on the data directory, and an org's admin through the API; links printed as
the last line and redeemed as the person would; every refusal one line, exit 1, nothing
written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tabadol.domain.errors import NotFound
from tabadol.node.node import open_node
from tabadol.usecases.people import enrolment, sign_in

from ..cli_runner import tabadol, tabadol_process
from ..conftest import LiveServer

PASSWORD = "correct horse battery staple"
ALI = "ali@pardis.example"
ORG = "Pardis CERT"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "node"
    tabadol("init", "--data", path)
    tabadol("org", "add", ORG, "--data", path)
    tabadol("org", "add", "Rafidain", "--data", path)
    return path


def _secret(link: str) -> str:
    assert "/enrol/" in link, link
    return link.rsplit("/", 1)[1]


def _redeem(data: Path, link: str) -> None:
    with open_node(data) as node:
        enrolment.redeem(node, _secret(link), PASSWORD)


def _rows(listing: str) -> dict[str, list[str]]:
    """A Rich table's rows by their first cell (the e-mail address or the session id)."""
    rows = {}
    for line in listing.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) > 2 and cells[0] and cells[0] not in ("email", "id"):
            rows[cells[0]] = cells
    return rows


def test_the_operator_manages_the_life_of_a_person(data: Path) -> None:
    """add prints the enrolment link as its last line and the person enrols with it; list,
    role, disable, enable, reset (the new link works, the old one no more), remove."""
    out, err = tabadol_process(
        "user", "add", ORG, "Ali@Pardis.example", "--role", "reader", "--name", "Ali Rezaei",
        "--data", data,
    )  # fmt: skip
    link = out.strip().splitlines()[-1]
    assert ALI in err
    assert "usable once" in err
    listed, _ = tabadol_process("user", "list", ORG, "--data", data)
    assert _rows(listed)[ALI][1:5] == ["Ali Rezaei", "reader", "invited", "—"]
    _redeem(data, link)
    with open_node(data) as node, pytest.raises(NotFound):  # a link is used once
        enrolment.redeem(node, _secret(link), PASSWORD)
    listed, _ = tabadol_process("user", "list", ORG, "--data", data)
    assert _rows(listed)[ALI][2:5] == ["reader", "active", "password"]

    out, _ = tabadol_process("user", "role", ORG, ALI, "publisher", "--data", data)
    assert "now publisher" in out
    out, _ = tabadol_process("user", "disable", ORG, ALI, "--data", data)
    assert "disabled" in out
    with open_node(data) as node, pytest.raises(Exception, match="wrong"):
        sign_in.sign_in(node, ALI, PASSWORD, address="192.0.2.1")
    tabadol_process("user", "enable", ORG, ALI, "--data", data)
    listed, _ = tabadol_process("user", "list", ORG, "--data", data)
    assert _rows(listed)[ALI][2:4] == ["publisher", "active"]

    first, _ = tabadol_process("user", "reset", ORG, ALI, "--data", data)
    second, _ = tabadol_process("user", "reset", ORG, ALI, "--data", data)
    with open_node(data) as node, pytest.raises(NotFound):  # the newer link replaced it
        enrolment.redeem(node, _secret(first.strip().splitlines()[-1]), PASSWORD)
    _redeem(data, second.strip().splitlines()[-1])

    with open_node(data) as node:
        signed = sign_in.sign_in(node, ALI, PASSWORD, address="192.0.2.1", user_agent="curl")
    listed, _ = tabadol_process("user", "list", ORG, "--data", data)
    assert _rows(listed)[ALI][5]  # the last sign-in is known now
    shown, _ = tabadol_process("user", "sessions", ORG, ALI, "--data", data)
    assert _rows(shown)[str(signed.session.id)][5] == "192.0.2.1"
    tabadol_process("user", "revoke-session", ORG, ALI, str(signed.session.id), "--data", data)
    shown, _ = tabadol_process("user", "sessions", ORG, ALI, "--data", data)
    assert _rows(shown)[str(signed.session.id)][4]  # ended

    out, _ = tabadol_process("user", "remove", ORG, ALI, "--data", data)
    assert "removed" in out
    listed, _ = tabadol_process("user", "list", ORG, "--data", data)
    assert "no people in Pardis CERT" in listed
    shown, _ = tabadol("audit", "show", "--action", "person.*", "--json", "--data", data)
    acts = {json.loads(line)["action"] for line in shown.splitlines()}
    assert acts >= {
        "person.invite", "person.enrol", "person.role", "person.disable", "person.enable",
        "person.reset", "person.sign-in", "person.session.revoke", "person.remove",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", ORG, "not-an-address", "--role", "reader"], "local@domain"),
        (["add", ORG, "x@pardis.example", "--role", "king"], "role must be one of"),
        (["add", "No Such Org", "x@pardis.example", "--role", "reader"], "no organization"),
        (["add", ORG, ALI, "--role", "reader"], "in use on this node"),
        (["role", ORG, "nobody@pardis.example", "reader"], "no person"),
        (["role", "Rafidain", ALI, "reader"], "no person"),
        (["disable", ORG, "nobody@pardis.example"], "no person"),
        (["remove", ORG, "nobody@pardis.example"], "no person"),
        (["reset", "Rafidain", ALI], "no person"),
        (["sessions", ORG, "nobody@pardis.example"], "no person"),
        (["revoke-session", ORG, ALI, "99"], "no live session"),
        (["list", ORG, "--url", "http://127.0.0.1:9"], "both --url and --token"),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, list) else None,
)
def test_bad_input_is_one_line_and_writes_nothing(
    data: Path, args: list[str], message: str
) -> None:
    tabadol("user", "add", ORG, ALI, "--role", "reader", "--data", data)
    before, _ = tabadol("audit", "show", "--json", "--data", data)
    _, err = tabadol_process("user", *args, "--data", data, ok=False)
    assert message in err
    after, _ = tabadol("audit", "show", "--json", "--data", data)
    assert after == before


def test_the_operator_needs_a_reason_once_the_org_has_admins(data: Path) -> None:
    """With an admin of its own, every people act of the operator on the org is a
    break-glass step: refused in one line without --break-glass, recorded with it."""
    tabadol("token", "create", ORG, "--role", "admin", "--data", data)
    _, err = tabadol_process("user", "add", ORG, ALI, "--role", "reader", "--data", data, ok=False)
    assert "break-glass" in err
    out, _ = tabadol_process(
        "user", "add", ORG, ALI, "--role", "reader", "--data", data,
        "--break-glass", "their admin is on leave",
    )  # fmt: skip
    assert "/enrol/" in out.strip().splitlines()[-1]
    tabadol("user", "disable", ORG, ALI, "--data", data, ok=False)
    tabadol("user", "disable", ORG, ALI, "--data", data, "--break-glass", "left the team")
    listed, _ = tabadol("break-glass", "list", ORG, "--data", data)
    assert "their admin is on leave" in listed
    assert "left the team" in listed
    tabadol("user", "add", "Rafidain", "r@rafidain.example", "--role", "reader", "--data", data)


def test_an_org_admin_manages_its_people_through_the_api(
    data: Path, live_server_factory: Callable[[Path], LiveServer]
) -> None:
    """--url and --token: the org's admin invites, lists, changes, ends a session and
    removes; another org's admin is told the person does not exist; a publisher of the
    org may not manage its people."""
    admin, _ = tabadol("token", "create", ORG, "--role", "admin", "--data", data)
    other, _ = tabadol("token", "create", "Rafidain", "--role", "admin", "--data", data)
    publisher, _ = tabadol(
        "token", "create", ORG, "--role", "publisher", "--data", data, "--break-glass", "setup"
    )
    server = live_server_factory(data)
    remote = ["--url", server.url, "--token", admin.strip().splitlines()[-1]]
    out, _ = tabadol_process("user", "add", ORG, ALI, "--role", "reader", *remote)
    _redeem(data, out.strip().splitlines()[-1])
    listed, _ = tabadol_process("user", "list", ORG, *remote)
    assert _rows(listed)[ALI][2:4] == ["reader", "active"]
    tabadol_process("user", "role", ORG, ALI, "publisher", *remote)
    with open_node(data) as node:
        signed = sign_in.sign_in(node, ALI, PASSWORD, address="192.0.2.7")
    shown, _ = tabadol_process("user", "sessions", ORG, ALI, *remote)
    assert str(signed.session.id) in _rows(shown)
    tabadol_process("user", "revoke-session", ORG, ALI, str(signed.session.id), *remote)
    tabadol_process("user", "disable", ORG, ALI, *remote)
    tabadol_process("user", "enable", ORG, ALI, *remote)
    reset, _ = tabadol_process("user", "reset", ORG, ALI, *remote)
    assert "/enrol/" in reset.strip().splitlines()[-1]

    stranger = ["--url", server.url, "--token", other.strip().splitlines()[-1]]
    _, err = tabadol_process("user", "disable", ORG, ALI, *stranger, ok=False)
    assert "404 no organization of that name that you manage" in err
    _, err = tabadol_process("user", "disable", "Rafidain", ALI, *stranger, ok=False)
    assert "404" in err
    assert "no person" in err
    member = ["--url", server.url, "--token", publisher.strip().splitlines()[-1]]
    _, err = tabadol_process("user", "list", ORG, *member, ok=False)
    assert "404" in err

    tabadol_process("user", "remove", ORG, ALI, *remote)
    listed, _ = tabadol_process("user", "list", ORG, *remote)
    assert "no people" in listed
