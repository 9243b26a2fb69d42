"""Break-glass from the command line (issue 14, finding 1): the operator acting as an org
that has its own admins — a token, an export, a search, an import — names a reason; the
org's admins list the steps and acknowledge them with their token, over the API."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ..cli_runner import tabadol
from ..conftest import LiveServer, make_indicator

ADMINS: dict[Path, str] = {}  # data directory -> the secret of Pardis CERT's own admin


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Pardis CERT has an admin of its own; Rafidain has none yet."""
    path = tmp_path / "node"
    tabadol("init", "--data", path)
    tabadol("org", "add", "Pardis CERT", "--data", path)
    tabadol("org", "add", "Rafidain", "--data", path)
    out, _ = tabadol("token", "create", "Pardis CERT", "--role", "admin", "--data", path)
    ADMINS[path] = out.strip().splitlines()[-1]
    return path


def test_acting_as_an_org_with_admins_needs_a_reason_on_every_path(
    data: Path, tmp_path: Path
) -> None:
    """token create, export, search and import as Pardis CERT fail with one line until
    --break-glass gives a reason; each step is then listed for its admins. Rafidain, with no
    admin yet, needs none."""
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"type": "bundle", "objects": [make_indicator(name="phish")]}))
    acts = {
        "token.create": ["token", "create", "Pardis CERT", "--role", "reader"],
        "export": ["export", "--org", "Pardis CERT", "-o", tmp_path / "out.json"],
        "search": ["search", "phish", "--org", "Pardis CERT"],
        "import": ["import", bundle, "--org", "Pardis CERT", "--collection", "members"],
    }
    for act, args in acts.items():
        _, err = tabadol(*args, "--data", data, ok=False)
        assert "break-glass" in err, (act, err)
        assert len(err.strip().splitlines()) == 1, (act, err)
    listed, _ = tabadol("break-glass", "list", "Pardis CERT", "--data", data)
    assert "no pending break-glass steps" in listed
    for act, args in acts.items():
        tabadol(*args, "--data", data, "--break-glass", f"ticket for {act}")
    listed, _ = tabadol("break-glass", "list", "Pardis CERT", "--data", data)
    for act in acts:
        assert f"ticket for {act}" in listed
    tabadol("token", "create", "Rafidain", "--role", "reader", "--data", data)
    tabadol("export", "--org", "Rafidain", "-o", tmp_path / "r.json", "--data", data)
    listed, _ = tabadol("break-glass", "list", "Rafidain", "--data", data)
    assert "no pending break-glass steps" in listed


def test_the_orgs_admin_lists_and_acknowledges_over_the_api(
    data: Path, live_server_factory: Callable[[Path], LiveServer]
) -> None:
    """An admin of the org sees the operator's step with its token and acknowledges it; the
    step leaves the list (the audit log keeps it), and the operator cannot acknowledge."""
    first_admin = ADMINS[data]
    tabadol(
        "token", "create", "Pardis CERT", "--role", "admin", "--data", data,
        "--break-glass", "a second admin, asked for by phone",
    )  # fmt: skip
    server = live_server_factory(data)
    remote = ["--url", server.url, "--token", first_admin]
    listed, _ = tabadol("break-glass", "list", "Pardis CERT", *remote)
    assert "a second admin, asked for by phone" in listed
    entry = next(line.split()[1] for line in listed.splitlines() if "token.create" in line)
    assert entry.isdigit()
    out, _ = tabadol("token", "create", "--node-admin", "--data", data)
    operator = ["--url", server.url, "--token", out.strip().splitlines()[-1]]
    _, err = tabadol("break-glass", "ack", "Pardis CERT", entry, *operator, ok=False)
    assert "403" in err
    tabadol("break-glass", "ack", "Pardis CERT", entry, *remote)
    listed, _ = tabadol("break-glass", "list", "Pardis CERT", *remote)
    assert "no pending break-glass steps" in listed
    shown, _ = tabadol("audit", "show", "--action", "break-glass*", "--json", "--data", data)
    actions = [json.loads(line)["action"] for line in shown.splitlines()]
    assert actions == ["break-glass", "break-glass.acknowledge"]  # the filter is a prefix
