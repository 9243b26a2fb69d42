"""Names people tell apart by eye: one key for names that look alike, and the characters a
name or a label may not hold.

Org and group names title channels and name members across the federation, so two that a
reader cannot tell apart must not be two members. `name_key` folds what `normalize` folds
for search (Arabic and Persian letter forms ي/ی and ك/ک, diacritics, tatweel, ZWNJ, digits,
case) and then each character to one representative of its class in Unicode's confusables
data (UTS #39: Latin a and Cyrillic а, l and 1 and I), as the `confusable_homoglyphs`
package ships it. Its classes come in groups, not as UTS #39's prototype per character, so
each class's lowest code point stands for it (written here: the data is the package's).
Sequences (`rn` for `m`) are not folded: the data maps them, the keys map characters.

Bidirectional controls (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI, LRM, RLM, ALM) make a
name display in another order than it is stored — "‮Pardis" shows reversed — so a name or
label that holds one is refused, never silently rewritten: the caller sees what was wrong,
and what is stored is what was typed.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from confusable_homoglyphs import confusables  # type: ignore[import-untyped]

from tabadol.text.normalize import normalize

ZWNJ = "\u200c"
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def bidi_controls_in(text: str) -> list[str]:
    """The bidi controls in `text`, as U+XXXX, in order (empty when there are none)."""
    return [f"U+{ord(c):04X}" for c in text if c in BIDI_CONTROLS]


@lru_cache(maxsize=1)
def _representatives() -> dict[str, str]:
    """Each confusable character -> its class's lowest code point (single characters only:
    a union of the pairs in the data, so the relation is transitive as a key needs)."""
    parent: dict[str, str] = {}

    def root(c: str) -> str:
        while parent.get(c, c) != c:
            c = parent[c]
        return c

    for char, glyphs in confusables.confusables_data.items():
        if len(char) != 1:
            continue
        for glyph in glyphs:
            other = glyph["c"]
            if len(other) == 1:
                a, b = root(char), root(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return {c: root(c) for c in parent}


def _fold_confusables(text: str) -> str:
    table = _representatives()
    return "".join(table.get(c, c) for c in unicodedata.normalize("NFD", text))


@lru_cache(maxsize=8192)  # a node's names are few and asked for often: one fold each
def name_keys(name: str) -> frozenset[str]:
    """The forms under which names are unique and found: two names look alike when their
    keys meet. One key lowers case first ("PARDIS" meets "Pardis"), one folds confusables
    first ("PayPaI" meets "PayPal": once lowered, I is i and no longer looks like l), one
    reads a ZWNJ as the gap it shows (`normalize` joins the word, as search wants: a name
    typed without the ZWNJ is still found); each folds again after `normalize`."""
    nfkc = unicodedata.normalize("NFKC", name)
    spaced = nfkc.replace(ZWNJ, " ")  # a ZWNJ shows as a gap: "پردیس‌سرت" and "پردیس سرت"
    return frozenset(
        _fold_confusables(" ".join(normalize(text).split()))
        for text in (nfkc, _fold_confusables(nfkc), spaced)
    )


def look_alike(a: str, b: str) -> bool:
    """Whether a reader could take one name for the other."""
    return not name_keys(a).isdisjoint(name_keys(b))
