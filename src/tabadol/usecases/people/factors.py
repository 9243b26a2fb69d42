"""Second factors as the sign-in step sees them: a proof of some kind that checks itself
against the person, and what accepting it must record (in the transaction that completes
the session). TOTP codes are `totp.TotpCode`; passkey assertions come from `passkeys.py`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tabadol.config import Settings
from tabadol.domain.model import Role
from tabadol.domain.people import Factor, Person
from tabadol.node.node import Node


@dataclass(frozen=True, slots=True)
class Accepted:
    """What a proof that held must record: the TOTP time step (never accepted twice), or a
    passkey's (id, new sign count)."""

    totp_step: int | None = None
    passkey_use: tuple[int, int] | None = None


class FactorProof(Protocol):
    """A second factor offered at sign-in."""

    @property
    def kind(self) -> Factor: ...

    def check(self, node: Node, person: Person) -> Accepted | None:
        """What to record if the proof holds for `person` now; None if it does not."""
        ...


def factors_of(person: Person) -> tuple[Factor, ...]:
    """The second factors the person has set up, in the order the interface offers them."""
    return tuple(
        kind
        for kind, present in (
            (Factor.PASSKEY, person.passkey_count > 0),
            (Factor.TOTP, person.totp_enabled),
        )
        if present
    )


def second_factor_required(settings: Settings, role: Role) -> bool:
    """Whether the policy (`second_factor`) asks this role for a second factor."""
    return settings.second_factor == "all" or role is Role.ADMIN
