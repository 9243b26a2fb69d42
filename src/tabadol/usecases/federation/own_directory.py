"""This node's directory as it serves it to its peers: its hosted orgs and their keys, the
peers it vouches for, the directories it received relayed unchanged (still signed by their
nodes), and for each peer the groups it shares with that peer's orgs; signed by the node
key, and kept in `node.documents` until the directory changes."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from tabadol.crypto.canonical import canonical
from tabadol.crypto.directory_doc import DOCUMENT_TYPE, GROUPS_TYPE, sign_document
from tabadol.crypto.signing import b64url
from tabadol.domain.directory_record import disagreement
from tabadol.domain.federation import Peer
from tabadol.domain.keys import OrgKey
from tabadol.domain.model import Org
from tabadol.domain.timestamps import format_us
from tabadol.node.node import Node
from tabadol.usecases.trust.directory_record import latest_records
from tabadol.usecases.trust.key_directory import key_record

OWN = "own"  # the key of this node's own document in `node.documents` (groups: a peer id)


def own_document(node: Node) -> dict[str, Any]:
    """This node's signed directory, with its peers' directories relayed. Rebuilt when the
    directory changed (orgs, keys, groups, members, peers' directories)."""
    size = node.store.directory_fingerprint()
    cached = node.documents.get(OWN, size)
    if cached is not None:
        return cached
    orgs = node.store.list_orgs()
    hosted = [org for org in orgs if org.hosted_here]
    listedby_org: dict[int, list[OrgKey]] = {}
    for key in node.store.org_keys():
        listedby_org.setdefault(key.org_id, []).append(key)
    records = latest_records(node, [org for org in hosted if org.member])
    body: dict[str, Any] = {
        "type": DOCUMENT_TYPE,
        "node_id": node.node_id,
        "node_key": b64url(bytes(node.node_key.verify_key)),
        "orgs": [
            _org_entry(org, listedby_org.get(org.id, []), records.get(org.identity_id))
            for org in hosted
        ],
        "peers": [
            {"node_id": p.node_id, "node_key": b64url(p.public_key)}
            for p in node.store.peers()
            if p.direct
        ],
    }
    body["version"] = version_of(body)
    document = sign_document(body, node.node_key)
    document["relayed"] = [orjson.loads(doc) for doc in node.store.received_directories()]
    node.documents.put(OWN, size, document)
    return document


def _org_entry(org: Org, keys: list[OrgKey], record: dict[str, Any] | None) -> dict[str, Any]:
    """An org as the directory lists it, with its directory record (its STIX identity, as
    stored and signed here) when that record lists the same keys: one published before a key
    change it has not caught up with yet is left out, the directory is rebuilt once it has."""
    listed = [key_record(k) for k in keys]
    entry: dict[str, Any] = {
        "identity_id": org.identity_id,
        "name": org.name,
        "member": org.member,
        "keys": listed,
    }
    agrees = record is not None and not disagreement(record, org.identity_id, org.name, listed)
    if agrees:
        entry["record"] = record
    return entry


def groups_document(node: Node, peer: Peer) -> dict[str, Any]:
    """The groups owned here that have a member hosted by `peer`, signed for that peer only:
    a peer learns no group its orgs are not in, and relays none."""
    fingerprint = node.store.directory_fingerprint()
    cached = node.documents.get(peer.id, fingerprint)
    if cached is not None:
        return cached
    orgs = node.store.list_orgs()
    identity = {org.id: org.identity_id for org in orgs}
    theirs = {org.id for org in orgs if org.home_peer == peer.id}
    body: dict[str, Any] = {
        "type": GROUPS_TYPE,
        "node_id": node.node_id,
        "for": peer.node_id,
        "groups": [
            {
                "uuid": g.uuid,
                "name": g.name,
                "created_by": identity[g.created_by],
                "created": format_us(g.created),
                "owners": sorted(identity[o] for o in g.owners),
                "members": sorted(identity[o] for o in g.members),
            }
            for g in node.store.list_groups()
            if g.home_peer is None and g.members & theirs
        ],
    }
    body["version"] = version_of(body)
    document = sign_document(body, node.node_key)
    node.documents.put(peer.id, fingerprint, document)
    return document


def document_for(node: Node, peer: Peer) -> dict[str, Any]:
    """What `GET /federation/v1/directory` answers `peer`: the directory (relayable) and the
    groups signed for that peer."""
    return {**own_document(node), "groups_for_you": groups_document(node, peer)}


def advertised_version(node: Node, peer: Peer) -> int:
    """What the feed tells a peer: a digest of this node's directory, of those it relays and
    of the groups it shares with that peer, so that a change makes the peer fetch them."""
    document = own_document(node)
    relayed = sorted((d.get("node_id"), d.get("version")) for d in document.get("relayed", []))
    groups = groups_document(node, peer)["version"]
    digest = hashlib.sha256(
        canonical({"own": document["version"], "relayed": relayed, "groups": groups})
    )
    return int.from_bytes(digest.digest()[:6], "big")


def version_of(body: dict[str, Any]) -> int:
    """A digest of a directory's content (48 bits: a JSON-safe integer for RFC 8785); peers
    refetch the directory when it changes."""
    unsigned = {k: v for k, v in body.items() if k not in ("version", "relayed")}
    return int.from_bytes(hashlib.sha256(canonical(unsigned)).digest()[:6], "big")
