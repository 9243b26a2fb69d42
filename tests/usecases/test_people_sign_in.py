"""Signing in: one answer for every wrong start, the second factor (each code once), the
lockout and its backoff, fixation, session timeouts, signing out — each outcome audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabadol.domain.errors import Forbidden, TooManyRequests, Unauthorized
from tabadol.domain.model import Org, Role
from tabadol.domain.people import SessionStage
from tabadol.node.node import Node
from tabadol.usecases.membership import organizations
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.people import accounts, sessions, sign_in, totp
from tabadol.usecases.people.passwords import hash_password, verify_password

from .people_setup import (
    ADDRESS,
    PASSWORD,
    ManualClock,
    Member,
    code_now,
    invite,
    open_people_node,
    signed_in,
)


def _outcomes(node: Node) -> list[tuple[str, str, str]]:
    """(actor, outcome, reason) of each sign-in entry."""
    return [
        (e.actor, e.outcome, str(e.detail.get("reason", e.detail.get("stage", ""))))
        for e in node.store.audit_entries(action="person.sign-in", limit=1000)
    ]


def _try(node: Node, email: str, password: str, address: str = ADDRESS) -> Exception:
    with pytest.raises((Unauthorized, TooManyRequests, Forbidden)) as caught:
        sign_in.sign_in(node, email, password, address=address)
    return caught.value


def test_a_reader_signs_in_with_the_password_alone(pnode: Node, org: Org) -> None:
    """No factor due: the session is complete, and acts as the person with their role."""
    reader = invite(pnode, org, "r@pardis.example", "reader")
    step = sign_in.sign_in(pnode, " R@Pardis.Example ", PASSWORD, address=ADDRESS)
    assert step.complete
    principal = sessions.session_principal(pnode, step.secret)
    assert (principal.org_id, principal.role, principal.person_email) == (
        org.id,
        Role.READER,
        reader.email,
    )
    assert _outcomes(pnode) == [("org:Pardis CERT/person:r@pardis.example", "ok", "complete")]


def test_unknown_address_wrong_password_and_invited_get_one_answer(pnode: Node, org: Org) -> None:
    """An unknown address, a wrong password, a person still invited: the same error, the
    same message; each refusal audited as anonymous (nobody proved who they are), the
    address claimed in its detail (text that is no address is not kept)."""
    invite(pnode, org, "r@pardis.example", "reader")
    accounts.invite(pnode, OPERATOR, org.name, "invited@pardis.example", "reader")
    errors = [
        _try(pnode, "nobody@pardis.example", PASSWORD),
        _try(pnode, "r@pardis.example", "not the password at all"),
        _try(pnode, "invited@pardis.example", PASSWORD),
        _try(pnode, "not an address", PASSWORD),
    ]
    assert {(type(e), str(e)) for e in errors} == {(Unauthorized, sign_in.WRONG)}
    assert _outcomes(pnode) == [
        ("anonymous", "refused", "bad-credentials"),
        ("anonymous", "refused", "bad-credentials"),
        ("anonymous", "refused", "bad-credentials"),
        ("anonymous", "refused", "bad-credentials"),
    ]
    claimed = [
        e.detail["person"] for e in pnode.store.audit_entries(action="person.sign-in", limit=9)
    ]
    assert claimed == [
        "nobody@pardis.example",
        "r@pardis.example",
        "invited@pardis.example",
        sign_in.NOT_AN_ADDRESS,  # what was typed is no address: it may be a password
    ]
    log = b"".join(e.entry for e in pnode.store.audit_entries(limit=1000))
    assert b"not the password" not in log


def test_an_admin_signs_in_with_totp_and_a_new_session_secret(pnode: Node, org: Org) -> None:
    """The password opens a pending session that acts as nobody; the code replaces it by a
    complete one with another secret, and the pending secret is dead (fixation)."""
    admin = invite(pnode, org, "a@pardis.example", "admin")
    assert admin.totp_secret is not None
    pending = sign_in.sign_in(pnode, admin.email, PASSWORD, address=ADDRESS)
    assert (pending.complete, pending.factors) == (False, (totp.Factor.TOTP,))
    with pytest.raises(Unauthorized):
        sessions.session_principal(pnode, pending.secret)
    assert isinstance(pnode.clock, ManualClock)
    pnode.clock.advance(30)
    code = totp.TotpCode(code_now(pnode, admin.totp_secret))
    done = sign_in.second_factor(pnode, pending.secret, code, address=ADDRESS)
    assert done.complete
    assert done.secret != pending.secret
    assert done.session.factor is totp.Factor.TOTP
    assert sessions.session_principal(pnode, done.secret).role is Role.ADMIN
    with pytest.raises(Unauthorized):
        sessions.session_principal(pnode, pending.secret)
    with pytest.raises(Unauthorized):  # nor can it be completed twice
        sign_in.second_factor(pnode, pending.secret, code, address=ADDRESS)


def test_a_totp_code_is_accepted_once(pnode: Node, org: Org, clock: ManualClock) -> None:
    """The code that completed one sign-in does not complete another in its window, nor
    does an older one; a wrong code counts as a failure."""
    admin = invite(pnode, org, "a@pardis.example", "admin")
    assert admin.totp_secret is not None
    clock.advance(30)
    code = totp.TotpCode(code_now(pnode, admin.totp_secret))
    first = sign_in.sign_in(pnode, admin.email, PASSWORD, address=ADDRESS)
    sign_in.second_factor(pnode, first.secret, code, address=ADDRESS)
    second = sign_in.sign_in(pnode, admin.email, PASSWORD, address=ADDRESS)
    with pytest.raises(Unauthorized, match=sign_in.FACTOR_WRONG):
        sign_in.second_factor(pnode, second.secret, code, address=ADDRESS)
    older = totp.TotpCode(code_now(pnode, admin.totp_secret, offset_steps=-1))
    with pytest.raises(Unauthorized):
        sign_in.second_factor(pnode, second.secret, older, address=ADDRESS)
    assert ("anonymous", "refused", "second-factor") in _outcomes(pnode)
    clock.advance(30)
    fresh = totp.TotpCode(code_now(pnode, admin.totp_secret))
    assert sign_in.second_factor(pnode, second.secret, fresh, address=ADDRESS).complete


def test_five_failures_lock_the_account_with_a_growing_backoff(
    pnode: Node, org: Org, clock: ManualClock
) -> None:
    """After 5 failures even the right password waits (429 with the seconds); the lock
    doubles with each further failure; an unknown address locks the same way."""
    member = invite(pnode, org, "r@pardis.example", "reader")
    for _ in range(5):
        assert isinstance(_try(pnode, member.email, "wrong password!"), Unauthorized)
    locked = _try(pnode, member.email, PASSWORD)
    assert isinstance(locked, TooManyRequests)
    assert (locked.retry_after, locked.http_status) == (1, 429)
    clock.advance(1.1)
    assert isinstance(_try(pnode, member.email, "wrong password!"), Unauthorized)  # 6th
    again = _try(pnode, member.email, PASSWORD)
    assert isinstance(again, TooManyRequests)
    assert again.retry_after == 2
    assert ("anonymous", "refused", "locked") in _outcomes(pnode)
    for _ in range(5):
        _try(pnode, "ghost@pardis.example", "anything at all")
    ghost = _try(pnode, "ghost@pardis.example", "anything at all")
    assert isinstance(ghost, TooManyRequests)
    assert ghost.retry_after == 1
    clock.advance(2.1)
    assert signed_in(pnode, member).complete


def test_a_success_clears_the_account_counter(pnode: Node, org: Org) -> None:
    """Four failures, a success, then four more: never locked."""
    member = invite(pnode, org, "r@pardis.example", "reader")
    for _ in range(4):
        _try(pnode, member.email, "wrong password!")
    signed_in(pnode, member)
    for _ in range(4):
        assert isinstance(_try(pnode, member.email, "wrong password!"), Unauthorized)


def test_an_address_spraying_accounts_is_locked(pnode: Node, org: Org) -> None:
    """Twenty failures from one address over many accounts lock the address: the next
    attempt from it waits, another address goes on."""
    member = invite(pnode, org, "r@pardis.example", "reader")
    for n in range(20):
        _try(pnode, f"guess{n}@pardis.example", "password guess", address="198.51.100.5")
    assert isinstance(_try(pnode, member.email, PASSWORD, "198.51.100.5"), TooManyRequests)
    assert sign_in.sign_in(pnode, member.email, PASSWORD, address=ADDRESS).complete


def test_sessions_end_when_idle_or_old(pnode: Node, org: Org, clock: ManualClock) -> None:
    """Used every 20 minutes a session lives to its absolute end (12 h); unused for 30
    minutes it ends; last_seen is written at most once a minute."""
    member = invite(pnode, org, "r@pardis.example", "reader")
    idle = signed_in(pnode, member)
    busy = signed_in(pnode, member)
    start = busy.session.created
    clock.advance(20)
    sessions.session_principal(pnode, busy.secret)
    touched = pnode.store.session_by_id(busy.session.id)
    assert touched is not None
    assert touched.last_seen == start  # within a minute of the last write: not written
    clock.advance(60)
    sessions.session_principal(pnode, busy.secret)
    clock.advance(30 * 60 - 80)
    with pytest.raises(Unauthorized):
        sessions.session_principal(pnode, idle.secret)
    sessions.session_principal(pnode, busy.secret)  # used 28 minutes ago: alive
    twenty_minutes = 20 * 60 * 1_000_000
    while clock.now + twenty_minutes < start + 12 * 3600 * 1_000_000:
        clock.advance(20 * 60)
        sessions.session_principal(pnode, busy.secret)
    clock.advance(20 * 60)
    with pytest.raises(Unauthorized):
        sessions.session_principal(pnode, busy.secret)


def test_signing_out_here_and_everywhere(pnode: Node, org: Org) -> None:
    """Signing out ends this session; everywhere ends the person's others too."""
    member = invite(pnode, org, "r@pardis.example", "reader")
    one, two, three = (signed_in(pnode, member) for _ in range(3))
    sessions.sign_out(pnode, sessions.session_principal(pnode, one.secret))
    with pytest.raises(Unauthorized):
        sessions.session_principal(pnode, one.secret)
    principal = sessions.session_principal(pnode, two.secret)
    assert sessions.sign_out_everywhere(pnode, principal) == 2
    for step in (two, three):
        with pytest.raises(Unauthorized):
            sessions.session_principal(pnode, step.secret)
    stages = {s.stage for s in pnode.store.list_sessions(one.person.id)}
    assert stages == {SessionStage.COMPLETE}
    actions = [e.action for e in pnode.store.audit_entries(action="person.sign-out")]
    assert actions == ["person.sign-out", "person.sign-out"]


def test_a_person_without_a_due_factor_is_told_after_the_right_password(
    data_dir: Path, clock: ManualClock
) -> None:
    """With `second_factor = "all"`, a reader enrolled before the policy changed has no
    factor: the right password gets a clear refusal (a wrong one the usual answer)."""
    with open_people_node(data_dir, clock) as node:
        org = organizations.add_org(node, "Pardis CERT")
        member = invite(node, org, "r@pardis.example", "reader")
    with open_people_node(data_dir, clock, second_factor="all") as node:
        assert isinstance(_try(node, member.email, "wrong password!"), Unauthorized)
        refused = _try(node, member.email, PASSWORD)
        assert isinstance(refused, Forbidden)
        assert "second factor" in str(refused)


def test_a_hash_is_replaced_when_the_parameters_rise(data_dir: Path, clock: ManualClock) -> None:
    """Signed in under higher Argon2 parameters, the stored hash records them."""
    with open_people_node(data_dir, clock) as node:
        org = organizations.add_org(node, "Pardis CERT")
        member: Member = invite(node, org, "r@pardis.example", "reader")
        person = node.store.person_by_email(member.email)
        assert person is not None
        before = node.store.person_secrets(person.id)
    with open_people_node(data_dir, clock, argon2_time_cost=2, argon2_memory_kib=16) as node:
        signed_in(node, member)
        after = node.store.person_secrets(person.id)
    assert before is not None
    assert after is not None
    assert "m=8,t=1,p=1" in (before.password_hash or "")
    assert "m=16,t=2,p=1" in (after.password_hash or "")


def test_the_default_parameters_hash_and_verify(node: Node) -> None:
    """With the node's real default parameters (32 MiB, 2 passes, 1 lane): a hash records
    them, verifies the password, refuses another, needs no rehash."""
    stored = hash_password(node.settings, PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=32768,t=2,p=1$")
    assert verify_password(node.settings, stored, PASSWORD) == (True, None)
    assert verify_password(node.settings, stored, PASSWORD + "!") == (False, None)
    assert verify_password(node.settings, None, PASSWORD) == (False, None)
