"""The listing role: the newest items a reader may see across channels, for a person's inbox
and an item's page (which channel it is in, who published it, whether a peer brought it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tabadol.domain.policy import Visibility


@dataclass(frozen=True, slots=True)
class ListingFilter:
    """What a listing is narrowed to, beside the caller's visibility (channels are narrowed
    through the visibility itself)."""

    types: frozenset[str] = frozenset()
    skip_types: frozenset[str] = frozenset()  # left out when `types` is empty
    author_orgs: frozenset[int] = frozenset()
    tlps: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()
    added_after: int | None = None  # date_added bounds (µs), exclusive
    added_before: int | None = None
    every_version: bool = False  # False: the latest version of each object only


@dataclass(frozen=True, slots=True)
class ListedRow:
    """One stored version with where it is and where it came from."""

    date_added: int
    collection_id: int
    stix_id: str
    type: str
    version_us: int
    author_org: int
    tlp: str
    sealed: bool
    via_peer: int | None  # the peer it arrived from; None: published on this node
    body: bytes


class ListingStore(Protocol):
    def list_recent(
        self, visible: Visibility, flt: ListingFilter, before: int | None, limit: int
    ) -> list[ListedRow]:
        """Versions the visibility lets through, newest `date_added` first, below `before`
        (a cursor: the last row of the previous page), the visibility inside the query."""
        ...
