"""Full-text search over everything a principal may read, in Persian, Arabic and English.

The adapters read a `SearchRequest` from a query string or a command line (`SearchRequest.parse`:
every malformed value is an `InvalidFilter`). The words asked for are normalized exactly as the
indexed text was (`text.normalize`) and handed to storage as a `SearchQuery`: each token must be
found, as itself or as one of its stems (or a compound's parts in a row), among a document's
tokens or stems. The caller's visibility is applied inside the query; hits are ranked by BM25
and carry a snippet of their own text (`snippets.py`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from tabadol.domain.errors import InvalidFilter, TimestampError
from tabadol.domain.model import Principal
from tabadol.domain.policy import Visibility
from tabadol.domain.timestamps import parse_us
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node
from tabadol.storage.contract import SearchFilter
from tabadol.storage.search_query import SearchQuery
from tabadol.text.fields import searchable_text
from tabadol.text.normalize import Token, tokenize
from tabadol.usecases.reading.read import visible
from tabadol.usecases.reading.snippets import Segment, direction, snippet

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_BAD_LIMIT = "limit must be a positive integer"


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """What was asked, typed: the words, the filters and the page (`next` of the previous)."""

    text: str
    limit: int = DEFAULT_LIMIT  # more than MAX_LIMIT is served as MAX_LIMIT
    types: frozenset[str] = frozenset()
    orgs: frozenset[str] = frozenset()  # author organizations, by name
    tlps: frozenset[TLP] = frozenset()
    collections: frozenset[str] = frozenset()  # TAXII collection ids
    added_after: int | None = None  # date_added bounds (µs)
    added_before: int | None = None
    next: str | None = None

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise InvalidFilter(_BAD_LIMIT)

    @classmethod
    def parse(
        cls,
        q: str,
        *,
        types: str | None = None,
        orgs: str | None = None,
        tlps: str | None = None,
        collections: str | None = None,
        added_after: str | None = None,
        added_before: str | None = None,
        limit: str = str(DEFAULT_LIMIT),
        next: str | None = None,
    ) -> SearchRequest:
        """The request from its written form: comma-separated lists, RFC 3339 bounds, a limit
        in plain digits. The words are checked first and the limit next, as they always were,
        so a request with several faults keeps getting the same first complaint about them."""
        _words(q)
        if not limit.isdigit() or int(limit) < 1:
            raise InvalidFilter(_BAD_LIMIT)
        return cls(
            text=q.strip(),
            limit=int(limit),
            types=_csv(types),
            orgs=_csv(orgs),
            tlps=frozenset(_tlp(label) for label in _csv(tlps)),
            collections=_csv(collections),
            added_after=_time("added_after", added_after),
            added_before=_time("added_before", added_before),
            next=next,
        )


@dataclass(frozen=True, slots=True)
class Hit:
    """One object found, with where it was found and the words around the match."""

    obj: dict[str, Any]
    collection: str  # the TAXII collection id
    score: float
    snippet: list[Segment]
    direction: str  # "rtl" or "ltr": the snippet's first strong direction


@dataclass(frozen=True, slots=True)
class SearchPage:
    """A page of hits, best first; `next_token` continues the same search, if there is more."""

    hits: list[Hit]
    next_token: str | None


def _words(text: str) -> list[Token]:
    """The normalized tokens of the words asked for; a search needs at least one."""
    tokens = tokenize(text)
    if not tokens:
        raise InvalidFilter("q must contain at least one word or number")
    return tokens


def search_query(tokens: list[Token]) -> SearchQuery:
    """Every token required, found as itself or as one of its stems, or (a ZWNJ compound) as
    its parts in a row."""
    return SearchQuery(
        tuple(
            tuple([(form,) for form in token.forms] + ([token.parts] if token.parts else []))
            for token in tokens
        )
    )


def search(node: Node, principal: Principal, request: SearchRequest) -> SearchPage:
    """A page of hits for the request among what `principal` may read."""
    tokens = _words(request.text)
    limit = min(request.limit, MAX_LIMIT)
    vis = visible(node, principal)
    collections = {c.id: c.uuid for c in node.store.list_collections()}
    if request.collections:
        wanted = {i for i, uuid in collections.items() if uuid in request.collections}
        vis = Visibility(vis.collection_ids & wanted)
    fingerprint = _fingerprint(request, limit)
    offset = 0
    if request.next is not None:
        offset = node.page_tokens.position(request.next, fingerprint)
    flt = _filter(node, request)
    rows = node.store.search(vis, search_query(tokens), flt, limit + 1, offset)
    forms = {form for token in tokens for form in token.forms}
    hits = []
    for row in rows[:limit]:
        obj = orjson.loads(row.body)
        segments = snippet(searchable_text(obj), forms)
        hits.append(
            Hit(obj, collections[row.collection_id], -row.score, segments, direction(segments))
        )
    more = len(rows) > limit
    token = node.page_tokens.issue(offset + limit, fingerprint) if more else None
    return SearchPage(hits, token)


def _fingerprint(request: SearchRequest, limit: int) -> bytes:
    """What a `next` token is bound to: the request's meaning without its page, so that a
    token only continues the search that issued it."""
    meaning = [
        request.text,
        limit,
        sorted(request.types),
        sorted(request.orgs),
        sorted(tlp.label for tlp in request.tlps),
        sorted(request.collections),
        request.added_after,
        request.added_before,
    ]
    return hashlib.sha256(b"search" + orjson.dumps(meaning)).digest()[:12]


_NO_ORG = 0  # internal org ids start at 1


def _filter(node: Node, request: SearchRequest) -> SearchFilter:
    orgs = {org.name: org.id for org in node.store.list_orgs()}
    return SearchFilter(
        types=request.types,
        # An unknown name matches nothing (id 0: no org has it), as a known org whose items
        # the caller cannot read does: the filter is no oracle of org names.
        author_orgs=frozenset(orgs.get(name, _NO_ORG) for name in request.orgs),
        tlps=frozenset(tlp.label for tlp in request.tlps),
        added_after=request.added_after,
        added_before=request.added_before,
    )


def _csv(value: str | None) -> frozenset[str]:
    return frozenset(v.strip() for v in (value or "").split(",") if v.strip())


def _time(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_us(value)
    except TimestampError as exc:
        raise InvalidFilter(f"{name}: {exc}") from None


def _tlp(text: str) -> TLP:
    try:
        return TLP.parse(text)
    except ValueError as exc:
        raise InvalidFilter(f"tlp: {exc}") from None
