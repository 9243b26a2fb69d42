"""A signed-in person manages their own second factors and password (the account page).

- Every change of a factor needs a recent sign-in (`principals.require_recent_sign_in`): a
  stolen session cookie must not buy a factor of the thief's choosing, nor remove the
  owner's. A personal token never changes factors.
- The policy's factor is never lost: a person whom `second_factor` asks for one (admins, or
  everyone under "all") cannot remove their last one (Conflict, nothing changed; the count
  and the removal are one transaction, so two removals at once cannot both pass).
- Removing a factor, replacing the TOTP secret and changing the password end the person's
  OTHER sessions in the same transaction (the one making the change stays): a factor
  removed because a device was lost, or a password changed because it leaked, must not
  leave a session opened with them alive. Personal tokens are kept (scripts go on
  working; the account page lists them, and "sign out everywhere" ends them too).
- A new password needs the current one; attempts count against the account's sign-in
  counter (the same lock as the sign-in form), so the form is no way around it.
- Each change is audited naming the person: person.totp.set, person.totp.remove,
  person.passkey.add, person.passkey.remove, person.password.change.
"""

from __future__ import annotations

from dataclasses import dataclass

from tabadol.domain.audit import AuditEvent, Outcome, actor_of
from tabadol.domain.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthorized
from tabadol.domain.model import Principal
from tabadol.domain.people import Passkey, Person, account_key
from tabadol.node.node import Node
from tabadol.storage.contract import FactorRemoval
from tabadol.usecases.membership.names import check_text
from tabadol.usecases.membership.principals import require_recent_sign_in
from tabadol.usecases.people import passkeys, passwords, weak_passwords
from tabadol.usecases.people.accounts import person_detail
from tabadol.usecases.people.factors import second_factor_required
from tabadol.usecases.people.sessions import ENDED, own_person
from tabadol.usecases.people.sign_in import account_secret

LAST_FACTOR = (
    "this is your last second factor and your role needs one: add another before removing it"
)
WRONG_PASSWORD = "the current password is wrong"
MAX_LABEL = 100


@dataclass(frozen=True, slots=True)
class OwnFactors:
    """What the account page lists: the TOTP (on or off), the passkeys (label, created,
    last used; never a key), and whether the policy asks the person to keep one."""

    totp: bool
    passkeys: list[Passkey]
    required: bool


def own_factors(node: Node, principal: Principal) -> OwnFactors:
    person = own_person(node, principal)
    return OwnFactors(
        person.totp_enabled,
        node.store.passkeys_of(person.id),
        second_factor_required(node.settings, person.role),
    )


def _recent_person(node: Node, principal: Principal, act: str) -> Person:
    """The principal's person, once the recent-sign-in rule holds (Forbidden otherwise)."""
    require_recent_sign_in(node, principal, act)
    return own_person(node, principal)


def _event(
    principal: Principal, action: str, outcome: Outcome = Outcome.OK, **detail: object
) -> AuditEvent:
    detail = {**person_detail(principal), **detail}
    return AuditEvent(action, actor_of(principal), outcome=outcome, detail=detail)


def passkey_options(
    node: Node, principal: Principal, rp: passkeys.RelyingParty, bound: bytes
) -> str:
    """The WebAuthn creation options for a new passkey of the principal's person (their
    existing passkeys excluded); the challenge is kept under `bound`."""
    person = _recent_person(node, principal, "adding a passkey")
    return passkeys.registration_options(node, rp, bound, person)


def add_passkey(
    node: Node,
    principal: Principal,
    rp: passkeys.RelyingParty,
    bound: bytes,
    credential_json: str,
    label: str,
) -> Passkey:
    """Register the passkey a ceremony made (verified against its challenge), labelled."""
    person = _recent_person(node, principal, "adding a passkey")
    label = check_text("the label", label.strip())[:MAX_LABEL] or "passkey"
    made = passkeys.verify_registration(node, rp, bound, credential_json, label)
    event = _event(principal, "person.passkey.add", label=label)
    return node.store.add_passkey(person.id, made, node.clock(), audit=[event])


def _remove(node: Node, principal: Principal, passkey_id: int | None, act: str) -> None:
    person = _recent_person(node, principal, act)
    if passkey_id is None:
        event = _event(principal, "person.totp.remove")
    else:
        event = _event(principal, "person.passkey.remove", passkey=passkey_id)
    outcome = node.store.remove_factor(
        person.id,
        node.clock(),
        passkey_id=passkey_id,
        keep_one=second_factor_required(node.settings, person.role),
        end_sessions_but=principal.session_id,
        audit=[event],
    )
    if outcome is FactorRemoval.LAST:
        raise Conflict(LAST_FACTOR)
    if outcome is FactorRemoval.ABSENT:
        raise NotFound("no such second factor of yours")


def remove_passkey(node: Node, principal: Principal, passkey_id: int) -> None:
    """Remove one of the person's passkeys; their other sessions end."""
    _remove(node, principal, passkey_id, "removing a passkey")


def remove_totp(node: Node, principal: Principal) -> None:
    """Remove the person's TOTP secret; their other sessions end."""
    _remove(node, principal, None, "removing a second factor")


def change_password(node: Node, principal: Principal, current: str, new: str, confirm: str) -> None:
    """Replace the password (the current one proves the person is at the keyboard; the new
    one follows the enrolment rules); the person's other sessions end."""
    if principal.session_id is None:
        raise Unauthorized("changing the password needs a signed-in person (a session)")
    person = own_person(node, principal)
    if new != confirm:
        raise InvalidInput("the two passwords differ")
    passwords.check_new_password(new)
    weak_passwords.check_choice(new, person.email)
    keys = [account_key(person.email, account_secret(node))]
    reservation = node.store.reserve_attempt(keys, node.clock())
    if reservation.wait:
        wait = reservation.wait
        raise TooManyRequests(f"too many attempts: try again in {wait} s", retry_after=wait)
    stored = node.store.person_secrets(person.id)
    ok, _ = passwords.verify_password(
        node.settings, stored.password_hash if stored else None, current
    )
    if not ok:
        node.store.append_audit(
            [_event(principal, "person.password.change", Outcome.REFUSED, reason="wrong")],
            node.clock(),
        )
        raise InvalidInput(WRONG_PASSWORD)
    event = _event(principal, "person.password.change")
    node.store.release_attempt(reservation, clear=keys, now=node.clock())
    if not node.store.change_password(
        person.id,
        passwords.hash_password(node.settings, new),
        node.clock(),
        end_sessions_but=principal.session_id,
        audit=[event],
    ):
        raise Unauthorized(ENDED)
