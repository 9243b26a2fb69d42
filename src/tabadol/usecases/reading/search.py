"""Full-text search over everything a principal may read, in Persian, Arabic and English.

The query is normalized exactly as the indexed text was (`text.normalize`) and handed to
storage as a `SearchQuery`, which each engine renders in its own syntax: each token must be
found, as itself or as one of its stems (a compound also as its parts in a row), among a
document's tokens or stems. The caller's visibility is applied inside the query; hits are
ranked by BM25 and carry a snippet of their own text (`snippets.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from tabadol.domain.errors import InvalidFilter
from tabadol.domain.model import Principal
from tabadol.domain.policy import Visibility
from tabadol.domain.timestamps import TimestampError, parse_us
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node
from tabadol.storage.base import SearchFilter
from tabadol.storage.search_query import SearchQuery
from tabadol.text.fields import searchable_text
from tabadol.text.normalize import Token, tokenize
from tabadol.usecases.reading.read import visible
from tabadol.usecases.reading.snippets import Segment, direction, snippet

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Hit:
    obj: dict[str, Any]
    collection: str  # the TAXII collection id
    score: float
    snippet: list[Segment]
    direction: str  # "rtl" or "ltr": the snippet's first strong direction


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[Hit]
    next_token: str | None


def search_query(tokens: list[Token]) -> SearchQuery:
    """Every token required, found as itself or as one of its stems, or (a ZWNJ compound) as
    its parts in a row."""
    return SearchQuery(
        tuple(
            (*((form,) for form in token.forms), *((token.parts,) if token.parts else ()))
            for token in tokens
        )
    )


def _csv(params: Mapping[str, str], name: str) -> frozenset[str]:
    return frozenset(v.strip() for v in params.get(name, "").split(",") if v.strip())


def _time(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return parse_us(value)
    except TimestampError as exc:
        raise InvalidFilter(f"{name}: {exc}") from None


def _limit(params: Mapping[str, str]) -> int:
    raw = params.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidFilter("limit must be a positive integer")
    return min(int(raw), MAX_LIMIT)


def _tlp(text: str) -> TLP:
    try:
        return TLP.parse(text)
    except ValueError as exc:
        raise InvalidFilter(f"tlp: {exc}") from None


def _filter(node: Node, params: Mapping[str, str]) -> SearchFilter:
    orgs = {org.name: org.id for org in node.store.list_orgs()}
    wanted = _csv(params, "org")
    unknown = wanted - orgs.keys()
    if unknown:
        raise InvalidFilter(f"no organization named {sorted(unknown)[0]!r}")
    return SearchFilter(
        types=_csv(params, "type"),
        author_orgs=frozenset(orgs[name] for name in wanted),
        tlps=frozenset(_tlp(t).label for t in _csv(params, "tlp")),
        added_after=_time(params, "added_after"),
        added_before=_time(params, "added_before"),
    )


def search(node: Node, principal: Principal, params: Mapping[str, str]) -> SearchPage:
    """A page of hits for `q` among what `principal` may read, with the given filters."""
    query = params.get("q", "").strip()
    tokens = tokenize(query)
    if not tokens:
        raise InvalidFilter("q must contain at least one word or number")
    limit = _limit(params)
    vis = visible(node, principal)
    collections = {c.id: c.uuid for c in node.store.list_collections()}
    wanted = _csv(params, "collection")
    if wanted:
        vis = Visibility(vis.collection_ids & {i for i, u in collections.items() if u in wanted})
    fingerprint = hashlib.sha256(
        b"search" + orjson.dumps(sorted((k, v) for k, v in params.items() if k != "next"))
    ).digest()[:12]
    offset = 0
    if "next" in params:
        offset = node.page_tokens.position(params["next"], fingerprint)
    rows = node.store.search(vis, search_query(tokens), _filter(node, params), limit + 1, offset)
    more = len(rows) > limit
    forms = {form for token in tokens for form in token.forms}
    hits = []
    for row in rows[:limit]:
        obj = orjson.loads(row.body)
        segments = snippet(searchable_text(obj), forms)
        hits.append(
            Hit(obj, collections[row.collection_id], -row.score, segments, direction(segments))
        )
    token = node.page_tokens.issue(offset + limit, fingerprint) if more else None
    return SearchPage(hits, token)
