"""People travel with the node's data: `tabadol migrate` copies every table of the SQLite
schema to PostgreSQL (the list of copied tables is checked against the schema), and a backup
restores them."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from tabadol.domain.model import Role
from tabadol.domain.people import Factor, LinkPurpose, SessionStage, account_key
from tabadol.node.node import Node, init_node, open_node
from tabadol.storage.contract import NewLink, NewPasskey, NewSession, Redemption
from tabadol.storage.transfer.copy import SINGLE_ROWS, TABLES
from tabadol.usecases.membership import organizations
from tabadol.usecases.operations.backup import backup_node, restore_node
from tabadol.usecases.operations.migrate import migrate_to_postgres

from ..pg import database_url, fresh_schema

PEOPLE_TABLES = {"people", "person_links", "person_sessions", "passkeys", "sign_in_failures"}


def _populate(node: Node) -> None:
    """A person with a used link, a session, a passkey, a personal token, and a counter."""
    org = organizations.add_org(node, "Pardis CERT")
    now = node.clock()
    person, link = node.store.create_person(
        org.id,
        "ali@pardis.example",
        "Ali",
        Role.PUBLISHER,
        now,
        NewLink(LinkPurpose.ENROL, b"link", now + 10**9),
    )
    passkey = NewPasskey(b"cred", b"public", 1, "laptop")
    node.store.redeem_link(link.id, now, Redemption("argon2-hash", b"wrapped", 7, passkey))
    session = NewSession(
        b"sess", now + 10**9, "192.0.2.1", "ua", SessionStage.COMPLETE, Factor.TOTP
    )
    node.store.create_session(person.id, session, now)
    node.store.create_token(
        org.id, "reader", "ci", b"tok", "tbd_x", now, person_id=person.id, expires=now + 10**9
    )
    node.store.reserve_attempt([account_key("ali@pardis.example", b"k")], now)
    gone, _ = node.store.create_person(  # the highest id, removed: never to be given again
        org.id, "gone@pardis.example", "", Role.READER, now, NewLink(LinkPurpose.ENROL, b"g", 1)
    )
    node.store.remove_person(gone.id, now)


def test_the_copy_names_every_table_of_the_sqlite_schema(tmp_path: Path) -> None:
    """Each table a node's SQLite file holds is copied (or is one of the single rows whose
    values are carried over, FTS5's own shadow tables, or SQLite's record of AUTOINCREMENT
    ids, which sets the PostgreSQL sequences instead)."""
    init_node(tmp_path / "node")
    with closing(sqlite3.connect(tmp_path / "node" / "tabadol.db")) as conn:
        tables = {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not row[0].startswith("search_index_") and row[0] != "sqlite_sequence"
        }
    copied = {t.name for t in TABLES} | {name for name, _, _ in SINGLE_ROWS}
    assert tables >= PEOPLE_TABLES
    assert tables == copied


def test_migrate_carries_people_sessions_and_personal_tokens(tmp_path: Path) -> None:
    """After a migration the PostgreSQL node knows the person, their session (one look-up),
    passkey, counters, and their personal token with its person."""
    data = tmp_path / "node"
    init_node(data)
    with open_node(data) as node:
        _populate(node)
    url, schema = database_url(), fresh_schema()
    report = migrate_to_postgres(data, url, schema, lambda *_: None)
    assert report.ok
    counted = {c.table: (c.source, c.target) for c in report.counts}
    assert all(counted[t][0] == counted[t][1] >= 1 for t in PEOPLE_TABLES)
    with open_node(data, database_url=url, database_schema=schema) as node:
        person = node.store.person_by_email("ali@pardis.example")
        assert person is not None
        assert person.passkey_count == 1
        assert person.totp_enabled
        bearer = node.store.session_bearer(b"sess")
        assert bearer is not None
        assert bearer.person == person
        token = node.store.bearer(b"tok")
        assert token is not None
        assert token.person == person
        assert token.token.expires
        assert node.store.failure_counters([account_key("ali@pardis.example", b"k")])
        newcomer, _ = node.store.create_person(
            person.org_id,
            "new@pardis.example",
            "",
            Role.READER,
            2,
            NewLink(LinkPurpose.ENROL, b"n", 3),
        )
        assert newcomer.id == person.id + 2  # the removed person's id is not reused


def test_a_backup_restores_people(tmp_path: Path) -> None:
    """The SQLite backup holds the people tables like every other."""
    data = tmp_path / "node"
    init_node(data)
    with open_node(data) as node:
        _populate(node)
        backup_node(node, tmp_path / "node.tar.gz")
    report = restore_node(tmp_path / "node.tar.gz", tmp_path / "restored")
    assert report.ok
    with open_node(tmp_path / "restored") as node:
        bearer = node.store.session_bearer(b"sess")
        assert bearer is not None
        assert bearer.person.email == "ali@pardis.example"
        assert node.store.passkey_by_credential(b"cred") is not None
