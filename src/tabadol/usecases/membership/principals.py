"""Who a request comes from: tokens, principals, the operator."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from tabadol.domain.errors import Forbidden, InvalidInput, Unauthorized
from tabadol.domain.model import Org, Principal, PrincipalKind, Role, Token
from tabadol.domain.people import (
    MINUTE,
    Person,
    PersonSession,
    PersonStatus,
    SessionStage,
    effective_role,
)
from tabadol.node.node import Node

TOKEN_PREFIX = "tbd_"


NODE_ADMIN_ROLE = "node-admin"


def parse_role(role: str | Role) -> Role:
    """An org role named by a caller, or InvalidInput naming the roles there are."""
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(f"role must be one of {', '.join(r.value for r in Role)}") from None


def hash_secret(secret: str) -> bytes:
    """Tokens are 256-bit random secrets, so one SHA-256 is enough to store them safely
    (a slow password hash protects low-entropy secrets; these have none to protect). Text
    that is no valid UTF-8 (a lone surrogate) hashes too — to what no real secret does."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


OPERATOR = Principal(kind=PrincipalKind.NODE_ADMIN)


def org_principal(
    node: Node,
    org: Org,
    role: Role,
    token_id: int | None = None,
    group_ids: frozenset[int] | None = None,
) -> Principal:
    return Principal(
        kind=PrincipalKind.ORG,
        org=org,
        role=role,
        group_ids=node.store.group_ids_of(org.id) if group_ids is None else group_ids,
        token_id=token_id,
    )


def person_principal(
    node: Node,
    org: Org,
    person: Person,
    role: Role,
    *,
    token_id: int | None = None,
    session_id: int | None = None,
    group_ids: frozenset[int] | None = None,
) -> Principal:
    """A person acting for their org: to the policy an org principal with `role`."""
    return replace(
        org_principal(node, org, role, token_id, group_ids),
        person_id=person.id,
        person_email=person.email,
        session_id=session_id,
    )


def _person_live(person: Person, org: Org) -> bool:
    """Active, and of `org` (never another org's)."""
    return person.status is PersonStatus.ACTIVE and person.org_id == org.id


def _token_principal(
    node: Node,
    token: Token,
    org: Org,
    person: Person | None,
    group_ids: frozenset[int] | None = None,
) -> Principal | None:
    """Who a live token of `org` acts as: the org, or its person (with the lower of the
    token's role and theirs); None when that person is no longer live."""
    if token.person_id is None:
        return org_principal(node, org, Role(token.role), token.id, group_ids)
    if person is None or not _person_live(person, org):
        return None
    role = effective_role(Role(token.role), person.role)
    return person_principal(node, org, person, role, token_id=token.id, group_ids=group_ids)


def token_live(token: Token, now: int) -> bool:
    """Not revoked, and not past its expiry (if it has one)."""
    return token.revoked is None and (token.expires is None or token.expires > now)


def authenticate(node: Node, authorization: str | None) -> Principal:
    """The principal behind an `Authorization: Bearer …` header; anonymous without one."""
    if not authorization:
        return Principal(kind=PrincipalKind.ANONYMOUS)
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("use 'Authorization: Bearer <token>'")
    bearer = node.store.bearer(hash_secret(secret.strip()))
    if bearer is None or bearer.token.revoked is not None:
        raise Unauthorized("unknown or revoked token")
    token = bearer.token
    if not token_live(token, node.clock()):
        raise Unauthorized("this token has expired")
    if token.org_id is None:
        return Principal(kind=PrincipalKind.NODE_ADMIN, token_id=token.id)
    if bearer.org is None:  # its org is gone
        raise Unauthorized("unknown or revoked token")
    principal = _token_principal(node, token, bearer.org, bearer.person, bearer.group_ids)
    if principal is None:  # its person is disabled, removed or another org's
        raise Unauthorized("unknown or revoked token")
    return principal


def member_or_operator(principal: Principal) -> bool:
    """Who reads the directory (orgs, keys, signed heads): members and the node's operator."""
    return principal.is_member or principal.kind is PrincipalKind.NODE_ADMIN


def authenticate_token(node: Node, authorization: str | None) -> Principal:
    """The principal of an API that has no anonymous access (the native API)."""
    principal = authenticate(node, authorization)
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise Unauthorized("this API needs a bearer token")
    return principal


def authenticate_reader(node: Node, authorization: str | None) -> Principal:
    """The principal of a TAXII request: anonymous callers get through only where the node
    serves `public` to all (the `anonymous_public_read` setting)."""
    principal = authenticate(node, authorization)
    if principal.kind is PrincipalKind.ANONYMOUS and not node.settings.anonymous_public_read:
        raise Unauthorized("this node needs a bearer token")
    return principal


def refreshed(node: Node, principal: Principal) -> Principal | None:
    """The principal as its token, session and person stand now (groups, membership, the
    person's role), or None once the token is revoked or expired, the session revoked or
    past its absolute end, the person disabled or removed, or the org gone: what a
    long-lived stream checks before every read (reading a stream is activity, so the idle
    timeout is the request's check, not this one's)."""
    if principal.org is None or (principal.token_id is None and principal.session_id is None):
        return principal
    org = node.store.org_by_id(principal.org.id)
    if org is None or principal.role is None:
        return None
    now = node.clock()
    if principal.session_id is None:
        token = node.store.token_by_id(principal.token_id or 0)
        if token is None or not token_live(token, now):
            return None
        person = None if token.person_id is None else node.store.person_by_id(token.person_id)
        return _token_principal(node, token, org, person)
    person = node.store.person_by_id(principal.person_id or 0)
    session = node.store.session_by_id(principal.session_id)
    if person is None or not _person_live(person, org) or not session_live(session, now):
        return None
    return person_principal(node, org, person, person.role, session_id=principal.session_id)


def session_live(session: PersonSession | None, now: int) -> bool:
    """A complete session, not revoked, before its absolute end."""
    return (
        session is not None
        and session.revoked is None
        and session.stage is SessionStage.COMPLETE
        and now < session.expires
    )


RECENT_SIGN_IN_MINUTES = 10


def require_recent_sign_in(node: Node, principal: Principal, act: str) -> None:
    """Forbidden unless the principal is a person signed in (a session, not a token) within
    the last `RECENT_SIGN_IN_MINUTES`: what a stolen session cookie must not buy is lasting
    access (a token, a second factor of the thief's choosing)."""
    if principal.person_id is None or principal.session_id is None:
        raise Forbidden(f"{act} needs a signed-in person (a session), not a token")
    session = node.store.session_by_id(principal.session_id)
    if session is None or node.clock() - session.created > RECENT_SIGN_IN_MINUTES * MINUTE:
        raise Forbidden(
            f"{act} needs a recent sign-in: sign out, sign in again and retry within"
            f" {RECENT_SIGN_IN_MINUTES} minutes"
        )


def by_personal_token(principal: Principal) -> bool:
    """A person acting through one of their personal tokens (not a signed-in session)."""
    return principal.person_id is not None and principal.session_id is None
