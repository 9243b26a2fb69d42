"""The language of a text a member writes: Persian, Arabic or English, from its letters.

A report's `lang` tells readers (and their tools) how to read it. Persian and Arabic share
most letters; each has a few of its own (Persian پ چ ژ گ and its ی ک, Arabic ة and its
ي ك), so counting those decides. Text in Latin letters is English; text in neither script
has no language said. Written here because language detectors (langdetect, fastText) need
models or data files, and these three languages are all the node's interface speaks.
"""

from __future__ import annotations

LANGUAGES = ("fa", "ar", "en")
_PERSIAN = frozenset("پچژگیکۀ")
_ARABIC = frozenset("ةيكىأإؤئ")


def detect_language(text: str) -> str | None:
    """`fa`, `ar` or `en`: the script most words of `text` are written in (a hash or a URL
    is one word), then Persian or Arabic by their own letters; None for neither script."""
    arabic_script = latin = persian = arabic = 0
    for word in text.split():
        if any("\u0600" <= ch <= "\u06ff" and ch.isalpha() for ch in word):
            arabic_script += 1
            persian += sum(ch in _PERSIAN for ch in word)
            arabic += sum(ch in _ARABIC for ch in word)
        elif any(ch.isascii() and ch.isalpha() for ch in word):
            latin += 1
    if arabic_script and arabic_script >= latin:
        return "fa" if persian >= arabic else "ar"
    return "en" if latin else None
