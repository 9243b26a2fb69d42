"""Sessions: the principal behind a session secret (a cookie), and ending sessions.

A session lives until its absolute end (`session_absolute_hours` after sign-in) or until it
has been unused for `session_idle_minutes`, whichever comes first; it is revoked by signing
out, by the person (one or all of theirs), by an admin of the org, and at once when the
person is disabled or removed. The look-up is one query (session, person, org, groups); the
last use is written at most once a minute per session, so a request with a session costs
about what one with a token does.
"""

from __future__ import annotations

import secrets

from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import Forbidden, NotFound, Unauthorized
from tabadol.domain.model import Principal
from tabadol.domain.people import Person, PersonSession, PersonStatus
from tabadol.node.node import Node
from tabadol.usecases.membership.principals import hash_secret, person_principal, session_live
from tabadol.usecases.people.accounts import find_person

MINUTE = 60 * 1_000_000
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


def _who(principal: Principal) -> dict[str, str]:
    return {
        "org": principal.org.name if principal.org else "",
        "person": principal.person_email or "",
    }


def _own(principal: Principal) -> int:
    if principal.person_id is None:
        raise Forbidden("only a person has sessions of their own")
    return principal.person_id


def sign_out(node: Node, principal: Principal) -> None:
    """End the session the principal signed in with (nothing if it has ended already)."""
    if principal.session_id is None or principal.person_id is None:
        raise Forbidden("signing out ends a session: this request has none")
    event = AuditEvent("person.sign-out", actor_of(principal), detail=_who(principal))
    node.store.revoke_sessions(
        principal.person_id, node.clock(), session_id=principal.session_id, audit=[event]
    )


def sign_out_everywhere(node: Node, principal: Principal) -> int:
    """End every session of the principal's person, this one included; how many ended."""
    detail = {**_who(principal), "everywhere": True}
    event = AuditEvent("person.sign-out", actor_of(principal), detail=detail)
    return node.store.revoke_sessions(_own(principal), node.clock(), audit=[event])


def own_person(node: Node, principal: Principal) -> Person:
    """The principal's person as stored now (the account page shows it)."""
    person = node.store.person_by_id(_own(principal))
    if person is None:
        raise Unauthorized(ENDED)
    return person


def own_sessions(node: Node, principal: Principal) -> list[PersonSession]:
    """The principal's person's sessions (live and ended), oldest first."""
    return node.store.list_sessions(_own(principal))


def revoke_own_session(node: Node, principal: Principal, session_id: int) -> None:
    """End one of the principal's person's own sessions (another device)."""
    detail = {**_who(principal), "session": session_id}
    event = AuditEvent("person.session.revoke", actor_of(principal), detail=detail)
    if not node.store.revoke_sessions(
        _own(principal), node.clock(), session_id=session_id, audit=[event]
    ):
        raise NotFound("no live session of yours with that id")


def list_sessions(node: Node, actor: Principal, org_name: str, email: str) -> list[PersonSession]:
    """A person's sessions, for the org's admins and the operator."""
    _, person = find_person(node, actor, org_name, email)
    return node.store.list_sessions(person.id)


def revoke_session(
    node: Node, actor: Principal, org_name: str, email: str, session_id: int
) -> None:
    """An admin of the org (or the operator) ends one session of a person of it."""
    org, person = find_person(node, actor, org_name, email)
    detail = {"org": org.name, "person": person.email, "session": session_id}
    event = AuditEvent("person.session.revoke", actor_of(actor), detail=detail)
    if not node.store.revoke_sessions(
        person.id, node.clock(), session_id=session_id, audit=[event]
    ):
        raise NotFound("no live session of that person with that id")
