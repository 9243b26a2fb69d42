"""The one access policy: who may read, write and manage what.

Every read path asks `visibility()` for the set of collections a principal may read and hands
it to the storage, which renders it inside the query (never a filter applied afterwards, which
would leak through counts and break paging). Write and admin paths ask the `may_*` functions.

The node's operator, as a principal (a node-admin token, or the CLI on the data directory),
manages the directory — orgs, tokens, groups, keys, peers — and reads public content only:
`may_read` gives it no org's, group's or `members` channel. What it can still do, and how:

* act as an org: mint a token for it, or export, search or import as it from the CLI, or
  change a group as its owner. For an org without admins of its own (a new one) that is
  setting it up; for one with admins it is a break-glass step with a reason, written to the
  audit log with the act and shown to those admins until they acknowledge it
  (`usecases.membership.break_glass`). A minted token reads what the org reads: in node
  custody its sealed items opened, in client custody only their sealed form;
* add a member org, which then reads `members` (the org list shows it, the log records it);
* with the data directory AND the key secret outside it (node custody), open the org keys
  the node holds and so the sealed items of those orgs, without any tool of ours: no policy
  binds whoever runs their own code on the files. Client custody removes that power: the
  node never holds those private keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tabadol.domain.audience import AudienceKind
from tabadol.domain.model import Collection, Group, Org, Principal, PrincipalKind, Role


@dataclass(frozen=True, slots=True)
class Visibility:
    """The collections (internal ids) a principal may read: the read predicate."""

    collection_ids: frozenset[int]

    def narrowed_to(self, collection_id: int) -> Visibility:
        return Visibility(self.collection_ids & {collection_id})

    @property
    def empty(self) -> bool:
        return not self.collection_ids


def may_read(principal: Principal, collection: Collection, *, anonymous_public: bool) -> bool:
    """Whether `principal` belongs to the audience of `collection`."""
    kind = collection.kind
    if kind is AudienceKind.PUBLIC:
        if principal.kind is PrincipalKind.ANONYMOUS:
            return anonymous_public
        return True
    if principal.kind is not PrincipalKind.ORG or principal.org is None:
        return False
    if kind is AudienceKind.MEMBERS:
        return principal.org.member
    if kind is AudienceKind.ORG:
        return collection.ref == principal.org.id
    return collection.ref in principal.group_ids  # GROUP


def may_write(principal: Principal, collection: Collection) -> bool:
    """Whether `principal` may publish into `collection` (always within what it may read)."""
    if principal.kind is not PrincipalKind.ORG or principal.org is None:
        return False
    if principal.role not in (Role.ADMIN, Role.PUBLISHER):
        return False
    if not principal.org.member:
        return False  # a guest reads public items and publishes nothing
    return may_read(principal, collection, anonymous_public=False)


def visibility(
    principal: Principal, collections: Iterable[Collection], *, anonymous_public: bool
) -> Visibility:
    """The read predicate of `principal` over all collections of the node."""
    return Visibility(
        frozenset(
            c.id for c in collections if may_read(principal, c, anonymous_public=anonymous_public)
        )
    )


def may_see_identity(collection: Collection, org: Org, *, authored_here: bool) -> bool:
    """Whether a reader of `collection` may fetch `org`'s identity (its directory record)
    there: where it can read an item the org published (`authored_here`, decided inside the
    query with the reader's visibility), so every author it reads resolves and an org that
    published nothing it can see stays unseen; and in `members`, every member org's, since
    the directory is the members' to read (the key directory lists them all)."""
    if collection.kind is AudienceKind.MEMBERS and org.member:
        return True
    return authored_here


def may_delete(principal: Principal, collection: Collection, author_org_id: int) -> bool:
    """Only the publishing org (with a publisher or admin token) deletes its own versions."""
    return may_write(principal, collection) and principal.org_id == author_org_id


def may_manage_org(principal: Principal, org_id: int) -> bool:
    """Tokens of an org are managed by its admins and by the node's operator."""
    if principal.kind is PrincipalKind.NODE_ADMIN:
        return True
    return principal.org_id == org_id and principal.role is Role.ADMIN


def may_manage_group(principal: Principal, group: Group) -> bool:
    """A group's membership is changed only by an admin of one of its owner orgs."""
    if principal.kind is PrincipalKind.NODE_ADMIN:
        return True
    return (
        principal.org_id is not None
        and principal.org_id in group.owners
        and principal.role is Role.ADMIN
    )


def may_see_group(principal: Principal, group: Group) -> bool:
    """A group's existence and members are visible to its members and the operator."""
    if principal.kind is PrincipalKind.NODE_ADMIN:
        return True
    return principal.org_id is not None and principal.org_id in group.members


def may_create_group(principal: Principal) -> bool:
    """Member orgs create groups through an admin token; the operator may too."""
    if principal.kind is PrincipalKind.NODE_ADMIN:
        return True
    return principal.is_member and principal.role is Role.ADMIN
