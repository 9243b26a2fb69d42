"""The node publishes an org's directory record: the org's STIX identity carrying its public
keys and their history, signed by the node key (the node speaks for its directory), so that
members and peers resolve `created_by_ref` and learn of rotations and revocations. Custody
and keys travel in the tabadol directory-record extension (domain/extensions.py), so the
identity parses as plain STIX 2.1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import InvalidInput
from tabadol.domain.extensions import DIRECTORY_EXTENSION, PROPERTY_EXTENSION
from tabadol.domain.filters import ObjectFilter
from tabadol.domain.model import Org, Role
from tabadol.domain.policy import Visibility
from tabadol.domain.timestamps import format_us
from tabadol.node.node import Node
from tabadol.usecases.membership.lookup import collection_by_kind
from tabadol.usecases.membership.principals import org_principal
from tabadol.usecases.publishing.publish import publish_objects
from tabadol.usecases.publishing.signers import NODE_SIGNS_DIRECTORY
from tabadol.usecases.trust.key_directory import key_record


def publish_directory_record(node: Node, org: Org, created: int | None = None) -> None:
    """Publish a version of the org's identity carrying its public keys and their history,
    signed by the node key: the node speaks for its directory. Guests have none: they are
    not in the directory members read."""
    if not org.member:
        return
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
        "extensions": {
            DIRECTORY_EXTENSION: {
                "extension_type": PROPERTY_EXTENSION,
                "custody": org.custody.value,
                "keys": [key_record(k) for k in node.store.org_keys(org.id)],
            }
        },
    }
    members = collection_by_kind(node, AudienceKind.MEMBERS)
    principal = org_principal(node, org, Role.PUBLISHER)
    status = publish_objects(node, principal, members, [identity], signer=NODE_SIGNS_DIRECTORY)
    if status.failures:
        raise InvalidInput(f"the identity of {org.name!r} was refused: {status.failures[0][2]}")


def latest_records(node: Node, orgs: Sequence[Org]) -> dict[str, dict[str, Any]]:
    """The latest stored directory record of each of these orgs hosted here, by identity id:
    what this node's signed directory carries to its peers, so that they serve it."""
    if not orgs:
        return {}
    members = collection_by_kind(node, AudienceKind.MEMBERS)
    rows = node.store.query_objects(
        Visibility(frozenset({members.id})),
        ObjectFilter(ids=frozenset(org.identity_id for org in orgs)),
        None,
        len(orgs),
    )
    return {row.stix_id: orjson.loads(row.body) for row in rows}
