"""Our normalization against Lucene's ArabicNormalizer and PersianNormalizer.

Lucene's rules (Apache Lucene, `analysis/ar/ArabicNormalizer.java` and
`analysis/fa/PersianNormalizer.java`) are written out here as data — the characters each one
maps or deletes — and every equivalence they make must also hold for `normalize`: text that
Lucene's Persian + Arabic normalizers consider the same, we consider the same. Where we go
further than Lucene, the test names it.
"""

from __future__ import annotations

import pytest

from tabadol.text.normalize import normalize, stem, stems, terms, tokenize

ALEF, YEH, HEH, KAF = "\u0627", "\u064a", "\u0647", "\u0643"
LUCENE_ARABIC_MAPS = {
    "\u0622": ALEF,  # ALEF_MADDA
    "\u0623": ALEF,  # ALEF_HAMZA_ABOVE
    "\u0625": ALEF,  # ALEF_HAMZA_BELOW
    "\u0649": YEH,  # DOTLESS_YEH (alef maksura)
    "\u0629": HEH,  # TEH_MARBUTA
}
LUCENE_ARABIC_DELETES = "\u0640\u064d\u064c\u064b\u064e\u064f\u0650\u0651\u0652"  # tatweel, harakat
LUCENE_PERSIAN_MAPS = {
    "\u06cc": YEH,  # FARSI_YEH
    "\u06d2": YEH,  # YEH_BARREE
    "\u06a9": KAF,  # KEHEH
    "\u06c0": HEH,  # HEH_YEH
    "\u06c1": HEH,  # HEH_GOAL
}
LUCENE_PERSIAN_DELETES = "\u0654"  # HAMZA_ABOVE


def lucene(text: str) -> str:
    """Lucene's PersianNormalizer then ArabicNormalizer (as PersianAnalyzer chains them)."""
    out = []
    for char in text:
        char = LUCENE_PERSIAN_MAPS.get(char, char)
        if char in LUCENE_PERSIAN_DELETES:
            continue
        char = LUCENE_ARABIC_MAPS.get(char, char)
        if char in LUCENE_ARABIC_DELETES:
            continue
        out.append(char)
    return "".join(out)


@pytest.mark.parametrize(
    ("source", "target"),
    [*LUCENE_ARABIC_MAPS.items(), *LUCENE_PERSIAN_MAPS.items()],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_every_lucene_fold_holds(source: str, target: str) -> None:
    """A letter Lucene maps to another normalizes like that other letter here, in a word."""
    assert normalize(f"ب{source}ت") == normalize(f"ب{target}ت")


@pytest.mark.parametrize(
    "deleted", list(LUCENE_ARABIC_DELETES + LUCENE_PERSIAN_DELETES), ids=lambda c: f"U+{ord(c):04X}"
)
def test_every_lucene_deletion_holds(deleted: str) -> None:
    """A mark Lucene deletes is deleted here too."""
    assert normalize(f"ب{deleted}ت") == normalize("بت")


WORDS = [
    "علي",
    "علی",
    "كتاب",
    "کتاب",
    "مدرسة",
    "مدرسه",
    "أحمد",
    "إسلام",
    "آب",
    "مصطفى",
    "سامانۀ",
    "سامانه",
    "مُحَمَّد",
    "محـــمد",
    "یحیی",
    "يحيى",
    "شبكة",
    "شبکه",
]


def test_lucene_equivalences_are_kept_on_words() -> None:
    """Over pairs of real words: whenever Lucene's output is equal, ours is equal."""
    for first in WORDS:
        for second in WORDS:
            if lucene(first) == lucene(second):
                assert terms(first) == terms(second), (first, second)


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        ("مسئول", "مسيول", "hamza seated on yeh (Lucene keeps ئ)"),
        ("مؤمن", "مومن", "hamza seated on waw (Lucene keeps ؤ)"),
        ("ٱلله", "الله", "alef wasla (Lucene keeps ٱ)"),
        ("۷۰۰", "700", "Persian digits (Lucene's normalizers leave digits)"),
        ("می\u200cشود", "میشود", "ZWNJ (Lucene's PersianAnalyzer makes it a space)"),
        ("\u200fسلام", "سلام", "bidi marks"),
    ],
)
def test_where_we_go_further_than_lucene(first: str, second: str, why: str) -> None:
    """These differ after Lucene's normalizers and are the same here, on purpose."""
    assert lucene(first) != lucene(second), why
    assert terms(first) == terms(second), why


# Lucene's ArabicStemmer (analysis/ar/ArabicStemmer.java): these prefixes, then these
# suffixes, each stripped only when enough of the word is left.
LUCENE_PREFIXES = ["ال", "وال", "بال", "كال", "فال", "لل", "و"]
LUCENE_SUFFIXES = ["ها", "ان", "ات", "ون", "ين", "يه", "ية", "ه", "ة", "ي"]


@pytest.mark.parametrize("prefix", LUCENE_PREFIXES[:-1])
def test_lucene_article_prefixes_are_stripped_here_too(prefix: str) -> None:
    """The article with its clitics: a word with it finds the word without it."""
    (token,) = tokenize(prefix + "كتاب")
    assert token.stem == terms("كتاب")[0]


@pytest.mark.parametrize(("word", "lucene_gives"), [("اطلاعات", "اطلاع"), ("الملفات", "ملف")])
def test_the_feminine_plural_is_stripped_as_lucene_does(word: str, lucene_gives: str) -> None:
    """Lucene strips ات; so do we, and we also read it as the plural of a word in ه
    (حملات, حمله), which Lucene's stemmer cannot find."""
    (normalized,) = terms(word)
    assert terms(lucene_gives)[0] in stems(normalized)


@pytest.mark.parametrize(
    ("word", "lucene_would_give", "why"),
    [
        ("وزير", "زير", "a bare و: وزیر (minister) would meet زیر (under)"),
        ("ايران", "ير", "the suffix ان: ایران would lose its ending (Persian words end so)"),
        ("خانه", "خان", "the suffix ه: Persian nouns end in ه"),
    ],
)
def test_where_we_stem_less_than_lucene(word: str, lucene_would_give: str, why: str) -> None:
    """Lucene's stemmer strips these; ours keeps the word whole, because in Persian text the
    same letters are part of the word."""
    (normalized,) = terms(word)
    assert stem(normalized) == normalized, why
    assert normalized != terms(lucene_would_give)[0]
