"""Members' text as a page shows it: escaped, bidi controls shown and never obeyed, and the
indicators inside right-to-left prose isolated left to right.

A name or a description comes from another member and may carry HTML, script or Unicode
bidi controls (an override makes `exe.gpj` read as something else). Everything is escaped
first; each bidi control is then replaced by a visible marker naming it (`U+202E`), so the
text around it is laid out as if it were not there. In prose, a run that looks like an
indicator (an address, a domain, a URL, a hash: no right-to-left letter in it and a dot,
colon, slash or `@`, or a long hex string) is wrapped in `<bdi dir="ltr">`, so
`۱۹۲.۰.۲.۱` or `evil.example/path` keep their order inside Persian or Arabic text.
"""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

from tabadol.domain.timestamps import format_us

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_CONTROL = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
_RUN = re.compile(r"\S+")
_HEX = re.compile(r"[0-9A-Fa-f]{32,}")
_MARKS = frozenset(".:/@")
_TRAILING = ".,;:!?)،؛»\"'"


def _marker(char: str) -> Markup:
    code = f"U+{ord(char):04X}"
    return Markup('<span class="bidi-control" title="{}">{}</span>').format(
        unicodedata.name(char, code), code
    )


def shown(text: object) -> Markup:
    """`text` escaped, its bidi controls shown as markers."""
    source = "" if text is None else str(text)
    parts: list[Markup] = []
    last = 0
    for found in _CONTROL.finditer(source):
        parts += [escape(source[last : found.start()]), _marker(found.group())]
        last = found.end()
    parts.append(escape(source[last:]))
    return Markup("").join(parts)


def _rtl(run: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in run)


def _indicator_like(run: str) -> bool:
    if _rtl(run):
        return False
    core = _CONTROL.sub("", run)
    return bool(_HEX.fullmatch(core)) or (
        any(c in _MARKS for c in core.strip(_TRAILING)) and any(c.isalnum() for c in core)
    )


def prose(text: object) -> Markup:
    """`text` as `shown`, with the indicator-like runs isolated left to right."""
    source = "" if text is None else str(text)
    out: list[Markup] = []
    cursor = 0
    for match in _RUN.finditer(source):
        run = match.group()
        if not _indicator_like(run):
            continue
        core = run.rstrip(_TRAILING)
        out.append(shown(source[cursor : match.start()]))
        out.append(isolated(core))
        cursor = match.start() + len(core)
    out.append(shown(source[cursor:]))
    return Markup("").join(out)


def isolated(text: object) -> Markup:
    """A value that is an indicator or an id as a whole, isolated left to right."""
    return Markup('<bdi dir="ltr" class="ioc">{}</bdi>').format(shown(text))


def when(us: int | None) -> str:
    """A time as a person reads it, in UTC (`2026-05-01 14:03 UTC`)."""
    return f"{format_us(us)[:16].replace('T', ' ')} UTC" if us else ""


HELPERS = {"shown": shown, "prose": prose, "isolated": isolated, "when": when}
