"""Taking in a peer's directory: who it hosts, their keys, and the groups it owns.

Each node serves its own directory signed by its node key (`own_directory`), with the
directories it received from its peers relayed unchanged (still signed by their nodes), so
that a node learns the members of nodes it does not peer with directly — and their keys, to
verify what they sign — while no node can speak for another's members.
"""

from __future__ import annotations

from typing import Any

import orjson

from tabadol.crypto.directory_doc import (
    GROUPS_TYPE,
    verify_document,
)
from tabadol.crypto.sealing import check_encryption_key, x25519_key_id
from tabadol.crypto.signing import check_public_key, key_id, unb64url
from tabadol.domain.audit import AuditEvent, Outcome
from tabadol.domain.errors import (
    Conflict,
    DirectoryError,
    InvalidEncryptionKey,
    InvalidPublicKey,
    SignatureError,
    TimestampError,
)
from tabadol.domain.federation import Peer
from tabadol.domain.keys import KeyPurpose, OrgKey
from tabadol.domain.timestamps import parse_us
from tabadol.node.node import Node, collection_uuid, node_id_of
from tabadol.storage.contract import Channel, RemoteGroup, RemoteOrg
from tabadol.usecases.federation.own_directory import OWN
from tabadol.usecases.federation.peer_records import with_records
from tabadol.usecases.membership.ids import group_uuid_of, org_identity_id
from tabadol.usecases.membership.names import remote_name_problem


def take_in(
    node: Node, peer: Peer, document: dict[str, Any], advertised: int | None = None
) -> list[str]:
    """Verify and merge a peer's directory (and the ones it relays); return what was refused.
    `advertised` is the version the peer's feed announced, recorded once everything was taken
    in (so a failure makes the next page fetch it again). Raises DirectoryError when the
    peer's own document is not signed by its node key."""
    own = _signed_part(document)
    groups = document.get("groups_for_you")
    try:
        verify_document(own, peer.public_key)
        if not isinstance(groups, dict):
            raise SignatureError("no groups document")
        verify_document(groups, peer.public_key, GROUPS_TYPE)
        if groups.get("node_id") != peer.node_id or groups.get("for") != node.node_id:
            raise SignatureError("the groups document is not from that peer for this node")
    except SignatureError as exc:
        raise DirectoryError(f"the directory of {peer.node_id}: {exc}") from None
    refused = _merge(node, peer, {**document, "groups": groups.get("groups", [])})
    vouched = {
        item.get("node_id"): item.get("node_key")
        for item in document.get("peers", [])
        if isinstance(item, dict)
    }
    direct = {p.node_id for p in node.store.peers() if p.direct}
    for relayed in document.get("relayed", []) or []:
        if not isinstance(relayed, dict):
            continue
        origin = relayed.get("node_id")
        if origin == node.node_id or origin in direct or origin not in vouched:
            continue  # ourselves, a peer we hear directly, or a node the peer does not vouch for
        try:
            public = unb64url(str(vouched[origin]))
            # the key must be the document's own and name the node: a peer cannot vouch a key
            # of its choosing for another node (node ids derive from node keys)
            if unb64url(str(relayed.get("node_key"))) != public or node_id_of(public) != origin:
                raise DirectoryError("the vouched key is not the key of that node")
            verify_document(relayed, public)
            indirect = node.store.add_indirect_peer(str(origin), public, peer.id, node.clock())
            refused += _merge(node, indirect, relayed)
        except (SignatureError, ValueError, Conflict, DirectoryError) as exc:
            refused.append(f"relayed directory of {origin}: {exc}")
    node.store.save_peer_directory(
        peer.id,
        advertised if advertised is not None else int(document.get("version", 0)),
        orjson.dumps(own),
    )
    node.documents.forget(OWN)
    return refused


def _signed_part(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("relayed", "groups_for_you")}


def _merge(node: Node, peer: Peer, document: dict[str, Any]) -> list[str]:
    try:
        if node_id_of(unb64url(str(document.get("node_key")))) != peer.node_id:
            raise DirectoryError("the document names another node")
        items = list(document.get("orgs", []))
        orgs = [_remote_org(item, node.node_key_id) for item in items]
        groups = [_remote_group(item) for item in document.get("groups", [])]
        version = int(document.get("version", 0))
    except (
        DirectoryError,
        KeyError,
        TypeError,
        ValueError,
        TimestampError,
        InvalidPublicKey,
        InvalidEncryptionKey,
    ) as exc:
        raise DirectoryError(f"the directory of {peer.node_id} is malformed: {exc}") from None
    orgs, bad_records = with_records(orgs, items, peer)
    orgs, groups, unbound = _admissible(node, peer, orgs, groups)
    unbound = bad_records + unbound
    channels = {
        g.uuid: Channel(collection_uuid(node, f"group:{g.uuid}"), g.name, f"Sharing group {g.name}")
        for g in groups
    }
    event = AuditEvent(
        "peer.directory",
        f"peer:{peer.node_id}",
        Outcome.OK,
        detail={"orgs": len(orgs), "groups": len(groups), "version": version},
    )
    refused = unbound + node.store.merge_directory(
        peer.id,
        version,
        orgs,
        groups,
        channels,
        node.clock(),
        audit=[event],
    )
    if refused:
        node.store.append_audit(
            [
                AuditEvent(
                    "peer.directory",
                    f"peer:{peer.node_id}",
                    Outcome.REFUSED,
                    detail={"refused": refused[:50]},
                )
            ],
            node.clock(),
        )
    return refused


def _admissible(
    node: Node, peer: Peer, orgs: list[RemoteOrg], groups: list[RemoteGroup]
) -> tuple[list[RemoteOrg], list[RemoteGroup], list[str]]:
    """The orgs and groups to take in, and the refusals of the others: those not created on
    the peer (their ids derive from its node id and their names), and those whose names hold
    bidi controls or look like the name of another org or group the node knows (issue 14:
    an Arabic-letter twin of a Persian name is not a second member)."""
    refused = {
        o.identity_id: f"{o.identity_id}: not an org created on {peer.node_id}"
        for o in orgs
        if o.identity_id != org_identity_id(peer.node_id, o.name)
    } | {
        g.uuid: f"group {g.uuid}: not a group created on {peer.node_id}"
        for g in groups
        if g.uuid != group_uuid_of(peer.node_id, g.name)
    }
    known = {o.identity_id: o.name for o in node.store.list_orgs()}
    known |= {g.uuid: g.name for g in node.store.list_groups()}
    for ref, name in [(o.identity_id, o.name) for o in orgs] + [(g.uuid, g.name) for g in groups]:
        problem = remote_name_problem(name, [n for i, n in known.items() if i != ref])
        if problem is not None and ref not in refused:
            refused[ref] = f"{ref}: {problem}"
    return (
        [o for o in orgs if o.identity_id not in refused],
        [g for g in groups if g.uuid not in refused],
        list(refused.values()),
    )


def _time(value: Any) -> int | None:
    return None if value is None else parse_us(str(value))


def _remote_org(item: dict[str, Any], own_key_id: str) -> RemoteOrg:
    keys = []
    for raw in item.get("keys", []):
        purpose = KeyPurpose(raw["purpose"])
        public = unb64url(str(raw["public_key"]))
        if purpose is KeyPurpose.SIGN:
            check_public_key(public)
            expected = key_id(public)
        else:
            check_encryption_key(public)
            expected = x25519_key_id(public)
        if raw["key_id"] != expected or expected == own_key_id:
            raise DirectoryError(f"the key id {raw['key_id']} does not name its key")
        created = _time(raw["created"])
        assert created is not None
        keys.append(
            OrgKey(
                key_id=expected,
                org_id=0,
                purpose=purpose,
                public_key=public,
                created=created,
                valid_until=_time(raw.get("valid_until")),
                revoked_at=_time(raw.get("revoked")),
                revoked_reason=raw.get("revocation_reason"),
                held_by_node=False,
            )
        )
    name = str(item["name"]).strip()
    if not 1 <= len(name) <= 100:
        raise DirectoryError("an org name must have 1-100 characters")
    return RemoteOrg(str(item["identity_id"]), name, bool(item["member"]), keys)


def _remote_group(item: dict[str, Any]) -> RemoteGroup:
    created = _time(item["created"])
    assert created is not None
    return RemoteGroup(
        uuid=str(item["uuid"]),
        name=str(item["name"]),
        created_by=str(item["created_by"]),
        owners=frozenset(map(str, item["owners"])),
        members=frozenset(map(str, item["members"])),
        created=created,
    )
