"""Signing in: e-mail and password, then the second factor, each outcome audited.

- One answer for an unknown address, a wrong password, an invited or disabled person:
  "the e-mail address or the password is wrong"; an unknown address is checked against a
  dummy Argon2 hash, so it costs the same time. Text that is no e-mail address is never
  looked up (it is an unknown address).
- Failures are counted per account (an HMAC of the address, known or not), per person's
  second factor and per client address (an IPv6 address by its /64); past a threshold (5
  per account, 5 wrong codes per person, 20 per address, counted over a day) each attempt is
  refused until a lock that doubles from 1 s up to 15 minutes ends (TooManyRequests with
  the seconds to wait). Each attempt is counted before the password or code is checked, in
  one write (concurrent guesses cannot slip past a lock), and taken back when it succeeds.
- A right password does not clear the account's counter while a second factor is pending,
  and never clears the factor's: only a complete sign-in clears both. After 5 wrong codes
  in a row the pending session ends (start again with the password).
- The lock is audited when it starts, not at each refused attempt (no flood of entries).
- Refused attempts are logged as "anonymous", with the address typed in the detail: nobody
  proved to be that person.
- The password step opens a session: complete when no second factor is due, else pending
  (5 minutes) until `second_factor` accepts one; that step replaces the pending session by a
  new one with a new secret (a session secret planted before sign-in is worth nothing).
- The password's hash is replaced when the node's Argon2 parameters have risen.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from tabadol.domain.audit import AuditEvent, Outcome, actor_of
from tabadol.domain.errors import Forbidden, InvalidInput, TooManyRequests, Unauthorized
from tabadol.domain.model import Principal, PrincipalKind
from tabadol.domain.people import (
    FACTOR_THRESHOLD,
    HOUR,
    Factor,
    Person,
    PersonSession,
    PersonStatus,
    SessionStage,
    account_key,
    address_key,
    factor_key,
    locked_for,
    normalize_email,
)
from tabadol.node.node import Node
from tabadol.storage.contract import NewSession, Reservation
from tabadol.usecases.membership.principals import hash_secret
from tabadol.usecases.people import sessions
from tabadol.usecases.people.factors import FactorProof, factors_of, second_factor_required
from tabadol.usecases.people.passwords import verify_password

NOT_AN_ADDRESS = "(not an e-mail address)"
WRONG = "the e-mail address or the password is wrong"
FACTOR_WRONG = "the second factor was not accepted"
PENDING_EXPIRED = "this sign-in has expired: start again with your password"
PENDING_US = 5 * 60 * 1_000_000
MAX_USER_AGENT = 200
MAX_ADDRESS = 64


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


def _actor(node: Node, person: Person) -> str:
    """The log's name for a person who proved their password."""
    org = node.store.org_by_id(person.org_id)
    principal = Principal(
        kind=PrincipalKind.ORG, org=org, role=person.role, person_email=person.email
    )
    return actor_of(principal)


def _event(
    node: Node,
    person: Person | None,
    outcome: Outcome,
    address: str,
    claimed: str = "",
    **detail: object,
) -> AuditEvent:
    """A sign-in entry: a success names the person as actor; a refusal is anonymous (the
    caller proved nothing) and names the address claimed in its detail."""
    if outcome is Outcome.OK and person is not None:
        return AuditEvent(
            "person.sign-in", _actor(node, person), outcome=outcome,
            detail={"address": address, **detail},
        )  # fmt: skip
    who = person.email if person is not None else claimed
    return AuditEvent(
        "person.sign-in",
        "anonymous",
        outcome=outcome,
        detail={"address": address, "person": who, **detail},
    )


def clean(text: str, limit: int) -> str:
    """A client's address or user agent as stored: printable characters only (no NUL, no
    lone surrogate), cut to `limit`."""
    return "".join(c for c in text[: limit * 4] if c.isprintable())[:limit]


def account_secret(node: Node) -> bytes:
    """The key of the account counters' HMAC, derived from the node key."""
    return hashlib.blake2b(bytes(node.node_key), person=b"tabadol-account", digest_size=32).digest()


def _reserve(node: Node, keys: list[str]) -> Reservation:
    """Count the attempt before checking it (TooManyRequests, and nothing counted, while a
    key is locked)."""
    reservation = node.store.reserve_attempt(keys, node.clock())
    if reservation.wait:
        wait = reservation.wait
        raise TooManyRequests(f"too many attempts: try again in {wait} s", retry_after=wait)
    return reservation


def _fail(
    node: Node,
    reservation: Reservation,
    person: Person | None,
    address: str,
    claimed: str,
    **detail: object,
) -> None:
    """Audit the failure the reservation counted, and the lock it starts (if it does)."""
    now = node.clock()
    events = [_event(node, person, Outcome.REFUSED, address, claimed, **detail)]
    wait = max((locked_for(c, now) for c in reservation.counted.values()), default=0)
    if wait:
        events.append(
            _event(node, person, Outcome.REFUSED, address, claimed, reason="locked", wait=wait)
        )
    node.store.append_audit(events, now)


def _lookup(email: str) -> str | None:
    """The address as stored, or None when the text is no e-mail address (never looked
    up: it is an unknown address)."""
    try:
        return normalize_email(email)
    except InvalidInput:
        return None


def _claimed(email: str) -> str:
    """What was typed, as a counter key and a log detail may hold it."""
    return clean(email, 254).strip().lower()


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
        hash_secret(secret), now + span, address, clean(agent, MAX_USER_AGENT), stage, factor
    )
    return secret, new


def sign_in(node: Node, email: str, password: str, *, address: str, user_agent: str = "") -> SignIn:
    """The password step. Unauthorized (one message) when it fails, TooManyRequests while
    locked out, Forbidden when the policy asks the person for a second factor they have not
    set up (after the right password only). The session is complete when no factor is due."""
    address = clean(address, MAX_ADDRESS)
    typed = _lookup(email)
    claimed = typed or _claimed(email)
    account = account_key(claimed, account_secret(node))
    keys = [account, address_key(address)]
    person = node.store.person_by_email(typed) if typed is not None else None
    reservation = _reserve(node, keys)
    stored = node.store.person_secrets(person.id) if person is not None else None
    ok, rehash = verify_password(node.settings, stored.password_hash if stored else None, password)
    if person is None or not ok or person.status is not PersonStatus.ACTIVE:
        reason = "disabled" if ok and person is not None else "bad-credentials"
        # The log keeps what was typed only when it is an address: a password typed into the
        # e-mail field must not land in the audit log.
        shown = typed if typed is not None else NOT_AN_ADDRESS
        _fail(node, reservation, person, address, shown, reason=reason, factor="password")
        raise Unauthorized(WRONG)
    if rehash is not None:
        node.store.set_password_hash(person.id, rehash)
    factors = factors_of(person)
    if not factors and second_factor_required(node.settings, person.role):
        event = _event(node, person, Outcome.REFUSED, address, reason="second-factor-missing")
        node.store.release_attempt(reservation, audit=[event], now=node.clock())
        raise Forbidden(
            "your role needs a second factor and you have none set up: ask an admin of your"
            " organization for a reset link to set one up"
        )
    stage = SessionStage.SECOND_FACTOR if factors else SessionStage.COMPLETE
    # complete: the account's counter is cleared; pending: only this attempt is taken back
    node.store.release_attempt(
        reservation, clear=[account] if not factors else [], now=node.clock()
    )
    secret, new = _open(node, person, stage, Factor.PASSWORD, address, user_agent)
    event = _event(node, person, Outcome.OK, address, factor="password", stage=stage.value)
    session = node.store.create_session(person.id, new, node.clock(), audit=[event])
    return SignIn(secret, session, person, factors)


def second_factor(
    node: Node, pending_secret: str, proof: FactorProof, *, address: str, user_agent: str = ""
) -> SignIn:
    """The factor step: the pending session (from `sign_in`) and a proof of one of the
    person's factors (`totp.TotpCode`, a passkey assertion). On success the pending session
    ends and a complete one, with a new secret, takes its place, and the person's account
    and factor counters are cleared. Unauthorized when the pending session is unknown or
    expired or the proof fails (counted against the person's factor; the fifth wrong one in
    a row ends the pending session); TooManyRequests while locked out."""
    address = clean(address, MAX_ADDRESS)
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
    factor = factor_key(person.id)
    keys = [factor, address_key(address)]
    reservation = _reserve(node, keys)
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
        _fail(
            node, reservation, person, address, person.email,
            reason="second-factor", factor=proof.kind.value,
        )  # fmt: skip
        if reservation.counted[factor].failures >= FACTOR_THRESHOLD:
            node.store.revoke_sessions(person.id, node.clock(), session_id=bearer.session.id)
        raise Unauthorized(FACTOR_WRONG)
    account = account_key(person.email, account_secret(node))
    node.store.release_attempt(reservation, clear=[factor, account], now=node.clock())
    return SignIn(secret, session, person, ())
