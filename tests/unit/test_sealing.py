"""End-to-end sealing: recipients read, nobody else does, and tampering is detected."""

from __future__ import annotations

from dataclasses import replace

import pytest
from nacl.public import PrivateKey

from tabadol.crypto.sealing import Sealed, open_sealed, seal, x25519_key_id
from tabadol.domain.errors import SealingError

SECRET = "گزارش محرمانه: TLP:RED — incident 2026-114".encode()
ROUTING = b"note--6b1c6a52-2a0e-4b38-9a0d-2b1f1c7d9e01|2026-01-01T00:00:00.000Z|group:7"


@pytest.fixture
def keys() -> dict[str, PrivateKey]:
    return {name: PrivateKey.generate() for name in ("A", "B", "C")}


def _seal_for(keys: dict[str, PrivateKey], *names: str) -> Sealed:
    recipients = {
        x25519_key_id(bytes(keys[n].public_key)): bytes(keys[n].public_key) for n in names
    }
    return seal(SECRET, recipients, ROUTING)


def test_each_recipient_reads_the_item(keys: dict[str, PrivateKey]) -> None:
    """Every recipient opens the same plaintext with its own private key."""
    sealed = _seal_for(keys, "A", "B")
    assert open_sealed(sealed, keys["A"], ROUTING) == SECRET
    assert open_sealed(sealed, keys["B"], ROUTING) == SECRET


def test_a_non_recipient_cannot(keys: dict[str, PrivateKey]) -> None:
    """C was not a recipient: even given A's sealed key it cannot open the content."""
    sealed = _seal_for(keys, "A", "B")
    with pytest.raises(SealingError, match="not a recipient"):
        open_sealed(sealed, keys["C"], ROUTING)
    stolen = replace(
        sealed,
        sealed_keys={
            x25519_key_id(bytes(keys["C"].public_key)): next(iter(sealed.sealed_keys.values()))
        },
    )
    with pytest.raises(SealingError, match="does not decrypt"):
        open_sealed(stolen, keys["C"], ROUTING)


def test_plaintext_appears_nowhere_in_what_the_node_stores(keys: dict[str, PrivateKey]) -> None:
    """Neither the whole secret nor any 8-byte piece of it is in the stored bytes."""
    sealed = _seal_for(keys, "A")
    stored = sealed.nonce + sealed.ciphertext + b"".join(sealed.sealed_keys.values())
    for start in range(0, len(SECRET) - 8):
        assert SECRET[start : start + 8] not in stored


@pytest.mark.parametrize("part", ["ciphertext", "nonce", "associated"])
def test_tampering_is_detected(keys: dict[str, PrivateKey], part: str) -> None:
    """One changed byte of the ciphertext, the nonce or the routing metadata fails to open."""
    sealed = _seal_for(keys, "A")
    routing = ROUTING
    if part == "associated":
        routing = ROUTING.replace(b"group:7", b"group:8")
    else:
        data = bytearray(getattr(sealed, part))
        data[3] ^= 0x01
        sealed = replace(sealed, **{part: bytes(data)})
    with pytest.raises(SealingError, match="does not decrypt"):
        open_sealed(sealed, keys["A"], routing)


def test_every_item_gets_a_fresh_key_and_nonce(keys: dict[str, PrivateKey]) -> None:
    """Sealing the same content twice gives unrelated ciphertexts."""
    first, second = _seal_for(keys, "A"), _seal_for(keys, "A")
    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext


def test_no_recipient_is_an_error() -> None:
    """An encrypted item with no recipient could never be read: refused."""
    with pytest.raises(SealingError, match="at least one recipient"):
        seal(SECRET, {}, ROUTING)
