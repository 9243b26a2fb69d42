"""Redeeming a one-time link: the person sets their password (and, where the policy asks or
they choose, a second factor) — enrolment for an invited person, a reset for one who forgot.

A link is 256 random bits, kept as SHA-256; it works once (marked used in the transaction
that sets the password), until it expires, and only while it is the person's newest. Every
refusal is the same NotFound, so a link's state tells a finder nothing. Redeeming ends every
session and personal token the person had (a reset is often for an account someone else
may have used). The log names who issued the link.
"""

from __future__ import annotations

from dataclasses import dataclass

from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import InvalidInput, NotFound
from tabadol.domain.people import EnrolmentLink, LinkPurpose, Person, PersonStatus
from tabadol.node.node import Node
from tabadol.storage.contract import NewPasskey, Redemption
from tabadol.usecases.membership.principals import hash_secret, person_principal
from tabadol.usecases.people.factors import second_factor_required
from tabadol.usecases.people.passwords import hash_password
from tabadol.usecases.people.totp import TotpSetup, wrap_secret
from tabadol.usecases.people.weak_passwords import check_choice

GONE = (
    "this link is not valid (used, replaced by a newer one, or expired): ask an admin of"
    " your organization for a new one"
)


@dataclass(frozen=True, slots=True)
class LinkView:
    """What the enrolment page shows before the person sets anything."""

    person: Person
    org_name: str
    purpose: LinkPurpose
    expires: int
    second_factor_required: bool  # the form must ask for TOTP or a passkey


def _live(node: Node, secret: str) -> tuple[EnrolmentLink, Person]:
    found = node.store.link_by_secret(hash_secret(secret.strip()))
    if found is None:
        raise NotFound(GONE)
    link, person = found
    if link.used is not None or link.expires <= node.clock():
        raise NotFound(GONE)
    if person.status is PersonStatus.DISABLED:
        raise NotFound(GONE)
    return link, person


def open_link(node: Node, secret: str) -> LinkView:
    """The link's person and purpose, if it can still be redeemed (NotFound otherwise)."""
    link, person = _live(node, secret)
    org = node.store.org_by_id(person.org_id)
    if org is None:
        raise NotFound(GONE)
    needs = second_factor_required(node.settings, person.role) and not person.has_second_factor
    return LinkView(person, org.name, link.purpose, link.expires, needs)


def redeem(
    node: Node,
    secret: str,
    password: str,
    *,
    totp: TotpSetup | None = None,
    passkey: NewPasskey | None = None,
) -> Person:
    """Set the password (12-1024 characters; not the address, not a common one) and the
    factor given, once. A person the policy asks for a second factor (admins, or everyone
    under `second_factor = "all"`) who has none must give one here: TOTP (a secret and a
    code it shows) or a passkey the WebAuthn ceremony verified. A TOTP given at a reset
    replaces the old one. Returns the person, active; NotFound if the link cannot be
    redeemed (used by now, too)."""
    link, person = _live(node, secret)
    org = node.store.org_by_id(person.org_id)
    if org is None:
        raise NotFound(GONE)
    factor_given = totp is not None or passkey is not None
    if (
        second_factor_required(node.settings, person.role)
        and not person.has_second_factor
        and not factor_given
    ):
        raise InvalidInput(
            "your role needs a second factor: set up TOTP (or a passkey) with the password"
        )
    check_choice(password, person.email)
    password_hash = hash_password(node.settings, password)
    step = None if totp is None else totp.checked(node)
    wrapped = None if totp is None else wrap_secret(node, person.id, totp.secret)
    actor = actor_of(person_principal(node, org, person, person.role, group_ids=frozenset()))
    who = {"org": org.name, "person": person.email}
    detail = {**who, "purpose": link.purpose.value, "issued_by": link.issued_by}
    events = [AuditEvent("person.enrol", actor, detail=detail)]
    if totp is not None:
        events.append(AuditEvent("person.totp.set", actor, detail=who))
    if passkey is not None:
        events.append(AuditEvent("person.passkey.add", actor, detail=who))
    redemption = Redemption(password_hash, wrapped, step, passkey)
    if not node.store.redeem_link(link.id, node.clock(), redemption, audit=events):
        raise NotFound(GONE)  # redeemed or replaced meanwhile
    enrolled = node.store.person_by_id(person.id)
    if enrolled is None:  # removed in the instant after: the link is as good as gone
        raise NotFound(GONE)
    return enrolled
