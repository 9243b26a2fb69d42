"""People of an org as its admins (and the operator) manage them: invite, list, change a
role, disable, enable, remove, send a reset link.

An org's admins manage its people — signed in, or with an org admin token; never through a
personal token (a script's token must not mint people or reset links: if it leaks, it stays
a script's token) — and the operator may too, as a break-glass step (a reason, recorded and
shown to the org's admins) once the org has admins of its own. Disabling or
removing a person ends their sessions and personal tokens in the same transaction; a role
change applies from the next request (sessions and personal tokens read the person's role
each time). A person is looked up by e-mail within the named org: another org's person, or
an org the caller does not manage, gets the same NotFound as a missing one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from tabadol.domain.model import Org, Principal, Role
from tabadol.domain.people import (
    HOUR,
    EnrolmentLink,
    LinkPurpose,
    Person,
    PersonStatus,
    normalize_email,
)
from tabadol.node.node import Node
from tabadol.storage.contract import NewLink
from tabadol.usecases.membership.break_glass import break_glass_event
from tabadol.usecases.membership.lookup import require_managed_org
from tabadol.usecases.membership.names import check_text
from tabadol.usecases.membership.principals import by_personal_token, hash_secret, parse_role

__all__ = ["parse_role"]  # re-exported: adapters parse roles from here

MAX_NAME = 200
ENROL_PATH = "/enrol/"


@dataclass(frozen=True, slots=True)
class Invitation:
    """A person and the one-time link that enrols them (or resets their password). The URL
    holds the link's secret: shown once, to be handed to the person; only its hash is kept."""

    person: Person
    url: str
    expires: int


def link_url(node: Node, secret: str) -> str:
    """`{public_url or http://host:port}/enrol/{secret}`."""
    settings = node.settings
    base = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
    return f"{base}{ENROL_PATH}{secret}"


def person_detail(principal: Principal) -> dict[str, str]:
    """The org and person an audit entry of a person's own act names."""
    return {
        "org": principal.org.name if principal.org else "",
        "person": principal.person_email or "",
    }


def _new_link(node: Node, purpose: LinkPurpose, actor: Principal) -> tuple[str, NewLink]:
    hours = (
        node.settings.enrolment_link_hours
        if purpose is LinkPurpose.ENROL
        else node.settings.reset_link_hours
    )
    secret = secrets.token_urlsafe(32)
    expires = node.clock() + hours * HOUR
    return secret, NewLink(purpose, hash_secret(secret), expires, actor_of(actor))


def _managed(
    node: Node, actor: Principal, org_name: str, act: str, reason: str | None, **detail: Any
) -> tuple[Org, list[AuditEvent]]:
    """The org, if the caller manages it, and the break-glass entry the operator's act needs.
    Forbidden through a personal token."""
    if by_personal_token(actor):
        raise Forbidden(
            "managing people needs an admin signed in (or an org admin token), not a personal token"
        )
    org = require_managed_org(node, actor, org_name)
    if not org.hosted_here:
        raise Forbidden(f"{org.name!r} is hosted by another node: its people are managed there")
    return org, break_glass_event(node, actor, org, act, reason, **detail)


def invite(
    node: Node,
    actor: Principal,
    org_name: str,
    email: str,
    role: str | Role,
    name: str = "",
    *,
    break_glass: str | None = None,
) -> Invitation:
    """Invite a person into the org with `role`: an invited person and their enrolment link
    (valid `enrolment_link_hours`, usable once). Conflict if the address is taken on this
    node (an address names one person, so sign-in by address is unambiguous)."""
    address, chosen = normalize_email(email), parse_role(role)
    name = check_text("the name", name.strip())
    if len(name) > MAX_NAME:
        raise InvalidInput(f"the name is longer than {MAX_NAME} characters")
    org, steps = _managed(
        node, actor, org_name, "person.invite", break_glass, person=address, role=chosen.value
    )
    secret, link = _new_link(node, LinkPurpose.ENROL, actor)
    detail = {"org": org.name, "person": address, "role": chosen.value}
    event = AuditEvent("person.invite", actor_of(actor), detail=detail)
    try:
        person, made = node.store.create_person(
            org.id, address, name, chosen, node.clock(), link, audit=[event, *steps]
        )
    except Conflict:  # the address is someone's, maybe in another org: say no more than that
        raise Conflict(
            "this e-mail address cannot be invited: it is in use on this node (ask the"
            " node's operator)"
        ) from None
    return Invitation(person, link_url(node, secret), made.expires)


def list_people(node: Node, actor: Principal, org_name: str) -> list[Person]:
    """The org's people, for its admins and the operator (no secret, no break-glass: the
    operator reads the directory, not the content)."""
    return node.store.list_people(require_managed_org(node, actor, org_name).id)


def own_person(node: Node, principal: Principal) -> Person | None:
    """The person the principal acts as (by a session or a personal token), as they are
    now; None for an org token, the operator, or a person since removed."""
    if principal.person_id is None:
        return None
    return node.store.person_by_id(principal.person_id)


def find_person(node: Node, actor: Principal, org_name: str, email: str) -> tuple[Org, Person]:
    """The person of that address in the org the caller manages, or NotFound."""
    org = require_managed_org(node, actor, org_name)
    try:
        address = normalize_email(email)
    except InvalidInput:
        address = ""
    person = node.store.person_by_email(address) if address else None
    if person is None or person.org_id != org.id:
        raise NotFound("no person of that e-mail address in an organization you manage")
    return org, person


def _target(
    node: Node,
    actor: Principal,
    org_name: str,
    email: str,
    act: str,
    reason: str | None,
    *,
    not_self: str = "",
) -> tuple[str, Person, list[AuditEvent]]:
    """The org's name, the person acted on, and the break-glass entry the act needs."""
    org, person = find_person(node, actor, org_name, email)
    if not_self and actor.person_id == person.id:
        raise Conflict(f"you cannot {not_self} yourself: another admin of the org can")
    _, steps = _managed(node, actor, org.name, act, reason, person=person.email)
    return org.name, person, steps


def _event(actor: Principal, act: str, person: Person, org_name: str, **more: str) -> AuditEvent:
    return AuditEvent(
        act, actor_of(actor), detail={"org": org_name, "person": person.email, **more}
    )


def _reread(node: Node, person_id: int) -> Person:
    person = node.store.person_by_id(person_id)
    if person is None:
        raise NotFound("no person of that e-mail address in an organization you manage")
    return person


def set_role(
    node: Node,
    actor: Principal,
    org_name: str,
    email: str,
    role: str | Role,
    *,
    break_glass: str | None = None,
) -> Person:
    """Give the person another role, from their next request on; their personal tokens act
    with no more than it. Making an admin of someone without a second factor is refused
    while the policy asks admins for one."""
    chosen = parse_role(role)
    org_label, person, steps = _target(
        node, actor, org_name, email, "person.role", break_glass, not_self="change the role of"
    )
    if chosen is Role.ADMIN and not person.has_second_factor and person.has_password:
        raise Conflict(
            f"{person.email} has no second factor, which admins need: they set up TOTP or a"
            " passkey first (or enrol again through a reset link)"
        )
    event = _event(
        actor, "person.role", person, org_label, role=chosen.value, was=person.role.value
    )
    node.store.set_person_role(person.id, chosen, node.clock(), audit=[event, *steps])
    return _reread(node, person.id)


def _set_status(
    node: Node,
    actor: Principal,
    org_name: str,
    email: str,
    status: PersonStatus,
    act: str,
    break_glass: str | None,
) -> Person:
    org_label, person, steps = _target(
        node, actor, org_name, email, act, break_glass, not_self=act.split(".")[1]
    )
    if status is PersonStatus.ACTIVE and person.status is not PersonStatus.DISABLED:
        raise Conflict(f"{person.email} is not disabled")
    if status is PersonStatus.DISABLED and person.status is PersonStatus.DISABLED:
        raise Conflict(f"{person.email} is disabled already")
    if status is PersonStatus.ACTIVE and not person.has_password:
        status = PersonStatus.INVITED  # enabled again, but still to enrol
    event = _event(actor, act, person, org_label)
    node.store.set_person_status(person.id, status, node.clock(), audit=[event, *steps])
    return _reread(node, person.id)


def disable(
    node: Node, actor: Principal, org_name: str, email: str, *, break_glass: str | None = None
) -> Person:
    """The person signs in and acts no more: their sessions and personal tokens end at once
    (open streams at their next read); they stay listed, and named in the log."""
    return _set_status(
        node, actor, org_name, email, PersonStatus.DISABLED, "person.disable", break_glass
    )


def enable(
    node: Node, actor: Principal, org_name: str, email: str, *, break_glass: str | None = None
) -> Person:
    """A disabled person may sign in again (their old sessions and tokens stay ended)."""
    return _set_status(
        node, actor, org_name, email, PersonStatus.ACTIVE, "person.enable", break_glass
    )


def remove(
    node: Node, actor: Principal, org_name: str, email: str, *, break_glass: str | None = None
) -> Person:
    """Delete the person and their credentials; their sessions end and their personal
    tokens are revoked (kept for the record). The log keeps naming them."""
    org_label, person, steps = _target(
        node, actor, org_name, email, "person.remove", break_glass, not_self="remove"
    )
    event = _event(actor, "person.remove", person, org_label)
    if not node.store.remove_person(person.id, node.clock(), audit=[event, *steps]):
        raise NotFound("no person of that e-mail address in an organization you manage")
    return person


def reset_link(
    node: Node, actor: Principal, org_name: str, email: str, *, break_glass: str | None = None
) -> Invitation:
    """A new one-time link (valid `reset_link_hours`) through which the person sets a new
    password (and may replace their TOTP); their older unused links stop working. An invited
    person gets a fresh enrolment link instead."""
    org_label, person, steps = _target(node, actor, org_name, email, "person.reset", break_glass)
    if person.status is PersonStatus.DISABLED:
        raise Conflict(f"{person.email} is disabled: enable them first")
    purpose = LinkPurpose.ENROL if person.status is PersonStatus.INVITED else LinkPurpose.RESET
    secret, link = _new_link(node, purpose, actor)
    event = _event(actor, "person.reset", person, org_label, purpose=purpose.value)
    made: EnrolmentLink = node.store.add_link(person.id, link, node.clock(), audit=[event, *steps])
    return Invitation(person, link_url(node, secret), made.expires)
