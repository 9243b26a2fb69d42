"""What a hostile review of the people core found, each as a test that failed before the fix:
guessing the second factor, tokens minting lasting access, odd text reaching the hashes and
the database (on both engines), stolen sessions, lockout races and floods, forged actors, the
operator reading sessions without a trace."""

from __future__ import annotations

import pytest

from tabadol.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    KeysUnavailable,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from tabadol.domain.model import Org
from tabadol.node.keyring import value_secret
from tabadol.node.node import Node
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR, authenticate, hash_secret
from tabadol.usecases.people import (
    accounts,
    enrolment,
    personal_tokens,
    sessions,
    sign_in,
    totp,
)

from .people_setup import (
    ADDRESS,
    PASSWORD,
    ManualClock,
    code_now,
    invite,
    link_secret,
    principal_of,
    signed_in,
)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _refused_entries(node: Node) -> int:
    return len(node.store.audit_entries(action="person.sign-in", limit=10_000))


# --- H1: the second factor has its own counter ------------------------------------------------
def test_knowing_the_password_buys_no_more_totp_guesses(
    pnode: Node, org: Org, clock: ManualClock
) -> None:
    """The right password each round, a wrong code, from a new /64 each time: the fifth
    wrong code locks the factor and ends the pending session; the lock holds for the
    right code too, and grows."""
    admin = invite(pnode, org, "a@pardis.example", "admin")
    assert admin.totp_secret is not None
    for n in range(5):
        step = sign_in.sign_in(pnode, admin.email, PASSWORD, address=f"2001:db8:{n}::1")
        with pytest.raises(Unauthorized):
            sign_in.second_factor(pnode, step.secret, totp.TotpCode("000000"), address=ADDRESS)
    with pytest.raises(Unauthorized, match="expired"):  # the fifth ended the pending session
        sign_in.second_factor(pnode, step.secret, totp.TotpCode("111111"), address=ADDRESS)
    step = sign_in.sign_in(pnode, admin.email, PASSWORD, address="2001:db8:99::1")
    right = totp.TotpCode(code_now(pnode, admin.totp_secret, offset_steps=1))
    with pytest.raises(TooManyRequests):
        sign_in.second_factor(pnode, step.secret, right, address="2001:db8:99::1")
    clock.advance(1.1)
    with pytest.raises(Unauthorized):
        sign_in.second_factor(pnode, step.secret, totp.TotpCode("000000"), address=ADDRESS)
    step = sign_in.sign_in(pnode, admin.email, PASSWORD, address=ADDRESS)  # that one ended
    with pytest.raises(TooManyRequests) as locked:
        sign_in.second_factor(pnode, step.secret, right, address=ADDRESS)
    assert locked.value.retry_after == 2
    clock.advance(2.1)
    step = sign_in.sign_in(pnode, admin.email, PASSWORD, address=ADDRESS)
    clock.advance(totp.STEP_SECONDS)
    fresh = totp.TotpCode(code_now(pnode, admin.totp_secret))
    assert sign_in.second_factor(pnode, step.secret, fresh, address=ADDRESS).complete
    assert pnode.store.failure_counters([f"factor:{step.person.id}"]) == {}  # cleared


def test_a_right_password_does_not_clear_the_account_while_the_factor_is_pending(
    pnode: Node, org: Org
) -> None:
    """Four wrong passwords, then the right one with the factor still pending: the fifth
    wrong password locks the account all the same."""
    admin = invite(pnode, org, "a@pardis.example", "admin")
    for _ in range(4):
        with pytest.raises(Unauthorized):
            sign_in.sign_in(pnode, admin.email, "not the password!", address=ADDRESS)
    assert not sign_in.sign_in(pnode, admin.email, PASSWORD, address=ADDRESS).complete
    with pytest.raises(Unauthorized):
        sign_in.sign_in(pnode, admin.email, "not the password!", address=ADDRESS)
    with pytest.raises(TooManyRequests):
        sign_in.sign_in(pnode, admin.email, PASSWORD, address=ADDRESS)


# --- H2: tokens do not mint lasting access ----------------------------------------------------
def test_a_personal_token_mints_no_org_token_and_manages_nobody(pnode: Node, org: Org) -> None:
    """Through a personal token: no org token, no invitation, reset or role change; signed
    in, an admin makes an org token that names them and ends when they are disabled."""
    boss = invite(pnode, org, "boss@pardis.example", "admin")
    adm = invite(pnode, org, "adm@pardis.example", "admin", principal_of(pnode, boss), reason=None)
    session = principal_of(pnode, adm)
    _, secret = personal_tokens.create_personal_token(pnode, session, "admin", 1)
    by_token = authenticate(pnode, f"Bearer {secret}")
    with pytest.raises(Forbidden):
        api_tokens.create_token(pnode, by_token, org.name, "admin", "backdoor")
    with pytest.raises(Forbidden):
        accounts.invite(pnode, by_token, org.name, "new@pardis.example", "admin")
    with pytest.raises(Forbidden):
        accounts.reset_link(pnode, by_token, org.name, boss.email)
    with pytest.raises(Forbidden):
        accounts.set_role(pnode, by_token, org.name, boss.email, "reader")
    with pytest.raises(Forbidden):
        sessions.revoke_session(pnode, by_token, org.name, boss.email, 1)
    token, made = api_tokens.create_token(pnode, session, org.name, "reader", "sensor")
    assert token.created_by_person == adm_id(pnode, adm.email)
    listed = {t.id: t.created_by_person for t in api_tokens.list_tokens(pnode, session, org.name)}
    assert listed[token.id] == token.created_by_person
    accounts.disable(pnode, principal_of(pnode, boss), org.name, adm.email)
    with pytest.raises(Unauthorized):
        authenticate(pnode, f"Bearer {made}")


def adm_id(node: Node, email: str) -> int:
    person = node.store.person_by_email(email)
    assert person is not None
    return person.id


def test_a_token_of_another_orgs_person_is_refused(pnode: Node, org: Org) -> None:
    """A personal token whose person belongs to another org than the token does not act."""
    other = organizations.add_org(pnode, "Other CERT")
    ali = invite(pnode, org, "ali@pardis.example", "reader")
    person_id = adm_id(pnode, ali.email)
    pnode.store.create_token(
        other.id, "reader", "", hash_secret("tbd_cross"), "tbd_cross", 1, person_id=person_id
    )
    with pytest.raises(Unauthorized):
        authenticate(pnode, "Bearer tbd_cross")


# --- H3: odd text, refused at the boundary (both engines) ------------------------------------
def test_text_that_is_no_utf8_or_holds_nul_gets_a_clear_answer(pnode: Node, org: Org) -> None:
    """A lone surrogate or NUL in a password, an address, a name, an org name, a client
    address or a secret: the answer a wrong value gets (or InvalidInput), never an error
    from the hash or the database, and the same for known and unknown people."""
    reader = invite(pnode, org, "r@pardis.example", "reader")
    for email in (reader.email, "nobody@pardis.example", "a\ud800@x.example", "a\x00b@x.ex"):
        with pytest.raises(Unauthorized, match=sign_in.WRONG):
            sign_in.sign_in(pnode, email, "x\ud800 and more", address=ADDRESS)
    with pytest.raises(Unauthorized, match=sign_in.WRONG):
        sign_in.sign_in(pnode, reader.email, "wrong password!", address="192.0.2.1\x00\ud800")
    assert signed_in(pnode, reader).complete
    for bad in ("b\ud800@pardis.example", "b\x00@pardis.example"):
        with pytest.raises(InvalidInput):
            accounts.invite(pnode, OPERATOR, org.name, bad, "reader", break_glass="test")
    with pytest.raises(InvalidInput):
        accounts.invite(pnode, OPERATOR, org.name, "n@pardis.example", "reader", "N\ud800")
    with pytest.raises(InvalidInput):
        accounts.find_person(pnode, OPERATOR, "Pardis\x00", reader.email)
    invitation = accounts.invite(pnode, OPERATOR, org.name, "c@pardis.example", "reader")
    for password in ("abcdefghijkl\ud800", "abcdefghijkl\x00"):
        with pytest.raises(InvalidInput):
            enrolment.redeem(pnode, link_secret(invitation), password)
    with pytest.raises(Unauthorized):
        sessions.session_principal(pnode, "\ud800")
    with pytest.raises(NotFound):
        enrolment.open_link(pnode, "\ud800")
    with pytest.raises(Unauthorized):
        authenticate(pnode, "Bearer tbd_\ud800")


# --- M1: a stolen session buys no lasting access ----------------------------------------------
def test_reset_and_signing_out_everywhere_end_personal_tokens(pnode: Node, org: Org) -> None:
    boss = invite(pnode, org, "boss@pardis.example", "admin")
    ali = invite(pnode, org, "ali@pardis.example", "publisher")
    _, first = personal_tokens.create_personal_token(pnode, principal_of(pnode, ali), "reader", 9)
    sessions.sign_out_everywhere(pnode, principal_of(pnode, ali))
    with pytest.raises(Unauthorized):
        authenticate(pnode, f"Bearer {first}")
    _, second = personal_tokens.create_personal_token(pnode, principal_of(pnode, ali), "reader", 9)
    reset = accounts.reset_link(pnode, principal_of(pnode, boss), org.name, ali.email)
    enrolment.redeem(pnode, link_secret(reset), "a brand new password!")
    with pytest.raises(Unauthorized):
        authenticate(pnode, f"Bearer {second}")


def test_tokens_and_totp_need_a_recent_sign_in(pnode: Node, org: Org, clock: ManualClock) -> None:
    """Eleven minutes after signing in, a session still works but makes no token, sets no
    TOTP and makes no org token; a fresh sign-in does."""
    admin = invite(pnode, org, "a@pardis.example", "admin")
    step = signed_in(pnode, admin)
    clock.advance(11 * 60)
    principal = sessions.session_principal(pnode, step.secret)  # still a live session
    with pytest.raises(Forbidden, match="recent sign-in"):
        personal_tokens.create_personal_token(pnode, principal, "reader", 1)
    secret = totp.new_secret()
    with pytest.raises(Forbidden, match="recent sign-in"):
        totp.set_totp(pnode, principal, totp.TotpSetup(secret, code_now(pnode, secret)))
    with pytest.raises(Forbidden, match="recent sign-in"):
        api_tokens.create_token(pnode, principal, org.name, "reader")
    fresh = principal_of(pnode, admin)
    assert personal_tokens.create_personal_token(pnode, fresh, "reader", 1)


# --- M3 / M4: one entry per lock, counters kept a day ------------------------------------------
def test_refusals_while_locked_write_no_entries_and_backoff_keeps_growing(
    pnode: Node, org: Org, clock: ManualClock
) -> None:
    member = invite(pnode, org, "r@pardis.example", "reader")
    for _ in range(5):
        with pytest.raises(Unauthorized):
            sign_in.sign_in(pnode, member.email, "wrong password!", address=ADDRESS)
    written = _refused_entries(pnode)
    for _ in range(50):
        with pytest.raises(TooManyRequests):
            sign_in.sign_in(pnode, member.email, "wrong password!", address=ADDRESS)
    assert _refused_entries(pnode) == written
    clock.advance(16 * 60)  # past the old window: the counter is still there
    with pytest.raises(Unauthorized):
        sign_in.sign_in(pnode, member.email, "wrong password!", address=ADDRESS)
    with pytest.raises(TooManyRequests) as locked:
        sign_in.sign_in(pnode, member.email, PASSWORD, address=ADDRESS)
    assert locked.value.retry_after == 2


# --- M7: the operator and sessions --------------------------------------------------------------
def test_the_operator_reads_and_ends_sessions_as_a_break_glass_step(pnode: Node, org: Org) -> None:
    admin = invite(pnode, org, "a@pardis.example", "admin")
    step = signed_in(pnode, admin)
    with pytest.raises(Forbidden, match="break-glass"):
        sessions.list_sessions(pnode, OPERATOR, org.name, admin.email)
    with pytest.raises(Forbidden, match="break-glass"):
        sessions.revoke_session(pnode, OPERATOR, org.name, admin.email, step.session.id)
    listed = sessions.list_sessions(pnode, OPERATOR, org.name, admin.email, break_glass="audit")
    assert step.session.id in {s.id for s in listed}
    sessions.revoke_session(
        pnode, OPERATOR, org.name, admin.email, step.session.id, break_glass="stolen laptop"
    )
    acts = [e.detail["act"] for e in pnode.store.audit_entries(action="break-glass", limit=99)]
    assert acts[-2:] == ["person.session.list", "person.session.revoke"]


# --- LOW ----------------------------------------------------------------------------------------
def test_a_huge_address_is_refused_before_any_work(pnode: Node, org: Org) -> None:
    with pytest.raises(InvalidInput):
        accounts.invite(pnode, OPERATOR, org.name, "a" * 16_000_000 + "@x.example", "reader")


def test_enrolment_names_who_issued_the_link_and_invite_conflicts_say_little(
    pnode: Node, org: Org
) -> None:
    other = organizations.add_org(pnode, "Other CERT")
    invite(pnode, other, "taken@other.example", "reader")
    with pytest.raises(Conflict) as caught:
        accounts.invite(pnode, OPERATOR, org.name, "taken@other.example", "reader")
    assert "Other" not in str(caught.value)
    (enrol,) = [
        e
        for e in pnode.store.audit_entries(action="person.enrol", limit=9)
        if e.detail["person"] == "taken@other.example"
    ]
    assert enrol.detail["issued_by"] == "operator"


def test_the_totp_secret_is_read_never_made(pnode: Node) -> None:
    """The sign-in path reads the key secret; a missing one is an error, not a new key."""
    pnode.key_secret_path.rename(pnode.key_secret_path.with_suffix(".away"))
    try:
        with pytest.raises(KeysUnavailable):
            value_secret(pnode)
        assert not pnode.key_secret_path.exists()
    finally:
        pnode.key_secret_path.with_suffix(".away").rename(pnode.key_secret_path)
