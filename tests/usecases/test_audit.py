"""The tamper-evident audit log: what is recorded, and that every kind of tampering is caught."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.crypto import merkle
from tabadol.crypto.canonical import canonical
from tabadol.crypto.signing import b64url, unb64url
from tabadol.domain.audit import AuditEntry, head_payload
from tabadol.domain.errors import InvalidInput
from tabadol.domain.sealed import wrapper_id
from tabadol.domain.timestamps import format_us
from tabadol.node.node import Node
from tabadol.storage.errors import IntegrityViolation
from tabadol.usecases.membership import api_tokens
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.trust import audit, keys
from tabadol.web.media import TAXII_21

from ..conftest import Community, make_indicator

RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
K = 10  # the position the tampering tests edit (the community log has 22 entries)
runner = CliRunner()
Tamper = Callable[[sqlite3.Connection], None]


def cli(*args: str | Path, ok: bool = True) -> tuple[str, str]:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert (result.exit_code == 0) is ok, (result.exit_code, result.stdout, result.stderr)
    return result.stdout, result.stderr


def post(client: TestClient, com: Community, title: str, objs: list[Any], org: str = "A") -> None:
    response = client.post(
        f"/taxii2/root/collections/{com.collections[title]}/objects/",
        content=json.dumps({"objects": objs}),
        headers={**com.auth(org), "Content-Type": TAXII_21},
    )
    assert response.status_code == 202, response.text


def actor(com: Community, org: str, role: str = "publisher") -> str:
    """How the log names the holder of `org`'s token with `role`."""
    secret = com.token(org, role)
    tokens = com.node.store.list_tokens(com.orgs[org].id)
    (token_id,) = [t.id for t in tokens if t.prefix == secret[: len(t.prefix)]]
    return f"org:Org {org}/token:{token_id}"


def since(node: Node, start: int) -> list[AuditEntry]:
    return list(node.store.iter_audit(start))


@contextmanager
def raw_db(node: Node) -> Iterator[sqlite3.Connection]:
    """A connection of its own to the node's database, as an attacker with the file has."""
    with closing(sqlite3.connect(node.data_dir / node.settings.database)) as conn, conn:
        yield conn


def restate(conn: sqlite3.Connection) -> None:
    """Make audit_state agree with whatever rows audit_log holds (an attacker covering up)."""
    leaves = [r[0] for r in conn.execute("SELECT leaf_hash FROM audit_log ORDER BY position")]
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        frontier = merkle.append_to_frontier(frontier, size, leaf)
    conn.execute(
        "UPDATE audit_state SET tree_size = ?, last_leaf = ?, frontier = ? WHERE id = 1",
        (len(leaves), leaves[-1] if leaves else None, b"".join(frontier)),
    )


def rewrite_from(conn: sqlite3.Connection, start: int, change: dict[str, Any]) -> None:
    """Rewrite entry `start` and re-chain all later ones: consistent, but unsigned."""
    rows = conn.execute(
        "SELECT position, entry, leaf_hash FROM audit_log WHERE position >= ? ORDER BY position",
        (start - 1,),
    ).fetchall()
    prev = rows[0][2]
    for position, entry, _ in rows[1:]:
        fields = {**json.loads(entry), "prev": b64url(prev)}
        if position == start:
            fields.update(change)
        data = canonical(fields)
        prev = merkle.leaf_hash(data)
        conn.execute(
            "UPDATE audit_log SET entry = ?, leaf_hash = ?, actor = ? WHERE position = ?",
            (data, prev, fields["actor"], position),
        )
    restate(conn)


# --- what is recorded -----------------------------------------------------------------------------
def test_publish_and_delete_are_audited(client: TestClient, community: Community) -> None:
    """A TAXII POST records its stored ids, ok/refused/partial and refusals; DELETE its id."""
    node, start = community.node, community.node.store.audit_size()
    other = community.orgs["B"].identity_id
    good, forged, mixed = make_indicator(), make_indicator(created_by_ref=other), make_indicator()
    post(client, community, "members", [good])
    post(client, community, "members", [forged])
    post(client, community, "members", [mixed, make_indicator(created_by_ref=other)])
    url = f"/taxii2/root/collections/{community.collections['members']}/objects/{good['id']}/"
    gone = client.delete(url, params={"match[version]": "last"}, headers=community.auth("A"))
    assert gone.status_code == 200
    ok, refused, partial, deleted = entries = since(node, start)
    assert [e.action for e in entries] == ["publish", "publish", "publish", "delete"]
    assert {e.actor for e in entries} == {actor(community, "A")}
    assert (ok.outcome, list(ok.object_ids)) == ("ok", [good["id"]])
    assert ok.detail["collection"] == community.collections["members"]
    assert (refused.outcome, list(refused.object_ids)) == ("refused", [])
    # ids only: a refusal reason may quote a value of a restricted item
    assert refused.detail["refused"] == [forged["id"]]
    assert (partial.outcome, list(partial.object_ids)) == ("partial", [mixed["id"]])
    assert (partial.detail["stored"], partial.detail["failed"]) == (1, 1)
    assert (deleted.outcome, list(deleted.object_ids)) == ("ok", [good["id"]])
    assert deleted.detail["filter"] == {"match[version]": "last"}


def test_token_and_group_changes_are_audited(client: TestClient, community: Community) -> None:
    """Token create/revoke and group member add/remove name the org admin's token."""
    admin = community.auth("A", "admin")
    start = community.node.store.audit_size()
    made = client.post("/api/v1/orgs/Org A/tokens", json={"role": "reader"}, headers=admin)
    assert made.status_code == 201
    assert client.delete(f"/api/v1/tokens/{made.json()['id']}", headers=admin).status_code == 200
    members = "/api/v1/groups/AB group/members"
    assert client.post(members, json={"org": "Org C"}, headers=admin).status_code == 200
    assert client.delete(f"{members}/Org C", headers=admin).status_code == 200
    entries = since(community.node, start)
    actions = ["token.create", "token.revoke", "group.add-member", "group.remove-member"]
    assert [e.action for e in entries] == actions
    assert {e.actor for e in entries} == {actor(community, "A", "admin")}
    assert {e.outcome for e in entries} == {"ok"}
    created, revoked, added, removed = (e.detail for e in entries)
    assert (created["org"], created["role"]) == ("Org A", "reader")
    assert created["prefix"] == made.json()["token"][:10] == revoked["prefix"]
    assert revoked["token"] == made.json()["id"]
    assert added["group"] == removed["group"] == "AB group"
    assert added["org"] == removed["org"] == "Org C"
    assert made.json()["token"] not in b"".join(e.entry for e in entries).decode()


def test_key_rotation_and_revocation_are_audited(community: Community) -> None:
    """The operator's key rotate and revoke are recorded with the key ids and the reason."""
    node, org = community.node, community.orgs["B"]
    start = node.store.audit_size()
    rotated = keys.rotate_keys(node, OPERATOR, org, None)
    keys.revoke_key(node, OPERATOR, rotated[0].key_id, "laptop stolen")
    entries = [e for e in since(node, start) if e.action.startswith("key.")]
    assert [(e.action, e.actor, e.outcome) for e in entries] == [
        ("key.rotate", "operator", "ok"),
        ("key.revoke", "operator", "ok"),
    ]
    assert entries[0].detail == {"org": "Org B", "keys": [k.key_id for k in rotated]}
    assert entries[1].detail["key"] == rotated[0].key_id
    assert entries[1].detail["reason"] == "laptop stolen"


def test_reading_a_red_object_is_audited(client: TestClient, community: Community) -> None:
    """GET of a TLP:RED object appends read.restricted; reading a GREEN one appends nothing."""
    red, green = make_indicator(marking=RED), make_indicator()
    post(client, community, "Org A", [red])
    post(client, community, "members", [green])
    base = "/taxii2/root/collections"
    start = community.node.store.audit_size()
    plain = f"{base}/{community.collections['members']}/objects/{green['id']}/"
    assert client.get(plain, headers=community.auth("A")).status_code == 200
    assert community.node.store.audit_size() == start
    url = f"{base}/{community.collections['Org A']}/objects/{red['id']}/"
    assert client.get(url, headers=community.auth("A", "reader")).status_code == 200
    (entry,) = since(community.node, start)
    assert (entry.action, entry.actor) == ("read.restricted", actor(community, "A", "reader"))
    assert list(entry.object_ids) == [wrapper_id(red["id"])]  # stored as its sealed item


# --- one transaction, one signed head -------------------------------------------------------------
def test_each_transaction_ends_with_a_signed_head_over_all_entries(
    client: TestClient, community: Community
) -> None:
    """After a publish the newest head covers the whole log: size, recomputed root, signature."""
    node = community.node
    before = node.store.audit_size()
    post(client, community, "members", [make_indicator()])
    size = node.store.audit_size()
    assert size == before + 1
    head = node.store.audit_heads()[-1]
    entries = since(node, 0)
    assert [e.position for e in entries] == list(range(size))
    leaves = [merkle.leaf_hash(e.entry) for e in entries]
    assert leaves == [e.leaf_hash for e in entries]
    assert (head.tree_size, head.root_hash) == (size, merkle.root(leaves))
    assert head.key_id == node.node_key_id
    node.node_key.verify_key.verify(head_payload(size, head.root_hash, head.at), head.signature)
    prev = [json.loads(e.entry)["prev"] for e in entries]
    assert prev == ["", *(b64url(leaf) for leaf in leaves[:-1])]


def test_an_action_whose_audit_fails_is_rolled_back(community: Community) -> None:
    """If its audit entry cannot be written, the action itself does not happen."""
    node, org = community.node, community.orgs["C"]
    with raw_db(node) as conn:
        conn.execute(
            "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log"
            " BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
        )
    tokens, org_keys = node.store.list_tokens(org.id), node.store.org_keys(org.id)
    size = node.store.audit_size()
    with pytest.raises(IntegrityViolation, match="audit refused"):
        api_tokens.create_token(node, OPERATOR, "Org C", "reader", break_glass="test")
    with pytest.raises(IntegrityViolation, match="audit refused"):
        keys.rotate_keys(node, OPERATOR, org, None)
    assert node.store.list_tokens(org.id) == tokens
    assert node.store.org_keys(org.id) == org_keys
    assert node.store.audit_size() == size


# --- verification ---------------------------------------------------------------------------------
def test_an_untouched_log_verifies(community: Community, tmp_path: Path) -> None:
    """verify_log and `audit verify` (also with a kept head) pass on the log as written."""
    node = community.node
    result = audit.verify_log(node)
    assert result.ok, result.problems
    assert (result.entries, result.heads) == (
        node.store.audit_size(),
        len(node.store.audit_heads()),
    )
    head_file = tmp_path / "head.json"
    head_file.write_text(cli("audit", "head", "--data", node.data_dir)[0])
    assert json.loads(head_file.read_text()) == audit.latest_head(node)
    out, _ = cli("audit", "verify", "--data", node.data_dir, "--head", head_file)
    assert f"audit log ok: {result.entries} entries" in out


def edit_entry(conn: sqlite3.Connection) -> None:
    entry = conn.execute("SELECT entry FROM audit_log WHERE position = ?", (K,)).fetchone()[0]
    assert b'"Org A"' in entry
    edited = entry.replace(b'"Org A"', b'"Org Z"')
    conn.execute("UPDATE audit_log SET entry = ? WHERE position = ?", (edited, K))


def edit_entry_and_leaf(conn: sqlite3.Connection) -> None:
    edit_entry(conn)
    entry = conn.execute("SELECT entry FROM audit_log WHERE position = ?", (K,)).fetchone()[0]
    conn.execute(
        "UPDATE audit_log SET leaf_hash = ? WHERE position = ?", (merkle.leaf_hash(entry), K)
    )


def swap_rows(conn: sqlite3.Connection) -> None:
    columns = "at, action, actor, entry, leaf_hash"
    i, j = (
        conn.execute(f"SELECT {columns} FROM audit_log WHERE position = ?", (p,)).fetchone()
        for p in (K, K + 3)
    )
    update = "UPDATE audit_log SET at=?, action=?, actor=?, entry=?, leaf_hash=? WHERE position=?"
    conn.execute(update, (*j, K))
    conn.execute(update, (*i, K + 3))


def forge_head(conn: sqlite3.Connection) -> None:
    sig = conn.execute("SELECT signature FROM audit_heads WHERE tree_size = ?", (K,)).fetchone()[0]
    conn.execute(
        "UPDATE audit_heads SET signature = ? WHERE tree_size = ?",
        (bytes([sig[0] ^ 1]) + sig[1:], K),
    )


@pytest.mark.parametrize(
    ("tamper", "position", "reason"),
    [
        (edit_entry, K, "stored leaf hash does not match"),
        (
            edit_entry_and_leaf,
            K + 1,
            f"signed head at tree size {K + 1} (entries 0-{K}): the log's Merkle root",
        ),
        (f"UPDATE audit_log SET actor = 'org:Org B' WHERE position = {K}", K, "columns differ"),
        (f"DELETE FROM audit_log WHERE position = {K}", K, f"entry {K} is missing"),
        (swap_rows, K, "names another position"),
        # SQLite keeps a value of any type in a BLOB column
        (f"UPDATE audit_log SET entry = CAST(entry AS TEXT) || ' ' WHERE position = {K}", K, ""),
        (
            forge_head,
            K,
            f"signed head at tree size {K} (entries 0-{K - 1}): the tree head signature",
        ),
    ],
    ids=["entry", "entry-and-leaf", "actor", "deleted", "swapped", "text", "head-signature"],
)
def test_tampering_is_reported_at_its_first_position(
    community: Community, tamper: str | Tamper, position: int, reason: str
) -> None:
    """Each edit of the stored log fails verification at the first position it touched."""
    node = community.node
    with raw_db(node) as conn:
        if isinstance(tamper, str):
            conn.execute(tamper)
        else:
            tamper(conn)
    result = audit.verify_log(node)
    assert not result.ok
    assert result.problems[0].position == position, result.problems
    assert any(reason in p.reason for p in result.problems if p.position == position)
    _, err = cli("audit", "verify", "--data", node.data_dir, ok=False)
    assert f"FAILED at position {position}:" in err


def test_each_kind_of_problem_is_reported(community: Community) -> None:
    """A forged head before an edited entry does not hide the entry: both kinds are reported."""
    node = community.node
    with raw_db(node) as conn:
        forge_head(conn)  # the head at size K
        conn.execute("UPDATE audit_log SET actor = 'org:Org B' WHERE position = ?", (K + 2,))
    problems = audit.verify_log(node).problems
    assert problems[0].position == K
    assert (K + 2, "the indexed columns differ from the entry (edited)") in [
        (p.position, p.reason) for p in problems
    ]


def test_truncation_is_caught_by_a_kept_head(community: Community, tmp_path: Path) -> None:
    """A log cut back with its heads verifies locally; a head kept elsewhere reports the cut."""
    node = community.node
    kept = audit.latest_head(node)
    head_file = tmp_path / "head.json"
    head_file.write_text(json.dumps(kept))
    cut = 15
    with raw_db(node) as conn:
        conn.execute("DELETE FROM audit_log WHERE position >= ?", (cut,))
        conn.execute("DELETE FROM audit_heads WHERE tree_size > ?", (cut,))
        restate(conn)
    assert audit.verify_log(node).ok
    result = audit.verify_log(node, [kept])
    assert [p.position for p in result.problems] == [cut]
    assert "truncated" in result.problems[0].reason
    assert f"covers {kept['tree_size']} entries" in result.problems[0].reason
    _, err = cli("audit", "verify", "--data", node.data_dir, "--head", head_file, ok=False)
    assert f"FAILED at position {cut}:" in err


def test_a_history_rewritten_whole_fails_at_the_heads(community: Community) -> None:
    """Re-chained, re-hashed entries are consistent, but no head the node signed matches them."""
    node = community.node
    kept = audit.latest_head(node)
    with raw_db(node) as conn:
        rewrite_from(conn, K, {"actor": "org:Org B"})
    result = audit.verify_log(node)
    assert result.problems[0].position == K + 1  # the first signed head covering entry K
    assert result.problems[0].reason.startswith(f"signed head at tree size {K + 1} (")
    assert "history changed" in result.problems[0].reason
    assert {p.position for p in result.problems} == set(range(K + 1, kept["tree_size"] + 1))
    with raw_db(node) as conn:  # the heads go too: entries no head covers, and a kept head
        conn.execute("DELETE FROM audit_heads WHERE tree_size > ?", (K,))
    local = audit.verify_log(node).problems
    assert [p.position for p in local] == [K]
    assert "covered by no signed tree head" in local[0].reason
    problems = audit.verify_log(node, [kept]).problems
    assert [p.position for p in problems] == [K, kept["tree_size"]]
    assert problems[1].reason.startswith(f"kept head at tree size {kept['tree_size']} (")


def test_an_entry_appended_behind_the_nodes_back_is_reported(community: Community) -> None:
    """An entry no signed head covers (forged by someone without the node key) fails verify."""
    node = community.node
    size = node.store.audit_size()
    last = since(node, size - 1)[0]
    fields = {**json.loads(last.entry), "position": size, "prev": b64url(last.leaf_hash)}
    fields.update(action="delete", actor="org:Org B", objects=["indicator--forged"])
    forged = canonical(fields)
    with raw_db(node) as conn:
        conn.execute(
            "INSERT INTO audit_log(position, at, action, actor, entry, leaf_hash)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (size, fields["at"], "delete", "org:Org B", forged, merkle.leaf_hash(forged)),
        )
        restate(conn)
    result = audit.verify_log(node)
    assert not result.ok, "an entry no signed head covers passes verification"
    assert result.problems[0].position == size


def test_a_forged_kept_head_is_refused(community: Community, tmp_path: Path) -> None:
    """A kept head whose signature is not the node's is rejected, by the service and the CLI."""
    node = community.node
    forged = {**audit.latest_head(node), "tree_size": node.store.audit_size() + 5}
    with pytest.raises(InvalidInput, match="not signed by this node"):
        audit.verify_log(node, [forged])
    head_file = tmp_path / "forged.json"
    head_file.write_text(json.dumps(forged))
    _, err = cli("audit", "verify", "--data", node.data_dir, "--head", head_file, ok=False)
    assert "not signed by this node" in err


# --- proofs ---------------------------------------------------------------------------------------
def test_inclusion_proofs_verify_and_a_changed_node_fails(community: Community) -> None:
    """Every entry's inclusion proof verifies against the root; one changed node breaks it."""
    node = community.node
    leaves = node.store.audit_leaves(node.store.audit_size())
    for size in (1, 7, len(leaves)):
        for position in range(size):
            proof = audit.prove_inclusion(node, position, size)
            path = [unb64url(h) for h in proof["proof"]]
            tree_root = unb64url(proof["root_hash"])
            assert tree_root == merkle.root(leaves[:size])
            assert unb64url(proof["leaf_hash"]) == leaves[position]
            assert merkle.verify_inclusion(leaves[position], position, size, path, tree_root)
            for i in range(len(path)):
                bad = [*path[:i], bytes(32), *path[i + 1 :]]
                assert not merkle.verify_inclusion(leaves[position], position, size, bad, tree_root)
    out, _ = cli("audit", "prove", "--data", node.data_dir, "--entry", "3", "--size", "7")
    assert json.loads(out) == audit.prove_inclusion(node, 3, 7)
    with pytest.raises(InvalidInput):
        audit.prove_inclusion(node, len(leaves))


def test_consistency_proofs_extend_a_kept_head(client: TestClient, community: Community) -> None:
    """A head kept earlier is proven a prefix of the grown log; a changed node breaks the proof."""
    node = community.node
    kept = audit.latest_head(node)
    post(client, community, "members", [make_indicator()])
    post(client, community, "public", [make_indicator()])
    proof = audit.prove_consistency(node, kept["tree_size"])
    assert proof["old_root"] == kept["root_hash"]
    assert proof["new_root"] == audit.latest_head(node)["root_hash"]
    new_size = node.store.audit_size()
    leaves = node.store.audit_leaves(new_size)
    for old in range(1, new_size + 1):
        found = audit.prove_consistency(node, old)
        path = [unb64url(h) for h in found["proof"]]
        old_root, new_root = merkle.root(leaves[:old]), merkle.root(leaves)
        assert merkle.verify_consistency(old, new_size, old_root, new_root, path)
        for i in range(len(path)):
            bad = [*path[:i], bytes(32), *path[i + 1 :]]
            assert not merkle.verify_consistency(old, new_size, old_root, new_root, bad)
    out, _ = cli("audit", "prove", "--data", node.data_dir, "--old-size", "5", "--size", "12")
    assert json.loads(out) == audit.prove_consistency(node, 5, 12)
    with pytest.raises(InvalidInput):
        audit.prove_consistency(node, 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=8), max_size=70))
def test_the_frontier_root_is_the_merkle_root(data: list[bytes]) -> None:
    """Appending leaves one by one to a frontier gives the RFC 9162 root of the whole list."""
    leaves = [merkle.leaf_hash(d) for d in data]
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        frontier = merkle.append_to_frontier(frontier, size, leaf)
        assert len(frontier) == bin(size + 1).count("1")
    assert merkle.frontier_root(frontier) == merkle.root(leaves)


# --- reading the log ------------------------------------------------------------------------------
def test_show_filters_by_action_actor_and_time(client: TestClient, community: Community) -> None:
    """`audit show` filters by action, actor and time; --json prints one canonical entry a line."""
    node = community.node
    post(client, community, "members", [make_indicator()])
    post(client, community, "members", [make_indicator()], org="B")
    data = ("--data", str(node.data_dir))
    out, _ = cli("audit", "show", *data, "--action", "publish", "--json")
    lines = out.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert canonical(json.loads(line)) == line.encode()
    assert [json.loads(line)["actor"] for line in lines] == [actor(community, o) for o in "AB"]
    out, _ = cli("audit", "show", *data, "--actor", actor(community, "B"), "--json")
    assert [json.loads(line)["action"] for line in out.splitlines()] == ["publish"]
    everything = since(node, 0)
    out, _ = cli("audit", "show", *data, "--action", "token.create", "--json", "--limit", "3")
    tokens = [e.entry.decode() for e in everything if e.action == "token.create"]
    assert out.splitlines() == tokens[:3]
    low, high = everything[5].at, everything[8].at
    window = ("--since", format_us(low), "--until", format_us(high))
    out, _ = cli("audit", "show", *data, *window, "--json")
    expected = [e.entry.decode() for e in everything if low <= e.at < high]
    assert out.splitlines() == expected
    assert len(expected) == 3
    table, _ = cli("audit", "show", *data, "--action", "org.add")
    assert "org.add" in table
    assert "token.create" not in table


def test_audit_head_api_is_for_members_and_the_operator(
    client: TestClient, community: Community
) -> None:
    """A member gets a head the node key verifies (the scheduled one, see test_audit_head);
    the operator the newest; a guest 403, no token 401."""
    node = community.node
    response = client.get("/api/v1/audit/head", headers=community.auth("C", "reader"))
    assert response.status_code == 200
    head = response.json()
    assert 0 < head["tree_size"] <= node.store.audit_size()
    assert head["key_id"] == node.node_key_id
    payload = head_payload(head["tree_size"], unb64url(head["root_hash"]), head["at"])
    node.node_key.verify_key.verify(payload, unb64url(head["signature"]))
    assert unb64url(head["root_hash"]) == merkle.root(node.store.audit_leaves(head["tree_size"]))
    operator = client.get("/api/v1/audit/head", headers=community.auth("operator")).json()
    assert operator["tree_size"] == node.store.audit_size()
    node.node_key.verify_key.verify(
        head_payload(operator["tree_size"], unb64url(operator["root_hash"]), operator["at"]),
        unb64url(operator["signature"]),
    )
    assert client.get("/api/v1/audit/head", headers=community.auth("G")).status_code == 403
    assert client.get("/api/v1/audit/head").status_code == 401
    assert audit.verify_log(node, [head, operator]).ok
