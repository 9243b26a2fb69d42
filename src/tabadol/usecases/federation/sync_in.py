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
from tabadol.domain.stix import CheckedObject
from tabadol.domain.timestamps import parse_us
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node
from tabadol.storage.contract import SyncDelete, SyncPut
from tabadol.usecases.publishing.admission import Admitted, admit_all
from tabadol.usecases.publishing.envelope import open_envelope
from tabadol.usecases.publishing.signers import ORG_SIGNS

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


Batch = list[tuple[int, dict[str, Any], TLP]]  # (index in the page, entry, its TLP)


@dataclass
class _Sorted:
    """A page's entries sorted out: puts by (collection, author), deletions by index."""

    batches: dict[tuple[int, int], Batch] = field(default_factory=dict)
    changes: dict[int, SyncPut | SyncDelete] = field(default_factory=dict)


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
    page = _sort_out(node, known, peer, entries, result)
    collections = {c.id: c for c in known.channels.values()}
    orgs = {org.id: org for org in known.orgs}
    for (collection_id, author_id), items in page.batches.items():
        author = orgs[author_id]
        admitted = _admit(node, known, collections[collection_id], author, items, result, peer)
        page.changes.update(admitted)
    changes = [page.changes[i] for i in sorted(page.changes)]
    event = _page_event(peer, cursor, len(entries), changes, result)
    result.stored, result.deleted = node.store.apply_peer_changes(
        peer.id, cursor, head, changes, node.clock(), channels=channels, audit=[event]
    )
    return result


def _sort_out(
    node: Node, known: _Directory, peer: Peer, entries: Sequence[Any], result: SyncResult
) -> _Sorted:
    """Route each entry: skipped, refused, a deletion, or a put into its batch."""
    page = _Sorted()
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
                    page.changes[index] = gone
            else:
                page.batches.setdefault((collection.id, author.id), []).append((index, entry, tlp))
        except (InvalidEnvelope, Refused, KeyError, ValueError, TypeError) as exc:
            label = entry.get("id", "?") if isinstance(entry, dict) else "?"
            result.refused.append((str(label)[:120], _reason(exc)))
    return page


def _page_event(
    peer: Peer,
    cursor: int,
    received: int,
    changes: Sequence[SyncPut | SyncDelete],
    result: SyncResult,
) -> AuditEvent:
    """The audit entry of a page, written with it."""
    puts = [c for c in changes if isinstance(c, SyncPut)]
    deletes = [c for c in changes if isinstance(c, SyncDelete)]
    return AuditEvent(
        "peer.sync",
        f"peer:{peer.node_id}",
        Outcome.OK if not result.refused else Outcome.PARTIAL,
        [put.version.stix_id for put in puts][:1000],
        {
            "cursor": cursor,
            "received": received,
            "deleted": [d.stix_id for d in deletes][:1000],
            "refused": [i for i, _ in result.refused[:MAX_REFUSALS_AUDITED]],
        },
    )


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


class _FederationRules:
    """What a peer's entry must hold besides the exchange's rules: the object is the version
    the entry names, at the TLP it names, signed by its author."""

    def __init__(self, batch: Batch) -> None:
        self._batch = batch

    def before(self, index: int, checked: CheckedObject) -> None:
        _, entry, _ = self._batch[index]
        try:
            named = checked.id == entry["id"] and checked.version_us == parse_us(
                str(entry["version"])
            )
        except (KeyError, TimestampError) as exc:
            raise Refused(f"malformed entry ({exc})") from None
        if not named:
            raise Refused("the object is not the version the entry names")

    def after(self, index: int, item: Admitted) -> None:
        _, _, tlp = self._batch[index]
        if item.tlp is not tlp:
            raise Refused(f"the entry says {tlp.label}, the object is {item.tlp.label}")
        if item.signature is None:
            raise Refused("an item from a peer must be signed by its author")


def _origin_node(node: Node, author: Org, peer: Peer) -> str:
    """The node an item was published on: its author's home node, as this node's directory
    knows it (never what the entry or the object says), whichever peer relayed it."""
    home = node.store.peer_by_id(author.home_peer) if author.home_peer is not None else None
    return home.node_id if home is not None else peer.node_id


def _admit(
    node: Node,
    known: _Directory,
    collection: Collection,
    author: Org,
    batch: Batch,
    result: SyncResult,
    peer: Peer,
) -> dict[int, SyncPut]:
    """One batch (one author, one channel) through the admission every publish goes
    through, with the federation's rules around it; the puts by their index in the page."""
    objects = [entry.get("object") for _, entry, _ in batch]
    env = open_envelope(
        node,
        author,
        collection,
        objects,
        known.orgs,
        ORG_SIGNS,
        from_peer=True,
        origin_node=_origin_node(node, author, peer),
    )
    admission = admit_all(env, objects, _FederationRules(batch))
    for refusal in admission.refusals:
        _, entry, _ = batch[refusal.index]
        label = refusal.stix_id or str(entry.get("id", "?"))[:120]
        result.refused.append((label, refusal.reason))
    home = author.home_peer == peer.id
    return {
        batch[index][0]: SyncPut(collection.id, author.id, version, home)
        for index, version in admission.versions
    }
