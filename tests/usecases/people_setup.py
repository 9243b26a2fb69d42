"""What the people tests share: a node on a clock the test moves, with cheap Argon2
parameters (one test uses the real ones), an org with an enrolled admin, and helpers that
enrol and sign in as a person would."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyotp

from tabadol.domain.model import Org, Principal
from tabadol.node.node import Node, open_node
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.people import accounts, enrolment, sessions, sign_in, totp

from ..conftest import START_US

PASSWORD = "correct horse battery staple"
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8, "argon2_parallelism": 1}
ADDRESS = "192.0.2.10"


class ManualClock:
    """Time that moves when the test says (a microsecond per reading, so it never stands
    still for the audit log)."""

    def __init__(self, start: int = START_US) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000)


@dataclass
class Member:
    """A person of the test, with what they know."""

    email: str
    password: str = PASSWORD
    totp_secret: str | None = None


def open_people_node(data_dir: Path, clock: ManualClock, **settings: object) -> Node:
    return open_node(data_dir, clock=clock, **{**CHEAP_ARGON2, **settings})


def link_secret(invitation: accounts.Invitation) -> str:
    return invitation.url.rsplit("/", 1)[1]


def code_now(node: Node, secret: str, offset_steps: int = 0) -> str:
    """The code an authenticator shows at the node's time now."""
    seconds = node.clock() // 1_000_000 + offset_steps * totp.STEP_SECONDS
    return pyotp.TOTP(secret).at(seconds)


def enrol(
    node: Node,
    invitation: accounts.Invitation,
    *,
    with_totp: bool = False,
    password: str = PASSWORD,
) -> Member:
    """Redeem the invitation's link as its person would (with a TOTP when asked)."""
    member = Member(invitation.person.email, password)
    setup = None
    if with_totp:
        member.totp_secret = totp.new_secret()
        setup = totp.TotpSetup(member.totp_secret, code_now(node, member.totp_secret))
    enrolment.redeem(node, link_secret(invitation), password, totp=setup)
    return member


def invite(
    node: Node,
    org: Org,
    email: str,
    role: str,
    actor: Principal = OPERATOR,
    *,
    reason: str | None = "setting up the test",
) -> Member:
    """Invite and enrol a person (admins with TOTP); the operator gives a break-glass
    reason, needed once the org has an admin."""
    invitation = accounts.invite(node, actor, org.name, email, role, break_glass=reason)
    return enrol(node, invitation, with_totp=role == "admin")


def signed_in(node: Node, member: Member) -> sign_in.SignIn:
    """A complete sign-in: the password, then the TOTP code when the person has one, on the
    next time step (a code is accepted once: the last one was taken at enrolment or by an
    earlier sign-in)."""
    step = sign_in.sign_in(node, member.email, member.password, address=ADDRESS)
    if step.complete:
        return step
    assert member.totp_secret is not None
    assert isinstance(node.clock, ManualClock)
    node.clock.advance(totp.STEP_SECONDS)
    code = totp.TotpCode(code_now(node, member.totp_secret))
    return sign_in.second_factor(node, step.secret, code, address=ADDRESS)


def principal_of(node: Node, member: Member) -> Principal:
    return sessions.session_principal(node, signed_in(node, member).secret)
