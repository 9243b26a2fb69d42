"""Taking in a page of a peer's change feed: the same admission as a publish, plus the
federation's rules, then one transaction with the peer's cursor.

An entry is refused (and audited) when its author is unknown, when its audience does not fit
(an org's own items never travel; a group item's author must be in the group; the TLP must
allow the audience), when its author is not hosted by the sending peer and the item is not
CLEAR or GREEN (only the author's node delivers AMBER and stricter), when its author is hosted
here (no peer speaks for this node's orgs; the feed never sends a node its own items back), or
when its signature does not verify against the author's keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tabadol.domain.audience import AudienceKind
from tabadol.domain.audit import AuditEvent, Outcome
from tabadol.domain.errors import InvalidEnvelope, InvalidObject, Refused, TimestampError
from tabadol.domain.federation import RELAYABLE_TLPS, ChangeOp, Peer
from tabadol.domain.model import Collection, Group, Org
from tabadol.domain.stix import check_object
from tabadol.domain.timestamps import parse_us
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node
from tabadol.storage.base import SyncDelete, SyncPut
from tabadol.usecases.publishing.admission import Envelope, admit, finish, settle_signatures
from tabadol.usecases.publishing.publish import signature_key_ids

MAX_REFUSALS_AUDITED = 100


@dataclass
class SyncResult:
    stored: int = 0
    deleted: int = 0
    skipped: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)


class _Directory:
    """The directory as this node knows it, for one page."""

    def __init__(self, node: Node) -> None:
        self.orgs = node.store.list_orgs()
        self.by_identity = {org.identity_id: org for org in self.orgs}
        self.groups: dict[str, Group] = {g.uuid: g for g in node.store.list_groups()}
        self.channels: dict[tuple[AudienceKind, int | None], Collection] = {
            (c.kind, c.ref): c for c in node.store.list_collections()
        }

    def channel(self, audience: Any, author: Org) -> Collection:
        if not isinstance(audience, dict):
            raise Refused("the entry has no audience")
        kind = AudienceKind(str(audience.get("kind")))
        if kind is AudienceKind.ORG:
            raise Refused("an organization's own items never leave its node")
        if kind is AudienceKind.GROUP:
            group = self.groups.get(str(audience.get("group")))
            if group is None:
                raise Refused("a group this node does not know")
            if author.id not in group.members:
                raise Refused("its author is not a member of the group")
            return self.channels[(kind, group.id)]
        return self.channels[(kind, None)]


def apply_page(
    node: Node,
    peer: Peer,
    entries: Sequence[Any],
    cursor: int,
    head: int,
    channels: Sequence[str] | None = None,
) -> SyncResult:
    """Admit the entries and store them, in feed order, with the new cursor (and the channels
    the peer now sends, once their backfill is done), in one transaction."""
    known = _Directory(node)
    result = SyncResult()
    batches: dict[tuple[int, int], list[tuple[int, dict[str, Any], TLP]]] = {}
    ordered: dict[int, SyncPut | SyncDelete] = {}
    for index, entry in enumerate(entries):
        try:
            if not isinstance(entry, dict):
                raise InvalidEnvelope("an entry is a JSON object")
            item = _route(known, peer, entry)
            if item is None:
                result.skipped += 1
                continue
            collection, author, tlp = item
            if entry.get("op") == ChangeOp.DELETE.value:
                gone = _deletion(node, peer, collection, author, tlp, entry)
                if gone is None:
                    result.skipped += 1
                else:
                    ordered[index] = gone
            else:
                batches.setdefault((collection.id, author.id), []).append((index, entry, tlp))
        except (InvalidEnvelope, Refused, KeyError, ValueError, TypeError) as exc:
            label = entry.get("id", "?") if isinstance(entry, dict) else "?"
            result.refused.append((str(label)[:120], _reason(exc)))
    collections = {c.id: c for c in known.channels.values()}
    orgs = {org.id: org for org in known.orgs}
    for (collection_id, author_id), items in batches.items():
        author = orgs[author_id]
        home = author.home_peer == peer.id
        admitted = _admit(node, known, collections[collection_id], author, items, result, home)
        for index, put in admitted:
            ordered[index] = put
    changes = [ordered[i] for i in sorted(ordered)]
    puts = [c for c in changes if isinstance(c, SyncPut)]
    deletes = [c for c in changes if isinstance(c, SyncDelete)]
    outcome = Outcome.OK if not result.refused else Outcome.PARTIAL
    event = AuditEvent(
        "peer.sync",
        f"peer:{peer.node_id}",
        outcome,
        [put.version.stix_id for put in puts][:1000],
        {
            "cursor": cursor,
            "received": len(entries),
            "deleted": [d.stix_id for d in deletes][:1000],
            "refused": [i for i, _ in result.refused[:MAX_REFUSALS_AUDITED]],
        },
    )
    result.stored, result.deleted = node.store.apply_peer_changes(
        peer.id, cursor, head, changes, node.clock(), channels=channels, audit=[event]
    )
    return result


def _deletion(
    node: Node, peer: Peer, collection: Collection, author: Org, tlp: TLP, entry: dict[str, Any]
) -> SyncDelete | None:
    """A deletion this peer may make: of a version its author's node (the peer hosts the
    author), or the peer that delivered it, says is gone. None: nothing here to delete."""
    stix_id, version_us = str(entry["id"]), parse_us(str(entry["version"]))
    home = author.home_peer == peer.id
    stored = node.store.stored_version(collection.id, stix_id, version_us)
    if stored is None:
        if not home:
            return None  # only the author's node says what is deleted before it arrives
        return SyncDelete(collection.id, stix_id, version_us, author.id, tlp.label, home=True)
    via, stored_tlp = stored
    if not home and via != peer.id:
        raise Refused("only its author's node, or the node that delivered it, deletes a version")
    return SyncDelete(collection.id, stix_id, version_us, author.id, stored_tlp, home=home)


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, Refused | InvalidObject) else f"malformed entry ({exc})"


def _route(
    known: _Directory, peer: Peer, entry: dict[str, Any]
) -> tuple[Collection, Org, TLP] | None:
    """Where an entry goes here, or None when it is skipped; Refused when it may not come."""
    author = known.by_identity.get(str(entry["author"]))
    if author is None:
        raise Refused("its author is not an org this node knows")
    if author.hosted_here:
        raise Refused(f"{author.name!r} is hosted here: its items are published here only")
    if str(entry["id"]) == author.identity_id:
        return None  # an org's identity is its node's directory record: it comes with it
    tlp = TLP.parse(str(entry["tlp"]))
    if author.home_peer != peer.id and tlp.label not in RELAYABLE_TLPS:
        raise Refused(
            f"{tlp.label} items come only from their author's node: {peer.node_id} does not"
            f" host {author.name!r}"
        )
    return known.channel(entry.get("audience"), author), author, tlp


def _admit(
    node: Node,
    known: _Directory,
    collection: Collection,
    author: Org,
    items: list[tuple[int, dict[str, Any], TLP]],
    result: SyncResult,
    home: bool,
) -> list[tuple[int, SyncPut]]:
    objects = [entry.get("object") for _, entry, _ in items]
    env = Envelope(
        node=node,
        org=author,
        collection=collection,
        hosted={org.identity_id: org for org in known.orgs},
        orgs_by_id={org.id: org for org in known.orgs},
        known_keys=node.store.keys_by_id(signature_key_ids(objects)),
        directory=False,
        encrypt=False,
        now=node.clock(),
        jcs_exact=False,
        from_peer=True,
    )
    admitted = []
    indexes = {}
    for (index, entry, tlp), obj in zip(items, objects, strict=True):
        try:
            checked = check_object(obj)
            if checked.id != entry["id"] or checked.version_us != parse_us(str(entry["version"])):
                raise Refused("the object is not the version the entry names")
            item = admit(env, checked)
            if item.tlp is not tlp:
                raise Refused(f"the entry says {tlp.label}, the object is {item.tlp.label}")
            if item.signature is None:
                raise Refused("an item from a peer must be signed by its author")
            admitted.append(item)
            indexes[id(item)] = index
        except (Refused, InvalidObject, KeyError, TimestampError) as exc:
            result.refused.append((str(entry.get("id", "?"))[:120], _reason(exc)))
    settle_signatures(env, admitted)
    puts = []
    for item in admitted:
        try:
            version = finish(env, item)
        except (Refused, InvalidObject) as exc:
            result.refused.append((item.checked.id, str(exc)))
            continue
        puts.append((indexes[id(item)], SyncPut(collection.id, author.id, version, home)))
    return puts
