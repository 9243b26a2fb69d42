"""Read use cases: collections, objects, one object, versions, manifest, status, delete.

Each resolves the collection through the policy first (an unreadable collection answers
exactly like a missing one) and hands the storage the caller's Visibility.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson

from tabadol.crypto.object_signature import read_signature, verify_object
from tabadol.crypto.sealed_object import open_object, parse_sealed
from tabadol.domain.attestation import carry_attestation
from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import (
    Forbidden,
    InvalidFilter,
    InvalidObject,
    NotFound,
    SealingError,
    SignatureError,
)
from tabadol.domain.extensions import NODE_OBJECTS, SCHEMAS
from tabadol.domain.filters import (
    ObjectFilter,
    VersionFilter,
    parse_object_filter,
    parse_page,
)
from tabadol.domain.keys import KeyPurpose
from tabadol.domain.model import Collection, Principal
from tabadol.domain.policy import Visibility, may_delete, may_read, may_write, visibility
from tabadol.domain.sealed import lookup_ids
from tabadol.domain.stix import check_object
from tabadol.domain.timestamps import parse_us
from tabadol.domain.tlp import TLP
from tabadol.node.keyring import decryption_key_of
from tabadol.node.node import Node
from tabadol.storage.contract import StatusRecord as StatusRecord  # re-exported: TAXII status
from tabadol.storage.contract import StoredRow
from tabadol.usecases.reading.authors import record_matches, served_identity


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[StoredRow]
    more: bool
    next_token: str | None


@dataclass(frozen=True, slots=True)
class CollectionView:
    collection: Collection
    can_read: bool
    can_write: bool


def _may_read(node: Node, principal: Principal, collection: Collection) -> bool:
    return may_read(principal, collection, anonymous_public=node.settings.anonymous_public_read)


def list_collections(node: Node, principal: Principal) -> list[CollectionView]:
    """The collections the principal may read or write (TAXII 2.1 section 5.1)."""
    views = []
    for collection in node.store.list_collections():
        can_read = _may_read(node, principal, collection)
        can_write = may_write(principal, collection)
        if can_read or can_write:
            views.append(CollectionView(collection, can_read, can_write))
    return views


def get_collection(node: Node, principal: Principal, collection_uuid: str) -> CollectionView:
    for view in list_collections(node, principal):
        if view.collection.uuid == collection_uuid:
            return view
    raise NotFound("no such collection")


def readable_collection(node: Node, principal: Principal, collection_uuid: str) -> Collection:
    view = get_collection(node, principal, collection_uuid)
    if not view.can_read:
        raise Forbidden("you may publish into this collection but not read it")
    return view.collection


def _read_scope(
    node: Node, principal: Principal, collection_uuid: str
) -> tuple[Collection, Visibility]:
    """The collection asked for and the caller's read predicate over it alone (the policy
    applied to that collection: the same as the node-wide predicate narrowed to it)."""
    collection = readable_collection(node, principal, collection_uuid)
    anonymous_public = node.settings.anonymous_public_read
    return collection, visibility(principal, [collection], anonymous_public=anonymous_public)


def visible(node: Node, principal: Principal) -> Visibility:
    """The read predicate of `principal` over the whole node (export, search)."""
    return visibility(
        principal,
        node.store.list_collections(),
        anonymous_public=node.settings.anonymous_public_read,
    )


def _page(
    node: Node,
    vis: Visibility,
    flt: ObjectFilter,
    params: Mapping[str, str],
    scope: str,
) -> Page:
    request = parse_page(
        params, default=node.settings.page_size_default, maximum=node.settings.page_size_max
    )
    fingerprint = flt.fingerprint(scope)
    after = (
        node.page_tokens.position(request.next_token, fingerprint)
        if request.next_token is not None
        else None
    )
    rows = node.store.query_objects(vis, flt, after, request.limit + 1)
    more = len(rows) > request.limit
    rows = [_standard_or_stored(row) for row in rows[: request.limit]]
    token = node.page_tokens.issue(rows[-1].date_added, fingerprint) if more else None
    return Page(rows, more, token)


RESTRICTED_READ = "read.restricted"


def with_content(node: Node, principal: Principal, page: Page, actor: str | None = None) -> Page:
    """The page as the principal receives its content: sealed objects opened where the
    node holds a recipient key of the principal's org (others get the sealed form), and
    every read of an encrypted or TLP:RED item recorded in the audit log."""
    restricted = [row for row in page.rows if row.sealed or row.tlp == TLP.RED.label]
    if not restricted:
        return page
    opened = {id(row): _opened(node, principal, row) for row in restricted if row.sealed}
    rows = [opened.get(id(row), row) for row in page.rows]
    decrypted = sum(1 for row in restricted if row.sealed and opened[id(row)] is not row)
    event = AuditEvent(
        RESTRICTED_READ,
        actor or actor_of(principal),
        object_ids=[row.stix_id for row in restricted],
        detail={"decrypted_by_node": decrypted, "served_sealed": len(opened) - decrypted},
    )
    node.store.append_audit([event], node.clock())
    return Page(rows, page.more, page.next_token)


def _opened(node: Node, principal: Principal, row: StoredRow) -> StoredRow:
    """The row with its plaintext if the principal's org is a recipient whose key the node
    holds and the content checks out; otherwise the row as stored (the sealed form)."""
    if principal.org is None:
        return row
    try:
        sealed = orjson.loads(row.body)
        recipients = parse_sealed(sealed).sealed_keys  # either form (domain/sealed.py)
        for key in node.store.keys_by_id(list(recipients)).values():
            if key.org_id == principal.org.id and key.purpose is KeyPurpose.ENCRYPT:
                if not key.held_by_node:
                    return row  # the org's client holds the key: it opens the item itself
                inner = open_object(sealed, decryption_key_of(node, key))
                _check_inner(node, sealed, inner)
                # the node's provenance and audience are on the sealed form it stored
                return replace(row, body=orjson.dumps(carry_attestation(sealed, inner)))
    except (SealingError, InvalidObject, SignatureError, ValueError, TypeError):
        pass  # tampered, or content its author should not have sealed: serve it sealed
    return row  # not a recipient (e.g. joined the group after the item was sealed)


def _check_inner(node: Node, outer: dict[str, Any], inner: dict[str, Any]) -> None:
    """What the node serves as plaintext must be valid STIX signed by the same org that
    signed the sealed form: the node never vouches for content it could not check at ingest,
    nor serves as plaintext one of its own objects (a TLP marking) under another's name."""
    if inner.get("id") in NODE_OBJECTS:
        raise SealingError("the node's own objects are never sealed")
    if check_object(inner).sealed:
        raise SealingError("a sealed item holds an object, not another sealed item")
    outer_signature, inner_signature = read_signature(outer), read_signature(inner)
    if outer_signature is None or inner_signature is None:
        raise SignatureError("a sealed item and its content are both signed")
    keys = node.store.keys_by_id([outer_signature.key_id, inner_signature.key_id])
    outer_key, inner_key = keys.get(outer_signature.key_id), keys.get(inner_signature.key_id)
    if outer_key is None or inner_key is None or inner_key.org_id != outer_key.org_id:
        raise SignatureError("the content is not signed by the author of the sealed item")
    stamp = inner.get("modified") or inner.get("created")
    ended = inner_key.ends()
    if stamp is not None:
        refused = inner_key.refusal_at(parse_us(stamp)) is not None
    else:  # no version time to judge by: a key that has ended signs nothing more
        refused = ended is not None
    if inner_key.purpose is not KeyPurpose.SIGN or refused:
        raise SignatureError("the content's key may not sign it")
    verify_object(inner, inner_signature, inner_key.public_key)


def get_objects(
    node: Node, principal: Principal, collection_uuid: str, params: Mapping[str, str]
) -> Page:
    """TAXII 2.1 section 5.4: a page of objects; latest versions unless match[version] asks."""
    collection, vis = _read_scope(node, principal, collection_uuid)
    flt = parse_object_filter(params)
    return with_content(
        node, principal, _page(node, vis, flt, params, f"objects:{collection.uuid}")
    )


def get_manifest(
    node: Node, principal: Principal, collection_uuid: str, params: Mapping[str, str]
) -> Page:
    """TAXII 2.1 section 5.3: the same selection as objects, rendered as manifest records."""
    collection, vis = _read_scope(node, principal, collection_uuid)
    flt = parse_object_filter(params)
    return _page(node, vis, flt, params, f"manifest:{collection.uuid}")


def _object_filter(params: Mapping[str, str], stix_id: str, default_last: bool) -> ObjectFilter:
    flt = parse_object_filter(params, allow_id_type=False, default_last=default_last)
    return ObjectFilter(
        added_after=flt.added_after,
        ids=lookup_ids(stix_id),  # a sealed object is also found by the id it was posted with
        versions=flt.versions,
        spec_versions=flt.spec_versions,
    )


def _standard_row(stix_id: str, date_added: int | None = None) -> StoredRow:
    """A node-defined object (a standard TLP marking, a tabadol extension-definition or its
    author) as a row, from the node's constant."""
    obj = NODE_OBJECTS[stix_id]
    created = parse_us(obj["created"])
    added = created if date_added is None else date_added
    return StoredRow(added, stix_id, created, "2.1", orjson.dumps(obj))


def _standard_or_stored(row: StoredRow) -> StoredRow:
    """A copy of a standard TLP marking stored before the node owned them is served as the
    specification defines it, never as the member who posted it wrote or signed it."""
    if row.stix_id not in NODE_OBJECTS:
        return row
    return _standard_row(row.stix_id, row.date_added)


def exists(node: Node, vis: Visibility, stix_id: str) -> bool:
    probe = ObjectFilter(ids=lookup_ids(stix_id), versions=VersionFilter(last=False, all=True))
    return bool(node.store.query_objects(vis, probe, None, 1))


def _one_object(
    node: Node,
    principal: Principal,
    collection_uuid: str,
    stix_id: str,
    params: Mapping[str, str],
    *,
    endpoint: str,
    default_last: bool,
) -> Page:
    collection, vis = _read_scope(node, principal, collection_uuid)
    if stix_id in NODE_OBJECTS:
        # the node's own: resolvable in every collection the reader can read, one version
        return Page([_standard_row(stix_id)], False, None)
    flt = _object_filter(params, stix_id, default_last=default_last)
    if stix_id.startswith("identity--") and not exists(node, vis, stix_id):
        # an org's identity, served where the reader reads what the org published
        served = served_identity(node, collection, vis, stix_id)
        if isinstance(served, StoredRow):  # a peer's org: the record its node signed
            return Page([served] if record_matches(flt, served) else [], False, None)
        vis = served if served is not None else vis
    page = _page(node, vis, flt, params, f"{endpoint}:{collection.uuid}:{stix_id}")
    if not page.rows and "next" not in params and not exists(node, vis, stix_id):
        raise NotFound("no such object")
    return page


def get_object(
    node: Node,
    principal: Principal,
    collection_uuid: str,
    stix_id: str,
    params: Mapping[str, str],
) -> Page:
    """TAXII 2.1 section 5.6: one object's versions; 404 if the caller sees none."""
    page = _one_object(
        node, principal, collection_uuid, stix_id, params, endpoint="object", default_last=True
    )
    return with_content(node, principal, page)


def get_versions(
    node: Node,
    principal: Principal,
    collection_uuid: str,
    stix_id: str,
    params: Mapping[str, str],
) -> Page:
    """TAXII 2.1 section 5.8: every version of one object, oldest added first."""
    if "match[version]" in params:
        raise InvalidFilter("match[version] does not apply to the versions endpoint")
    return _one_object(
        node, principal, collection_uuid, stix_id, params, endpoint="versions", default_last=False
    )


def delete_object(
    node: Node,
    principal: Principal,
    collection_uuid: str,
    stix_id: str,
    params: Mapping[str, str],
) -> int:
    """TAXII 2.1 section 5.7: delete matching versions (default all); publisher only."""
    collection, vis = _read_scope(node, principal, collection_uuid)
    if not exists(node, vis, stix_id):
        raise NotFound("no such object")
    if node.store.org_by_identity(stix_id) is not None:
        raise Forbidden("an organization's identity is the node's directory record")
    stored = {i: node.store.authors_of(collection.id, i) for i in sorted(lookup_ids(stix_id))}
    stored = {stored_id: authors for stored_id, authors in stored.items() if authors}
    authors = set().union(*stored.values())
    if not all(may_delete(principal, collection, author) for author in authors):
        raise Forbidden("only the organization that published an object deletes it")
    flt = _object_filter(params, stix_id, default_last=False)
    event = AuditEvent(
        "delete",
        actor_of(principal),
        object_ids=sorted(stored),
        detail={"collection": collection.uuid, "filter": dict(params)},
    )
    deleted = 0
    for stored_id in stored:  # one id, but for an object stored in both sealed forms
        deleted += node.store.delete_versions(
            collection.id, stored_id, flt, node.clock(), audit=[event] if not deleted else []
        )
    if deleted == 0:
        raise NotFound("no version of this object matches the filter")
    return deleted


def get_status(node: Node, principal: Principal, status_id: str) -> StatusRecord:
    """TAXII 2.1 section 4.3: a status is visible to the organization that made the request only."""
    status = node.store.status(status_id)
    if status is None or principal.org_id is None or status.org_id != principal.org_id:
        raise NotFound("no such status")
    return status


def extension_schema(name: str) -> dict[str, Any]:
    """The JSON schema of one of tabadol's STIX extensions (named by its definition's
    `schema`): public, like the definitions themselves."""
    schema = SCHEMAS.get(name)
    if schema is None:
        raise NotFound("no such schema")
    return schema
