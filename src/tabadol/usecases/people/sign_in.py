"""Signing in: e-mail and password, then the second factor, each outcome audited.

- One answer for an unknown address, a wrong password, an invited or disabled person:
  "the e-mail address or the password is wrong"; an unknown address is checked against a
  dummy Argon2 hash, so it costs the same time.
- Failures are counted per account (the address's hash, known or not) and per client
  address; past a threshold (5 per account, 20 per address, within 15 minutes) each attempt
  is refused until a lock that doubles from 1 s up to 15 minutes ends (TooManyRequests with
  the seconds to wait). A success clears the account's counter.
- The password step opens a session: complete when no second factor is due, else pending
  (5 minutes) until `second_factor` accepts one; that step replaces the pending session by a
  new one with a new secret (a session secret planted before sign-in is worth nothing).
- The password's hash is replaced when the node's Argon2 parameters have risen.
"""

from __future__ import annotations

from dataclasses import dataclass

from tabadol.domain.audit import AuditEvent, Outcome, actor_of
from tabadol.domain.errors import Forbidden, InvalidInput, TooManyRequests, Unauthorized
from tabadol.domain.model import Principal, PrincipalKind
from tabadol.domain.people import (
    Factor,
    Person,
    PersonSession,
    PersonStatus,
    SessionStage,
    account_key,
    address_key,
    locked_for,
    normalize_email,
)
from tabadol.node.node import Node
from tabadol.storage.contract import NewSession
from tabadol.usecases.membership.principals import hash_secret
from tabadol.usecases.people import sessions
from tabadol.usecases.people.factors import FactorProof, factors_of, second_factor_required
from tabadol.usecases.people.passwords import verify_password

WRONG = "the e-mail address or the password is wrong"
FACTOR_WRONG = "the second factor was not accepted"
PENDING_EXPIRED = "this sign-in has expired: start again with your password"
PENDING_US = 5 * 60 * 1_000_000
HOUR = 3600 * 1_000_000
MAX_USER_AGENT = 200


@dataclass(frozen=True, slots=True)
class SignIn:
    """A session opened by a sign-in step: its secret (for the cookie; shown once), the
    session, and — while it waits for a second factor — the factors the person may use."""

    secret: str
    session: PersonSession
    person: Person
    factors: tuple[Factor, ...]

    @property
    def complete(self) -> bool:
        return self.session.stage is SessionStage.COMPLETE


def _actor(node: Node, person: Person | None) -> str:
    """The log's name for whoever tried: the person when the address is theirs."""
    if person is None:
        return "anonymous"
    org = node.store.org_by_id(person.org_id)
    principal = Principal(
        kind=PrincipalKind.ORG, org=org, role=person.role, person_email=person.email
    )
    return actor_of(principal)


def _event(
    node: Node, person: Person | None, outcome: Outcome, address: str, **detail: object
) -> AuditEvent:
    return AuditEvent(
        "person.sign-in",
        _actor(node, person),
        outcome=outcome,
        detail={"address": address[:64], **detail},
    )


def _refuse_if_locked(node: Node, keys: list[str], person: Person | None, address: str) -> None:
    now = node.clock()
    counters = node.store.failure_counters(keys)
    wait = max((locked_for(counters.get(key), now) for key in keys), default=0)
    if wait:
        event = _event(node, person, Outcome.REFUSED, address, reason="locked", wait=wait)
        node.store.append_audit([event], now)
        raise TooManyRequests(f"too many attempts: try again in {wait} s", retry_after=wait)


def _fail(
    node: Node, keys: list[str], person: Person | None, address: str, **detail: object
) -> None:
    """Count the failure under each key, with its audit entry (and the lock it starts)."""
    now = node.clock()
    event = _event(node, person, Outcome.REFUSED, address, **detail)
    counted = node.store.record_failure(keys, now, audit=[event])
    wait = max((locked_for(c, now) for c in counted.values()), default=0)
    if wait:
        lock = _event(node, person, Outcome.REFUSED, address, reason="locked", wait=wait)
        node.store.append_audit([lock], now)


def _lookup(email: str) -> str:
    """The address as stored, or the typed text (kept only as the key of its counter)."""
    try:
        return normalize_email(email)
    except InvalidInput:
        return email.strip().lower()[:254]


def _open(
    node: Node, person: Person, stage: SessionStage, factor: Factor, address: str, agent: str
) -> tuple[str, NewSession]:
    now = node.clock()
    span = (
        PENDING_US
        if stage is SessionStage.SECOND_FACTOR
        else (node.settings.session_absolute_hours * HOUR)
    )
    secret = sessions.new_secret()
    new = NewSession(
        hash_secret(secret), now + span, address[:64], agent[:MAX_USER_AGENT], stage, factor
    )
    return secret, new


def sign_in(node: Node, email: str, password: str, *, address: str, user_agent: str = "") -> SignIn:
    """The password step. Unauthorized (one message) when it fails, TooManyRequests while
    locked out, Forbidden when the policy asks the person for a second factor they have not
    set up (after the right password only). The session is complete when no factor is due."""
    typed = _lookup(email)
    keys = [account_key(typed), address_key(address)]
    person = node.store.person_by_email(typed)
    _refuse_if_locked(node, keys, person, address)
    secrets = node.store.person_secrets(person.id) if person is not None else None
    ok, rehash = verify_password(
        node.settings, secrets.password_hash if secrets else None, password
    )
    if person is None or not ok or person.status is not PersonStatus.ACTIVE:
        reason = "disabled" if ok and person is not None else "bad-credentials"
        _fail(node, keys, person, address, reason=reason, factor=Factor.PASSWORD.value)
        raise Unauthorized(WRONG)
    if rehash is not None:
        node.store.set_password_hash(person.id, rehash)
    node.store.clear_failures(keys[0])
    factors = factors_of(person)
    if not factors and second_factor_required(node.settings, person.role):
        event = _event(node, person, Outcome.REFUSED, address, reason="second-factor-missing")
        node.store.append_audit([event], node.clock())
        raise Forbidden(
            "your role needs a second factor and you have none set up: ask an admin of your"
            " organization for a reset link to set one up"
        )
    stage = SessionStage.SECOND_FACTOR if factors else SessionStage.COMPLETE
    secret, new = _open(node, person, stage, Factor.PASSWORD, address, user_agent)
    event = _event(
        node, person, Outcome.OK, address, factor=Factor.PASSWORD.value, stage=stage.value
    )
    session = node.store.create_session(person.id, new, node.clock(), audit=[event])
    return SignIn(secret, session, person, factors)


def second_factor(
    node: Node, pending_secret: str, proof: FactorProof, *, address: str, user_agent: str = ""
) -> SignIn:
    """The factor step: the pending session (from `sign_in`) and a proof of one of the
    person's factors (`totp.TotpCode`, a passkey assertion). On success the pending session
    ends and a complete one, with a new secret, takes its place. Unauthorized when the
    pending session is unknown or expired or the proof fails (counted as a failure);
    TooManyRequests while locked out."""
    bearer = node.store.session_bearer(hash_secret(pending_secret.strip()))
    now = node.clock()
    if (
        bearer is None
        or bearer.session.stage is not SessionStage.SECOND_FACTOR
        or bearer.session.revoked is not None
        or bearer.session.expires <= now
        or bearer.person.status is not PersonStatus.ACTIVE
    ):
        raise Unauthorized(PENDING_EXPIRED)
    person = bearer.person
    keys = [account_key(person.email), address_key(address)]
    _refuse_if_locked(node, keys, person, address)
    accepted = proof.check(node, person) if proof.kind in factors_of(person) else None
    secret, new = _open(node, person, SessionStage.COMPLETE, proof.kind, address, user_agent)
    event = _event(node, person, Outcome.OK, address, factor=proof.kind.value, stage="complete")
    session = None
    if accepted is not None:
        session = node.store.complete_session(
            bearer.session.id,
            new,
            node.clock(),
            totp_step=accepted.totp_step,
            passkey_use=accepted.passkey_use,
            audit=[event],
        )
    if session is None:
        _fail(node, keys, person, address, reason="second-factor", factor=proof.kind.value)
        raise Unauthorized(FACTOR_WRONG)
    node.store.clear_failures(keys[0])
    return SignIn(secret, session, person, ())
