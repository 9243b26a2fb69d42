"""What a member signs: the RFC 8785 canonical JSON of an object without its signature.

The signature lives in the object's `extensions` under the tabadol signature extension
(domain/extensions.py); the payload leaves that entry out, and the entries the node attests
(provenance and audience, `NODE_ATTESTED`: the node's statement, added as it stores a
version), and `extensions` itself when no other entry is left. So objects signed before the
node attested anything keep verifying, and a node replacing its attestation never breaks a
signature. Objects signed before (and by peers and clients still writing it) carry
the custom property `x_tabadol_signature` instead; the payload leaves that out too. An object
carries one form or the other (object_signature.read_signature refuses both).

Canonicalization is the `rfc8785` package's (a careful implementation of the JSON
Canonicalization Scheme). It is pure Python, ~32 us for an ATT&CK object, more than the
whole rest of ingest, so values that orjson provably serializes the same way (no floats,
integers within +-2**53, ASCII object keys: then sorting by code point equals RFC 8785's
UTF-16 order and orjson's string escaping equals JCS's) take orjson with sorted keys (~5 us);
everything else takes `rfc8785`. A property test checks the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import rfc8785

from tabadol.domain.errors import CanonicalizationError
from tabadol.domain.extensions import NODE_ATTESTED, SIGNATURE_EXTENSION

SIGNATURE_PROPERTY = "x_tabadol_signature"  # the old form, still read
# the `extensions` entries no signature covers: the signature itself and the node's statement
OUTSIDE_SIGNATURE = NODE_ATTESTED | {SIGNATURE_EXTENSION}


_MAX_EXACT = 2**53 - 1  # larger integers are not I-JSON; rfc8785 refuses them


def _orjson_is_exact(value: Any) -> bool:
    """Whether orjson's sorted output of `value` is byte-identical to RFC 8785's."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -_MAX_EXACT <= item <= _MAX_EXACT:
                continue
            return False
        if kind is dict:
            for key, child in item.items():
                if type(key) is not str or not key.isascii():
                    return False
                stack.append(child)
            continue
        if kind is list:
            stack.extend(item)
            continue
        return False  # floats (number formatting differs) and anything else
    return True


def canonical(value: Any, *, known_exact: bool = False) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of a JSON value. `known_exact`: the caller knows the
    value holds no float, no integer beyond +-2**53 and only ASCII keys (the strict decoder
    found none), so the check is skipped."""
    if known_exact or _orjson_is_exact(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # e.g. a lone surrogate: let rfc8785 decide
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise CanonicalizationError(str(exc)) from None


def unsigned(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object without its signature, in either form, and without the node's attested
    entries: what a signature covers (a copy; `obj` is unchanged)."""
    out = {key: value for key, value in obj.items() if key != SIGNATURE_PROPERTY}
    extensions = out.get("extensions")
    if isinstance(extensions, dict) and not OUTSIDE_SIGNATURE.isdisjoint(extensions):
        rest = {k: v for k, v in extensions.items() if k not in OUTSIDE_SIGNATURE}
        if rest:
            out["extensions"] = rest
        else:
            del out["extensions"]
    return out


def signing_payload(obj: Mapping[str, Any], *, known_exact: bool = False) -> bytes:
    """The bytes an object's signature covers: everything but the signature and the node's
    attested entries."""
    extensions = obj.get("extensions")
    if SIGNATURE_PROPERTY not in obj and not (
        isinstance(extensions, dict) and not OUTSIDE_SIGNATURE.isdisjoint(extensions)
    ):  # nothing to leave out: no copy
        return canonical(obj, known_exact=known_exact)
    return canonical(unsigned(obj), known_exact=known_exact)
