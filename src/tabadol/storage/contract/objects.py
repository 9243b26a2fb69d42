"""The objects role: object versions written, read with the caller's visibility, deleted,
counted and correlated; and the TAXII status of each write."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from tabadol.domain.audit import AuditEvent
from tabadol.domain.filters import ObjectFilter
from tabadol.domain.policy import Visibility


class WriteOutcome(Enum):
    STORED = "stored"
    EXISTS = "exists"  # the same (collection, id, version): an idempotent no-op
    OWNED_BY_OTHER = "owned-by-other"  # another org published this id in this collection
    # the version another org published here, with the same content (`ContentMatch`): an
    # idempotent no-op, as EXISTS is for the org's own
    COPY_OF_OTHER = "copy-of-other"


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
class Correlation:
    """Another visible object sharing an observable with the one asked about."""

    kind: str
    value: str
    date_added: int
    collection_id: int
    stix_id: str
    type: str
    author_org: int


# Whether a version to write has the content of a stored version's body (the use case's rule:
# the storage knows bytes, not STIX). Asked, inside the write, for a version another org
# published at the same (id, version), and for an object without timestamps against its
# latest stored version (its content is its version).
ContentMatch = Callable[[NewVersion, bytes], bool]
StatusBuilder = Callable[[list[tuple[WriteOutcome, int]]], StatusRecord]
AuditBuilder = Callable[[list[tuple[WriteOutcome, int]]], Sequence[AuditEvent]]


class ObjectStore(Protocol):
    """Every read takes a `Visibility` from the policy and applies it inside the query."""

    def write_versions(
        self,
        collection_id: int,
        author_org: int,
        versions: Sequence[NewVersion],
        now: int,
        status_of: StatusBuilder | None = None,
        audit_of: AuditBuilder | None = None,
        same_content: ContentMatch | None = None,
    ) -> list[tuple[WriteOutcome, int]]:
        """Store versions in ONE transaction (with the status and audit entries, if asked);
        return each version's outcome and version (µs). Acknowledge only after this returns.
        With `same_content`, a copy of what another org published here is COPY_OF_OTHER,
        and an object without timestamps identical to its latest version is EXISTS."""
        ...

    def query_objects(
        self, visible: Visibility, flt: ObjectFilter, after: int | None, limit: int
    ) -> list[StoredRow]: ...
    def authors_of(self, collection_id: int, stix_id: str) -> set[int]: ...
    def authored_in(self, visible: Visibility, author_org: int) -> bool:
        """Whether `author_org` published any version the visibility lets through."""
        ...

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

    def save_status(self, status: StatusRecord) -> None: ...
    def status(self, uuid: str) -> StatusRecord | None: ...
