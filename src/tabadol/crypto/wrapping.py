"""Private keys the node holds for its orgs, wrapped under a secret kept outside the data
directory: the database and its backups alone never give a private key.

XChaCha20-Poly1305 with the key id as associated data, so a wrapped key cannot be moved
to another key record.
"""

from __future__ import annotations

import os
from pathlib import Path

from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
)
from nacl.exceptions import CryptoError
from nacl.utils import random

from tabadol.domain.errors import UnwrapError

SECRET_BYTES = 32
_CONTEXT = b"tabadol key wrap v1\x00"


def wrap(secret: bytes, key_id: str, private_key: bytes) -> bytes:
    nonce = random(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    aad = _CONTEXT + key_id.encode()
    return nonce + crypto_aead_xchacha20poly1305_ietf_encrypt(private_key, aad, nonce, secret)


def unwrap(secret: bytes, key_id: str, wrapped: bytes) -> bytes:
    size = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
    nonce, sealed = wrapped[:size], wrapped[size:]
    try:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(
            sealed, _CONTEXT + key_id.encode(), nonce, secret
        )
    except CryptoError:
        raise UnwrapError(
            f"the key secret does not open the private key {key_id} (wrong secret?)"
        ) from None


def wrap_value(secret: bytes, aad: bytes, value: bytes) -> bytes:
    """Any other value kept under the key secret (a person's TOTP secret): `aad` names its
    kind and owner, so a wrapped value opens only in its own record."""
    nonce = random(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    return nonce + crypto_aead_xchacha20poly1305_ietf_encrypt(value, aad, nonce, secret)


def unwrap_value(secret: bytes, aad: bytes, wrapped: bytes) -> bytes:
    size = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
    try:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(
            wrapped[size:], aad, wrapped[:size], secret
        )
    except CryptoError:
        raise UnwrapError("the key secret does not open a wrapped value (wrong secret?)") from None


def load_or_create_secret(path: Path) -> bytes:
    """The wrapping secret at `path`; created (0600) on first use."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = random(SECRET_BYTES)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # created meanwhile by another process
            return load_or_create_secret(path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    if len(data) != SECRET_BYTES:
        raise UnwrapError(f"{path}: a key secret has {SECRET_BYTES} bytes")
    return data
