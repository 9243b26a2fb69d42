"""The interface languages (Persian, Arabic, English): which one a request gets, its writing
direction, and its gettext catalogue.

The catalogues are the `.po` files under `web/locales/<lang>/LC_MESSAGES/tabadol.po`, the
only form kept in the repository: each is compiled in memory (Babel) the first time a
language is used, so no compiled `.mo` can fall behind its source and no install step or
network is needed. `make messages` extracts the strings of the templates and code into
`tabadol.pot` and merges them into each `.po`; a test holds every catalogue complete.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

from tabadol.web.cookies import LANG_COOKIE

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "tabadol"
DIRECTION = {"fa": "rtl", "ar": "rtl", "en": "ltr"}
LANGUAGES = tuple(DIRECTION)
NAMES = {"fa": "فارسی", "ar": "العربية", "en": "English"}  # each in its own language
DEFAULT = "en"  # when neither the cookie nor Accept-Language names one of ours


def po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of `lang`, compiled from its `.po` once per process."""
    with po_path(lang).open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def known(lang: str | None) -> str | None:
    """`lang` (a tag such as `fa-IR` or `AR`) as one of ours, or None."""
    if not lang:
        return None
    primary = lang.strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in DIRECTION else None


def from_accept_language(header: str) -> str | None:
    """The first of our languages in the client's preference order (q-values honoured; a
    malformed entry is skipped, never an error)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        lang = known(tag)
        if lang is not None and quality > 0:
            ranked.append((-quality, position, lang))
    return min(ranked)[2] if ranked else None


def choose(request: Request) -> str:
    """The interface language of this request: `?lang=`, then the `tabadol_lang` cookie,
    then Accept-Language, then English. (A person's own choice comes with sign-in.)"""
    return (
        known(request.query_params.get("lang"))
        or known(request.cookies.get(LANG_COOKIE))
        or from_accept_language(request.headers.get("accept-language", ""))
        or DEFAULT
    )
