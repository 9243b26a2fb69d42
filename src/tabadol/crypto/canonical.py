"""What a member signs: the RFC 8785 canonical JSON of an object without its signature.

Canonicalization is the `rfc8785` package's (a careful implementation of the JSON
Canonicalization Scheme); only the choice of what is signed lives here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785

SIGNATURE_PROPERTY = "x_tabadol_signature"


class CanonicalizationError(ValueError):
    """The object holds a value JCS cannot represent (e.g. an integer beyond 2**53)."""


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of a JSON value."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise CanonicalizationError(str(exc)) from None


def signing_payload(obj: Mapping[str, Any]) -> bytes:
    """The bytes an object's signature covers: everything but the signature property."""
    return canonical({key: value for key, value in obj.items() if key != SIGNATURE_PROPERTY})
