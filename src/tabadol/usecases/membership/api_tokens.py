"""API tokens: created (the secret shown once, its hash stored), listed, revoked."""

from __future__ import annotations

import secrets

from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import Conflict, Forbidden, NotFound
from tabadol.domain.model import Principal, PrincipalKind, Token
from tabadol.domain.policy import may_manage_org
from tabadol.node.node import Node
from tabadol.usecases.membership.break_glass import break_glass_event
from tabadol.usecases.membership.lookup import require_managed_org
from tabadol.usecases.membership.names import check_text
from tabadol.usecases.membership.principals import (
    NODE_ADMIN_ROLE,
    TOKEN_PREFIX,
    hash_secret,
    parse_role,
    require_recent_sign_in,
)


def create_token(
    node: Node,
    actor: Principal,
    org_name: str | None,
    role: str,
    label: str = "",
    *,
    break_glass: str | None = None,
) -> tuple[Token, str]:
    """A new token; the secret is returned once and only its hash is stored. The operator
    minting one for an org that has its own admins takes a break-glass step (`break_glass`:
    the reason), recorded with the token and shown to those admins.

    A person makes org tokens only as an admin of the org, signed in (a session, within the
    last minutes — `principals.require_recent_sign_in`), never through a personal token
    (which would turn a short-lived token into a lasting one); the token records who made
    it (listings show it) and is revoked when that person is disabled or removed."""
    steps: list[AuditEvent] = []
    if actor.person_id is not None:
        require_recent_sign_in(node, actor, "making an org token")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    if org_name is None:
        if actor.kind is not PrincipalKind.NODE_ADMIN:
            raise Forbidden("only the node's operator creates node-admin tokens")
        org_id, role = None, NODE_ADMIN_ROLE
    else:
        org = require_managed_org(node, actor, org_name)
        if not org.hosted_here:
            raise Forbidden(f"{org.name!r} is hosted by another node: its tokens are made there")
        role = parse_role(role).value
        org_id, org_name = org.id, org.name
        steps = break_glass_event(
            node, actor, org, "token.create", break_glass, role=role, prefix=secret[:10]
        )
    label = check_text("the label", label)
    event = AuditEvent(
        "token.create",
        actor_of(actor),
        detail={"org": org_name, "role": role, "prefix": secret[:10], "label": label[:200]},
    )
    token = node.store.create_token(
        org_id,
        role,
        label[:200],
        hash_secret(secret),
        secret[:10],
        node.clock(),
        created_by_person=actor.person_id,
        audit=[event, *steps],
    )
    return token, secret


def list_tokens(node: Node, actor: Principal, org_name: str | None) -> list[Token]:
    """The tokens of `org_name`; without one, every token the caller manages: all of them
    (the operator's own and every org's hosted here) for the operator, its org's for an
    org's admin."""
    if org_name is None:
        if actor.kind is PrincipalKind.NODE_ADMIN:
            hosted = [o.id for o in node.store.list_orgs() if o.hosted_here]
            return [t for org_id in (None, *hosted) for t in node.store.list_tokens(org_id)]
        if actor.org_id is None or not may_manage_org(actor, actor.org_id):
            raise Forbidden("you manage no tokens")
        return node.store.list_tokens(actor.org_id)
    return node.store.list_tokens(require_managed_org(node, actor, org_name).id)


def revoke_token(node: Node, actor: Principal, token_id: int) -> Token:
    token = node.store.token_by_id(token_id)
    if (
        token is None
        or (token.org_id is None and actor.kind is not PrincipalKind.NODE_ADMIN)
        or (token.org_id is not None and not may_manage_org(actor, token.org_id))
    ):
        raise NotFound("no token of that id that you manage")  # the id is not echoed: one answer
    event = AuditEvent(
        "token.revoke", actor_of(actor), detail={"token": token_id, "prefix": token.prefix}
    )
    return revoke_recorded(node, token_id, event, "no token of that id that you manage")


def revoke_recorded(node: Node, token_id: int, event: AuditEvent, missing: str) -> Token:
    """Revoke a token the caller may revoke, recording `event`: the token as it is now.
    Conflict when it is revoked already; NotFound (`missing`) when it went meanwhile."""
    if not node.store.revoke_token(token_id, node.clock(), audit=[event]):
        raise Conflict(f"token {token_id} is already revoked")
    revoked = node.store.token_by_id(token_id)
    if revoked is None:
        raise NotFound(missing)
    return revoked
