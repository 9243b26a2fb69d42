"""Members and access: organizations, tokens, sharing groups, and who a request comes from."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from typing import Any

from tabadol.domain.audience import AudienceKind
from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from tabadol.domain.keys import Custody
from tabadol.domain.model import Collection, Group, Org, Principal, PrincipalKind, Role, Token
from tabadol.domain.policy import may_create_group, may_manage_group, may_manage_org, may_see_group
from tabadol.domain.timestamps import format_us
from tabadol.services.keys import client_keys, generate_node_held_keys, key_record
from tabadol.services.node import Node, collection_uuid
from tabadol.storage.base import Channel

TOKEN_PREFIX = "tbd_"
NODE_ADMIN_ROLE = "node-admin"
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


def _check_name(what: str, name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput(f"{what} name must be 1-100 printable characters")
    return name


_RESERVED = frozenset(kind.value for kind in AudienceKind)


def _check_channel_name(node: Node, what: str, name: str) -> str:
    """Org and group names title their channels, so they must be unique among channels."""
    name = _check_name(what, name)
    if name.lower() in _RESERVED:
        raise InvalidInput(f"{name!r} is reserved for a channel of the node")
    if any(c.title == name for c in node.store.list_collections()):
        raise Conflict(f"a channel named {name!r} already exists")
    return name


def hash_secret(secret: str) -> bytes:
    """Tokens are 256-bit random secrets, so one SHA-256 is enough to store them safely
    (a slow password hash protects low-entropy secrets; these have none to protect)."""
    return hashlib.sha256(secret.encode()).digest()


OPERATOR = Principal(kind=PrincipalKind.NODE_ADMIN)


def org_identity_id(node_id: str, name: str) -> str:
    """An org's STIX identity id, derived from its home node and its name: every node can
    check that a peer claiming an org is the node it was created on (a peer cannot claim
    another node's org, even one this node has not heard of yet)."""
    return f"identity--{uuid.uuid5(uuid.UUID(node_id), 'org:' + name)}"


def group_uuid_of(node_id: str, name: str) -> str:
    """A group's id, derived from the node of its owners and its name (as for orgs)."""
    return str(uuid.uuid5(uuid.UUID(node_id), "group:" + name))


# --- organizations ---------------------------------------------------------------------------
def add_org(
    node: Node,
    name: str,
    *,
    member: bool = True,
    custody: Custody = Custody.NODE,
    public_keys: dict[str, Any] | None = None,
    actor: Principal | None = None,
) -> Org:
    """Create an org with its keys, its STIX identity and its private channel, and (for
    members) publish its identity into `members` so every member can resolve
    `created_by_ref` and find its public keys.

    Node custody: the node generates the keys and holds them wrapped. Client custody: the
    org registers its public keys (`tabadol key generate`) and the node never sees the
    private halves."""
    name = _check_channel_name(node, "organization", name)
    if custody is Custody.CLIENT and public_keys is None:
        raise InvalidInput(
            "an organization that keeps its keys registers its public keys"
            " (`tabadol key generate` prints them)"
        )
    if custody is Custody.NODE and public_keys is not None:
        raise InvalidInput(
            "the node generates the keys it holds; give public keys only with client custody"
        )
    keys = (
        client_keys(public_keys, node.node_key_id)
        if public_keys is not None
        else generate_node_held_keys(node)
    )
    now = node.clock()
    identity_id = org_identity_id(node.node_id, name)
    channel = (
        Channel(collection_uuid(node, f"org:{identity_id}"), name, f"Private to {name}.")
        if member
        else None  # a guest reads public items only: it has no channel of its own
    )
    event = AuditEvent(
        "org.add",
        actor_of(actor or OPERATOR),
        detail={
            "org": name,
            "member": member,
            "custody": custody.value,
            "keys": [k.key_id for k in keys],
        },
    )
    org = node.store.create_org(
        name, identity_id, member, now, channel, custody=custody, keys=keys, audit=[event]
    )
    if member:
        publish_identity(node, org, created=now)
    return org


def publish_identity(node: Node, org: Org, created: int | None = None) -> None:
    """Publish a version of the org's identity carrying its public keys and their history,
    signed by the node key: the node speaks for its directory."""
    from tabadol.services.publish import publish_objects  # the use cases sit side by side

    now = created if created is not None else node.clock()
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": org.identity_id,
        "created": format_us(created if created is not None else org.created),
        "modified": format_us(now),
        "name": org.name,
        "identity_class": "organization",
        "created_by_ref": org.identity_id,
        "x_tabadol_custody": org.custody.value,
        "x_tabadol_keys": [key_record(k) for k in node.store.org_keys(org.id)],
    }
    members = collection_by_kind(node, AudienceKind.MEMBERS)
    principal = org_principal(node, org, Role.PUBLISHER)
    status = publish_objects(node, principal, members, [identity], directory=True)
    if status.failures:
        raise InvalidInput(f"the identity of {org.name!r} was refused: {status.failures[0][2]}")


def require_org(node: Node, name: str) -> Org:
    org = node.store.org_by_name(name)
    if org is None:
        raise NotFound(f"no organization named {name!r}")
    return org


def collection_by_kind(node: Node, kind: AudienceKind, ref: int | None = None) -> Collection:
    for collection in node.store.list_collections():
        if collection.kind is kind and collection.ref == ref:
            return collection
    raise NotFound(f"no {kind.value} collection")


# --- principals and tokens -------------------------------------------------------------------
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


def create_token(
    node: Node, actor: Principal, org_name: str | None, role: str, label: str = ""
) -> tuple[Token, str]:
    """A new token; the secret is returned once and only its hash is stored."""
    if org_name is None:
        if actor.kind is not PrincipalKind.NODE_ADMIN:
            raise Forbidden("only the node's operator creates node-admin tokens")
        org_id, role = None, NODE_ADMIN_ROLE
    else:
        org = require_org(node, org_name)
        if not org.hosted_here:
            raise Forbidden(f"{org.name!r} is hosted by another node: its tokens are made there")
        if not may_manage_org(actor, org.id):
            raise Forbidden(f"you may not manage the tokens of {org.name!r}")
        try:
            role = Role(role).value
        except ValueError:
            raise InvalidInput(f"role must be one of {', '.join(r.value for r in Role)}") from None
        org_id = org.id
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    event = AuditEvent(
        "token.create",
        actor_of(actor),
        detail={"org": org_name, "role": role, "prefix": secret[:10], "label": label[:200]},
    )
    token = node.store.create_token(
        org_id, role, label[:200], hash_secret(secret), secret[:10], node.clock(), audit=[event]
    )
    return token, secret


def list_tokens(node: Node, actor: Principal, org_name: str | None) -> list[Token]:
    if org_name is None:
        if actor.kind is not PrincipalKind.NODE_ADMIN:
            raise Forbidden("only the node's operator lists node-admin tokens")
        return node.store.list_tokens(None)
    org = require_org(node, org_name)
    if not may_manage_org(actor, org.id):
        raise Forbidden(f"you may not manage the tokens of {org.name!r}")
    return node.store.list_tokens(org.id)


def revoke_token(node: Node, actor: Principal, token_id: int) -> Token:
    token = node.store.token_by_id(token_id)
    if (
        token is None
        or (token.org_id is None and actor.kind is not PrincipalKind.NODE_ADMIN)
        or (token.org_id is not None and not may_manage_org(actor, token.org_id))
    ):
        raise NotFound(f"no token {token_id} that you manage")
    event = AuditEvent(
        "token.revoke", actor_of(actor), detail={"token": token_id, "prefix": token.prefix}
    )
    if not node.store.revoke_token(token_id, node.clock(), audit=[event]):
        raise InvalidInput(f"token {token_id} is already revoked")
    revoked = node.store.token_by_id(token_id)
    assert revoked is not None
    return revoked


# --- sharing groups --------------------------------------------------------------------------
def create_group(node: Node, actor: Principal, name: str, owner_name: str) -> Group:
    """A sharing group owned by `owner_name`; its channel is titled after the group."""
    name = _check_channel_name(node, "group", name)
    owner = require_org(node, owner_name)
    if not may_create_group(actor) or (
        actor.kind is PrincipalKind.ORG and actor.org_id != owner.id
    ):
        raise Forbidden("a group is created by an admin of its owner organization")
    if not owner.member:
        raise InvalidInput(f"{owner.name!r} is a guest organization; only members own groups")
    group_uuid = group_uuid_of(node.node_id, name)
    channel = Channel(collection_uuid(node, f"group:{group_uuid}"), name, f"Sharing group {name}.")
    event = AuditEvent("group.create", actor_of(actor), detail={"group": name, "owner": owner.name})
    return node.store.create_group(group_uuid, name, owner.id, node.clock(), channel, audit=[event])


def require_group(node: Node, actor: Principal, name: str) -> Group:
    group = node.store.group_by_name(name)
    if group is None or not may_see_group(actor, group):
        raise NotFound(f"no group named {name!r}")
    return group


def add_group_member(
    node: Node, actor: Principal, group_name: str, org_name: str, *, owner: bool = False
) -> Group:
    group = require_group(node, actor, group_name)
    if group.home_peer is not None:
        raise Forbidden(f"{group.name!r} is owned at another node: its members change there")
    if not may_manage_group(actor, group):
        raise Forbidden(f"only admins of an owner of {group.name!r} change its members")
    org = require_org(node, org_name)
    if not org.member:
        raise InvalidInput(f"{org.name!r} is a guest organization; groups hold members only")
    owner = owner or org.id in group.owners
    event = AuditEvent(
        "group.add-member",
        actor_of(actor),
        detail={"group": group.name, "org": org.name, "owner": owner},
    )
    node.store.set_group_member(group.id, org.id, owner, now=node.clock(), audit=[event])
    updated = node.store.group_by_id(group.id)
    assert updated is not None
    return updated


def remove_group_member(node: Node, actor: Principal, group_name: str, org_name: str) -> Group:
    group = require_group(node, actor, group_name)
    if group.home_peer is not None:
        raise Forbidden(f"{group.name!r} is owned at another node: its members change there")
    if not may_manage_group(actor, group):
        raise Forbidden(f"only admins of an owner of {group.name!r} change its members")
    org = require_org(node, org_name)
    if org.id in group.owners and len(group.owners) == 1:
        raise InvalidInput(f"{org.name!r} is the last owner of {group.name!r}")
    event = AuditEvent(
        "group.remove-member", actor_of(actor), detail={"group": group.name, "org": org.name}
    )
    if not node.store.remove_group_member(group.id, org.id, now=node.clock(), audit=[event]):
        raise NotFound(f"{org.name!r} is not a member of {group.name!r}")
    updated = node.store.group_by_id(group.id)
    assert updated is not None
    return updated


def list_groups(node: Node, actor: Principal) -> list[Group]:
    return [g for g in node.store.list_groups() if may_see_group(actor, g)]
