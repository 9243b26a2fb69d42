"""Ed25519 signatures as pure functions: key ids, key checks, sign, verify.

PyNaCl (libsodium) verifies strictly: it refuses non-canonical signatures (S >= L) and
small-order public keys and R points, which pyca/cryptography accepts. Public keys are also
checked when they are registered or received, so a small-order key (for which one fixed
signature verifies any message) is never stored.
"""

from __future__ import annotations

import base64
import hashlib

from nacl.bindings import crypto_core_ed25519_is_valid_point
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from tabadol.domain.errors import InvalidPublicKey, SignatureError

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"not base64url: {exc}") from None


def key_id(public_key: bytes) -> str:
    """A stable, short id for an Ed25519 public key: `ed25519:` + 16 bytes of its SHA-256."""
    return "ed25519:" + b64url(hashlib.sha256(public_key).digest()[:16])


def check_public_key(public_key: bytes) -> None:
    """Refuse keys that break signatures: a wrong length, a non-canonical encoding, a point
    off the curve or outside the main subgroup, and the small-order points."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise InvalidPublicKey(f"an Ed25519 public key has {PUBLIC_KEY_BYTES} bytes")
    if not crypto_core_ed25519_is_valid_point(public_key):
        raise InvalidPublicKey("not a valid Ed25519 public key (small order or not on the curve)")


def sign(signing_key: SigningKey, payload: bytes) -> bytes:
    """The 64-byte Ed25519 signature of `payload`."""
    return signing_key.sign(payload).signature


def verify(public_key: bytes, payload: bytes, signature: bytes) -> None:
    """Return if `signature` is `public_key`'s valid signature of `payload`; else raise."""
    check_public_key(public_key)
    if len(signature) != SIGNATURE_BYTES:
        raise SignatureError(f"an Ed25519 signature has {SIGNATURE_BYTES} bytes")
    try:
        VerifyKey(public_key).verify(payload, signature)
    except BadSignatureError:
        raise SignatureError("the signature does not verify") from None
