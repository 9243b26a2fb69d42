"""Sharing groups: created by an admin of their owner org, members changed by their owners."""

from __future__ import annotations

from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import Forbidden, InvalidInput, NotFound
from tabadol.domain.model import Group, Principal, PrincipalKind
from tabadol.domain.policy import may_create_group, may_manage_group, may_see_group
from tabadol.node.node import Node, collection_uuid
from tabadol.storage.contract import Channel
from tabadol.text.names import look_alike
from tabadol.usecases.membership.break_glass import break_glass_event, break_glass_for_owners
from tabadol.usecases.membership.ids import group_uuid_of
from tabadol.usecases.membership.lookup import require_org
from tabadol.usecases.membership.names import check_channel_name


def create_group(
    node: Node, actor: Principal, name: str, owner_name: str, *, break_glass: str | None = None
) -> Group:
    """A sharing group owned by `owner_name`; its channel is titled after the group. The
    operator creating one for an org that has its own admins takes a break-glass step."""
    name = check_channel_name(node, "group", name)
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
    steps = break_glass_event(node, actor, owner, "group.create", break_glass, group=name)
    return node.store.create_group(
        group_uuid, name, owner.id, node.clock(), channel, audit=[event, *steps]
    )


def require_group(node: Node, actor: Principal, name: str) -> Group:
    """The group of that name (or the one visible group whose name looks like it)."""
    group = node.store.group_by_name(name)
    if group is None:
        alike = [g for g in list_groups(node, actor) if look_alike(name, g.name)]
        group = alike[0] if len(alike) == 1 else None
    if group is None or not may_see_group(actor, group):
        raise NotFound(f"no group named {name!r}")
    return group


def _group_to_change(node: Node, actor: Principal, group_name: str) -> Group:
    """A group whose members `actor` may change here: owned on this node, by an org `actor`
    administers."""
    group = require_group(node, actor, group_name)
    if group.home_peer is not None:
        raise Forbidden(f"{group.name!r} is owned at another node: its members change there")
    if not may_manage_group(actor, group):
        raise Forbidden(f"only admins of an owner of {group.name!r} change its members")
    return group


def add_group_member(
    node: Node,
    actor: Principal,
    group_name: str,
    org_name: str,
    *,
    owner: bool = False,
    break_glass: str | None = None,
) -> Group:
    """Add an org to a group (the operator acting for owners with admins: break-glass)."""
    group = _group_to_change(node, actor, group_name)
    org = require_org(node, org_name)
    if not org.member:
        raise InvalidInput(f"{org.name!r} is a guest organization; groups hold members only")
    owner = owner or org.id in group.owners
    event = AuditEvent(
        "group.add-member",
        actor_of(actor),
        detail={"group": group.name, "org": org.name, "owner": owner},
    )
    steps = break_glass_for_owners(
        node, actor, group.owners, "group.add-member", break_glass, group.name
    )
    node.store.set_group_member(group.id, org.id, owner, now=node.clock(), audit=[event, *steps])
    updated = node.store.group_by_id(group.id)
    assert updated is not None
    return updated


def remove_group_member(
    node: Node,
    actor: Principal,
    group_name: str,
    org_name: str,
    *,
    break_glass: str | None = None,
) -> Group:
    """Remove an org from a group (the operator acting for owners with admins: break-glass)."""
    group = _group_to_change(node, actor, group_name)
    org = require_org(node, org_name)
    if org.id in group.owners and len(group.owners) == 1:
        raise InvalidInput(f"{org.name!r} is the last owner of {group.name!r}")
    event = AuditEvent(
        "group.remove-member", actor_of(actor), detail={"group": group.name, "org": org.name}
    )
    steps = break_glass_for_owners(
        node, actor, group.owners, "group.remove-member", break_glass, group.name
    )
    if not node.store.remove_group_member(
        group.id, org.id, now=node.clock(), audit=[event, *steps]
    ):
        raise NotFound(f"{org.name!r} is not a member of {group.name!r}")
    updated = node.store.group_by_id(group.id)
    assert updated is not None
    return updated


def list_groups(node: Node, actor: Principal) -> list[Group]:
    return [g for g in node.store.list_groups() if may_see_group(actor, g)]


def groups_read_by(node: Node, actor: Principal) -> list[Group]:
    """The groups whose items the caller reads: those its org is a member of."""
    return [g for g in list_groups(node, actor) if g.id in actor.group_ids]
