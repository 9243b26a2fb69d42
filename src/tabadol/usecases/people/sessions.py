"""Sessions: the principal behind a session secret (a cookie), and ending sessions.

A session lives until its absolute end (`session_absolute_hours` after sign-in) or until it
has been unused for `session_idle_minutes`, whichever comes first; it is revoked by signing
out, by the person (one or all of theirs), by an admin of the org, and at once when the
person is disabled or removed. Signing out everywhere ends the person's personal tokens
too (what a thief could have made with a stolen session). An admin of the org reads and
ends a person's sessions; the operator does so as a break-glass step (a reason, shown to the
org's admins) once the org has admins of its own. The look-up is one query (session,
person, org, groups); the last use is written at most once a minute per session, so a
request with a session costs about what one with a token does.
"""

from __future__ import annotations

import secrets

from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import Forbidden, NotFound, Unauthorized
from tabadol.domain.model import Principal
from tabadol.domain.people import MINUTE, Person, PersonSession, PersonStatus, SessionStage
from tabadol.node.node import Node
from tabadol.usecases.membership.break_glass import break_glass_event
from tabadol.usecases.membership.principals import (
    by_personal_token,
    hash_secret,
    person_principal,
    session_live,
)
from tabadol.usecases.people.accounts import find_person, person_detail
from tabadol.usecases.people.accounts import own_person as accounts_own_person

TOUCH_EVERY = MINUTE  # last_seen is written at most this often per session
ENDED = "your session has ended: sign in again"


def new_secret() -> str:
    """A session secret: 256 random bits (the cookie's value; its SHA-256 is stored)."""
    return secrets.token_urlsafe(32)


def session_principal(node: Node, secret: str) -> Principal:
    """The person signed in with this session secret, with their role and groups as they are
    now; Unauthorized when the session is unknown, revoked, pending its second factor, past
    its absolute end or idle too long, or its person no longer active."""
    bearer = node.store.session_bearer(hash_secret(secret.strip()))
    now = node.clock()
    if bearer is None or not session_live(bearer.session, now):
        raise Unauthorized(ENDED)
    session, person = bearer.session, bearer.person
    if now - session.last_seen >= node.settings.session_idle_minutes * MINUTE:
        raise Unauthorized(ENDED)
    if person.status is not PersonStatus.ACTIVE:
        raise Unauthorized(ENDED)
    if now - session.last_seen >= TOUCH_EVERY:
        node.store.touch_session(session.id, now)
    return person_principal(
        node, bearer.org, person, person.role, session_id=session.id, group_ids=bearer.group_ids
    )


def _own(principal: Principal) -> int:
    if principal.person_id is None:
        raise Forbidden("only a person has sessions of their own")
    return principal.person_id


def sign_out(node: Node, principal: Principal) -> None:
    """End the session the principal signed in with (nothing if it has ended already)."""
    if principal.session_id is None or principal.person_id is None:
        raise Forbidden("signing out ends a session: this request has none")
    event = AuditEvent("person.sign-out", actor_of(principal), detail=person_detail(principal))
    node.store.revoke_sessions(
        principal.person_id, node.clock(), session_id=principal.session_id, audit=[event]
    )


def sign_out_everywhere(node: Node, principal: Principal) -> int:
    """End every session of the principal's person, this one included, and every personal
    token of theirs, in one transaction; how many sessions ended."""
    detail = {**person_detail(principal), "everywhere": True, "tokens": True}
    event = AuditEvent("person.sign-out", actor_of(principal), detail=detail)
    return node.store.revoke_sessions(
        _own(principal), node.clock(), with_tokens=True, audit=[event]
    )


def own_person(node: Node, principal: Principal) -> Person:
    """The principal's person as stored now (the account page shows it); Unauthorized once
    they are gone."""
    _own(principal)
    person = accounts_own_person(node, principal)
    if person is None:
        raise Unauthorized(ENDED)
    return person


def own_sessions(node: Node, principal: Principal) -> list[PersonSession]:
    """The principal's person's sessions (live and ended), oldest first."""
    return node.store.list_sessions(_own(principal))


def revoke_own_session(node: Node, principal: Principal, session_id: int) -> None:
    """End one of the principal's person's own sessions (another device)."""
    detail = {**person_detail(principal), "session": session_id}
    event = AuditEvent("person.session.revoke", actor_of(principal), detail=detail)
    if not node.store.revoke_sessions(
        _own(principal), node.clock(), session_id=session_id, audit=[event]
    ):
        raise NotFound("no live session of yours with that id")


def _managed_person(
    node: Node, actor: Principal, org_name: str, email: str, act: str, reason: str | None
) -> tuple[str, int, str, list[AuditEvent]]:
    """(org name, person id, e-mail, the break-glass entry the operator's act needs) for an
    act on another person's sessions; Forbidden through a personal token."""
    if by_personal_token(actor):
        raise Forbidden("managing people needs an admin signed in, not a personal token")
    org, person = find_person(node, actor, org_name, email)
    steps = break_glass_event(node, actor, org, act, reason, person=person.email)
    return org.name, person.id, person.email, steps


def list_sessions(
    node: Node, actor: Principal, org_name: str, email: str, *, break_glass: str | None = None
) -> list[PersonSession]:
    """A person's sessions, for the org's admins and the operator (a break-glass step,
    recorded before the read, once the org has admins of its own)."""
    _, person_id, _, steps = _managed_person(
        node, actor, org_name, email, "person.session.list", break_glass
    )
    if steps:
        node.store.append_audit(steps, node.clock())
    return node.store.list_sessions(person_id)


def last_sign_ins(node: Node, people: list[Person]) -> dict[int, int]:
    """When each person last completed a sign-in (the newest complete session's start), for
    those who ever did: what a listing of the org's people shows."""
    found: dict[int, int] = {}
    for person in people:
        starts = [
            s.created
            for s in node.store.list_sessions(person.id)
            if s.stage is SessionStage.COMPLETE
        ]
        if starts:
            found[person.id] = max(starts)
    return found


def revoke_session(
    node: Node,
    actor: Principal,
    org_name: str,
    email: str,
    session_id: int,
    *,
    break_glass: str | None = None,
) -> None:
    """An admin of the org (or the operator, as a break-glass step once the org has admins
    of its own) ends one session of a person of it."""
    org_name, person_id, address, steps = _managed_person(
        node, actor, org_name, email, "person.session.revoke", break_glass
    )
    detail = {"org": org_name, "person": address, "session": session_id}
    event = AuditEvent("person.session.revoke", actor_of(actor), detail=detail)
    if not node.store.revoke_sessions(
        person_id, node.clock(), session_id=session_id, audit=[event, *steps]
    ):
        raise NotFound("no live session of that person with that id")
