"""The people role: persons of orgs, their enrolment links, sessions, second factors and
the counters of failed sign-ins.

Every write that changes who may act takes the audit events recording it, appended in the
same transaction. Secrets are stored only as what cannot be used directly: links and session
secrets as SHA-256, passwords as Argon2id hash strings, TOTP secrets wrapped under the node's
key secret, passkeys as public keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from tabadol.domain.audit import AuditEvent
from tabadol.domain.model import Org, Role
from tabadol.domain.people import (
    EnrolmentLink,
    Factor,
    FailureCounter,
    LinkPurpose,
    Passkey,
    Person,
    PersonSession,
    PersonStatus,
    SessionStage,
)


@dataclass(frozen=True, slots=True)
class NewLink:
    purpose: LinkPurpose
    secret_hash: bytes
    expires: int
    issued_by: str = ""  # the actor who made it, named again when it is redeemed


@dataclass(frozen=True, slots=True)
class NewSession:
    secret_hash: bytes
    expires: int
    address: str
    user_agent: str
    stage: SessionStage
    factor: Factor


@dataclass(frozen=True, slots=True)
class NewPasskey:
    """A credential a WebAuthn registration ceremony verified."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    label: str = ""


@dataclass(frozen=True, slots=True)
class PersonSecrets:
    """What a person proves with, as stored: for the sign-in use case only."""

    password_hash: str | None
    totp_wrapped: bytes | None
    totp_last_step: int | None  # the last TOTP time step accepted (a code is used once)


@dataclass(frozen=True, slots=True)
class SessionBearer:
    """A session with its person, the person's org and the org's groups: one round trip."""

    session: PersonSession
    person: Person
    org: Org
    group_ids: frozenset[int]


@dataclass(frozen=True, slots=True)
class Reservation:
    """A sign-in attempt counted before it is checked: `wait` > 0 when a key was locked (then
    nothing was counted), else the counters before and after counting it."""

    wait: int
    before: dict[str, FailureCounter]
    counted: dict[str, FailureCounter]


@dataclass(frozen=True, slots=True)
class Redemption:
    """What redeeming a link sets, in its transaction: the password, and the second factor
    (None keeps what the person has; an enrolment sets it, a reset replaces it)."""

    password_hash: str
    totp_wrapped: bytes | None = None
    totp_step: int | None = None  # the step of the code that proved the TOTP setup: used
    passkey: NewPasskey | None = None


class FactorRemoval(Enum):
    """What asking to remove a second factor did."""

    REMOVED = "removed"
    ABSENT = "absent"  # no such factor of that person (nothing changed)
    LAST = "last"  # refused: it is the person's last factor and they must keep one


class PeopleDirectory(Protocol):
    """Persons and what they sign in with; an e-mail address taken is a Conflict."""

    def create_person(
        self,
        org_id: int,
        email: str,
        name: str,
        role: Role,
        now: int,
        link: NewLink,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> tuple[Person, EnrolmentLink]:
        """An invited person and their enrolment link, in one transaction."""
        ...

    def person_by_id(self, person_id: int) -> Person | None: ...
    def person_by_email(self, email: str) -> Person | None:
        """By the normalized address (unique across the node)."""
        ...

    def list_people(self, org_id: int) -> list[Person]: ...
    def person_secrets(self, person_id: int) -> PersonSecrets | None: ...
    def set_password_hash(self, person_id: int, password_hash: str) -> None:
        """Replace the hash of the same password (a rehash under raised parameters)."""
        ...

    def set_person_role(
        self, person_id: int, role: Role, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> bool:
        """True when the person exists (their tokens keep their own role: each acts with
        the lower of its role and the person's)."""
        ...

    def set_person_status(
        self,
        person_id: int,
        status: PersonStatus,
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> bool:
        """Set the status; DISABLED also revokes every session and personal token of the
        person, and the org tokens they made, in the same transaction. True when the person
        exists."""
        ...

    def remove_person(self, person_id: int, now: int, *, audit: Sequence[AuditEvent] = ()) -> bool:
        """Delete the person, their links, sessions and passkeys, and revoke their personal
        tokens and the org tokens they made (kept, with the person's id, for the record), in
        one transaction."""
        ...

    def add_link(
        self, person_id: int, link: NewLink, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> EnrolmentLink:
        """A new link; the person's older unused links stop working in the same transaction."""
        ...

    def link_by_secret(self, secret_hash: bytes) -> tuple[EnrolmentLink, Person] | None: ...
    def redeem_link(
        self, link_id: int, now: int, redemption: Redemption, *, audit: Sequence[AuditEvent] = ()
    ) -> bool:
        """Use the link once: mark it used, set the password (and factor), make an invited
        person active and end their sessions and personal tokens — or False, changing
        nothing, when the link is used, expired or gone by now."""
        ...

    def set_totp(
        self,
        person_id: int,
        totp_wrapped: bytes | None,
        now: int,
        *,
        step: int | None = None,
        end_sessions_but: int | None = None,
        audit: Sequence[AuditEvent] = (),
    ) -> bool:
        """Set (or clear) the TOTP secret; `step`: the one its setup code proved, used;
        `end_sessions_but`: revoke every other live session of the person, in the same
        transaction."""
        ...

    def change_password(
        self,
        person_id: int,
        password_hash: str,
        now: int,
        *,
        end_sessions_but: int | None,
        audit: Sequence[AuditEvent] = (),
    ) -> bool:
        """A new password chosen by the person: set its hash and revoke their other live
        sessions (all but `end_sessions_but`), in one transaction. True when the person
        exists."""
        ...

    def remove_factor(
        self,
        person_id: int,
        now: int,
        *,
        passkey_id: int | None = None,
        keep_one: bool,
        end_sessions_but: int | None,
        audit: Sequence[AuditEvent] = (),
    ) -> FactorRemoval:
        """Remove one passkey of the person (`passkey_id`) or, without one, their TOTP
        secret; refused (LAST, nothing changed) when `keep_one` and it is the last factor
        they have — counted in the same write transaction, so two removals at once cannot
        both pass. On removal, their other live sessions are revoked and `audit` appended,
        in that transaction."""
        ...

    # --- sessions ---
    def create_session(
        self, person_id: int, new: NewSession, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> PersonSession: ...
    def complete_session(
        self,
        pending_id: int,
        new: NewSession,
        now: int,
        *,
        totp_step: int | None = None,
        passkey_use: tuple[int, int] | None = None,
        audit: Sequence[AuditEvent] = (),
    ) -> PersonSession | None:
        """Replace a pending session by a complete one (a new secret), in one transaction
        that also records the TOTP step accepted (refused — None, nothing changed — when
        that step or a later one was accepted already) or a passkey's (id, new sign count).
        None when the pending session is revoked by now."""
        ...

    def session_bearer(self, secret_hash: bytes) -> SessionBearer | None:
        """A session with its person, org and the org's groups, in one query (every request
        with a session cookie asks it); None when no session has that secret."""
        ...

    def session_by_id(self, session_id: int) -> PersonSession | None: ...
    def touch_session(self, session_id: int, now: int) -> None: ...
    def list_sessions(self, person_id: int) -> list[PersonSession]: ...
    def revoke_sessions(
        self,
        person_id: int,
        now: int,
        *,
        session_id: int | None = None,
        with_tokens: bool = False,
        audit: Sequence[AuditEvent] = (),
    ) -> int:
        """Revoke one live session of the person (or all of them; `with_tokens`: their
        personal tokens too, in the same transaction); how many sessions were revoked. The
        audit events are written only when something was asked to end."""
        ...

    # --- failed sign-ins ---
    def failure_counters(self, keys: Sequence[str]) -> dict[str, FailureCounter]: ...
    def reserve_attempt(self, keys: Sequence[str], now: int) -> Reservation:
        """In one write transaction: refuse (`wait` > 0, nothing changed) when a key is
        locked, else count the attempt as a failure under every key
        (`domain.people.after_failure`) — before the slow check, so that concurrent attempts
        cannot all pass a lock that none of them has counted yet."""
        ...

    def release_attempt(
        self,
        reservation: Reservation,
        *,
        clear: Sequence[str] = (),
        audit: Sequence[AuditEvent] = (),
        now: int = 0,
    ) -> None:
        """An attempt that succeeded: delete the counters of `clear`, and take the reserved
        failure back from the other keys (with the lock they had before), with `audit`."""
        ...

    def clear_failures(self, key: str) -> None: ...

    # --- passkeys (the WebAuthn ceremonies live in usecases.people.passkeys) ---
    def add_passkey(
        self, person_id: int, passkey: NewPasskey, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> Passkey: ...
    def passkeys_of(self, person_id: int) -> list[Passkey]: ...
    def passkey_by_credential(self, credential_id: bytes) -> Passkey | None: ...
    def remove_passkey(
        self, person_id: int, passkey_id: int, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> bool: ...

    # --- WebAuthn challenges (usecases.people.passkeys) ---
    def put_challenge(self, binding: bytes, challenge: bytes, expires: int, now: int) -> None:
        """Store the challenge of `binding` (replacing an earlier one; expired ones are
        forgotten)."""
        ...

    def take_challenge(self, binding: bytes, now: int) -> bytes | None:
        """The challenge of `binding`, deleted as it is read; None if there is none or it
        has expired."""
        ...
