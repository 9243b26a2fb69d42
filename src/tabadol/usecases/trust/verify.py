"""Offline verification of signed objects against a published key directory.

Needs no node: the objects (a bundle, an export, a TAXII response) and the key directory
(`GET /api/v1/keys` or `tabadol key list --json`). The same rules as the node's ingest: a
known key, of the org the object claims, valid at the object's version time, and an
Ed25519 signature over the RFC 8785 form without the signature and the node's attested
entries; and the publisher the node's provenance entry names is the signer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tabadol.crypto.object_signature import read_signature, verify_object
from tabadol.crypto.signing import unb64url
from tabadol.domain.attestation import attestation_of
from tabadol.domain.errors import InvalidInput, SignatureError, TimestampError
from tabadol.domain.extensions import PROVENANCE_EXTENSION
from tabadol.domain.timestamps import parse_us


@dataclass(frozen=True, slots=True)
class KnownKey:
    key_id: str
    public_key: bytes
    owner: str  # an org's identity id, or "node"
    owner_name: str
    ends: int | None  # the first moment it no longer covers (retired or revoked)
    revoked: bool


@dataclass(frozen=True, slots=True)
class Verdict:
    stix_id: str
    signer: str | None  # the owner's name when it verifies
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _time(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_us(value)
    except TimestampError:
        return None


def load_directory(directory: Mapping[str, Any]) -> dict[str, KnownKey]:
    """The signing keys of a key directory document, by key id; InvalidInput if the
    document is malformed or names one key id twice (it would be ambiguous whose it is)."""
    try:
        return _load_directory(directory)
    except InvalidInput:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise InvalidInput(f"not a key directory: {exc!r}") from None


def _add(known: dict[str, KnownKey], key: KnownKey) -> None:
    if key.key_id in known:
        raise InvalidInput(f"not a key directory: the key id {key.key_id} appears twice")
    if len(key.public_key) != 32:
        raise InvalidInput(f"not a key directory: {key.key_id}: an Ed25519 public key has 32 bytes")
    known[key.key_id] = key


def _load_directory(directory: Mapping[str, Any]) -> dict[str, KnownKey]:
    known: dict[str, KnownKey] = {}
    node = directory.get("node") or {}
    if node.get("key_id"):
        _add(
            known,
            KnownKey(node["key_id"], unb64url(node["public_key"]), "node", "the node", None, False),
        )
    for peer in directory.get("peers", []):  # a peer's node key signs its orgs' records
        owner = f"node {peer['node_id']}"
        _add(
            known,
            KnownKey(peer["key_id"], unb64url(peer["public_key"]), "node", owner, None, False),
        )
    for org in directory.get("organizations", []):
        for key in org.get("keys", []):
            if key.get("purpose") != "sign":
                continue
            ends = [t for t in (_time(key.get("valid_until")), _time(key.get("revoked"))) if t]
            _add(
                known,
                KnownKey(
                    key["key_id"],
                    unb64url(key["public_key"]),
                    org["identity_id"],
                    org["name"],
                    min(ends) if ends else None,
                    key.get("revoked") is not None,
                ),
            )
    return known


def _publisher(obj: Mapping[str, Any]) -> Any:
    """The publisher the node's provenance entry names (None: the object carries none)."""
    entry = attestation_of(obj).get(PROVENANCE_EXTENSION)
    return entry.get("publisher_ref") if entry is not None else None


def verify_one(obj: Mapping[str, Any], known: Mapping[str, KnownKey]) -> Verdict:
    stix_id = str(obj.get("id", ""))
    try:
        signature = read_signature(obj)
    except SignatureError as exc:
        return Verdict(stix_id, None, str(exc))
    if signature is None:
        return Verdict(stix_id, None, "unsigned")
    key = known.get(signature.key_id)
    if key is None:
        return Verdict(stix_id, None, f"unknown key {signature.key_id}")
    orgs = {k.owner for k in known.values() if k.owner != "node"}
    claimed = obj.get("created_by_ref")
    if key.owner == "node":
        if obj.get("type") != "identity":
            return Verdict(stix_id, None, "the node key signs only the directory (identities)")
    elif claimed in orgs and claimed != key.owner:
        return Verdict(stix_id, None, f"signed by {key.owner_name}, but created by {claimed}")
    elif _publisher(obj) not in (None, key.owner):
        return Verdict(
            stix_id,
            None,
            f"signed by {key.owner_name}, but the node's provenance names {_publisher(obj)}"
            " as its publisher",
        )
    version = _time(obj.get("modified")) or _time(obj.get("created"))
    if key.ends is not None and (version is None or key.ends <= version):
        what = "revoked" if key.revoked else "retired"
        when = "before this version" if version is not None else "(and the object has no time)"
        return Verdict(stix_id, None, f"{signature.key_id} was {what} {when}")
    try:
        verify_object(obj, signature, key.public_key)
    except (SignatureError, ValueError) as exc:
        return Verdict(stix_id, None, str(exc))
    return Verdict(stix_id, key.owner_name, None)


def verify_all(objects: Iterable[Any], directory: Mapping[str, Any]) -> list[Verdict]:
    known = load_directory(directory)
    return [
        verify_one(obj, known) if isinstance(obj, dict) else Verdict("", None, "not an object")
        for obj in objects
    ]
