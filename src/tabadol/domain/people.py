"""People: the users of an org, their sessions and enrolment links, and the pure rules of
signing in (e-mail form, the role a personal token acts with, the backoff after failures).

A person belongs to one org and acts with a role of it (`model.Role`); to the access policy a
person is an org principal with that role, so every rule of the node holds for people as it
does for tokens. What a person proves (password hash, TOTP secret, passkey keys) never
appears in these records: the sign-in use case alone reads those.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from tabadol.domain.errors import InvalidInput
from tabadol.domain.model import Role


class PersonStatus(StrEnum):
    INVITED = "invited"  # an enrolment link is out; no password yet
    ACTIVE = "active"
    DISABLED = "disabled"  # kept (and audited by name), but signs in and acts no more


class Factor(StrEnum):
    """What a session was proven with: the password alone, or the second factor after it."""

    PASSWORD = "password"
    TOTP = "totp"
    PASSKEY = "passkey"


class SessionStage(StrEnum):
    SECOND_FACTOR = "second-factor"  # the password was right; the factor is pending
    COMPLETE = "complete"


class LinkPurpose(StrEnum):
    ENROL = "enrol"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class Person:
    """A person as listings show them (never a secret; only whether each factor is set)."""

    id: int
    org_id: int
    email: str
    name: str
    role: Role
    status: PersonStatus
    created: int
    has_password: bool
    totp_enabled: bool
    passkey_count: int

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled or self.passkey_count > 0


@dataclass(frozen=True, slots=True)
class PersonSession:
    """A server-side session; the cookie holds its secret, the database its SHA-256."""

    id: int
    person_id: int
    created: int
    last_seen: int
    expires: int  # absolute end (µs), whatever the activity
    revoked: int | None
    address: str
    user_agent: str
    stage: SessionStage
    factor: Factor


@dataclass(frozen=True, slots=True)
class EnrolmentLink:
    """A one-time link that sets a person's password (enrolment or reset)."""

    id: int
    person_id: int
    purpose: LinkPurpose
    created: int
    expires: int
    used: int | None


@dataclass(frozen=True, slots=True)
class Passkey:
    """A WebAuthn credential of a person: its id and public key (no secret is stored)."""

    id: int
    person_id: int
    credential_id: bytes
    public_key: bytes
    sign_count: int
    label: str
    created: int
    last_used: int | None


@dataclass(frozen=True, slots=True)
class FailureCounter:
    """Failed sign-ins counted under one key (`account:…` or `address:…`)."""

    key: str
    failures: int
    last_failure: int
    locked_until: int | None


# --- e-mail addresses -------------------------------------------------------------------------
MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$")


def normalize_email(text: str) -> str:
    """The stored form of an e-mail address (NFC, stripped, lower case), or InvalidInput:
    one `local@domain` with a dot in the domain, at most 254 characters, no control, format
    or bidi characters (which would make two addresses look alike or read reordered)."""
    email = unicodedata.normalize("NFC", text).strip().lower()
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in email):
        raise InvalidInput("the e-mail address holds control or formatting characters")
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise InvalidInput("the e-mail address must be one local@domain, at most 254 characters")
    return email


# --- roles ------------------------------------------------------------------------------------
_RANK = {Role.READER: 0, Role.PUBLISHER: 1, Role.ADMIN: 2}


def role_at_most(role: Role, ceiling: Role) -> bool:
    return _RANK[role] <= _RANK[ceiling]


def effective_role(token_role: Role, person_role: Role) -> Role:
    """A personal token acts with the lower of its own role and its person's current one:
    a person who loses a role loses it in every token at once."""
    return token_role if role_at_most(token_role, person_role) else person_role


# --- failed sign-ins --------------------------------------------------------------------------
SECOND = 1_000_000  # µs
FAILURE_WINDOW = 15 * 60 * SECOND  # failures older than this (since the last one) are forgotten
MAX_LOCK_SECONDS = 900
ACCOUNT_THRESHOLD = 5
# An address is often a whole agency behind one NAT: its colleagues' typos must not lock it out
# as fast as one account, but a guesser spraying many accounts from it is still slowed down.
ADDRESS_THRESHOLD = 20


def account_key(email: str) -> str:
    """The counter of an e-mail address, known or not (so that a lockout tells nobody
    whether a person of that address exists)."""
    return "account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def address_key(address: str) -> str:
    return "address:" + address[:64]


def lock_seconds(key: str, failures: int) -> int:
    """How long the key is locked after its `failures`-th failure in a row (0: not locked):
    from the threshold on, 1 s, 2 s, 4 s … doubling up to 15 minutes."""
    threshold = ACCOUNT_THRESHOLD if key.startswith("account:") else ADDRESS_THRESHOLD
    if failures < threshold:
        return 0
    return min(1 << min(failures - threshold, 20), MAX_LOCK_SECONDS)


def after_failure(counter: FailureCounter | None, key: str, now: int) -> FailureCounter:
    """The counter after one more failure at `now` (a stale one starts again at 1)."""
    failures = 1
    if counter is not None and now - counter.last_failure <= FAILURE_WINDOW:
        failures = counter.failures + 1
    seconds = lock_seconds(key, failures)
    return FailureCounter(key, failures, now, now + seconds * SECOND if seconds else None)


def locked_for(counter: FailureCounter | None, now: int) -> int:
    """Whole seconds until the counter's lock ends (0: not locked)."""
    if counter is None or counter.locked_until is None or counter.locked_until <= now:
        return 0
    return int(-(-(counter.locked_until - now) // SECOND))
