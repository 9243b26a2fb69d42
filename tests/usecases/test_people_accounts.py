"""People as an org's admins and the operator manage them: who may invite, break-glass,
role changes from the next request, disable and remove ending access at once, and an audit
log that names the person who acted."""

from __future__ import annotations

import pytest

from tabadol.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from tabadol.domain.model import Org, Role
from tabadol.domain.people import PersonStatus
from tabadol.node.node import Node
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.break_glass import BREAK_GLASS, has_own_admin
from tabadol.usecases.membership.principals import OPERATOR, authenticate, refreshed
from tabadol.usecases.people import accounts, personal_tokens, sessions, sign_in, totp

from .people_setup import ADDRESS, code_now, invite, principal_of, signed_in


def _entries(node: Node, action: str) -> list[tuple[str, str, dict[str, object]]]:
    return [
        (e.actor, e.outcome, dict(e.detail))
        for e in node.store.audit_entries(action=action, limit=1000)
    ]


def test_an_org_admin_invites_and_the_log_names_them(pnode: Node, org: Org) -> None:
    """A signed-in admin person invites a colleague; the entry names the admin and org."""
    admin = invite(pnode, org, "Admin@Pardis.example", "admin")
    assert admin.email == "admin@pardis.example"  # stored normalized
    actor = principal_of(pnode, admin)
    invitation = accounts.invite(pnode, actor, org.name, "sara@pardis.example", "reader", "Sara")
    assert invitation.person.status is PersonStatus.INVITED
    assert invitation.url.startswith("http://127.0.0.1:8470/enrol/")
    people = accounts.list_people(pnode, actor, org.name)
    assert [p.email for p in people] == ["admin@pardis.example", "sara@pardis.example"]
    (_, (by, outcome, detail)) = _entries(pnode, "person.invite")
    assert (by, outcome) == ("org:Pardis CERT/person:admin@pardis.example", "ok")
    assert detail == {"org": "Pardis CERT", "person": "sara@pardis.example", "role": "reader"}


def test_the_operator_takes_a_break_glass_step_once_the_org_has_an_admin(
    pnode: Node, org: Org
) -> None:
    """No admin yet: the operator invites freely. An active admin person makes the org its
    own: the operator then needs a reason, recorded as a break-glass entry."""
    assert not has_own_admin(pnode, org)
    invite(pnode, org, "admin@pardis.example", "admin")
    assert has_own_admin(pnode, org)
    with pytest.raises(Forbidden, match="break-glass"):
        accounts.invite(pnode, OPERATOR, org.name, "b@pardis.example", "reader")
    accounts.invite(
        pnode, OPERATOR, org.name, "b@pardis.example", "reader", break_glass="admin on leave"
    )
    ((actor, _, detail),) = _entries(pnode, BREAK_GLASS)
    assert actor == "operator"
    assert (detail["act"], detail["reason"]) == ("person.invite", "admin on leave")


@pytest.mark.parametrize("role", ["reader", "publisher"])
def test_only_admins_manage_people(pnode: Node, org: Org, role: str) -> None:
    """A reader or publisher of the org, and an admin of another org, get the NotFound a
    missing org gets."""
    member = invite(pnode, org, "m@pardis.example", role)
    other = organizations.add_org(pnode, "Other CERT")
    stranger = invite(pnode, other, "admin@other.example", "admin")
    for actor in (principal_of(pnode, member), principal_of(pnode, stranger)):
        with pytest.raises(NotFound):
            accounts.invite(pnode, actor, org.name, "x@pardis.example", "reader")
        with pytest.raises(NotFound):
            accounts.list_people(pnode, actor, org.name)


@pytest.mark.parametrize(
    ("email", "role", "name", "error"),
    [
        ("no-at-sign", "reader", "", InvalidInput),
        ("a@b@example.org", "reader", "", InvalidInput),
        ("x" * 250 + "@example.org", "reader", "", InvalidInput),
        ("ali\u202e@example.org", "reader", "", InvalidInput),
        ("ok@example.org", "owner", "", InvalidInput),
        ("ok@example.org", "reader", "Ali\u202eReversed", InvalidInput),
        ("taken@example.org", "reader", "", Conflict),
    ],
    ids=["no @", "two @", "too long", "bidi control", "unknown role", "bidi name", "taken"],
)
def test_a_bad_invitation_is_refused_and_changes_nothing(
    pnode: Node, org: Org, email: str, role: str, name: str, error: type[Exception]
) -> None:
    accounts.invite(pnode, OPERATOR, org.name, "taken@example.org", "reader")
    before = pnode.store.audit_size()
    with pytest.raises(error):
        accounts.invite(pnode, OPERATOR, org.name, email, role, name)
    assert pnode.store.audit_size() == before
    assert len(pnode.store.list_people(org.id)) == 1


def test_a_role_change_applies_to_the_next_request_and_caps_personal_tokens(
    pnode: Node, org: Org
) -> None:
    """Demoted, the person's session acts as a reader at once, and so does the publisher
    token they made; promoted to admin (once they have set up TOTP), the token acts with its
    own role again, never more."""
    admin = principal_of(pnode, invite(pnode, org, "admin@pardis.example", "admin"))
    ali = invite(pnode, org, "ali@pardis.example", "publisher")
    step = signed_in(pnode, ali)
    principal = sessions.session_principal(pnode, step.secret)
    _, token = personal_tokens.create_personal_token(pnode, principal, "publisher", 30)
    assert authenticate(pnode, f"Bearer {token}").role is Role.PUBLISHER
    accounts.set_role(pnode, admin, org.name, ali.email, "reader")
    assert sessions.session_principal(pnode, step.secret).role is Role.READER
    assert authenticate(pnode, f"Bearer {token}").role is Role.READER
    secret = totp.new_secret()
    totp.set_totp(pnode, principal, totp.TotpSetup(secret, code_now(pnode, secret)))
    accounts.set_role(pnode, admin, org.name, ali.email, "admin")  # with a factor now
    assert authenticate(pnode, f"Bearer {token}").role is Role.PUBLISHER
    ((actor, _, detail),) = _entries(pnode, "person.role")[:1]
    assert actor == "org:Pardis CERT/person:admin@pardis.example"
    assert (detail["role"], detail["was"]) == ("reader", "publisher")


def test_disable_ends_sessions_tokens_and_streams_at_once(pnode: Node, org: Org) -> None:
    """Disabled: the session and the personal token stop working, a stream's refresh says
    so, sign-in answers as for a wrong password; enabling again revives none of them."""
    ali = invite(pnode, org, "ali@pardis.example", "publisher")
    step = signed_in(pnode, ali)
    principal = sessions.session_principal(pnode, step.secret)
    _, token = personal_tokens.create_personal_token(pnode, principal, "reader", 7)
    by_token = authenticate(pnode, f"Bearer {token}")
    disabled = accounts.disable(pnode, OPERATOR, org.name, ali.email)
    assert disabled.status is PersonStatus.DISABLED
    with pytest.raises(Unauthorized):
        sessions.session_principal(pnode, step.secret)
    with pytest.raises(Unauthorized):
        authenticate(pnode, f"Bearer {token}")
    assert refreshed(pnode, principal) is None
    assert refreshed(pnode, by_token) is None
    with pytest.raises(Unauthorized, match=sign_in.WRONG):
        sign_in.sign_in(pnode, ali.email, ali.password, address=ADDRESS)
    accounts.enable(pnode, OPERATOR, org.name, ali.email)
    with pytest.raises(Unauthorized):
        sessions.session_principal(pnode, step.secret)
    with pytest.raises(Unauthorized):
        authenticate(pnode, f"Bearer {token}")
    assert signed_in(pnode, ali).complete  # a new sign-in works


def test_remove_deletes_the_person_and_the_log_keeps_their_name(pnode: Node, org: Org) -> None:
    """Removed: gone from the listing, their token's bearer unknown, the org token they made
    revoked, sign-in refused, the address free again; the log still names them in what
    they did."""
    ali = invite(pnode, org, "ali@pardis.example", "admin")
    principal = principal_of(pnode, ali)
    _, token = personal_tokens.create_personal_token(pnode, principal, "admin", 7)
    _, made = api_tokens.create_token(pnode, principal, org.name, "reader")
    accounts.remove(pnode, OPERATOR, org.name, ali.email, break_glass="left the agency")
    assert pnode.store.list_people(org.id) == []
    for secret in (token, made):
        with pytest.raises(Unauthorized):
            authenticate(pnode, f"Bearer {secret}")
    with pytest.raises(Unauthorized, match=sign_in.WRONG):
        sign_in.sign_in(pnode, ali.email, ali.password, address=ADDRESS)
    ((actor, _, _),) = _entries(pnode, "token.create")
    assert actor == "org:Pardis CERT/person:ali@pardis.example"
    with pytest.raises(NotFound):
        accounts.remove(pnode, OPERATOR, org.name, ali.email)
    accounts.invite(pnode, OPERATOR, org.name, ali.email, "reader")  # the address is free


def test_an_admin_cannot_lock_themselves_out(pnode: Node, org: Org) -> None:
    """Demoting, disabling or removing oneself is refused: another admin does it."""
    admin = invite(pnode, org, "admin@pardis.example", "admin")
    me = principal_of(pnode, admin)
    with pytest.raises(Conflict):
        accounts.set_role(pnode, me, org.name, admin.email, "reader")
    with pytest.raises(Conflict):
        accounts.disable(pnode, me, org.name, admin.email)
    with pytest.raises(Conflict):
        accounts.remove(pnode, me, org.name, admin.email)


def test_an_admin_needs_a_second_factor(pnode: Node, org: Org) -> None:
    """Promoting an enrolled person who has no second factor is refused; one invited (still
    to enrol) may be, since enrolling as an admin asks for the factor."""
    reader = invite(pnode, org, "r@pardis.example", "reader")
    with pytest.raises(Conflict, match="second factor"):
        accounts.set_role(pnode, OPERATOR, org.name, reader.email, "admin")
    accounts.invite(pnode, OPERATOR, org.name, "new@pardis.example", "reader")
    promoted = accounts.set_role(pnode, OPERATOR, org.name, "new@pardis.example", "admin")
    assert promoted.role is Role.ADMIN


def test_a_person_of_another_org_is_not_found(pnode: Node, org: Org) -> None:
    """An admin names people of their own org only."""
    other = organizations.add_org(pnode, "Other CERT")
    invite(pnode, other, "x@other.example", "reader")
    admin = principal_of(pnode, invite(pnode, org, "admin@pardis.example", "admin"))
    with pytest.raises(NotFound):
        accounts.disable(pnode, admin, org.name, "x@other.example")
    with pytest.raises(NotFound):
        accounts.disable(pnode, admin, "Other CERT", "x@other.example")
