"""Finding an org or a channel by what the caller names, or a clear NotFound.

A name is found by any spelling a reader takes for it (`text.names`): typed on the Arabic
keyboard (ي, ك) for a Persian name (ی, ک), in another case, with or without ZWNJ.
"""

from __future__ import annotations

from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import NotFound
from tabadol.domain.model import Collection, Org, Principal
from tabadol.domain.people import check_utf8
from tabadol.domain.policy import may_manage_org
from tabadol.node.node import Node
from tabadol.text.names import look_alike


def require_org(node: Node, name: str) -> Org:
    org = find_org(node, name)
    if org is None:
        raise NotFound(f"no organization named {name!r}")
    return org


def require_managed_org(node: Node, actor: Principal, name: str) -> Org:
    """The org named, if `actor` manages it (its admins, the operator). Any other caller gets
    the same NotFound whether the org exists or not, so a route that manages an org is no
    oracle of org names (a guest may not read the member directory)."""
    org = find_org(node, name)  # by any spelling a reader takes for it
    if org is None or not may_manage_org(actor, org.id):
        raise NotFound("no organization of that name that you manage")  # the name is not echoed
    return org


def collection_by_kind(node: Node, kind: AudienceKind, ref: int | None = None) -> Collection:
    for collection in node.store.list_collections():
        if collection.kind is kind and collection.ref == ref:
            return collection
    raise NotFound(f"no {kind.value} collection")


def find_org(node: Node, name: str) -> Org | None:
    """The org of that name (or of a name that looks like it, when only one does), or None:
    for a caller that creates it when it is missing. InvalidInput for a name that is no
    valid text or holds NUL (no org has one; the database would refuse to compare it)."""
    check_utf8("the organization name", name)
    exact = node.store.org_by_name(name)
    if exact is not None:
        return exact
    alike = [org for org in node.store.list_orgs() if look_alike(name, org.name)]
    return alike[0] if len(alike) == 1 else None


def org_names(node: Node) -> dict[int, str]:
    """Every org's name by its internal id: what a listing prints for the orgs a group, a
    token or a key refers to (the caller has already been allowed to see those)."""
    return {org.id: org.name for org in node.store.list_orgs()}


def list_channels(node: Node) -> list[Collection]:
    """Every collection of the node, whoever may read it: the operator's own listing (the
    TAXII listing of a principal is `usecases.reading.read.list_collections`)."""
    return node.store.list_collections()
