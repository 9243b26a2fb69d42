"""One normalization for Persian, Arabic and English, used at index time and at query time.

Written here because no maintained Python library does both languages for search: hazm
normalizes Persian for NLP (it rewrites spacing and punctuation for display, and pulls in
gensim and fasttext); Lucene's PersianNormalizer / ArabicNormalizer / ArabicStemmer are Java.
The rules follow theirs where they agree and choose recall where they differ:

* NFKC first (Arabic presentation forms and ligatures become letters);
* letter variants folded to one form: Arabic yeh and alef maksura to Persian yeh (ی), Arabic
  kaf to keheh (ک), teh marbuta and heh variants to heh (ه), alef with hamza or madda and alef
  wasla to alef (ا), hamza on waw / yeh to waw / yeh, lone hamza dropped;
* harakat, Quranic marks, superscript alef and tatweel removed;
* Persian and Arabic-Indic digits to ASCII, Arabic decimal and thousands separators to ASCII;
* bidi controls, zero-width spaces, BOM and ZWJ removed; ZWNJ joins (می‌شود → میشود);
* Latin case folded.

Tokens split at anything that is not a letter or a digit, and between a letter and a digit
(80درصد → 80 درصد). The Persian verbal prefixes می / نمی written apart are joined to their
verb, and the plural suffixes ها / های written apart to their noun, so "می شود", "می‌شود" and
"میشود" are one token. Each token also has a light stem (`stem`), indexed beside it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_FOLD = {
    # yeh and alef maksura -> Persian yeh
    "\u064a": "\u06cc",  # ي
    "\u0649": "\u06cc",  # ى
    "\u06d0": "\u06cc",  # ې
    "\u06d2": "\u06cc",  # ے
    "\u0626": "\u06cc",  # ئ  (hamza on yeh)
    # kaf -> keheh
    "\u0643": "\u06a9",  # ك
    "\u06aa": "\u06a9",  # ڪ
    # heh variants and teh marbuta -> heh
    "\u0629": "\u0647",  # ة
    "\u06c0": "\u0647",  # ۀ
    "\u06c1": "\u0647",  # ہ
    "\u06d5": "\u0647",  # ە
    # alef variants -> alef
    "\u0622": "\u0627",  # آ
    "\u0623": "\u0627",  # أ
    "\u0625": "\u0627",  # إ
    "\u0671": "\u0627",  # ٱ
    "\u0672": "\u0627",
    "\u0673": "\u0627",
    # hamza on waw -> waw
    "\u0624": "\u0648",  # ؤ
    # punctuation that separates tokens
    "\u060c": ",",  # ،
    "\u061b": ";",  # ؛
    "\u061f": "?",  # ؟
    "\u066a": "%",  # ٪
    "\u066b": ".",  # ٫ decimal separator
    "\u066c": ",",  # ٬ thousands separator
    "\u06d4": ".",  # ۔
}
_DROP = (
    "\u0621"  # lone hamza
    "\u0640"  # tatweel
    "\u0670"  # superscript alef
    "\u200b\u200d\u2060\ufeff"  # zero-width space, ZWJ, word joiner, BOM
    "\u200c"  # ZWNJ: joins
    "\u200e\u200f\u061c"  # LRM, RLM, ALM
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
_TABLE: dict[int, str | None] = {ord(k): v for k, v in _FOLD.items()}
_TABLE.update({ord(c): None for c in _DROP})
_TABLE.update({cp: None for cp in range(0x064B, 0x0660)})  # harakat, hamza above/below
_TABLE.update({cp: None for cp in range(0x06D6, 0x06EE)})  # Quranic annotation marks
for _zero in (0x0660, 0x06F0):  # Arabic-Indic and Persian digits
    _TABLE.update({_zero + i: str(i) for i in range(10)})


def normalize(text: str) -> str:
    """The normalized form of `text`, character by character (no tokenization)."""
    return unicodedata.normalize("NFKC", text).translate(_TABLE).casefold()


# A token: a run of letters or a run of digits (so letters and digits never share one).
_TOKEN = re.compile(r"[^\W\d_]+|\d+")

_VERB_PREFIXES = frozenset({"می", "نمی"})
_PLURAL_SUFFIXES = frozenset({"ها", "های", "هایی"})
_PERSIAN_ONLY = frozenset("پچژگ")  # letters Arabic does not have
_ARABIC_PREFIXES = ("وال", "بال", "کال", "فال", "لل", "ال")  # longest first
_PERSIAN_SUFFIXES = ("هایی", "های", "ها")
_MIN_STEM = 3


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # normalized
    stem: str  # a light stem; equal to `text` when nothing is stripped
    start: int  # offsets in the normalized text (for highlighting)
    end: int


def _is_persian_letters(token: str) -> bool:
    return token.isalpha() and not token.isascii()


def stem(token: str) -> str:
    """A light stem: Arabic article clitics (ال with و ب ک ف ل before it) and Persian plural
    endings. Words with a letter Arabic lacks (پ چ ژ گ) keep their Arabic-looking start
    (الگو stays الگو); a stem keeps at least three letters (الان stays الان)."""
    if token.isascii() or not token.isalpha():
        return token
    for suffix in _PERSIAN_SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= _MIN_STEM:
            return token[: -len(suffix)]
    if _PERSIAN_ONLY.isdisjoint(token):
        for prefix in _ARABIC_PREFIXES:
            if token.startswith(prefix) and len(token) - len(prefix) >= _MIN_STEM:
                return token[len(prefix) :]
    return token


def tokenize(text: str) -> list[Token]:
    """The tokens of `text` after `normalize`, Persian affixes written apart joined."""
    normalized = normalize(text)
    raw = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(normalized)]
    joined: list[tuple[str, int, int]] = []
    index = 0
    while index < len(raw):
        word, start, end = raw[index]
        following = raw[index + 1] if index + 1 < len(raw) else None
        if (
            word in _VERB_PREFIXES
            and following is not None
            and _is_persian_letters(following[0])
            and normalized[end : following[1]].isspace()
        ):
            word, end = word + following[0], following[2]
            index += 1
        if joined and word in _PLURAL_SUFFIXES:
            last_word, last_start, last_end = joined[-1]
            if _is_persian_letters(last_word) and normalized[last_end:start].isspace():
                joined[-1] = (last_word + word, last_start, end)
                index += 1
                continue
        joined.append((word, start, end))
        index += 1
    return [Token(word, stem(word), start, end) for word, start, end in joined]


def terms(text: str) -> list[str]:
    """The normalized tokens of `text`, in order."""
    return [token.text for token in tokenize(text)]
