"""Our normalization against hazm's Normalizer and Stemmer (the Persian NLP toolkit).

hazm runs in its own virtualenv (`.venv-hazm`, made by `make test` from
`tests/peers/hazm-requirements.txt`) because it pins numpy and pulls gensim; the strings go
through `tests/peers/hazm_driver.py` in one subprocess. Three comparisons:

- every character hazm folds into another, we fold the same way;
- every pair of words hazm's normalizer makes equal, we make equal;
- on the labeled set, matching with hazm's normalizer and stemmer is scored beside ours.

Where hazm goes further than we want (its stemmer cuts Persian words), the test names it.
"""

from __future__ import annotations

import json
import os
import subprocess
import unicodedata
from pathlib import Path

import pytest

from tabadol.text.normalize import terms

from ..unit.test_text_normalize import _cases, matches

ROOT = Path(__file__).resolve().parents[2]
HAZM_PYTHON = ROOT / ".venv-hazm" / "bin" / "python"
DRIVER = Path(__file__).parents[1] / "peers" / "hazm_driver.py"


def _hazm(texts: list[str]) -> list[dict[str, object]]:
    done = subprocess.run(
        [str(HAZM_PYTHON), str(DRIVER)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout)


# Arabic-script letters and marks, and the presentation forms NFKC folds.
ALPHABET = [
    chr(c)
    for c in [
        *range(0x0621, 0x0656),
        *range(0x0660, 0x06D4),
        *range(0xFB50, 0xFE00),
        *range(0xFE70, 0xFEFD),
    ]
    if unicodedata.category(chr(c))[0] in "LMN"
]
WORDS = [
    "علي", "علی", "كتاب", "کتاب", "مدرسة", "مدرسه", "أحمد", "احمد", "إسلام", "اسلام",
    "آب", "اب", "مصطفى", "مصطفی", "سامانۀ", "سامانه", "مُحَمَّد", "محمد", "محـــمد",
    "یحیی", "يحيى", "شبكة", "شبکه", "می‌شود", "میشود", "می شود", "کتاب‌ها", "کتابها",
    "۷۰۰", "٧٠٠", "700", "وزارت", "وزارة", "سپاه", "هكر", "هکر", "الگو", "گو",
]  # fmt: skip


@pytest.fixture(scope="module")
def hazm_view() -> dict[str, dict[str, object]]:
    if not HAZM_PYTHON.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(".venv-hazm is missing: `make test` creates it")
        pytest.skip("hazm is not installed here (.venv-hazm); `make test` installs it")
    texts = sorted(
        {f"ب{c}ت" for c in ALPHABET}
        | set(WORDS)
        | {text for q, d, *_ in _cases() for text in (q, d)}
    )
    return dict(zip(texts, _hazm(texts), strict=True))


# Where hazm folds a character and we do otherwise, on purpose.
OUR_CHARACTER_EXCEPTIONS = {
    "\ufdfa": "hazm deletes the honorific ligature ﷺ; NFKC spells it out and we index the words",
    "\ufdfb": "the same for ﷻ (جل جلاله)",
}


def test_every_character_hazm_folds_we_fold(hazm_view: dict[str, dict[str, object]]) -> None:
    """If hazm's normalizer turns one letter into another, the two normalize alike here."""
    folded = 0
    for char in ALPHABET:
        word = f"ب{char}ت"
        theirs = str(hazm_view[word]["normal"])
        if theirs == word or char in OUR_CHARACTER_EXCEPTIONS:
            continue
        folded += 1
        assert terms(word) == terms(theirs), (f"U+{ord(char):04X}", word, theirs)
    assert folded > 100  # hazm does fold the presentation forms and letter variants


@pytest.mark.parametrize(("char", "why"), OUR_CHARACTER_EXCEPTIONS.items())
def test_where_we_keep_what_hazm_deletes(
    hazm_view: dict[str, dict[str, object]], char: str, why: str
) -> None:
    """hazm drops these; we keep their words, so a search for them finds them."""
    assert hazm_view[f"ب{char}ت"]["normal"] == "بت", why
    assert len(terms(f"ب{char}ت")) >= 2, why


def test_words_hazm_makes_equal_are_equal_here(hazm_view: dict[str, dict[str, object]]) -> None:
    """Over pairs of real words: whenever hazm's normalized tokens are equal, ours are."""
    for first in WORDS:
        for second in WORDS:
            if hazm_view[first]["tokens"] == hazm_view[second]["tokens"]:
                assert terms(first) == terms(second), (first, second)


def _hazm_matches(view: dict[str, dict[str, object]], query: str, document: str) -> bool:
    doc = view[document]
    found = set(doc["tokens"]) | set(doc["stems"])  # type: ignore[call-overload]
    q = view[query]
    wanted = list(zip(q["tokens"], q["stems"], strict=True))  # type: ignore[call-overload]
    return bool(wanted) and all(t in found or s in found for t, s in wanted)


def _score(results: list[tuple[bool, bool]]) -> tuple[float, float]:
    tp = sum(1 for got, want in results if got and want)
    fp = sum(1 for got, want in results if got and not want)
    fn = sum(1 for got, want in results if want and not got)
    return tp / (tp + fp), tp / (tp + fn)


def test_on_the_labeled_set_we_match_at_least_as_well_as_hazm(
    hazm_view: dict[str, dict[str, object]],
) -> None:
    """The same matching rule, with hazm's normalizer + stemmer or with ours."""
    cases = _cases()
    ours = _score([(matches(q, d), want) for q, d, want, _ in cases])
    theirs = _score([(_hazm_matches(hazm_view, q, d), want) for q, d, want, _ in cases])
    assert ours[0] >= theirs[0], (ours, theirs)
    assert ours[1] >= theirs[1], (ours, theirs)
