"""Full-text search over everything a principal may read, in Persian, Arabic and English.

The query is normalized exactly as the indexed text was (`text.normalize`); each of its
tokens must be found, as itself or as its stem, among a document's tokens or stems. The
caller's visibility is applied inside the query; hits are ranked by BM25. Snippets are cut
from the object's own text (not the normalized form), as segments in logical order with the
text's direction, so right-to-left text highlights correctly wherever it is rendered.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
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
from tabadol.text.fields import searchable_text
from tabadol.text.normalize import Token, tokenize
from tabadol.usecases.reading.read import visible

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
SNIPPET_WORDS = 12  # words kept on each side of the first match


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    match: bool


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


def match_expression(tokens: list[Token]) -> str:
    """The FTS5 expression: every token, as itself or as its stem, in the text or the stems."""
    parts = []
    for token in tokens:
        alternatives = [*token.forms, " ".join(token.parts)] if token.parts else token.forms
        parts.append("(" + " OR ".join(f'{{body stems}} : "{form}"' for form in alternatives) + ")")
    return " AND ".join(parts)


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
    rows = node.store.search(
        vis, match_expression(tokens), _filter(node, params), limit + 1, offset
    )
    more = len(rows) > limit
    forms = {form for token in tokens for form in token.forms}
    hits = []
    for row in rows[:limit]:
        obj = orjson.loads(row.body)
        segments = snippet(searchable_text(obj), forms)
        hits.append(
            Hit(obj, collections[row.collection_id], -row.score, segments, _direction(segments))
        )
    token = node.page_tokens.issue(offset + limit, fingerprint) if more else None
    return SearchPage(hits, token)


# --- snippets --------------------------------------------------------------------------------
_WORD = re.compile(r"[^\W_]+(?:[\u200c\u200d][^\W_]+)*")


def _matches(word: str, forms: set[str]) -> bool:
    return any(form in forms for t in tokenize(word) for form in (*t.forms, *t.parts))


_APART = re.compile(r"[\s\u200c]+")  # what may separate a Persian affix written apart


def _match_spans(text: str, words: list[re.Match[str]], forms: set[str]) -> list[range]:
    """Which words match, as runs of word indexes: one word, or a word and the affix written
    apart that the tokenizer joins to it ("می شود", "کتاب ها"), highlighted as one."""
    spans: list[range] = []
    i = 0
    while i < len(words):
        if i + 1 < len(words) and _APART.fullmatch(text[words[i].end() : words[i + 1].start()]):
            pair = tokenize(text[words[i].start() : words[i + 1].end()])
            if len(pair) == 1 and not forms.isdisjoint(pair[0].forms):
                spans.append(range(i, i + 2))
                i += 2
                continue
        if _matches(words[i].group(), forms):
            spans.append(range(i, i + 1))
        i += 1
    return spans


def snippet(text: str, forms: set[str]) -> list[Segment]:
    """Up to SNIPPET_WORDS words around the first match, from the original text, as segments
    (matched words flagged) in logical order."""
    words = list(_WORD.finditer(text))
    if not words:
        return []
    spans = _match_spans(text, words, forms)
    first = spans[0].start if spans else 0
    low, high = max(0, first - SNIPPET_WORDS), min(len(words), first + SNIPPET_WORDS + 1)
    start, end = words[low].start(), words[high - 1].end()
    segments: list[Segment] = []
    cursor = start
    for span in spans:
        if span.start < low or span.stop > high:
            continue
        match_start, match_end = words[span.start].start(), words[span.stop - 1].end()
        if match_start > cursor:
            segments.append(Segment(_squash(text[cursor:match_start]), False))
        segments.append(Segment(text[match_start:match_end], True))
        cursor = match_end
    if cursor < end:
        segments.append(Segment(_squash(text[cursor:end]), False))
    return segments


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _direction(segments: list[Segment]) -> str:
    for segment in segments:
        for char in segment.text:
            kind = unicodedata.bidirectional(char)
            if kind in ("R", "AL"):
                return "rtl"
            if kind == "L":
                return "ltr"
    return "ltr"
