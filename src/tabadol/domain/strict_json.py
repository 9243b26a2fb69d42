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


def loads(body: bytes | str) -> Any:
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
        return json.loads(
            text,
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except RecursionError:
        raise InvalidJSON("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise InvalidJSON(f"malformed JSON: {exc}") from None
