"""Personal tokens: made by a signed-in person, no higher than their role, expiring; they
act as the person (the log says so), and stop with the person or at their expiry."""

from __future__ import annotations

import pytest

from tabadol.domain.audit import actor_of
from tabadol.domain.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from tabadol.domain.model import Org, Role
from tabadol.node.node import Node
from tabadol.usecases.membership import api_tokens
from tabadol.usecases.membership.principals import OPERATOR, authenticate, refreshed
from tabadol.usecases.people import accounts, personal_tokens, sessions

from .people_setup import ManualClock, invite, principal_of

DAY = 86_400


def test_a_personal_token_acts_as_its_person(pnode: Node, org: Org) -> None:
    """The token's principal is the person's, and the log names person and token; an org
    token is named as before."""
    person = principal_of(pnode, invite(pnode, org, "p@pardis.example", "publisher"))
    token, secret = personal_tokens.create_personal_token(pnode, person, "reader", 30, "ci")
    principal = authenticate(pnode, f"Bearer {secret}")
    assert (principal.person_id, principal.role, principal.token_id) == (
        person.person_id,
        Role.READER,
        token.id,
    )
    assert actor_of(principal) == f"org:Pardis CERT/person:p@pardis.example/token:{token.id}"
    assert actor_of(person) == "org:Pardis CERT/person:p@pardis.example"
    org_token, org_secret = api_tokens.create_token(pnode, OPERATOR, org.name, "reader")
    by_org = authenticate(pnode, f"Bearer {org_secret}")
    assert actor_of(by_org) == f"org:Pardis CERT/token:{org_token.id}"
    assert [t.id for t in personal_tokens.list_personal_tokens(pnode, person)] == [token.id]
    ((actor, detail),) = [
        (e.actor, dict(e.detail)) for e in pnode.store.audit_entries(action="person.token.create")
    ]
    assert actor == "org:Pardis CERT/person:p@pardis.example"
    assert (detail["role"], detail["days"]) == ("reader", 30)


@pytest.mark.parametrize(
    ("role", "days", "error"),
    [
        ("admin", 30, Forbidden),
        ("publisher", 0, InvalidInput),
        ("publisher", 366, InvalidInput),
        ("owner", 30, InvalidInput),
    ],
    ids=["above the person's role", "no lifetime", "over a year", "unknown role"],
)
def test_a_token_beyond_the_rules_is_refused(
    pnode: Node, org: Org, role: str, days: int, error: type[Exception]
) -> None:
    person = principal_of(pnode, invite(pnode, org, "p@pardis.example", "publisher"))
    with pytest.raises(error):
        personal_tokens.create_personal_token(pnode, person, role, days)
    assert personal_tokens.list_personal_tokens(pnode, person) == []


def test_a_token_does_not_mint_tokens(pnode: Node, org: Org) -> None:
    """Only a signed-in session makes a personal token (no longer-lived successor)."""
    person = principal_of(pnode, invite(pnode, org, "p@pardis.example", "publisher"))
    _, secret = personal_tokens.create_personal_token(pnode, person, "publisher", 1)
    with pytest.raises(Forbidden):
        personal_tokens.create_personal_token(
            pnode, authenticate(pnode, f"Bearer {secret}"), "reader", 300
        )
    with pytest.raises(Forbidden):
        personal_tokens.create_personal_token(pnode, OPERATOR, "reader", 1)


def test_a_token_expires(pnode: Node, org: Org, clock: ManualClock) -> None:
    """Past its expiry the token is refused, and a stream's refresh ends."""
    person = principal_of(pnode, invite(pnode, org, "p@pardis.example", "publisher"))
    _, secret = personal_tokens.create_personal_token(pnode, person, "reader", 1)
    streaming = authenticate(pnode, f"Bearer {secret}")
    assert refreshed(pnode, streaming) is not None
    clock.advance(DAY)
    with pytest.raises(Unauthorized, match="expired"):
        authenticate(pnode, f"Bearer {secret}")
    assert refreshed(pnode, streaming) is None


def test_a_person_revokes_only_their_own_tokens(pnode: Node, org: Org) -> None:
    """Revoked, the token stops; another person's token is not found; the org's admin may
    revoke any token of the org (personal ones included)."""
    one = principal_of(pnode, invite(pnode, org, "one@pardis.example", "publisher"))
    two = principal_of(pnode, invite(pnode, org, "two@pardis.example", "publisher"))
    mine, secret = personal_tokens.create_personal_token(pnode, one, "reader", 5)
    theirs, other = personal_tokens.create_personal_token(pnode, two, "reader", 5)
    with pytest.raises(NotFound):
        personal_tokens.revoke_personal_token(pnode, one, theirs.id)
    assert personal_tokens.revoke_personal_token(pnode, one, mine.id).revoked is not None
    with pytest.raises(Unauthorized):
        authenticate(pnode, f"Bearer {secret}")
    admin = principal_of(pnode, invite(pnode, org, "admin@pardis.example", "admin"))
    api_tokens.revoke_token(pnode, admin, theirs.id)
    with pytest.raises(Unauthorized):
        authenticate(pnode, f"Bearer {other}")
    assert [e.action for e in pnode.store.audit_entries(action="person.token.revoke")] == [
        "person.token.revoke"
    ]


def test_a_session_stream_ends_with_its_session(pnode: Node, org: Org) -> None:
    """`refreshed` follows a session principal: the person's role as now, then None once
    the session is signed out."""
    admin = principal_of(pnode, invite(pnode, org, "admin@pardis.example", "admin"))
    person = principal_of(pnode, invite(pnode, org, "p@pardis.example", "publisher"))
    accounts.set_role(pnode, admin, org.name, "p@pardis.example", "reader")
    now = refreshed(pnode, person)
    assert now is not None
    assert now.role is Role.READER
    sessions.sign_out(pnode, person)
    assert refreshed(pnode, person) is None
