"""The storage contract: what the use cases need from a database, and nothing of TAXII.

Two implementations are planned (SQLite, the embedded default, and PostgreSQL); the same
contract test suite runs against each. Every read of objects takes a `Visibility` from the
policy and applies it inside the query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from tabadol.domain.audience import AudienceKind
from tabadol.domain.audit import AuditEntry, AuditEvent, TreeHead
from tabadol.domain.federation import FeedFilter, FeedRow, Peer
from tabadol.domain.filters import ObjectFilter
from tabadol.domain.keys import Custody, KeyPurpose, NewKey, OrgKey
from tabadol.domain.model import Collection, Group, Org, Token
from tabadol.domain.policy import Visibility
from tabadol.storage.search_query import SearchQuery


class WriteOutcome(Enum):
    STORED = "stored"
    EXISTS = "exists"  # the same (collection, id, version): an idempotent no-op
    OWNED_BY_OTHER = "owned-by-other"  # another org published this id in this collection


@dataclass(frozen=True, slots=True)
class Bearer:
    """Who holds a token: the token, its org (none for the node's operator) and the org's
    sharing groups."""

    token: Token
    org: Org | None
    group_ids: frozenset[int]


@dataclass(frozen=True, slots=True)
class Channel:
    """The TAXII face of a new audience channel, created with its org or group."""

    uuid: str
    title: str
    description: str


@dataclass(frozen=True, slots=True)
class NewVersion:
    """One object version ready to store, with its index columns."""

    stix_id: str
    type: str
    spec_version: str
    version_us: int | None  # None: use the node's date_added
    created_by_ref: str | None
    tlp: str
    tlp_defaulted: bool
    body: bytes  # the object as compact JSON (its sealed form when `sealed`)
    sealed: bool = False  # end-to-end encrypted: the node keeps routing metadata only
    search_body: str = ""  # normalized tokens of its searchable text ("" for sealed objects)
    search_stems: str = ""
    observables: frozenset[tuple[str, str]] = frozenset()  # (type, canonical value)


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One stored version as read back: enough for objects, manifest and versions."""

    date_added: int
    stix_id: str
    version_us: int
    spec_version: str
    body: bytes
    sealed: bool = False
    tlp: str = ""


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """A TAXII status resource: the outcome of one POST."""

    uuid: str
    org_id: int | None
    request_us: int
    total: int
    successes: Sequence[tuple[str, str, str]]  # (id, version, message)
    failures: Sequence[tuple[str, str, str]]


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """What a search is narrowed to, beside the caller's visibility."""

    types: frozenset[str] = frozenset()
    author_orgs: frozenset[int] = frozenset()
    tlps: frozenset[str] = frozenset()
    added_after: int | None = None  # date_added bounds (µs)
    added_before: int | None = None


@dataclass(frozen=True, slots=True)
class SearchRow:
    """One hit: the latest version of an object in one channel, with its BM25 score
    (lower is better, as SQLite reports it)."""

    date_added: int
    collection_id: int
    stix_id: str
    type: str
    author_org: int
    tlp: str
    body: bytes
    score: float


@dataclass(frozen=True, slots=True)
class Correlation:
    """Another visible object sharing an observable with the one asked about."""

    kind: str
    value: str
    date_added: int
    collection_id: int
    stix_id: str
    type: str
    author_org: int


@dataclass(frozen=True, slots=True)
class RemoteOrg:
    """An org a peer hosts, as its signed directory describes it."""

    identity_id: str
    name: str
    member: bool
    keys: Sequence[OrgKey]  # with their history (org_id is ignored)


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


StatusBuilder = Callable[[list[tuple[WriteOutcome, int]]], StatusRecord]
AuditBuilder = Callable[[list[tuple[WriteOutcome, int]]], Sequence[AuditEvent]]


class Store(Protocol):
    """Every write method that changes who may do what, or what is stored, takes the audit
    events that record it and appends them in the SAME transaction (with a signed tree head)."""

    # --- directory -----------------------------------------------------------------------
    def create_org(
        self,
        name: str,
        identity_id: str,
        member: bool,
        now: int,
        channel: Channel | None = None,
        *,
        custody: Custody = Custody.NODE,
        keys: Sequence[NewKey] = (),
        audit: Sequence[AuditEvent] = (),
    ) -> Org:
        """Create an org with its keys (and its private channel), in one transaction."""
        ...

    def org_by_name(self, name: str) -> Org | None: ...
    def org_by_id(self, org_id: int) -> Org | None: ...
    def org_by_identity(self, identity_id: str) -> Org | None: ...
    def list_orgs(self) -> list[Org]: ...

    def create_token(
        self,
        org_id: int | None,
        role: str,
        label: str,
        secret_hash: bytes,
        prefix: str,
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> Token: ...
    def bearer(self, secret_hash: bytes) -> Bearer | None:
        """A token with its org and the org's groups, in one round trip (every request
        authenticates: on PostgreSQL three queries cost a third of a page's database time)."""
        ...

    def list_tokens(self, org_id: int | None) -> list[Token]: ...
    def token_by_id(self, token_id: int) -> Token | None: ...
    def revoke_token(
        self, token_id: int, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> bool: ...

    def create_group(
        self,
        uuid: str,
        name: str,
        owner_org: int,
        now: int,
        channel: Channel | None = None,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> Group:
        """Create a group owned by `owner_org` (and its channel, in the same transaction)."""
        ...

    def group_by_name(self, name: str) -> Group | None: ...
    def group_by_id(self, group_id: int) -> Group | None: ...
    def list_groups(self) -> list[Group]: ...
    def set_group_member(
        self,
        group_id: int,
        org_id: int,
        owner: bool,
        *,
        now: int = 0,
        audit: Sequence[AuditEvent] = (),
    ) -> None: ...
    def remove_group_member(
        self, group_id: int, org_id: int, *, now: int = 0, audit: Sequence[AuditEvent] = ()
    ) -> bool: ...
    def group_ids_of(self, org_id: int) -> frozenset[int]: ...

    def create_collection(
        self, uuid: str, kind: AudienceKind, ref: int | None, title: str, description: str
    ) -> Collection: ...
    def list_collections(self) -> list[Collection]: ...

    # --- keys -----------------------------------------------------------------------------
    def register_keys(
        self, org_id: int, keys: Sequence[NewKey], now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> list[OrgKey]:
        """Add keys; each retires the org's current key of its purpose (valid until now)."""
        ...

    def revoke_key(
        self, key_id: str, at: int, reason: str, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> bool: ...
    def org_keys(self, org_id: int | None = None) -> list[OrgKey]: ...
    def keys_by_id(self, key_ids: Iterable[str]) -> dict[str, OrgKey]: ...
    def current_keys(self, org_ids: Iterable[int], purpose: KeyPurpose) -> dict[int, OrgKey]: ...
    def wrapped_private(self, key_id: str) -> bytes | None: ...

    # --- objects ------------------------------------------------------------------------
    def write_versions(
        self,
        collection_id: int,
        author_org: int,
        versions: Sequence[NewVersion],
        now: int,
        status_of: StatusBuilder | None = None,
        audit_of: AuditBuilder | None = None,
    ) -> list[tuple[WriteOutcome, int]]:
        """Store versions in ONE transaction (with the status and audit entries, if asked);
        return each version's outcome and version (µs). Acknowledge only after this returns."""
        ...

    def query_objects(
        self, visible: Visibility, flt: ObjectFilter, after: int | None, limit: int
    ) -> list[StoredRow]: ...
    def authors_of(self, collection_id: int, stix_id: str) -> set[int]: ...
    def delete_versions(
        self,
        collection_id: int,
        stix_id: str,
        flt: ObjectFilter,
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> int: ...
    def count_objects(self, visible: Visibility) -> int: ...
    def correlations(
        self, visible: Visibility, stix_id: str, per_value: int
    ) -> tuple[list[tuple[str, str]], list[Correlation]]:
        """The observables of the visible latest versions of `stix_id`, and for each at most
        `per_value` other visible objects sharing it (most recent first)."""
        ...

    def search(
        self, visible: Visibility, query: SearchQuery, flt: SearchFilter, limit: int, offset: int
    ) -> list[SearchRow]:
        """Latest versions whose text matches `query` (each engine renders it), best first,
        with the caller's visibility applied inside the query."""
        ...

    def save_status(self, status: StatusRecord) -> None: ...
    def status(self, uuid: str) -> StatusRecord | None: ...

    # --- audit ----------------------------------------------------------------------------
    def append_audit(self, events: Sequence[AuditEvent], now: int) -> None: ...
    def audit_entries(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        since: int | None = None,
        until: int | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]: ...
    def iter_audit(self, start: int = 0) -> Iterator[AuditEntry]: ...
    def audit_heads(self) -> list[TreeHead]: ...
    def audit_leaves(self, size: int) -> list[bytes]: ...
    def audit_size(self) -> int: ...

    # --- federation -----------------------------------------------------------------------
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
    def save_peer_directory(self, peer_id: int, version: int, document: bytes) -> None:
        """Keep a peer's signed directory (relayed to the other peers) and its version."""
        ...

    def received_directories(self) -> list[bytes]: ...
    def stored_version(
        self, collection_id: int, stix_id: str, version_us: int
    ) -> tuple[int | None, str] | None:
        """(the peer it came through, its TLP) of a stored version; None if not stored."""
        ...

    def directory_fingerprint(self) -> str: ...
    def record_peer_error(self, peer_id: int, error: str, now: int, retry_at: int) -> None: ...
    def record_peer_contact(self, peer_id: int, peer_head: int, now: int) -> None: ...
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
        """Take in a peer's directory in one transaction; return what was refused."""
        ...

    def feed(self, flt: FeedFilter, after: int, limit: int) -> list[FeedRow]:
        """Versions stored and deleted after position `after`, as `flt` lets through."""
        ...

    def feed_head(self) -> int: ...
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

    def close(self) -> None: ...
