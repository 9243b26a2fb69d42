"""Admission of one envelope's objects: the exchange's rules, signatures and sealing — the
one path both a publish and a peer's page (which adds the federation's rules) go through.

In three passes, so that the Ed25519 work of a whole envelope runs at once on every core
(`crypto.batch`): (1) per object, the rules — authorship, TLP bound, which key signed or
will sign, defaults — and the canonical bytes; (2) every signature of the envelope verified
and made in two batches; (3) per object, refusals of bad signatures, sealing, encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from tabadol.crypto.batch import sign_many, verify_many
from tabadol.crypto.canonical import signing_payload
from tabadol.crypto.object_signature import (
    ObjectSignature,
    attach_signature,
    read_signature,
    set_signature,
)
from tabadol.crypto.sealed_object import parse_sealed, seal_object
from tabadol.domain.attestation import attested, without_attestation
from tabadol.domain.audience import tlp_allows
from tabadol.domain.errors import (
    CanonicalizationError,
    InvalidObject,
    Refused,
    SealingError,
    SignatureError,
)
from tabadol.domain.extensions import NODE_OBJECTS
from tabadol.domain.keys import Custody, KeyPurpose, OrgKey
from tabadol.domain.sealed import LEGACY_PROPERTY, clear_extras, inner_id, is_legacy
from tabadol.domain.stix import CheckedObject, check_object
from tabadol.domain.stix_rules import check_rules
from tabadol.domain.timestamps import format_us, parse_us
from tabadol.domain.tlp import TLP
from tabadol.storage.contract import NewVersion
from tabadol.text.fields import searchable_text
from tabadol.text.normalize import index_forms
from tabadol.text.observables import observables
from tabadol.usecases.publishing.envelope import Envelope
from tabadol.usecases.publishing.reserved_ids import (
    derived_form,
    envelope_identities,
    reserved_identity,
)

SEALED_TLPS = frozenset({TLP.RED, TLP.AMBER_STRICT})  # always end-to-end encrypted


@dataclass(slots=True)
class Admitted:
    """An object that passed the rules, waiting for its signature to be checked or made."""

    checked: CheckedObject
    tlp: TLP
    seal: bool
    payload: bytes  # the canonical bytes its signature covers
    signature: ObjectSignature | None = None  # as it arrived (None: the node signs)
    key: OrgKey | None = None  # the registered key that signature names
    refusal: str | None = field(default=None)


# --- pass 1: the rules -----------------------------------------------------------------------
def _check_authorship(env: Envelope, checked: CheckedObject) -> None:
    if checked.created_by_ref is not None and checked.created_by_ref != env.org.identity_id:
        other = env.hosted.get(checked.created_by_ref)
        if other is not None:
            raise Refused(
                f"created_by_ref names {other.name!r}: nobody publishes as another organization"
            )
    held = inner_id(checked.obj)  # a sealed item: the id of what it holds
    if held.startswith("identity--") and not env.signer.speaks_for_directory:
        other = env.hosted.get(held)
        if other is not None and other.id != env.org.id:
            raise Refused(f"this identity belongs to {other.name!r}")
        if other is not None:
            raise Refused(
                "an organization's identity is the node's directory record (it carries the"
                " org's keys): the node publishes it"
            )


def _check_reserved_identity(env: Envelope, checked: CheckedObject) -> None:
    """An org's identity id is derived from its home node and its name (`org_identity_id`),
    so anyone can compute the id of an org not yet created: only the node publishes an
    identity whose id is derived, from its name, for this node or a known peer (a peer's
    own org identities come with its directory, never as items: sync-in skips them)."""
    if checked.type != "identity" or env.signer.speaks_for_directory:
        return
    if reserved_identity(env, checked.obj):
        raise Refused(
            "this id is reserved for the identity of an organization of the node or a peer"
            " (derived from the node and the name): the node publishes it"
        )


def _check_named_author(env: Envelope, checked: CheckedObject) -> None:
    """A member names as author its own identity or a producer's it relays. Org identity
    ids are UUIDv5 (derived): one that does not exist yet may be the id of an org still to
    be added, so a UUIDv5 author must be an identity already in this collection or in the
    same envelope. Producers' ids are mostly UUIDv4 (MISP, MITRE) and are kept as posted."""
    ref = checked.created_by_ref
    if ref is None or env.from_peer or env.signer.speaks_for_directory:
        return
    if ref == env.org.identity_id or ref in env.hosted or not derived_form(ref):
        return
    if ref in envelope_identities(env) or env.node.store.authors_of(env.collection.id, ref):
        return
    raise Refused(
        f"created_by_ref names {ref}, a derived (UUIDv5) identity not known here: post the"
        " identity of the producer you relay first (or in the same envelope)"
    )


def _signing_key(env: Envelope, checked: CheckedObject, signature: ObjectSignature) -> OrgKey:
    """The registered key a signature names, if it may sign this object for this publisher."""
    key = env.known_keys.get(signature.key_id)
    if key is None:
        raise Refused(f"signed with an unknown key {signature.key_id}")
    if key.org_id != env.org.id:
        owner = env.orgs_by_id.get(key.org_id)
        raise Refused(
            f"signed with a key of {owner.name if owner else 'another member'!r}, not of"
            f" {env.org.name!r}: nobody signs for another member"
        )
    if key.purpose is not KeyPurpose.SIGN:
        raise Refused(f"{signature.key_id} is an encryption key, not a signing key")
    refusal = key.refusal_at(checked.version_us if checked.version_us is not None else env.now)
    if refusal is not None:
        raise Refused(refusal)
    return key


def _fill_defaults(env: Envelope, checked: CheckedObject) -> None:
    """Complete an unsigned object before the node signs it: its TLP marking when it has
    none. Authorship stays as posted (no `created_by_ref` is added): a member relays
    other producers' objects (a MISP instance's identity, its relationships), and who
    published the item is the node's provenance entry, not a rewrite of the author."""
    obj = checked.obj
    if checked.tlp is None and checked.type != "marking-definition":
        # the channel's default or what a container passes on (`unmarked_tlp`), not a
        # stricter granular TLP: that one marks its part only
        level = unmarked_tlp(env, checked)
        obj["object_marking_refs"] = [*obj.get("object_marking_refs", []), level.marking_id]


def _check_sealed(env: Envelope, checked: CheckedObject) -> None:
    """A sealed item carries nothing in clear but routing, ciphertext and signature, holds
    no object the node defines, arrives in the previous release's form only from a peer, and
    (from a member) is sealed to exactly the audience's current keys."""
    extra = clear_extras(checked.obj)
    if extra:
        raise Refused(
            "a sealed object carries only routing metadata in clear; found "
            + ", ".join(sorted(extra))
        )
    if inner_id(checked.obj) in NODE_OBJECTS:
        raise Refused("the node's own objects (TLP markings, tabadol's extensions) are not sealed")
    if is_legacy(checked.obj) and not env.from_peer:
        # a peer relays its author's sealed form as signed (only the author can re-seal it);
        # a member's client seals in this release's form, which generic STIX clients parse
        raise Refused(
            f"the sealed form with {LEGACY_PROPERTY} is taken from peers only: seal into a"
            " tabadol-sealed item (tabadol publish of this release)"
        )
    try:
        sealed = parse_sealed(checked.obj)
    except SealingError as exc:
        raise Refused(str(exc)) from None
    if env.from_peer:
        # sealed at the author's node to the keys it knew then; this node's view of the
        # audience may lag or lead it. Recipients open what is sealed to them, nothing more.
        return
    expected = env.recipients()
    if set(sealed.sealed_keys) != set(expected):
        raise Refused(
            "sealed to other keys than the current encryption keys of the audience: "
            + ", ".join(sorted(expected))
        )


def check_semantics(checked: CheckedObject) -> None:
    """The type's value rules of STIX 2.1 (`domain.stix_rules`): what a consumer of the item
    relies on (a report's object_refs, a pattern that parses). A sealed object carries only
    routing metadata in clear: its content is checked by its author's client."""
    if not checked.sealed:
        check_rules(checked.obj, checked.type)


def is_standard_marking(checked: CheckedObject) -> bool:
    """Whether the object is one the node serves from constants (a standard TLP
    marking-definition, a tabadol extension-definition or its author), exactly as defined
    (in any key order): the node's, so posting it stores nothing.

    The same id with any other content is refused: a member must not own, sign or reword
    a marking the node's audience rules read (e.g. the TLP:RED id named "TLP:CLEAR"), nor
    the definition of the node's own extensions.
    """
    standard = NODE_OBJECTS.get(checked.id)
    if standard is None:
        return False
    if checked.obj != standard:
        what = "standard" if standard["type"] == "marking-definition" else "node's"
        raise Refused(
            f"{checked.id} is the {what} {standard['name']} {standard['type']}: the node"
            " serves it as its specification defines it; post it unchanged or not at all"
        )
    return True


def unmarked_tlp(env: Envelope, checked: CheckedObject) -> TLP:
    """The TLP of an object with no object-level TLP: its channel's default, or stricter,
    the TLP of a container of the same envelope that lists it (a MISP event's report
    passing its TLP to the attributes it lists: `domain.containment`)."""
    default = env.node.channel_defaults.for_kind(env.collection.kind)
    inherited = env.inherited.get(checked.id)
    return default if inherited is None else max(default, inherited)


def marking_tlp(env: Envelope, checked: CheckedObject) -> TLP:
    """The TLP that bounds the object: its object-level TLP (or, when it has none,
    `unmarked_tlp`) and every TLP of its granular markings, the strictest deciding. The node serves
    an object whole, so a TLP:RED part makes a TLP:RED item (sealed, never in `members`)."""
    tlp = checked.tlp or unmarked_tlp(env, checked)
    granular = checked.granular_tlp
    return tlp if granular is None else max(tlp, granular)


def admit(env: Envelope, checked: CheckedObject) -> Admitted:
    """Pass 1 for one object: every rule that needs no signature arithmetic."""
    _check_authorship(env, checked)
    _check_reserved_identity(env, checked)
    _check_named_author(env, checked)
    tlp = marking_tlp(env, checked)
    if not tlp_allows(tlp, env.collection.kind):
        taken = checked.tlp is None and checked.id in env.inherited
        raise Refused(
            f"{tlp.label} may not be shared with the audience {env.collection.kind.value!r}"
            + (" (the TLP of the report or grouping listing it in this envelope)" if taken else "")
        )
    obj = checked.obj
    try:
        signature = read_signature(obj)
    except SignatureError as exc:
        raise Refused(str(exc)) from None
    seal = checked.sealed or env.encrypt or tlp in SEALED_TLPS
    if signature is not None:
        key = _signing_key(env, checked, signature)
        if checked.sealed:
            _check_sealed(env, checked)
        elif seal and env.org.custody is not Custody.NODE:
            raise Refused(
                f"{tlp.label} items of {env.org.name!r} must arrive end-to-end encrypted:"
                " its client seals them (tabadol publish)"
            )
        return Admitted(checked, tlp, seal, _payload(env, obj), signature, key)
    if checked.sealed:
        raise Refused("a sealed object must be signed by its author")
    if not env.signer.may_sign_for(env.org):
        raise Refused(
            f"missing signature: {env.org.name!r} keeps its keys and signs its own objects"
        )
    if seal:
        env.recipients()  # refuse now if the audience cannot receive sealed items
    checked.obj = dict(obj)  # the caller's object stays as given: defaults and signature go
    _fill_defaults(env, checked)  # on a copy (a caller reusing it must not re-send them)
    env.signing_key()
    return Admitted(checked, tlp, seal, _payload(env, checked.obj))


def _payload(env: Envelope, obj: dict[str, Any]) -> bytes:
    """The bytes a signature covers, or the object's refusal when JCS cannot represent it."""
    try:
        return signing_payload(obj, known_exact=env.jcs_exact)
    except CanonicalizationError as exc:
        raise Refused(f"cannot be signed: no RFC 8785 canonical form ({exc})") from None


# --- pass 2: every signature of the envelope at once ------------------------------------------
def settle_signatures(env: Envelope, admitted: Sequence[Admitted]) -> None:
    """Verify what arrived signed and sign the rest, in two batches over all cores."""
    arrived = [a for a in admitted if a.signature is not None]
    checks = verify_many(
        [(a.key.public_key, a.payload, a.signature.value) for a in arrived if a.key and a.signature]
    )
    for item, ok in zip(arrived, checks, strict=True):
        if not ok:
            item.refusal = (
                "the signature does not verify: the object was changed after it was signed"
            )
    to_sign = [a for a in admitted if a.signature is None]
    if not to_sign:
        return
    key, key_id = env.signing_key()
    for item, value in zip(to_sign, sign_many(key, [a.payload for a in to_sign]), strict=True):
        set_signature(item.checked.obj, key_id, value)


# --- pass 3: sealing and encoding ----------------------------------------------------------------
def finish(env: Envelope, item: Admitted) -> NewVersion:
    """The version to store: the object as signed, or its sealed form signed by the author."""
    if item.refusal is not None:
        raise Refused(item.refusal)
    checked = item.checked
    obj = checked.obj
    version_us = checked.version_us
    if item.seal and not checked.sealed:
        key, key_id = env.signing_key()
        try:
            obj = seal_object(obj, env.recipients(), stamp=format_us(env.now))
        except SealingError as exc:
            raise Refused(str(exc)) from None
        attach_signature(obj, key, key_id)
        version_us = parse_us(obj["modified"])  # an observable's item is dated when sealed
    # the node's statement, outside the signature: who published it, where, for whom
    obj = attested(obj, env.attestation(item.tlp))
    body, stems = ("", "") if item.seal else index_forms(searchable_text(obj))
    # sealed items keep their content, observables included, from the node's files
    found = frozenset() if item.seal else frozenset(observables(obj))
    return NewVersion(
        stix_id=obj["id"],  # a sealed item: the wrapper's (domain/sealed.py)
        type=obj["type"],
        spec_version=checked.spec_version,
        version_us=version_us,
        created_by_ref=checked.created_by_ref,
        tlp=item.tlp.label,
        tlp_defaulted=checked.tlp is None,
        body=_encode(obj),
        sealed=item.seal,
        search_body=body,
        search_stems=stems,
        observables=found,
    )


def _encode(obj: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits
        raise InvalidObject(f"cannot be stored as JSON: {exc}") from None


# --- the three passes over one envelope ------------------------------------------------------
class ExtraRules(Protocol):
    """Rules a caller adds around the exchange's own (sync-in: the federation's); each
    raises Refused for an object `index` of the envelope that breaks one."""

    def before(self, index: int, checked: CheckedObject) -> None: ...
    def after(self, index: int, item: Admitted) -> None: ...


@dataclass(frozen=True, slots=True)
class Refusal:
    index: int  # of the object in the envelope
    stix_id: str | None  # its id once it passed the rules (None: the caller names it)
    reason: str


@dataclass(slots=True)
class Admission:
    """What an envelope's objects became: versions to store and refusals, in order."""

    versions: list[tuple[int, NewVersion]] = field(default_factory=list)  # (index, version)
    refusals: list[Refusal] = field(default_factory=list)
    standard: list[tuple[int, str]] = field(default_factory=list)  # (index, id): the node's own


def admit_all(env: Envelope, objects: Sequence[Any], rules: ExtraRules | None = None) -> Admission:
    """Every object through the three passes; each refused one with its reason, the others
    as versions to store."""
    admission = Admission()
    admitted = _pass_rules(env, objects, rules, admission)
    settle_signatures(env, [item for _, item in admitted])
    for index, item in admitted:
        try:
            admission.versions.append((index, finish(env, item)))
        except (InvalidObject, Refused) as exc:
            admission.refusals.append(Refusal(index, item.checked.id, str(exc)))
    return admission


def _pass_rules(
    env: Envelope, objects: Sequence[Any], rules: ExtraRules | None, admission: Admission
) -> list[tuple[int, Admitted]]:
    admitted, refusals = [], admission.refusals
    for index, obj in enumerate(objects):
        try:
            # the node's own entries are its statement, never a member's or a peer's: a
            # relayed or re-posted object carries those of the node it was read from
            checked = check_object(without_attestation(obj))
            check_semantics(checked)
            if is_standard_marking(checked):
                admission.standard.append((index, checked.id))
                continue
            if rules is not None:
                rules.before(index, checked)
            item = admit(env, checked)
            if rules is not None:
                rules.after(index, item)
            admitted.append((index, item))
        except (InvalidObject, Refused) as exc:
            refusals.append(Refusal(index, None, str(exc)))
    return admitted
