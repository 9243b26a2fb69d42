"""Enrolment and reset links: once, before they expire, the newest only; admins enrol with a
second factor; a reset ends the sessions the person had."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabadol.domain.errors import Conflict, InvalidInput, NotFound, Unauthorized
from tabadol.domain.model import Org
from tabadol.domain.people import LinkPurpose, PersonStatus
from tabadol.node.node import Node
from tabadol.usecases.membership import organizations
from tabadol.usecases.membership.principals import OPERATOR, hash_secret
from tabadol.usecases.people import accounts, enrolment, sessions, sign_in, totp

from .people_setup import (
    ADDRESS,
    PASSWORD,
    ManualClock,
    code_now,
    enrol,
    invite,
    link_secret,
    open_people_node,
    signed_in,
)


def test_a_link_enrols_once(pnode: Node, org: Org) -> None:
    """The link sets the password and activates the person; the same link again is the
    NotFound every dead link gets, and the password stays the first one."""
    invitation = accounts.invite(pnode, OPERATOR, org.name, "r@pardis.example", "reader")
    view = enrolment.open_link(pnode, link_secret(invitation))
    assert (view.org_name, view.purpose, view.second_factor_required) == (
        "Pardis CERT",
        LinkPurpose.ENROL,
        False,
    )
    person = enrolment.redeem(pnode, link_secret(invitation), PASSWORD)
    assert (person.status, person.has_password) == (PersonStatus.ACTIVE, True)
    with pytest.raises(NotFound, match="not valid"):
        enrolment.redeem(pnode, link_secret(invitation), "another password here")
    with pytest.raises(NotFound, match="not valid"):
        enrolment.open_link(pnode, link_secret(invitation))
    assert sign_in.sign_in(pnode, person.email, PASSWORD, address=ADDRESS).complete
    ((actor, detail),) = [
        (e.actor, dict(e.detail)) for e in pnode.store.audit_entries(action="person.enrol")
    ]
    assert actor == "org:Pardis CERT/person:r@pardis.example"
    assert detail["purpose"] == "enrol"


def test_the_link_is_kept_only_as_its_hash(pnode: Node, org: Org) -> None:
    """The URL carries the secret; the store knows it only by its SHA-256."""
    invitation = accounts.invite(pnode, OPERATOR, org.name, "r@pardis.example", "reader")
    secret = link_secret(invitation)
    assert len(secret) >= 43  # 256 bits
    assert pnode.store.link_by_secret(hash_secret(secret)) is not None
    assert pnode.store.link_by_secret(secret.encode()) is None


def test_an_expired_link_is_refused(pnode: Node, org: Org, clock: ManualClock) -> None:
    """72 hours after the invitation its link no longer works."""
    invitation = accounts.invite(pnode, OPERATOR, org.name, "r@pardis.example", "reader")
    clock.advance(72 * 3600 + 1)
    with pytest.raises(NotFound):
        enrolment.redeem(pnode, link_secret(invitation), PASSWORD)
    person = pnode.store.person_by_email("r@pardis.example")
    assert person is not None
    assert person.status is PersonStatus.INVITED


def test_a_newer_link_replaces_the_older(pnode: Node, org: Org) -> None:
    """A second link sent to an invited person (a fresh enrolment) kills the first."""
    first = accounts.invite(pnode, OPERATOR, org.name, "r@pardis.example", "reader")
    second = accounts.reset_link(pnode, OPERATOR, org.name, "r@pardis.example")
    with pytest.raises(NotFound):
        enrolment.redeem(pnode, link_secret(first), PASSWORD)
    assert enrolment.open_link(pnode, link_secret(second)).purpose is LinkPurpose.ENROL
    enrolment.redeem(pnode, link_secret(second), PASSWORD)


def test_an_admin_enrols_with_a_second_factor(pnode: Node, org: Org) -> None:
    """Without TOTP, or with a code the secret does not give, nothing is set and the link
    still works; with a right code the admin is enrolled."""
    invitation = accounts.invite(pnode, OPERATOR, org.name, "a@pardis.example", "admin")
    secret = link_secret(invitation)
    assert enrolment.open_link(pnode, secret).second_factor_required
    with pytest.raises(InvalidInput, match="second factor"):
        enrolment.redeem(pnode, secret, PASSWORD)
    otp = totp.new_secret()
    wrong = "000000" if code_now(pnode, otp) != "000000" else "111111"
    with pytest.raises(InvalidInput, match="does not match"):
        enrolment.redeem(pnode, secret, PASSWORD, totp=totp.TotpSetup(otp, wrong))
    with pytest.raises(InvalidInput, match="base32"):
        enrolment.redeem(pnode, secret, PASSWORD, totp=totp.TotpSetup("short", "123456"))
    person = enrolment.redeem(
        pnode, secret, PASSWORD, totp=totp.TotpSetup(otp, code_now(pnode, otp))
    )
    assert (person.status, person.totp_enabled) == (PersonStatus.ACTIVE, True)
    uri = totp.provisioning_uri(pnode, otp, person.email)
    assert uri.startswith("otpauth://totp/")
    assert f"secret={otp}" in uri


def test_the_policy_all_asks_everyone(data_dir: Path, clock: ManualClock) -> None:
    """Under `second_factor = "all"` a reader enrols with a factor too."""
    with open_people_node(data_dir, clock, second_factor="all") as node:
        org = organizations.add_org(node, "Pardis CERT")
        invitation = accounts.invite(node, OPERATOR, org.name, "r@pardis.example", "reader")
        with pytest.raises(InvalidInput, match="second factor"):
            enrolment.redeem(node, link_secret(invitation), PASSWORD)
        assert enrol(node, invitation, with_totp=True).totp_secret


@pytest.mark.parametrize("password", ["short", "x" * 1025], ids=["too short", "too long"])
def test_a_password_outside_the_bounds_is_refused(pnode: Node, org: Org, password: str) -> None:
    invitation = accounts.invite(pnode, OPERATOR, org.name, "r@pardis.example", "reader")
    with pytest.raises(InvalidInput, match="password"):
        enrolment.redeem(pnode, link_secret(invitation), password)
    assert enrolment.open_link(pnode, link_secret(invitation))  # still usable


def test_a_reset_sets_a_new_password_and_ends_sessions(pnode: Node, org: Org) -> None:
    """A reset link (24 h) sets a new password, ends every session, keeps the TOTP unless
    a new one is given; the old password no longer works."""
    admin = invite(pnode, org, "a@pardis.example", "admin")
    session = signed_in(pnode, admin)
    invitation = accounts.reset_link(pnode, OPERATOR, org.name, admin.email, break_glass="lost")
    assert invitation.expires - pnode.clock() <= 24 * 3600 * 1_000_000
    view = enrolment.open_link(pnode, link_secret(invitation))
    assert (view.purpose, view.second_factor_required) == (LinkPurpose.RESET, False)
    enrolment.redeem(pnode, link_secret(invitation), "a brand new password")
    with pytest.raises(Unauthorized):
        sessions.session_principal(pnode, session.secret)
    with pytest.raises(Unauthorized, match=sign_in.WRONG):
        sign_in.sign_in(pnode, admin.email, PASSWORD, address=ADDRESS)
    admin.password = "a brand new password"
    assert signed_in(pnode, admin).complete  # the same TOTP as before
    assert [e.action for e in pnode.store.audit_entries(action="person.reset")] == ["person.reset"]


def test_a_disabled_persons_link_is_dead(pnode: Node, org: Org) -> None:
    """Disabling the person kills their pending link for good; a reset is refused until
    they are enabled, and then brings a fresh link."""
    invitation = accounts.invite(pnode, OPERATOR, org.name, "r@pardis.example", "reader")
    accounts.disable(pnode, OPERATOR, org.name, "r@pardis.example")
    with pytest.raises(NotFound):
        enrolment.redeem(pnode, link_secret(invitation), PASSWORD)
    with pytest.raises(Conflict, match="disabled"):
        accounts.reset_link(pnode, OPERATOR, org.name, "r@pardis.example")
    enabled = accounts.enable(pnode, OPERATOR, org.name, "r@pardis.example")
    assert enabled.status is PersonStatus.INVITED  # still to enrol
    with pytest.raises(NotFound):
        enrolment.redeem(pnode, link_secret(invitation), PASSWORD)
    fresh = accounts.reset_link(pnode, OPERATOR, org.name, "r@pardis.example")
    assert enrolment.redeem(pnode, link_secret(fresh), PASSWORD).status is PersonStatus.ACTIVE


def test_the_link_url_uses_the_public_url(data_dir: Path, clock: ManualClock) -> None:
    with open_people_node(data_dir, clock, public_url="https://cti.example.org/") as node:
        org = organizations.add_org(node, "Pardis CERT")
        invitation = accounts.invite(node, OPERATOR, org.name, "r@pardis.example", "reader")
    assert invitation.url.startswith("https://cti.example.org/enrol/")
