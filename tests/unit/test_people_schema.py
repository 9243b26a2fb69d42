"""The people API's schema bounds what the use cases accept: the pattern refuses exactly the
characters `normalize_email` can never keep (recomputed from Unicode's tables), and every
address the pattern's examples allow is taken. The parser refuses more than a pattern can
say (the local part's characters, domain labels, IDNA): a 400 on those routes, which the
schemathesis configuration accepts there."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest

from tabadol.domain.people import normalize_email
from tabadol.web.people_api import EMAIL_PATTERN

PATTERN = re.compile(EMAIL_PATTERN)


def _refused_by_the_use_case(c: str) -> bool:
    """Refused wherever it stands, or turned into two characters on the way in."""
    return (
        unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")
        or len(unicodedata.normalize("NFC", c)) > 1
        or len(c.lower()) > 1
    )


def test_the_pattern_excludes_exactly_the_characters_the_use_case_cannot_keep() -> None:
    """Recomputed from this Python's Unicode tables: the pattern's list is not stale."""
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF or chr(cp) in "@." or chr(cp).isspace():
            continue
        c = chr(cp)
        allowed = PATTERN.match(f"a{c}b@example.org") is not None
        assert allowed != _refused_by_the_use_case(c), hex(cp)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("Ali@Pardis.example", True),
        ("علی@پردیس.example", True),
        ("a.b+c@x.y", True),
        ("x@y.z\u00ad", False),  # a soft hyphen: a format character
        ("x@y\u200f.z", False),  # a bidi mark
        ("no-at-sign", False),
        ("a@b@c.d", False),
        ("a@nodot", False),
        ("\u0130@x.example", False),  # longer lower-cased: the API refuses it (the schema)
    ],
)
def test_what_the_pattern_allows_the_use_case_takes(address: str, allowed: bool) -> None:
    assert (PATTERN.match(address) is not None) is allowed
    if allowed:
        local = unicodedata.normalize("NFC", address).lower().split("@")[0]
        assert normalize_email(address).split("@")[0] == local
