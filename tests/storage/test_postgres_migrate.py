"""`tabadol migrate`: a node's SQLite data moved to PostgreSQL — counts and signatures checked,
resumable, and the node then serves the same content from PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.demo import community as demo
from tabadol.domain.audience import AudienceKind
from tabadol.domain.filters import ObjectFilter
from tabadol.domain.policy import Visibility
from tabadol.node.node import init_node, open_node
from tabadol.usecases.membership import api_tokens, lookup
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.trust import audit
from tabadol.web.app import create_app
from tabadol.web.media import TAXII_21

from ..pg import database_url, fresh_schema


def _objects(data: Path, token: str) -> dict[str, list[str]]:
    """Every object id each collection shows this token (through the TAXII API)."""
    with open_node(data) as node, TestClient(create_app(lambda: node)) as client:
        headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_21}
        found = {}
        for c in client.get("/taxii2/root/collections/", headers=headers).json()["collections"]:
            body = client.get(f"/taxii2/root/collections/{c['id']}/objects/", headers=headers)
            found[c["title"]] = sorted(o["id"] for o in body.json().get("objects", []))
        return found


def test_migrate_moves_everything_and_the_node_serves_it_from_postgres(tmp_path: Path) -> None:
    data = tmp_path / "node"
    init_node(data)
    with open_node(data) as node:
        demo.populate(node)
        members = lookup.collection_by_kind(node, AudienceKind.MEMBERS)
        (first,) = node.store.query_objects(
            Visibility(frozenset({members.id})),
            ObjectFilter(types=frozenset({"indicator"})),
            None,
            1,
        )
        node.store.delete_versions(members.id, first.stix_id, ObjectFilter(), node.clock())
        _, token = api_tokens.create_token(node, OPERATOR, demo.ORGS[0], "reader")
    before = _objects(data, token)
    url, schema = database_url(), fresh_schema()
    args = ["migrate", "--data", str(data), "--to", url, "--schema", schema]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "verified against their authors' keys" in result.stdout
    verified = re.search(r"([\d,]+)\s+objects\s+verified", result.stdout)
    assert verified is not None
    with psycopg.connect(url, options=f"-c search_path={schema}") as conn:
        stored = conn.execute("SELECT count(*) FROM objects").fetchone()
    assert stored is not None
    assert int(verified.group(1).replace(",", "")) == stored[0] > 0  # every object, read back
    # interrupted: the newest objects never reached PostgreSQL; a second run copies them
    with psycopg.connect(url, options=f"-c search_path={schema}", autocommit=True) as conn:
        conn.execute("DELETE FROM objects WHERE seq > (SELECT max(seq) - 3 FROM objects)")
    again = CliRunner().invoke(app, [*args, "--switch"])
    assert again.exit_code == 0, again.stdout + again.stderr
    with psycopg.connect(url, options=f"-c search_path={schema}") as conn:
        pg = conn.execute("SELECT count(*), count(DISTINCT seq) FROM objects").fetchone()
    with open_node(data) as node:  # now on PostgreSQL
        assert node.settings.database_url == url
        assert node.store.__class__.__name__ == "PostgresStore"
        assert audit.verify_log(node, []).ok
        rows = node.store.count_objects(
            Visibility(frozenset(c.id for c in node.store.list_collections()))
        )
    assert pg[0] == pg[1]
    assert rows > 0
    assert _objects(data, token) == before
    wrong = CliRunner().invoke(app, ["migrate", "--data", str(data), "--to", "mysql://x"])
    assert wrong.exit_code == 1
    assert "postgresql://" in wrong.stderr
