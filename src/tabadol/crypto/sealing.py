"""End-to-end encryption of one object to a set of recipient organizations.

A fresh random key per object encrypts the content with XChaCha20-Poly1305; that key is
sealed to each recipient's X25519 public key with a libsodium sealed box. The routing
metadata the node keeps in clear (object id, version, audience) is bound as associated data,
so ciphertext cannot be moved to another object or audience. Only a holder of a recipient's
private key recovers the content; the node stores ciphertext and sealed keys only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
    crypto_scalarmult,
)
from nacl.exceptions import CryptoError
from nacl.exceptions import RuntimeError as NaclRuntimeError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.utils import random

from tabadol.crypto.signing import b64url
from tabadol.domain.errors import InvalidEncryptionKey, SealingError


@dataclass(frozen=True, slots=True)
class Sealed:
    nonce: bytes
    ciphertext: bytes
    sealed_keys: Mapping[str, bytes]  # recipient key id -> content key sealed to that key
    commitment: bytes  # binds the content key: one ciphertext cannot open two ways


def key_commitment(content_key: bytes) -> bytes:
    """A hash of the content key. XChaCha20-Poly1305 does not commit to its key, so a sender
    could seal different keys to different recipients, each opening the same ciphertext to a
    different plaintext; every recipient checks the key it got against this commitment."""
    return hashlib.blake2b(content_key, digest_size=32, person=b"tabadol-commit").digest()


def check_encryption_key(public_key: bytes) -> None:
    """Refuse X25519 keys of low order: a shared secret with them is all zeros, and libsodium
    refuses to seal to them (which would fail every item sent to that audience)."""
    if len(public_key) != 32:
        raise InvalidEncryptionKey("an X25519 public key has 32 bytes")
    try:
        crypto_scalarmult(random(32), public_key)
    except (NaclRuntimeError, CryptoError, ValueError):
        raise InvalidEncryptionKey("not a usable X25519 public key (low order)") from None


def x25519_key_id(public_key: bytes) -> str:
    """A stable, short id for an X25519 public key."""
    return "x25519:" + b64url(hashlib.sha256(public_key).digest()[:16])


def seal(plaintext: bytes, recipients: Mapping[str, bytes], associated: bytes) -> Sealed:
    """Encrypt `plaintext` so that exactly the holders of `recipients`' keys can read it."""
    if not recipients:
        raise SealingError("an encrypted item needs at least one recipient")
    content_key = random(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    nonce = random(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    ciphertext = crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, associated, nonce, content_key
    )
    try:
        sealed_keys = {
            kid: SealedBox(PublicKey(public)).encrypt(content_key)
            for kid, public in recipients.items()
        }
    except (NaclRuntimeError, CryptoError, ValueError) as exc:
        raise SealingError(f"cannot seal to a recipient key: {exc}") from None
    return Sealed(nonce, ciphertext, sealed_keys, key_commitment(content_key))


def open_sealed(sealed: Sealed, private_key: PrivateKey, associated: bytes) -> bytes:
    """The plaintext, for a recipient; SealingError for anyone else or for tampered data."""
    kid = x25519_key_id(bytes(private_key.public_key))
    sealed_key = sealed.sealed_keys.get(kid)
    if sealed_key is None:
        raise SealingError("this key is not a recipient of the item")
    try:
        content_key = SealedBox(private_key).decrypt(sealed_key)
        if key_commitment(content_key) != sealed.commitment:
            raise SealingError("the content key does not match the item's key commitment")
        return crypto_aead_xchacha20poly1305_ietf_decrypt(
            sealed.ciphertext, associated, sealed.nonce, content_key
        )
    except (CryptoError, ValueError, TypeError):
        raise SealingError(
            "the item does not decrypt: tampered, or sealed for another key"
        ) from None
