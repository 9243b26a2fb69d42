"""Signed requests between nodes: each peer request carries an Ed25519 signature by the
sending node's key over what the request is (method, target, body digest), which node it is
for, and when it was made, so a user's stolen bearer token never lets anyone act as a peer,
and a captured request cannot be changed on the way, replayed outside its short window, or
replayed to another node.

Written here (not HTTP Message Signatures, RFC 9421) because no maintained Python library
implements RFC 9421 with Ed25519 for both httpx and Starlette; the format is deliberately
small: one header, `Authorization: Tabadol-Node key="…", ts="…", nonce="…", sig="…"`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from nacl.signing import SigningKey

from tabadol.crypto.signing import b64url, key_id, sign, unb64url, verify
from tabadol.domain.errors import SignatureError

SCHEME = "Tabadol-Node"
_DOMAIN = b"tabadol-peer-request-v1"
_FIELD = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """The fields of a peer request's Authorization header."""

    key_id: str
    timestamp_us: int
    nonce: str
    signature: bytes


def payload(
    method: str, target: str, timestamp_us: int, nonce: str, body: bytes, to_node: str
) -> bytes:
    """The bytes a peer request's signature covers. `target` is the path with its query;
    `to_node` the id of the node the request is for."""
    digest = hashlib.sha256(body).hexdigest()
    return b"\n".join(
        [_DOMAIN, method.upper().encode(), target.encode(), to_node.encode(),
         str(timestamp_us).encode(), nonce.encode(), digest.encode()]
    )  # fmt: skip


def authorization(
    key: SigningKey, method: str, target: str, body: bytes, timestamp_us: int, to_node: str
) -> str:
    """The Authorization header value for one request to the node `to_node`."""
    nonce = b64url(secrets.token_bytes(16))
    value = sign(key, payload(method, target, timestamp_us, nonce, body, to_node))
    kid = key_id(bytes(key.verify_key))
    return f'{SCHEME} key="{kid}", ts="{timestamp_us}", nonce="{nonce}", sig="{b64url(value)}"'


def parse(header: str) -> SignedRequest:
    """Read the header; raise SignatureError when it is not a well-formed peer signature."""
    scheme, _, rest = header.partition(" ")
    if scheme != SCHEME:
        raise SignatureError(f"not a {SCHEME} signature")
    fields = dict(_FIELD.findall(rest))
    try:
        timestamp = int(fields["ts"])
        nonce = fields["nonce"]
        kid = fields["key"]
        signature = unb64url(fields["sig"])
    except (KeyError, ValueError):
        raise SignatureError("a peer signature needs key, ts, nonce and sig") from None
    if not 8 <= len(nonce) <= 64:
        raise SignatureError("the nonce must have 8 to 64 characters")
    return SignedRequest(kid, timestamp, nonce, signature)


def check(
    request: SignedRequest,
    public_key: bytes,
    method: str,
    target: str,
    body: bytes,
    to_node: str,
) -> None:
    """Verify the signature of a parsed request, made for this node (`to_node`), against the
    peer's node key."""
    verify(
        public_key,
        payload(method, target, request.timestamp_us, request.nonce, body, to_node),
        request.signature,
    )
