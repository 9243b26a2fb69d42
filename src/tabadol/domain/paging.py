"""Stateless, authenticated TAXII `next` tokens.

A token carries the position after which the next page starts (a `date_added` in
microseconds) and a digest of the request's filters, authenticated with a key derived from
the node key. Any worker that shares the node key can serve the next page, nothing expires,
and a token cannot be forged to skip the policy or reused with other filters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

from tabadol.domain.errors import InvalidFilter

_LAYOUT = struct.Struct(">q12s")  # position, filter fingerprint
_MAC_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    """Issue and check `next` tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(self, position: int, fingerprint: bytes) -> str:
        payload = _LAYOUT.pack(position, fingerprint)
        return _b64(payload + self._mac(payload))

    def position(self, token: str, fingerprint: bytes) -> int:
        """The position a token continues from, or InvalidFilter (400) if it is not ours."""
        try:
            raw = _unb64(token)
        except (ValueError, UnicodeEncodeError):
            raise InvalidFilter("next: not a token issued by this node") from None
        if len(raw) != _LAYOUT.size + _MAC_BYTES:
            raise InvalidFilter("next: not a token issued by this node")
        payload, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidFilter("next: not a token issued by this node")
        position, bound = _LAYOUT.unpack(payload)
        if not hmac.compare_digest(bound, fingerprint):
            raise InvalidFilter("next: the token belongs to a request with other filters")
        return int(position)
