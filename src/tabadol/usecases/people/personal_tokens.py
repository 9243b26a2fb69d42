"""Personal API tokens: a signed-in person's scripts act as that person.

A personal token has a role no higher than its person's when made, and an expiry (at most
`personal_token_max_days`); each request acts with the lower of the token's role and the
person's current one, and the token stops working when it expires or the person is disabled
or removed (`principals.authenticate`), and when the person signs out everywhere or redeems
a reset link. Only a session signed in within the last minutes makes one: a token cannot
mint a longer-lived successor for itself, nor can a stolen session cookie buy lasting
access. The org's admins see and revoke them with the org's tokens (`membership.api_tokens`).
"""

from __future__ import annotations

import secrets

from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import Forbidden, InvalidInput, NotFound
from tabadol.domain.model import Principal, Role, Token
from tabadol.domain.people import DAY, role_at_most
from tabadol.node.node import Node
from tabadol.usecases.membership.api_tokens import revoke_recorded
from tabadol.usecases.membership.names import check_text
from tabadol.usecases.membership.principals import (
    TOKEN_PREFIX,
    hash_secret,
    parse_role,
    require_recent_sign_in,
)
from tabadol.usecases.people.accounts import person_detail

MAX_LABEL = 200
_NOT_YOURS = "no token of yours with that id"


def _person_of(node: Node, principal: Principal) -> int:
    if principal.person_id is None or principal.org is None:
        raise Forbidden("personal tokens belong to a person: sign in first")
    return principal.person_id


def create_personal_token(
    node: Node, principal: Principal, role: str | Role, expires_in_days: int, label: str = ""
) -> tuple[Token, str]:
    """A new token of the signed-in person: (the token, its secret — shown once). Forbidden
    above the person's role, without a session or one older than the last minutes;
    InvalidInput for an expiry outside 1..`personal_token_max_days` days."""
    person_id = _person_of(node, principal)
    require_recent_sign_in(node, principal, "making a personal token")
    chosen = parse_role(role)
    person = node.store.person_by_id(person_id)
    if person is None or principal.org is None:
        raise Forbidden("personal tokens belong to a person: sign in first")
    if not role_at_most(chosen, person.role):
        raise Forbidden(f"a personal token's role is at most yours ({person.role.value})")
    most = node.settings.personal_token_max_days
    if not 1 <= expires_in_days <= most:
        raise InvalidInput(f"a personal token expires in 1 to {most} days")
    label = check_text("the label", label.strip())[:MAX_LABEL]
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = node.clock()
    detail = {
        "org": principal.org.name,
        "person": person.email,
        "role": chosen.value,
        "prefix": secret[:10],
        "label": label,
        "days": expires_in_days,
    }
    event = AuditEvent("person.token.create", actor_of(principal), detail=detail)
    token = node.store.create_token(
        principal.org.id,
        chosen.value,
        label,
        hash_secret(secret),
        secret[:10],
        now,
        person_id=person.id,
        expires=now + expires_in_days * DAY,
        audit=[event],
    )
    return token, secret


def list_personal_tokens(node: Node, principal: Principal) -> list[Token]:
    """The person's own tokens (live, revoked and expired), oldest first."""
    return node.store.tokens_of_person(_person_of(node, principal))


def revoke_personal_token(node: Node, principal: Principal, token_id: int) -> Token:
    """Revoke one of the person's own tokens (NotFound for anyone else's)."""
    person_id = _person_of(node, principal)
    token = node.store.token_by_id(token_id)
    if token is None or token.person_id != person_id:
        raise NotFound(_NOT_YOURS)
    detail = {**person_detail(principal), "token": token_id, "prefix": token.prefix}
    event = AuditEvent("person.token.revoke", actor_of(principal), detail=detail)
    return revoke_recorded(node, token_id, event, _NOT_YOURS)
