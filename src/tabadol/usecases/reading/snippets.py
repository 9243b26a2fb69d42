"""Snippets of a hit: the words around its first match, cut from the object's own text.

Cut from the text as written (not its normalized form), as segments in logical order with the
text's direction, so that right-to-left text highlights correctly wherever it is rendered.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tabadol.text.normalize import tokenize

SNIPPET_WORDS = 12  # words kept on each side of the first match


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of the snippet's text; `match` flags a matched word (or a word and its affix)."""

    text: str
    match: bool


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


def direction(segments: list[Segment]) -> str:
    """The first strong direction of the snippet ("rtl" or "ltr"), for a renderer to set."""
    for segment in segments:
        for char in segment.text:
            kind = unicodedata.bidirectional(char)
            if kind in ("R", "AL"):
                return "rtl"
            if kind == "L":
                return "ltr"
    return "ltr"
