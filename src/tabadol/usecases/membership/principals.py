"""Who a request comes from: tokens, principals, the operator."""

from __future__ import annotations

import hashlib

from tabadol.domain.errors import Unauthorized
from tabadol.domain.model import Org, Principal, PrincipalKind, Role
from tabadol.node.node import Node

TOKEN_PREFIX = "tbd_"


NODE_ADMIN_ROLE = "node-admin"


def hash_secret(secret: str) -> bytes:
    """Tokens are 256-bit random secrets, so one SHA-256 is enough to store them safely
    (a slow password hash protects low-entropy secrets; these have none to protect)."""
    return hashlib.sha256(secret.encode()).digest()


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
    if token.org_id is None:
        return Principal(kind=PrincipalKind.NODE_ADMIN, token_id=token.id)
    if bearer.org is None:  # its org is gone
        raise Unauthorized("unknown or revoked token")
    return org_principal(node, bearer.org, Role(token.role), token.id, bearer.group_ids)


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
    """The principal as its token stands now (groups, membership), or None once the token is
    revoked or its org gone: what a long-lived stream checks before every read."""
    if principal.token_id is None or principal.org is None:
        return principal
    token = node.store.token_by_id(principal.token_id)
    org = node.store.org_by_id(principal.org.id)
    if token is None or token.revoked is not None or org is None or principal.role is None:
        return None
    return org_principal(node, org, principal.role, token.id)
