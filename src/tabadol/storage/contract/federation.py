"""The federation roles: the peers and the directory learnt from them (`PeerStore`), and the
change feed served to them and applied from them (`FeedStore`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tabadol.domain.audit import AuditEvent
from tabadol.domain.federation import FeedFilter, FeedRow, Peer
from tabadol.domain.keys import OrgKey
from tabadol.storage.contract.directory import Channel
from tabadol.storage.contract.objects import NewVersion, StoredRow


@dataclass(frozen=True, slots=True)
class DirectoryRecord:
    """An org's STIX identity as its home node published it (signed by that node's key):
    kept here as received, to be served where the org's items are read."""

    version_us: int  # its `modified`
    body: bytes


@dataclass(frozen=True, slots=True)
class RemoteOrg:
    """An org a peer hosts, as its signed directory describes it."""

    identity_id: str
    name: str
    member: bool
    keys: Sequence[OrgKey]  # with their history (org_id is ignored)
    record: DirectoryRecord | None = None  # its identity, checked (None: the peer sent none)


@dataclass(frozen=True, slots=True)
class RemoteGroup:
    """A sharing group owned by an org a peer hosts; orgs by identity id."""

    uuid: str
    name: str
    created_by: str
    owners: frozenset[str]
    members: frozenset[str]
    created: int


@dataclass(frozen=True, slots=True)
class SyncPut:
    """A version from a peer, admitted, for a local channel. `home`: the peer hosts its
    author (only then may it bring back a version deleted here: a republish)."""

    collection_id: int
    author_org: int
    version: NewVersion
    home: bool = False


@dataclass(frozen=True, slots=True)
class SyncDelete:
    """A deletion from a peer. `home`: the peer hosts the author (only then is a version not
    held here remembered as deleted)."""

    collection_id: int
    stix_id: str
    version_us: int
    author_org: int
    tlp: str
    home: bool = False


class PeerStore(Protocol):
    """The peers, their health, and the directories (orgs, keys, groups) they send."""

    def add_peer(
        self,
        node_id: str,
        url: str,
        public_key: bytes,
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> Peer: ...
    def add_indirect_peer(
        self, node_id: str, public_key: bytes, via_peer: int, now: int
    ) -> Peer: ...
    def peers(self) -> list[Peer]:
        """Every peer not removed, the direct ones and those known through them."""
        ...

    def peer_by_node_id(self, node_id: str) -> Peer | None: ...
    def peer_by_id(self, peer_id: int) -> Peer | None: ...
    def set_peer(
        self,
        peer_id: int,
        *,
        paused: bool | None = None,
        removed: bool | None = None,
        url: str | None = None,
        now: int = 0,
        audit: Sequence[AuditEvent] = (),
    ) -> None: ...
    def record_peer_error(self, peer_id: int, error: str, now: int, retry_at: int) -> None: ...
    def record_peer_contact(self, peer_id: int, peer_head: int, now: int) -> None: ...
    def save_peer_directory(self, peer_id: int, version: int, document: bytes) -> None:
        """Keep a peer's signed directory (relayed to the other peers) and its version."""
        ...

    def received_directories(self) -> list[bytes]: ...
    def directory_fingerprint(self) -> str: ...
    def merge_directory(
        self,
        peer_id: int,
        version: int,
        orgs: Sequence[RemoteOrg],
        groups: Sequence[RemoteGroup],
        channel_of: dict[str, Channel],
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> list[str]:
        """Take in a peer's directory in one transaction; return what was refused. An org's
        directory record replaces the one kept only when it is a later version."""
        ...

    def directory_record(self, org_id: int) -> StoredRow | None:
        """The directory record kept for an org a peer hosts (`date_added`: when it was
        taken in), or None."""
        ...


class FeedStore(Protocol):
    """The change feed: positions in commit order, read by peers from their cursor."""

    def feed(self, flt: FeedFilter, after: int, limit: int) -> list[FeedRow]:
        """Versions stored and deleted after position `after`, as `flt` lets through."""
        ...

    def feed_head(self) -> int: ...
    def stored_version(
        self, collection_id: int, stix_id: str, version_us: int
    ) -> tuple[int | None, str] | None:
        """(the peer it came through, its TLP) of a stored version; None if not stored."""
        ...

    def apply_peer_changes(
        self,
        peer_id: int,
        cursor: int,
        peer_head: int,
        changes: Sequence[SyncPut | SyncDelete],
        now: int,
        *,
        channels: Sequence[str] | None = None,
        audit: Sequence[AuditEvent] = (),
    ) -> tuple[int, int]:
        """Apply a peer's changes and move its cursor in ONE transaction (so a crash never
        loses or repeats a change), recording the channels it sends, if given; return how
        many versions were stored and deleted."""
        ...
