"""Publish: validate, authorize, sign or verify, seal, and store objects — one envelope in
one transaction, with its status and its audit entry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from nacl.signing import SigningKey

from tabadol.crypto.canonical import CanonicalizationError
from tabadol.crypto.object_signature import attach_signature, read_signature, verify_object
from tabadol.crypto.sealed_object import extra_properties, parse_sealed, seal_object
from tabadol.crypto.sealing import SealingError
from tabadol.crypto.signing import SignatureError
from tabadol.domain.audience import tlp_allows
from tabadol.domain.audit import AuditEvent, Outcome, actor_of
from tabadol.domain.errors import (
    Forbidden,
    InvalidEnvelope,
    InvalidInput,
    NotFound,
    RequestTooLarge,
)
from tabadol.domain.keys import Custody, KeyPurpose, OrgKey
from tabadol.domain.model import Collection, Org, Principal
from tabadol.domain.policy import may_read, may_write
from tabadol.domain.stix import SCO_TYPES, CheckedObject, InvalidObject, check_object
from tabadol.domain.timestamps import format_us
from tabadol.domain.tlp import TLP
from tabadol.services.keys import audience_orgs, signing_key_of
from tabadol.services.node import Node
from tabadol.storage.base import NewVersion, StatusRecord, WriteOutcome

_OUTCOME_MESSAGES = {
    WriteOutcome.STORED: "stored",
    WriteOutcome.EXISTS: "this version was already stored",
}
SEALED_TLPS = frozenset({TLP.RED, TLP.AMBER_STRICT})  # always end-to-end encrypted


class _Refused(Exception):
    """An object breaks a rule of the exchange (not of STIX)."""


def envelope_objects(envelope: Any, max_objects: int) -> list[Any]:
    """The `objects` of a TAXII envelope (or a STIX bundle), checked for shape and size."""
    if not isinstance(envelope, dict):
        raise InvalidEnvelope('the body must be a TAXII envelope: {"objects": [...]}')
    objects = envelope.get("objects")
    if not isinstance(objects, list):
        raise InvalidEnvelope("the envelope needs an 'objects' list")
    if len(objects) > max_objects:
        raise RequestTooLarge(
            f"the envelope holds {len(objects)} objects; the limit is {max_objects} per request"
        )
    return objects


def authorize_write(node: Node, principal: Principal, collection: Collection) -> None:
    anonymous_public = node.settings.anonymous_public_read
    if may_write(principal, collection):
        return
    if may_read(principal, collection, anonymous_public=anonymous_public):
        raise Forbidden("you may read this collection but not publish into it")
    raise NotFound("no such collection")


@dataclass
class _Envelope:
    """What every object of one envelope shares: who publishes, where, with which keys."""

    node: Node
    org: Org
    collection: Collection
    hosted: dict[str, Org]
    known_keys: dict[str, OrgKey]  # the keys the envelope's signatures name
    directory: bool  # the node publishes its directory: signed with the node key
    encrypt: bool  # seal every object, whatever its TLP
    now: int
    _signer: tuple[SigningKey, str] | None = None
    _recipients: dict[str, bytes] | None = None
    orgs_by_id: dict[int, Org] = field(default_factory=dict)

    def signer(self) -> tuple[SigningKey, str]:
        """The key the node signs with for this envelope (loaded once per envelope: building
        a SigningKey from its seed costs a scalar multiplication)."""
        if self._signer is None:
            if self.directory:
                self._signer = (self.node.node_key, self.node.node_key_id)
            else:
                key = self.node.store.current_keys([self.org.id], KeyPurpose.SIGN).get(self.org.id)
                if key is None:
                    raise _Refused(f"{self.org.name!r} has no current signing key")
                self._signer = (signing_key_of(self.node, key), key.key_id)
        return self._signer

    def recipients(self) -> dict[str, bytes]:
        """The current encryption keys of exactly the orgs of the audience."""
        if self._recipients is None:
            try:
                org_ids = audience_orgs(self.node, self.collection)
            except InvalidInput as exc:
                raise _Refused(exc.description) from None
            keys = self.node.store.current_keys(org_ids, KeyPurpose.ENCRYPT)
            missing = [self.orgs_by_id[o].name for o in org_ids if o not in keys]
            if missing:
                raise _Refused(f"no current encryption key for {', '.join(sorted(missing))}")
            self._recipients = {k.key_id: k.public_key for k in keys.values()}
        return self._recipients


def _check_authorship(env: _Envelope, checked: CheckedObject) -> None:
    if checked.created_by_ref is not None and checked.created_by_ref != env.org.identity_id:
        other = env.hosted.get(checked.created_by_ref)
        if other is not None:
            raise _Refused(
                f"created_by_ref names {other.name!r}: nobody publishes as another organization"
            )
    if checked.type == "identity" and checked.id != env.org.identity_id:
        other = env.hosted.get(checked.id)
        if other is not None:
            raise _Refused(f"this identity belongs to {other.name!r}")


def _verify_signature(env: _Envelope, checked: CheckedObject) -> None:
    """Refuse a signature that is malformed, does not verify, or is not the publisher's key
    valid at the object's version time."""
    obj = checked.obj
    try:
        signature = read_signature(obj)
    except SignatureError as exc:
        raise _Refused(str(exc)) from None
    assert signature is not None
    key = env.known_keys.get(signature.key_id)
    if key is None:
        raise _Refused(f"signed with an unknown key {signature.key_id}")
    if key.org_id != env.org.id:
        owner = env.orgs_by_id.get(key.org_id)
        raise _Refused(
            f"signed with a key of {owner.name if owner else 'another member'!r}, not of"
            f" {env.org.name!r}: nobody signs for another member"
        )
    if key.purpose is not KeyPurpose.SIGN:
        raise _Refused(f"{signature.key_id} is an encryption key, not a signing key")
    refusal = key.refusal_at(checked.version_us if checked.version_us is not None else env.now)
    if refusal is not None:
        raise _Refused(refusal)
    try:
        verify_object(obj, signature, key.public_key)
    except SignatureError:
        raise _Refused(
            "the signature does not verify: the object was changed after it was signed"
        ) from None


def _fill_defaults(env: _Envelope, checked: CheckedObject, tlp: TLP) -> None:
    """Complete an unsigned object before the node signs it: author and TLP marking."""
    obj = checked.obj
    if checked.created_by_ref is None and checked.type not in SCO_TYPES:
        obj["created_by_ref"] = env.org.identity_id
    if checked.tlp is None and checked.type != "marking-definition":
        obj["object_marking_refs"] = [*obj.get("object_marking_refs", []), tlp.marking_id]


def _check_sealed(env: _Envelope, checked: CheckedObject) -> None:
    extra = extra_properties(checked.obj)
    if extra:
        raise _Refused(
            "a sealed object carries only routing metadata in clear; found "
            + ", ".join(sorted(extra))
        )
    try:
        sealed = parse_sealed(checked.obj)
    except SealingError as exc:
        raise _Refused(str(exc)) from None
    expected = env.recipients()
    if set(sealed.sealed_keys) != set(expected):
        raise _Refused(
            "sealed to other keys than the current encryption keys of the audience: "
            + ", ".join(sorted(expected))
        )


def _prepare(env: _Envelope, checked: CheckedObject) -> NewVersion:
    _check_authorship(env, checked)
    signed = "x_tabadol_signature" in checked.obj
    tlp = checked.tlp or env.node.channel_defaults.for_kind(env.collection.kind)
    if not tlp_allows(tlp, env.collection.kind):
        raise _Refused(
            f"{tlp.label} may not be shared with the audience {env.collection.kind.value!r}"
        )
    if signed:
        _verify_signature(env, checked)
    elif checked.sealed:
        raise _Refused("a sealed object must be signed by its author")
    elif env.org.custody is Custody.CLIENT and not env.directory:
        raise _Refused(
            f"missing signature: {env.org.name!r} keeps its keys and signs its own objects"
        )
    else:
        _fill_defaults(env, checked, tlp)
    obj = checked.obj
    seal = checked.sealed or env.encrypt or tlp in SEALED_TLPS
    if checked.sealed:
        _check_sealed(env, checked)
    elif seal:
        if env.org.custody is Custody.CLIENT:
            raise _Refused(
                f"{tlp.label} items of {env.org.name!r} must arrive end-to-end encrypted:"
                " its client seals them (tabadol publish)"
            )
        key, kid = env.signer()
        if not signed:
            attach_signature(obj, key, kid)
        obj = seal_object(obj, env.recipients())
        attach_signature(obj, key, kid)
    elif not signed:
        key, kid = env.signer()
        attach_signature(obj, key, kid)
    return NewVersion(
        stix_id=checked.id,
        type=checked.type,
        spec_version=checked.spec_version,
        version_us=checked.version_us,
        created_by_ref=obj.get("created_by_ref", checked.created_by_ref),
        tlp=tlp.label,
        tlp_defaulted=checked.tlp is None,
        body=_encode(obj),
        sealed=seal,
    )


def _encode(obj: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits
        raise InvalidObject(f"cannot be stored as JSON: {exc}") from None


def _label(obj: Any, key: str) -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


def _signature_key_ids(objects: Sequence[Any]) -> set[str]:
    ids = set()
    for obj in objects:
        raw = obj.get("x_tabadol_signature") if isinstance(obj, dict) else None
        if isinstance(raw, dict) and isinstance(raw.get("key_id"), str):
            ids.add(raw["key_id"])
    return ids


def publish_objects(
    node: Node,
    principal: Principal,
    collection: Collection,
    objects: Sequence[Any],
    *,
    encrypt: bool = False,
    directory: bool = False,
) -> StatusRecord:
    """Store every valid object, report every other one; one transaction, then acknowledge.

    Unsigned objects of an org whose keys the node holds are signed here; signed ones are
    verified against the publisher's keys. TLP:RED and AMBER+STRICT (or every object, with
    `encrypt`) are sealed to the audience. `directory` is the node publishing an org's
    identity: signed with the node key.
    """
    authorize_write(node, principal, collection)
    assert principal.org is not None
    orgs = node.store.list_orgs()
    now = node.clock()
    env = _Envelope(
        node=node,
        org=principal.org,
        collection=collection,
        hosted={org.identity_id: org for org in orgs},
        known_keys=node.store.keys_by_id(_signature_key_ids(objects)),
        directory=directory,
        encrypt=encrypt,
        now=now,
        orgs_by_id={org.id: org for org in orgs},
    )
    failures: list[tuple[str, str, str]] = []
    prepared: list[NewVersion] = []
    texts: list[str] = []  # each prepared object's own version text
    for obj in objects:
        text = _label(obj, "modified") or _label(obj, "created")
        try:
            prepared.append(_prepare(env, check_object(obj)))
            texts.append(text)
        except (InvalidObject, _Refused) as exc:
            failures.append((_label(obj, "id"), text, str(exc)))
        except CanonicalizationError as exc:
            reason = f"cannot be signed: no RFC 8785 canonical form ({exc})"
            failures.append((_label(obj, "id"), text, reason))
    status_id = str(uuid.uuid4())

    built: list[StatusRecord] = []  # the status made inside the write transaction

    def status_of(outcomes: list[tuple[WriteOutcome, int]]) -> StatusRecord:
        successes, failed = [], list(failures)
        for version, text, (outcome, version_us) in zip(prepared, texts, outcomes, strict=True):
            # the object's own timestamp text where it has one (formatting costs ~2 us each)
            shown = text if version.version_us is not None else format_us(version_us)
            entry = (version.stix_id, shown, _OUTCOME_MESSAGES.get(outcome, ""))
            if outcome is WriteOutcome.OWNED_BY_OTHER:
                failed.append((entry[0], entry[1], "another organization publishes this id here"))
            else:
                successes.append(entry)
        built.append(
            StatusRecord(status_id, principal.org_id, now, len(objects), successes, failed)
        )
        return built[-1]

    def audit_of(outcomes: list[tuple[WriteOutcome, int]]) -> list[AuditEvent]:
        status = built[-1]
        stored = [
            v.stix_id
            for v, (outcome, _) in zip(prepared, outcomes, strict=True)
            if outcome is WriteOutcome.STORED
        ]
        outcome = (
            Outcome.OK
            if not status.failures
            else (Outcome.PARTIAL if status.successes else Outcome.REFUSED)
        )
        detail: dict[str, Any] = {
            "collection": collection.uuid,
            "status": status_id,
            "stored": len(stored),
            "failed": len(status.failures),
        }
        if status.failures:
            detail["refusals"] = [[fid, reason] for fid, _, reason in status.failures[:100]]
        return [
            AuditEvent(
                "publish" if not directory else "directory.publish",
                actor_of(principal),
                outcome,
                stored,
                detail,
            )
        ]

    node.store.write_versions(collection.id, principal.org.id, prepared, now, status_of, audit_of)
    return built[-1]
