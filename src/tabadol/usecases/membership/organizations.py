"""Organizations: created with their keys, their private channel and their directory record."""

from __future__ import annotations

from typing import Any

from tabadol.domain.audit import AuditEvent, Outcome, actor_of
from tabadol.domain.errors import Conflict, Forbidden, InvalidInput
from tabadol.domain.keys import Custody
from tabadol.domain.model import Org, Principal, PrincipalKind
from tabadol.node.keyring import generate_node_held_keys
from tabadol.node.node import Node, collection_uuid
from tabadol.storage.contract import Channel
from tabadol.usecases.membership.ids import org_identity_id
from tabadol.usecases.membership.names import check_channel_name
from tabadol.usecases.membership.principals import OPERATOR, member_or_operator
from tabadol.usecases.trust.directory_record import publish_directory_record
from tabadol.usecases.trust.keys import client_keys


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
    private halves. Only the node's operator adds orgs (`actor`: the operator by default)."""
    if actor is not None and actor.kind is not PrincipalKind.NODE_ADMIN:
        raise Forbidden("only the node's operator adds organizations")
    name = check_channel_name(node, "organization", name)
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
    if member:
        _check_identity_free(node, name, identity_id)
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
        _publish_or_discard(node, org, now, actor or OPERATOR)
    return org


def _publish_or_discard(node: Node, org: Org, now: int, actor: Principal) -> None:
    """Publish the new org's directory record, or remove the org if that fails: `org add`
    completes (org, keys, channel, record, audit) or leaves nothing but the audit trail of
    the attempt. Nothing else can use the org meanwhile: it has no token yet."""
    try:
        publish_directory_record(node, org, created=now)
    except Exception as exc:
        undone = AuditEvent(
            "org.add.undone",
            actor_of(actor),
            Outcome.REFUSED,
            detail={"org": org.name, "reason": str(exc) or type(exc).__name__},
        )
        node.store.discard_new_org(org.id, node.clock(), audit=[undone])
        raise


def _check_identity_free(node: Node, name: str, identity_id: str) -> None:
    """Refuse, before anything is created, a name whose derived identity id another author
    already holds somewhere on the node: the directory record would be refused (or share its
    id with a squatter's object), and the org would be left without it."""
    for collection in node.store.list_collections():
        if node.store.authors_of(collection.id, identity_id):
            raise Conflict(
                f"the identity id of {name!r} ({identity_id}) is already used by another"
                f" author in {collection.title!r}: choose another name"
            )


def list_orgs(node: Node, actor: Principal) -> list[Org]:
    """The member directory: members and the node's operator read it."""
    if not member_or_operator(actor):
        raise Forbidden("the member directory is for members")
    return node.store.list_orgs()
