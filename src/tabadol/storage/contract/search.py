"""The search role: full-text search over the latest versions, each engine with its own
index (FTS5 on SQLite, `tsvector('simple')` on PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tabadol.domain.policy import Visibility


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


class SearchStore(Protocol):
    def search(
        self, visible: Visibility, match: str, flt: SearchFilter, limit: int, offset: int
    ) -> list[SearchRow]:
        """Latest versions whose text matches the FTS5 expression `match`, best first,
        with the caller's visibility applied inside the query."""
        ...
