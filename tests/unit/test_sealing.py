"""End-to-end sealing: recipients read, nobody else does, and tampering is detected; the
sealed item (`tabadol-sealed`) is strict STIX and binds its routing."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from tabadol.crypto.object_signature import attach_signature
from tabadol.crypto.sealed_object import open_object, seal_object
from tabadol.crypto.sealing import Sealed, open_sealed, seal, x25519_key_id
from tabadol.crypto.signing import key_id
from tabadol.domain.errors import SealingError
from tabadol.domain.extensions import NODE_ATTESTED, SEALED_EXTENSION
from tabadol.domain.sealed import LEGACY_PROPERTY, clear_extras, routing_of, wrapper_id
from tabadol.domain.tlp import TLP

from ..conftest import assert_strict_stix

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


# --- the sealed item (tabadol-sealed) -----------------------------------------------------------
STAMP = "2026-01-05T00:00:00.000Z"


def _report() -> dict[str, Any]:
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": f"report--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-02T00:00:00.000Z",
        "created_by_ref": f"identity--{uuid.uuid4()}",
        "name": "incident",
        "published": "2026-01-01T00:00:00Z",
        "object_refs": [f"note--{uuid.uuid4()}"],
        "object_marking_refs": [TLP.RED.marking_id],
    }


def _for(key: PrivateKey) -> dict[str, bytes]:
    return {x25519_key_id(bytes(key.public_key)): bytes(key.public_key)}


def test_a_signed_item_is_strict_stix_with_its_clear_extensions() -> None:
    """A sealed item, signed, with the node-attested entries beside: stix2 without custom
    content and the strict validator accept it."""
    signing = SigningKey.generate()
    item = seal_object(_report(), _for(PrivateKey.generate()), stamp=STAMP)
    attach_signature(item, signing, key_id(bytes(signing.verify_key)))
    for attested in NODE_ATTESTED:
        item["extensions"][attested] = {"extension_type": "property-extension", "node": "n"}
    assert clear_extras(item) == set()
    assert_strict_stix([item])


def test_item_ids_are_derived_from_the_inner_id_alone() -> None:
    """Every version of an object is one item; an indicator and a relationship sharing a
    uuid (as derived ids do) are two; the uuid is written as version 4."""
    shared = uuid.uuid4()
    ids = {wrapper_id(f"{kind}--{shared}") for kind in ("indicator", "relationship")}
    assert len(ids) == 2
    assert wrapper_id(f"indicator--{shared}") in ids
    assert all(uuid.UUID(i.partition("--")[2]).version == 4 for i in ids)


def test_the_item_binds_what_the_previous_form_bound(keys: dict[str, PrivateKey]) -> None:
    """For an object with its own timestamps the associated data is the same as the
    previous release's form: the item's ciphertext, put in that form, opens unchanged."""
    obj = _report()
    item = seal_object(obj, _for(keys["A"]), stamp=STAMP)
    parts = {k: item[k] for k in ("alg", "nonce", "ciphertext", "key_commitment", "recipients")}
    old = {**routing_of(obj), LEGACY_PROPERTY: parts}
    assert open_object(old, keys["A"]) == open_object(item, keys["A"]) == obj


def test_an_observable_item_is_dated_by_the_stamp_which_it_binds(
    keys: dict[str, PrivateKey],
) -> None:
    """An observable has no timestamps: its item takes the stamp for `created` and
    `modified`, binds them, and opens to the observable as it was."""
    sco = {"type": "ipv4-addr", "id": f"ipv4-addr--{uuid.uuid4()}", "value": "198.51.100.1"}
    item = seal_object(sco, _for(keys["A"]), stamp=STAMP)
    assert (item["created"], item["modified"], item["spec_version"]) == (STAMP, STAMP, "2.1")
    assert open_object(item, keys["A"]) == sco
    with pytest.raises(SealingError):
        open_object({**item, "modified": "2026-01-06T00:00:00.000Z"}, keys["A"])


def test_what_an_item_may_carry_in_clear() -> None:
    """Routing, ciphertext, its definition, the signature and the node-attested entries;
    nothing else, and the previous form no extension but the signature."""
    item = seal_object(_report(), _for(PrivateKey.generate()), stamp=STAMP)
    assert clear_extras(item) == set()
    assert clear_extras({**item, "name": "x"}) == {"name"}
    other = f"extension-definition--{uuid.uuid4()}"
    wider = {**item, "extensions": {**item["extensions"], other: {}}}
    assert clear_extras(wider) == {f"extensions[{other}]"}
    old = {"type": "report", "id": item["sealed_ref"], LEGACY_PROPERTY: {}}
    assert clear_extras(old) == set()
    assert clear_extras({**old, "extensions": {SEALED_EXTENSION: {}}}) == {
        f"extensions[{SEALED_EXTENSION}]"
    }
