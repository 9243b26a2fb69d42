"""Passkeys (WebAuthn, the `webauthn` package): registering one at enrolment, and signing in
with one as the second factor.

- The relying party is the node as browsers reach it: its id is the host of `public_url`,
  or, when `public_url` is unset, the host the request was sent to (a browser checks it
  against the page's own origin, so a forged `Host` only fails its own ceremony); the
  expected origin is the scheme, host and port of the same. WebAuthn needs a domain: a node
  reached by IP address cannot offer passkeys.
- Each ceremony's challenge is 32 random bytes stored server-side under a binding — the
  SHA-256 of the purpose and the browser's cookie secret (the pending session's at sign-in;
  the pre-session's and the link's at enrolment) — for 5 minutes, and taken (deleted) by the
  one verification that uses it.
- A credential is kept as its id, public key and sign count; an assertion whose count does
  not rise above the stored one (when either is non-zero) is refused as a cloned key.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import webauthn
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tabadol.config import Settings
from tabadol.domain.errors import InvalidInput, Unauthorized
from tabadol.domain.people import Factor, Person, PersonStatus, SessionStage
from tabadol.node.node import Node
from tabadol.storage.contract import NewPasskey as NewPasskey  # the enrolment form names it
from tabadol.usecases.membership.principals import hash_secret
from tabadol.usecases.people.factors import Accepted

CHALLENGE_US = 5 * 60 * 1_000_000
TIMEOUT_MS = 120_000
MAX_CREDENTIAL_JSON = 64 * 1024
NOT_ACCEPTED = "the passkey was not accepted: try again"
PENDING_GONE = "this sign-in has expired: start again with your password"


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """The node as the browser sees it: the WebAuthn relying party id and the origin."""

    id: str
    origin: str
    name: str


def relying_party(settings: Settings, request_origin: str) -> RelyingParty:
    """From `public_url` when set, else from the origin the request was sent to
    (`scheme://host[:port]`). InvalidInput when the host is an IP address (no passkeys)."""
    base = settings.public_url.strip() or request_origin
    try:  # the origin comes from the request's Host header: anything may be in it
        parts = urlsplit(base)
        host = (parts.hostname or "").lower()
        netloc = parts.netloc
    except ValueError:
        raise InvalidInput("passkeys need the node to be reached by a domain name") from None
    if not host or host.replace(".", "").isdigit() or ":" in host:
        raise InvalidInput("passkeys need the node to be reached by a domain name, not an address")
    return RelyingParty(host, f"{parts.scheme}://{netloc}".lower(), settings.node_name)


def binding(purpose: str, *secrets_: str) -> bytes:
    """What a challenge is stored under: the purpose and the secrets of the browser that
    asked (never stored as such)."""
    return hashlib.sha256("\x00".join((purpose, *secrets_)).encode()).digest()


def _store_challenge(node: Node, bound: bytes) -> bytes:
    challenge = secrets.token_bytes(32)
    now = node.clock()
    node.store.put_challenge(bound, challenge, now + CHALLENGE_US, now)
    return challenge


def _user_handle(person: Person) -> bytes:
    return hashlib.sha256(b"tabadol person\x00" + str(person.id).encode()).digest()[:16]


def registration_options(node: Node, rp: RelyingParty, bound: bytes, person: Person) -> str:
    """The `PublicKeyCredentialCreationOptions` (JSON) for a new passkey of `person`."""
    options = webauthn.generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=_user_handle(person),
        user_name=person.email,
        user_display_name=person.name or person.email,
        challenge=_store_challenge(node, bound),
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=key.credential_id)
            for key in node.store.passkeys_of(person.id)
        ],
    )
    return webauthn.options_to_json(options)


def _credential(text: str) -> str:
    if not text or len(text) > MAX_CREDENTIAL_JSON:
        raise InvalidInput(NOT_ACCEPTED)
    try:
        parsed = json.loads(text)
    except ValueError:
        raise InvalidInput(NOT_ACCEPTED) from None
    if not isinstance(parsed, dict):
        raise InvalidInput(NOT_ACCEPTED)
    return text


def verify_registration(
    node: Node, rp: RelyingParty, bound: bytes, credential_json: str, label: str = ""
) -> NewPasskey:
    """The passkey a registration ceremony made, verified against its stored challenge
    (taken: it answers once); InvalidInput otherwise."""
    text = _credential(credential_json)
    challenge = node.store.take_challenge(bound, node.clock())
    if challenge is None:
        raise InvalidInput(NOT_ACCEPTED)
    try:
        verified = webauthn.verify_registration_response(
            credential=text,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise InvalidInput(NOT_ACCEPTED) from None
    return NewPasskey(
        verified.credential_id, verified.credential_public_key, verified.sign_count, label[:100]
    )


def pending_person(node: Node, pending_secret: str) -> Person:
    """The person of a session waiting for its second factor; Unauthorized otherwise."""
    bearer = node.store.session_bearer(hash_secret(pending_secret.strip()))
    if (
        bearer is None
        or bearer.session.stage is not SessionStage.SECOND_FACTOR
        or bearer.session.revoked is not None
        or bearer.session.expires <= node.clock()
        or bearer.person.status is not PersonStatus.ACTIVE
    ):
        raise Unauthorized(PENDING_GONE)
    return bearer.person


def authentication_options(node: Node, rp: RelyingParty, bound: bytes, person: Person) -> str:
    """The `PublicKeyCredentialRequestOptions` (JSON) naming the person's passkeys."""
    options = webauthn.generate_authentication_options(
        rp_id=rp.id,
        challenge=_store_challenge(node, bound),
        timeout=TIMEOUT_MS,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=key.credential_id)
            for key in node.store.passkeys_of(person.id)
        ],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return webauthn.options_to_json(options)


@dataclass(frozen=True, slots=True)
class PasskeyAssertion:
    """A passkey's answer to the sign-in challenge (`factors.FactorProof`)."""

    credential_json: str
    rp: RelyingParty
    bound: bytes

    @property
    def kind(self) -> Factor:
        return Factor.PASSKEY

    def check(self, node: Node, person: Person) -> Accepted | None:
        challenge = node.store.take_challenge(self.bound, node.clock())
        if challenge is None:
            return None
        try:
            text = _credential(self.credential_json)
            raw_id = base64url_to_bytes(str(json.loads(text).get("rawId") or ""))
        except (InvalidInput, ValueError):
            return None
        passkey = node.store.passkey_by_credential(raw_id)
        if passkey is None or passkey.person_id != person.id:
            return None
        try:
            verified = webauthn.verify_authentication_response(
                credential=text,
                expected_challenge=challenge,
                expected_rp_id=self.rp.id,
                expected_origin=self.rp.origin,
                credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count,
            )
        except (WebAuthnException, ValueError, KeyError, TypeError):
            return None  # a wrong signature, or a sign count that did not rise
        return Accepted(passkey_use=(passkey.id, verified.new_sign_count))
