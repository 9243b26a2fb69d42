"""One normalization for Persian, Arabic and English, used at index time and at query time.

Written here because no maintained Python library does both languages for search: hazm
normalizes Persian for NLP (it rewrites spacing and punctuation for display, and pulls in
gensim and fasttext); Lucene's PersianNormalizer / ArabicNormalizer / ArabicStemmer are Java.
The rules follow theirs where they agree and choose recall where they differ:

* NFKC first (Arabic presentation forms and ligatures become letters);
* letter variants folded to one form: Arabic yeh and alef maksura to Persian yeh (ی), Arabic
  kaf to keheh (ک), teh marbuta and heh variants to heh (ه), alef with hamza or madda and alef
  wasla to alef (ا), hamza on waw / yeh to waw / yeh, lone hamza dropped; the letters Urdu,
  Pashto, Kurdish or Sindhi add (ٹ ڈ ڑ ھ ڤ ڵ ێ …) to the letter they are drawn from, as hazm does;
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
from functools import lru_cache

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
    # letters of the other languages written in Arabic script (Urdu, Pashto, Kurdish, Sindhi
    # ...), which turn up in names and on those keyboards: folded to the Persian/Arabic letter
    # they are drawn from, as hazm's normalizer does
    **dict.fromkeys("\u063b\u06ab\u06ac\u06ad\u06ae", "\u06a9"),  # ػ ګ ڬ ڭ ڮ -> ک
    **dict.fromkeys("\u063d\u063e\u063f\u06cd\u06ce\u06d1\u06d3", "\u06cc"),  # -> ی
    **dict.fromkeys("\u066e\u067b\u0680", "\u0628"),  # ٮ ٻ ڀ -> ب
    **dict.fromkeys("\u066f\u06a7\u06a8", "\u0642"),  # ٯ ڧ ڨ -> ق
    **dict.fromkeys("\u06c4\u06c5\u06c6\u06c7\u06c8\u06c9\u06ca\u06cb\u06cf", "\u0648"),
    **dict.fromkeys("\u0679\u067a\u067c\u067d\u067f", "\u062a"),  # ٹ ٺ ټ ٽ ٿ -> ت
    **dict.fromkeys("\u0681\u0682\u0683\u0684\u0685", "\u062d"),  # ځ ڂ ڃ ڄ څ -> ح
    **dict.fromkeys("\u0687\u06bf", "\u0686"),  # ڇ ڿ -> چ
    **{chr(c): "\u062f" for c in range(0x0688, 0x0691)},  # ڈ ډ ... ڐ -> د
    **{chr(c): "\u0631" for c in (*range(0x0691, 0x0698), 0x0699)},  # ڑ ڒ ... ڙ -> ر
    **dict.fromkeys("\u069a\u069b\u069c", "\u0633"),  # ښ ڛ ڜ -> س
    **dict.fromkeys("\u069d\u069e", "\u0635"),  # ڝ ڞ -> ص
    "\u069f": "\u0637",  # ڟ -> ط
    "\u06a0": "\u0639",  # ڠ -> ع
    **{chr(c): "\u0641" for c in range(0x06A1, 0x06A7)},  # ڡ ... ڦ (ڤ veh) -> ف
    **{chr(c): "\u06af" for c in range(0x06B0, 0x06B5)},  # ڰ ... ڴ -> گ
    **{chr(c): "\u0644" for c in range(0x06B5, 0x06B9)},  # ڵ ... ڸ -> ل
    **{chr(c): "\u0646" for c in range(0x06B9, 0x06BE)},  # ڹ ں ڻ ڼ ڽ -> ن
    **dict.fromkeys("\u06be\u06c2\u06c3", "\u0647"),  # ھ ۂ ۃ -> ه
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
    "\u0674"  # high hamza (NFKC leaves it after ٵ ٶ ٷ ٸ)
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


# Isolated harakat and shadda ligatures, which NFKC turns into a space and a mark: dropped
# before NFKC, or the space would cut the word they sit on.
_SPACED_MARKS = re.compile("[\ufc5e-\ufc63\ufe70\ufe72\ufe74\ufe76\ufe78\ufe7a\ufe7c\ufe7e]")


def normalize(text: str) -> str:
    """The normalized form of `text`, character by character (no tokenization)."""
    if text.isascii():  # the common case in English reports: nothing but case to fold
        return text.lower()
    return unicodedata.normalize("NFKC", _SPACED_MARKS.sub("", text)).translate(_TABLE).casefold()


# A token: a run of letters or a run of digits (so letters and digits never share one).
_TOKEN = re.compile(r"[^\W\d_]+|\d+")
_ASCII_TOKEN = re.compile(r"[a-z]+|[0-9]+")  # the same tokens, for lower-cased ASCII text

_PERSIAN_ONLY = frozenset("پچژگ")  # letters Arabic does not have
_ARABIC_PREFIXES = ("وال", "بال", "کال", "فال", "لل", "ال")  # longest first
_PERSIAN_SUFFIXES = ("هایی", "های", "ها")
_ARABIC_PLURALS = ("ون", "ین")  # sound masculine plural, after the article only
_FEMININE_PLURAL = "ات"  # حملات -> حمله, حمل; تحقیقات -> تحقیق
_MIN_STEM = 3
# Persian words (and loans) that begin with the letters of an Arabic article but are whole
# words: no prefix is cut from them. A stem exclusion list, as Lucene's keyword marker is;
# the words written with a letter Arabic lacks (الگو) need no entry.
_WHOLE_WORDS = frozenset(
    normalize(w)
    for w in """
    الماس البرز الهام الکترونیک الکترونیکی الکتریکی الکترون الفبا الزام الزامی الحاق الکل
    التماس التهاب الویت الیاف الوار البته الهه الوند الموت الکسی الیزابت الجزایر المپیک
    البحرین
    بالکن بالشت بالغ بالینی بالیستیک فالوده کالبد کالسکه للمان
    """.split()  # noqa: SIM905 (a word list reads best as one)
)


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # normalized
    forms: tuple[str, ...]  # the text, then its light stems
    start: int  # offsets in the normalized text (for highlighting)
    end: int
    parts: tuple[str, ...] = ()  # a ZWNJ compound's parts (باج‌افزار: باج, افزار)

    @property
    def stem(self) -> str:
        """The first stem (the text itself when nothing is stripped)."""
        return self.forms[1] if len(self.forms) > 1 else self.text


@lru_cache(maxsize=100_000)
def stems(token: str) -> tuple[str, ...]:
    """The light stems of a normalized token, best first (empty when nothing is stripped):
    Persian plural endings; the Arabic article with its clitics (ال with و ب ک ف ل before
    it), then a sound masculine plural after it; the feminine plural ات, read both as the
    plural of a word in ه (حملات, حمله) and of one without (تحقیقات, تحقیق). Words with a
    letter Arabic lacks (پ چ ژ گ) keep their Arabic-looking start (الگو stays الگو), so do
    the listed whole words; a stem keeps at least three letters (الان stays الان)."""
    if token.isascii() or not token.isalpha():
        return ()
    for suffix in _PERSIAN_SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= _MIN_STEM:
            return (token[: -len(suffix)],)
    word = token
    if _PERSIAN_ONLY.isdisjoint(token) and token not in _WHOLE_WORDS:
        for prefix in _ARABIC_PREFIXES:
            if token.startswith(prefix) and len(token) - len(prefix) >= _MIN_STEM:
                word = token[len(prefix) :]
                for plural in _ARABIC_PLURALS:
                    if word.endswith(plural) and len(word) - len(plural) >= _MIN_STEM:
                        return (word[: -len(plural)], word)
                break
    if word.endswith(_FEMININE_PLURAL) and len(word) - 2 >= _MIN_STEM:
        base = word[:-2]
        return tuple(dict.fromkeys(f for f in (base + "ه", base, word) if f != token))
    return (word,) if word != token else ()


def stem(token: str) -> str:
    """The first light stem of a normalized token (itself when nothing is stripped)."""
    found = stems(token)
    return found[0] if found else token


# Persian affixes written apart, joined on the normalized text (one regex pass each, not a
# loop over tokens: this runs on every indexed object).
_LETTERS = r"[^\W\d_]"
_APART_PREFIX = re.compile(rf"(?<!{_LETTERS})(ن?می)\s+(?=[\u0620-\u06ff])")
_APART_SUFFIX = re.compile(rf"(?<=[\u0620-\u06ff])\s+(?=(?:هایی|های|ها)(?!{_LETTERS}))")
# The ezafe, the indefinite and the possessive endings written after a final ه with a ZWNJ
# (نامه‌ی, نامه‌ای, نامه‌ام, نامه‌اش) are not part of the word
_EZAFE = re.compile(rf"(?<=[\u0647\u0629])\u200c(?:ا?[\u06cc\u064a\u0649]|ام|اش)(?!{_LETTERS})")
# Compounds joined with ZWNJ (باج‌افزار): indexed whole and by their parts, so that the
# same compound written with a space finds them; affixes (می, ها, ی) are not parts.
_COMPOUND = re.compile(rf"{_LETTERS}+(?:\u200c{_LETTERS}+)+")
_AFFIXES = frozenset({"می", "نمی", "ها", "های", "هایی", "ی", "ای", "اى", "ام", "ات", "اش"})


def normalized_text(text: str) -> str:
    """`normalize`, then Persian affixes written apart joined: the text tokens are read from."""
    if "\u200c" in text:
        text = _EZAFE.sub("", text)
    normalized = normalize(text)
    if normalized.isascii():
        return normalized
    return _APART_SUFFIX.sub("", _APART_PREFIX.sub(r"\1", normalized))


def compound_parts(text: str) -> dict[str, tuple[str, ...]]:
    """The ZWNJ compounds of `text`: joined normalized form -> its parts (normalized)."""
    if "\u200c" not in text:
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for match in _COMPOUND.finditer(_EZAFE.sub("", text)):
        parts = tuple(p for p in (normalize(x) for x in match.group().split("\u200c")) if p)
        content = tuple(p for p in parts if p not in _AFFIXES)
        if len(content) >= 2 and len(content) == len(parts):
            found["".join(parts)] = parts
    return found


def tokenize(text: str) -> list[Token]:
    """The tokens of `text` after `normalized_text` (offsets are into that text)."""
    normalized = normalized_text(text)
    parts = compound_parts(text)
    tokens = []
    for m in _TOKEN.finditer(normalized):
        word = m.group()
        forms = (word, *stems(word))
        tokens.append(Token(word, forms, m.start(), m.end(), parts.get(word, ())))
    return tokens


def terms(text: str) -> list[str]:
    """The normalized tokens of `text`, in order."""
    return _TOKEN.findall(normalized_text(text))


def index_forms(text: str) -> tuple[str, str]:
    """What the search index stores for `text`: its tokens, and their other forms (stems and
    compound parts; a query term is looked up in both), space-separated."""
    normalized = normalized_text(text)
    if normalized.isascii():  # ASCII words have no stem of their own
        return " ".join(_ASCII_TOKEN.findall(normalized)), ""
    words = _TOKEN.findall(normalized)
    parts = compound_parts(text)
    extra = [form for w in words for form in (*stems(w), *parts.get(w, ()))]
    return " ".join(words), " ".join(extra)
