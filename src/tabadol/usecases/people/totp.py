"""TOTP (RFC 6238, pyotp): a 160-bit secret per person, wrapped under the node's key secret;
codes of 6 digits per 30 s, accepted one step either side of now, and each time step at most
once (a code seen by someone over a shoulder cannot be used again)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import pyotp

from tabadol.crypto.wrapping import unwrap_value, wrap_value
from tabadol.domain.audit import AuditEvent, actor_of
from tabadol.domain.errors import InvalidInput, NotFound
from tabadol.domain.model import Principal
from tabadol.domain.people import Factor, Person
from tabadol.node.keyring import value_secret
from tabadol.node.node import Node
from tabadol.usecases.membership.principals import require_recent_sign_in
from tabadol.usecases.people.accounts import person_detail
from tabadol.usecases.people.factors import Accepted

STEP_SECONDS = 30
WINDOW = 1  # steps accepted either side of the current one (clock drift)


def new_secret() -> str:
    """A fresh TOTP secret (base32, 160 bits) for the authenticator app."""
    return pyotp.random_base32(32)


def provisioning_uri(node: Node, secret: str, email: str) -> str:
    """The `otpauth://` URI the enrolment page shows as a QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=node.settings.node_name)


def _aad(person_id: int) -> bytes:
    return b"tabadol totp v1\x00" + str(person_id).encode()


def wrap_secret(node: Node, person_id: int, secret: str) -> bytes:
    return wrap_value(value_secret(node), _aad(person_id), secret.encode())


def _unwrap_secret(node: Node, person_id: int, wrapped: bytes) -> str:
    return unwrap_value(value_secret(node), _aad(person_id), wrapped).decode()


def matching_step(secret: str, code: str, now_us: int) -> int | None:
    """The time step whose code `code` is, within the window around now; None if none."""
    code = code.strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = now_us // 1_000_000 // STEP_SECONDS
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):  # every step: the same time
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            found = step
    return found


@dataclass(frozen=True, slots=True)
class TotpSetup:
    """A secret the person's authenticator now holds, and a code it showed: proof that the
    setup worked before it is stored."""

    secret: str
    code: str

    def checked(self, node: Node) -> int:
        """The time step of the code (recorded as used), or InvalidInput."""
        try:
            valid = len(pyotp.TOTP(self.secret).byte_secret()) >= 16
        except (ValueError, TypeError):  # not base32
            valid = False
        if not valid:
            raise InvalidInput("the TOTP secret is not a base32 secret of at least 128 bits")
        step = matching_step(self.secret, self.code, node.clock())
        if step is None:
            raise InvalidInput("the code does not match the TOTP secret: check the device's clock")
        return step


@dataclass(frozen=True, slots=True)
class TotpCode:
    """A code offered at sign-in (`factors.FactorProof`)."""

    code: str

    @property
    def kind(self) -> Factor:
        return Factor.TOTP

    def check(self, node: Node, person: Person) -> Accepted | None:
        stored = node.store.person_secrets(person.id)
        if stored is None or stored.totp_wrapped is None:
            return None
        secret = _unwrap_secret(node, person.id, stored.totp_wrapped)
        step = matching_step(secret, self.code, node.clock())
        if step is None or (stored.totp_last_step is not None and step <= stored.totp_last_step):
            return None  # wrong, or a step accepted already (the store checks again, atomically)
        return Accepted(totp_step=step)


def set_totp(node: Node, principal: Principal, setup: TotpSetup) -> Person:
    """A person signed in within the last minutes sets (or replaces) their TOTP secret
    (Forbidden otherwise: a stolen session must not replace the owner's factor). Replacing
    one ends the person's other sessions (the old device may be the lost one)."""
    require_recent_sign_in(node, principal, "setting a second factor")
    person_id = principal.person_id
    before = node.store.person_by_id(person_id) if person_id is not None else None
    if person_id is None or before is None:
        raise NotFound("no such person")
    step = setup.checked(node)
    replacing = before.totp_enabled
    detail = {**person_detail(principal), "replaced": replacing}
    event = AuditEvent("person.totp.set", actor_of(principal), detail=detail)
    wrapped = wrap_secret(node, person_id, setup.secret)
    if not node.store.set_totp(
        person_id,
        wrapped,
        node.clock(),
        step=step,
        end_sessions_but=principal.session_id if replacing else None,
        audit=[event],
    ):
        raise NotFound("no such person (removed meanwhile)")
    person = node.store.person_by_id(person_id)
    if person is None:
        raise NotFound("no such person (removed meanwhile)")
    return person
