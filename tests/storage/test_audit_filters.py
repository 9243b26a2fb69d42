"""Audit filters take a prefix (issue 14, finding 12), the same way on both engines; and the
operator's token listing without an org shows every token it manages."""

from __future__ import annotations

import pytest

from tabadol.domain.audit import AuditEvent
from tabadol.domain.model import Role
from tabadol.node.node import Node
from tabadol.usecases.membership import api_tokens
from tabadol.usecases.membership.principals import OPERATOR, org_principal
from tabadol.usecases.trust import audit

from ..conftest import BACKENDS, Community


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run on SQLite and on PostgreSQL."""
    return str(request.param)


def _log(node: Node) -> None:
    events = [
        AuditEvent("token.create", "org:Pardis_CERT/token:1"),
        AuditEvent("token.revoke", "org:Pardis_CERT/token:2"),
        AuditEvent("tokenXcreate", "org:PardisXCERT/token:3"),  # `_` and `.` are no wildcards
        AuditEvent("key.rotate", "ORG:PARDIS_CERT"),
    ]
    node.store.append_audit(events, node.clock())


@pytest.mark.parametrize(
    ("action", "actor", "expected"),
    [
        ("token.*", None, ["token.create", "token.revoke"]),
        ("token.create", None, ["token.create"]),
        ("token.", None, []),  # without `*`, exact
        (None, "org:Pardis_CERT*", ["token.create", "token.revoke"]),  # case kept, `_` literal
        ("*", "org:Pardis_CERT/token:2", ["token.revoke"]),
    ],
    ids=["action prefix", "exact", "no star is exact", "actor prefix", "star alone"],
)
def test_audit_filters_take_a_trailing_star_as_a_prefix(
    node: Node, action: str | None, actor: str | None, expected: list[str]
) -> None:
    """A trailing `*` matches any end; other characters, `_` and `%` included, match
    themselves, in their case, on SQLite as on PostgreSQL."""
    _log(node)
    found = audit.entries(node, action=action, actor=actor, limit=100)
    assert [e.action for e in found] == expected


def test_token_list_without_an_org_lists_every_token_the_operator_manages(
    community: Community,
) -> None:
    """Every org's tokens and the operator's own; an org's admin gets its org's tokens."""
    node = community.node
    listed = api_tokens.list_tokens(node, OPERATOR, None)
    assert {t.org_id for t in listed} == {None} | {o.id for o in community.orgs.values()}
    assert len(listed) == len(community.tokens)
    admin = org_principal(node, community.orgs["A"], Role.ADMIN)
    assert {t.org_id for t in api_tokens.list_tokens(node, admin, None)} == {community.orgs["A"].id}
