"""Strict JSON decoding for untrusted bodies.

Python's `json` keeps the last of two duplicate keys, so `{"object_marking_refs": [RED],
"object_marking_refs": [CLEAR]}` would silently downgrade a marking; it also accepts NaN,
Infinity, numbers that overflow to infinity and lone surrogate escapes. No library refuses
all of these (orjson refuses most but keeps duplicate keys), so this module decodes with
`json` and hooks: duplicate keys, the NaN/Infinity constants and infinite floats are refused
as they are met; the body must be UTF-8; and only when the body contains a surrogate escape
does orjson (which refuses lone surrogates) check it too, sparing the common case a second
parse. Integers beyond 64 bits are refused where objects are re-encoded (publish).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from tabadol.domain.errors import InvalidJSON

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidJSON(f"duplicate key {key!r} in one JSON object")
            seen.add(key)
    return result


def _no_constant(name: str) -> Any:
    raise InvalidJSON(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise InvalidJSON(f"number {text[:40]} is out of range")
    return value


class JcsHint:
    """Filled while decoding: whether the document holds only values whose orjson form with
    sorted keys is byte-identical to RFC 8785's (no floats, integers within +-2**53, ASCII
    keys). Signing then skips a walk over every value (~20 us per ATT&CK object)."""

    __slots__ = ("exact",)

    def __init__(self) -> None:
        self.exact = True


_MAX_EXACT_INT = 2**53 - 1


def _hinted_hooks(hint: JcsHint) -> dict[str, Any]:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if hint.exact and not all(key.isascii() for key, _ in items):
            hint.exact = False
        return _no_duplicate_keys(items)

    def floats(text: str) -> float:
        hint.exact = False
        return _finite_float(text)

    def ints(text: str) -> int:
        if len(text) > 400:  # Python refuses to parse > 4,300 digits; nothing needs 400
            raise InvalidJSON(f"integer of {len(text)} digits is out of range")
        value = int(text)
        if not -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT:
            hint.exact = False
        return value

    return {"object_pairs_hook": pairs, "parse_float": floats, "parse_int": ints}


def loads(body: bytes | str, hint: JcsHint | None = None) -> Any:
    """Decode `body`, refusing anything a lenient decoder would quietly accept."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJSON(f"body is not valid UTF-8 (byte {exc.start})") from None
    if _SURROGATE_ESCAPE.search(raw):
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidJSON(f"malformed JSON: {exc}") from None
    try:
        hooks: dict[str, Any] = (
            _hinted_hooks(hint)
            if hint is not None
            else {"object_pairs_hook": _no_duplicate_keys, "parse_float": _finite_float}
        )
        return json.loads(text, parse_constant=_no_constant, **hooks)
    except RecursionError:
        raise InvalidJSON("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise InvalidJSON(f"malformed JSON: {exc}") from None
    except ValueError as exc:  # e.g. an integer longer than Python parses
        raise InvalidJSON(f"malformed JSON: {exc}") from None
