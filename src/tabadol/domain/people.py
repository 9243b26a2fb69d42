"""People: the users of an org, their sessions and enrolment links, and the pure rules of
signing in (e-mail form, the role a personal token acts with, the backoff after failures).

A person belongs to one org and acts with a role of it (`model.Role`); to the access policy a
person is an org principal with that role, so every rule of the node holds for people as it
does for tokens. What a person proves (password hash, TOTP secret, passkey keys) never
appears in these records: the sign-in use case alone reads those.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
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
    issued_by: str = ""  # the actor who made the link (an admin, the operator)


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


# --- text that enters from outside ---------------------------------------------------------
def check_utf8(what: str, text: str) -> str:
    """`text` if it can be stored and hashed: UTF-8 encodable (no lone surrogate) and free of
    NUL (which PostgreSQL refuses in text); InvalidInput otherwise — never an error deeper
    down that would answer differently for a known and an unknown account."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} is not valid text (a lone surrogate)") from None
    if "\x00" in text:
        raise InvalidInput(f"{what} holds a NUL character")
    return text


# --- e-mail addresses -------------------------------------------------------------------------
MAX_EMAIL = 254
MAX_EMAIL_INPUT = 1000  # longer input is refused before any normalization (cost)
# The local part: ASCII letters, digits and . _ % + - (and letters, marks and digits of other
# scripts, for internationalized mailboxes), dot-separated without empty atoms. Nothing that
# could read as a separator of an actor string (`/`, `:`) or markup (`"`, `<`).
_LOCAL_ATOM = re.compile(r"^[A-Za-z0-9_%+\-]+$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _local_ok(local: str) -> bool:
    if not 1 <= len(local) <= 64:
        return False
    for atom in local.split("."):
        if not atom:
            return False  # leading, trailing or consecutive dots
        for c in atom:
            if c.isascii():
                if not _LOCAL_ATOM.match(c):
                    return False
            elif unicodedata.category(c)[0] not in "LMN":
                return False
    return True


def _domain_ascii(domain: str) -> str | None:
    """The domain in its ASCII (IDNA) form, every label letters, digits and hyphens, with
    a dot; None when it is not one."""
    labels = domain.split(".")
    if len(labels) < 2:
        return None
    out = []
    for label in labels:
        if not label:
            return None
        if not label.isascii():
            try:
                label = label.encode("idna").decode("ascii")
            except UnicodeError:
                return None
        if not _LABEL.match(label):
            return None
        out.append(label)
    if out[-1].isdigit():
        return None  # a top-level label is never all digits
    return ".".join(out)


def normalize_email(text: str) -> str:
    """The stored form of an e-mail address, or InvalidInput: NFC, stripped, lower case;
    one `local@domain` of at most 254 characters, the local part ASCII letters, digits and
    `._%+-` (or letters and digits of other scripts), the domain letter-digit-hyphen labels
    (a non-ASCII domain is stored in its IDNA form, so both spellings are one address)."""
    if len(text) > MAX_EMAIL_INPUT:
        raise InvalidInput("the e-mail address must be one local@domain, at most 254 characters")
    email = unicodedata.normalize("NFC", check_utf8("the e-mail address", text)).strip().lower()
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in email):
        raise InvalidInput("the e-mail address holds control or formatting characters")
    local, at, domain = email.rpartition("@")
    ascii_domain = _domain_ascii(domain) if at else None
    if ascii_domain is None or not _local_ok(local):
        raise InvalidInput("the e-mail address must be one local@domain, at most 254 characters")
    email = f"{local}@{ascii_domain}"
    if len(email) > MAX_EMAIL:
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
MINUTE = 60 * SECOND
HOUR = 3600 * SECOND
DAY = 24 * HOUR
# A counter is kept for a day after its last failure, so the backoff keeps growing for a
# patient guesser (who waits out each lock) up to its ceiling instead of starting again.
FAILURE_WINDOW = DAY
MAX_LOCK_SECONDS = 900
ACCOUNT_THRESHOLD = 5
FACTOR_THRESHOLD = 5  # wrong second-factor codes of a person, across sign-ins
# An address is often a whole agency behind one NAT: its colleagues' typos must not lock it out
# as fast as one account, but a guesser spraying many accounts from it is still slowed down.
ADDRESS_THRESHOLD = 20


def account_key(email: str, secret: bytes) -> str:
    """The counter of an e-mail address, known or not (so that a lockout tells nobody
    whether a person of that address exists): an HMAC under a secret of the node, so the
    table names no address a reader of the database could test guesses against."""
    digest = hmac.new(secret, email.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return "account:" + digest.hexdigest()[:32]


def factor_key(person_id: int) -> str:
    """The counter of a person's wrong second-factor codes: a right password never clears
    it (only a complete sign-in does), so knowing the password does not buy more guesses."""
    return f"factor:{person_id}"


def address_key(address: str) -> str:
    """The counter of a client address: IPv4 as it is, IPv6 by its /64 (one subscriber's
    whole prefix, which an attacker rotates through for free), other text as it is."""
    text = address.strip()[:64]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return "address:" + text
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "address:" + str(ip.ipv4_mapped)
        return "address:" + str(ipaddress.IPv6Network((ip, 64), strict=False))
    return "address:" + str(ip)


def _threshold(key: str) -> int:
    if key.startswith("account:"):
        return ACCOUNT_THRESHOLD
    if key.startswith("factor:"):
        return FACTOR_THRESHOLD
    return ADDRESS_THRESHOLD


def lock_seconds(key: str, failures: int) -> int:
    """How long the key is locked after its `failures`-th failure in a row (0: not locked):
    from the threshold on, 1 s, 2 s, 4 s … doubling up to 15 minutes."""
    threshold = _threshold(key)
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
