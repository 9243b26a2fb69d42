"""A person's own second factors and password (the account page's use cases): set, replace
and remove a TOTP, add and remove passkeys, change the password — each only shortly after
signing in, never the last factor of someone the policy asks to keep one, each audited by
name, and each removal ending the person's other sessions. (The passkey ceremony itself runs
in the browser test against Chromium's virtual authenticator; passkeys are put in the store
directly here.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tabadol.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from tabadol.domain.model import Org, Principal
from tabadol.node.node import Node
from tabadol.storage.contract import NewPasskey
from tabadol.usecases.membership import organizations
from tabadol.usecases.membership.principals import (
    OPERATOR,
    RECENT_SIGN_IN_MINUTES,
    authenticate,
)
from tabadol.usecases.people import (
    accounts,
    own_factors,
    passkeys,
    personal_tokens,
    sessions,
    sign_in,
    totp,
)

from .people_setup import (
    ADDRESS,
    ManualClock,
    Member,
    code_now,
    enrol,
    invite,
    open_people_node,
    signed_in,
)

RP = passkeys.RelyingParty("node.example", "https://node.example", "tabadol")


def _session(node: Node, member: Member) -> tuple[str, Principal]:
    step = signed_in(node, member)
    return step.secret, sessions.session_principal(node, step.secret)


def _entries(node: Node, action: str) -> list[tuple[str, str, dict[str, object]]]:
    return [
        (e.actor, str(e.outcome), dict(e.detail))
        for e in node.store.audit_entries(limit=10_000)
        if e.action == action
    ]


def _alive(node: Node, secret: str) -> bool:
    try:
        sessions.session_principal(node, secret)
    except Unauthorized:
        return False
    return True


def _add_key(node: Node, principal: Principal, name: bytes = b"cred") -> int:
    assert principal.person_id is not None
    key = node.store.add_passkey(principal.person_id, NewPasskey(name, b"pk", 0, "laptop"), 1)
    return key.id


def test_an_admin_removes_a_factor_but_never_the_last(pnode: Node, org: Org) -> None:
    """An admin with TOTP and a passkey removes the TOTP (the thief's session on the lost
    phone ends, this one stays), then cannot remove the passkey, their last factor."""
    admin = invite(pnode, org, "ali@pardis.example", "admin")
    thief, _ = _session(pnode, admin)
    mine, principal = _session(pnode, admin)
    key_id = _add_key(pnode, principal)
    before = own_factors.own_factors(pnode, principal)
    assert (before.totp, [k.label for k in before.passkeys], before.required) == (
        True,
        ["laptop"],
        True,
    )
    own_factors.remove_totp(pnode, principal)
    assert not _alive(pnode, thief)
    assert _alive(pnode, mine)
    with pytest.raises(Conflict, match="last second factor"):
        own_factors.remove_passkey(pnode, principal, key_id)
    assert len(pnode.store.passkeys_of(principal.person_id or 0)) == 1
    with pytest.raises(NotFound):
        own_factors.remove_totp(pnode, principal)  # gone already
    ((actor, outcome, detail),) = _entries(pnode, "person.totp.remove")
    assert actor == "org:Pardis CERT/person:ali@pardis.example"
    assert (outcome, detail["person"]) == ("ok", "ali@pardis.example")
    assert _entries(pnode, "person.passkey.remove") == []


def test_a_publisher_may_remove_every_factor(pnode: Node, org: Org) -> None:
    """Under `second_factor = "admins"` a publisher's factors are theirs to drop."""
    sara = invite(pnode, org, "sara@pardis.example", "publisher")
    _, principal = _session(pnode, sara)
    key_id = _add_key(pnode, principal)
    own_factors.remove_passkey(pnode, principal, key_id)
    assert own_factors.own_factors(pnode, principal).passkeys == []
    assert [d["passkey"] for _, _, d in _entries(pnode, "person.passkey.remove")] == [key_id]


def test_under_second_factor_all_everyone_keeps_one(data_dir: Path, clock: ManualClock) -> None:
    """Under `second_factor = "all"` a publisher's last factor stays too."""
    with open_people_node(data_dir, clock, second_factor="all") as node:
        org = organizations.add_org(node, "Pardis CERT")
        invitation = accounts.invite(node, OPERATOR, org.name, "sara@pardis.example", "publisher")
        sara = enrol(node, invitation, with_totp=True)
        _, principal = _session(node, sara)
        with pytest.raises(Conflict, match="last second factor"):
            own_factors.remove_totp(node, principal)
        assert own_factors.own_factors(node, principal).totp


def test_changes_need_a_recent_sign_in_and_a_session(
    pnode: Node, org: Org, clock: ManualClock
) -> None:
    """Past the recent-sign-in minutes, and through a personal token, nothing changes."""
    admin = invite(pnode, org, "ali@pardis.example", "admin")
    _, principal = _session(pnode, admin)
    key_id = _add_key(pnode, principal)
    _, token = personal_tokens.create_personal_token(pnode, principal, "reader", 7)
    clock.advance(RECENT_SIGN_IN_MINUTES * 60 + 1)
    for act in (
        lambda: own_factors.remove_totp(pnode, principal),
        lambda: own_factors.remove_passkey(pnode, principal, key_id),
        lambda: own_factors.passkey_options(pnode, principal, RP, b"b"),
        lambda: own_factors.add_passkey(pnode, principal, RP, b"b", "{}", "x"),
        lambda: totp.set_totp(pnode, principal, totp.TotpSetup(totp.new_secret(), "000000")),
    ):
        with pytest.raises(Forbidden, match="recent sign-in"):
            act()
    token_principal = authenticate(pnode, f"Bearer {token}")
    with pytest.raises(Forbidden, match="session"):
        own_factors.remove_totp(pnode, token_principal)
    assert own_factors.own_factors(pnode, principal).totp


def test_replacing_the_totp_ends_the_other_sessions(
    pnode: Node, org: Org, clock: ManualClock
) -> None:
    admin = invite(pnode, org, "ali@pardis.example", "admin")
    other, _ = _session(pnode, admin)
    mine, principal = _session(pnode, admin)
    secret = totp.new_secret()
    totp.set_totp(pnode, principal, totp.TotpSetup(secret, code_now(pnode, secret)))
    assert not _alive(pnode, other)
    assert _alive(pnode, mine)
    (*_, (_, _, detail)) = _entries(pnode, "person.totp.set")
    assert detail["replaced"] is True


def test_a_passkey_registration_must_answer_its_challenge(pnode: Node, org: Org) -> None:
    """A credential that is no answer to a stored challenge is refused, nothing added; the
    options exclude the passkeys the person has."""
    admin = invite(pnode, org, "ali@pardis.example", "admin")
    _, principal = _session(pnode, admin)
    _add_key(pnode, principal, b"existing")
    options = own_factors.passkey_options(pnode, principal, RP, b"bound")
    assert '"excludeCredentials"' in options
    for credential in ("", "not json", "[]", '{"id": "x"}'):
        with pytest.raises(InvalidInput, match="passkey was not accepted"):
            own_factors.add_passkey(pnode, principal, RP, b"bound", credential, "phone")
    with pytest.raises(InvalidInput, match="control characters"):
        own_factors.add_passkey(pnode, principal, RP, b"bound", "{}", "a\x07b")
    assert len(own_factors.own_factors(pnode, principal).passkeys) == 1
    assert _entries(pnode, "person.passkey.add") == []


def test_a_new_password_needs_the_current_one_and_ends_other_sessions(
    pnode: Node, org: Org
) -> None:
    sara = invite(pnode, org, "sara@pardis.example", "publisher")
    other, _ = _session(pnode, sara)
    mine, principal = _session(pnode, sara)
    new = "another long passphrase entirely"
    with pytest.raises(InvalidInput, match="current password is wrong"):
        own_factors.change_password(pnode, principal, "not it at all, no", new, new)
    with pytest.raises(InvalidInput, match="differ"):
        own_factors.change_password(pnode, principal, sara.password, new, new + "x")
    with pytest.raises(InvalidInput, match="at least"):
        own_factors.change_password(pnode, principal, sara.password, "short", "short")
    with pytest.raises(InvalidInput, match="common"):
        own_factors.change_password(pnode, principal, sara.password, "password1234", "password1234")
    assert _alive(pnode, other)  # nothing changed by a refusal
    own_factors.change_password(pnode, principal, sara.password, new, new)
    assert not _alive(pnode, other)
    assert _alive(pnode, mine)
    with pytest.raises(Unauthorized):
        sign_in.sign_in(pnode, sara.email, sara.password, address=ADDRESS)
    assert sign_in.sign_in(pnode, sara.email, new, address=ADDRESS).complete
    outcomes = [(o, d.get("reason")) for _, o, d in _entries(pnode, "person.password.change")]
    assert outcomes == [("refused", "wrong"), ("ok", None)]


def test_guessing_the_current_password_hits_the_sign_in_lock(pnode: Node, org: Org) -> None:
    sara = invite(pnode, org, "sara@pardis.example", "publisher")
    _, principal = _session(pnode, sara)
    new = "another long passphrase entirely"
    for n in range(5):
        with pytest.raises(InvalidInput):
            own_factors.change_password(pnode, principal, f"guess number {n} here", new, new)
    with pytest.raises(TooManyRequests):
        own_factors.change_password(pnode, principal, sara.password, new, new)
