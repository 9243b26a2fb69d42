"""Organization keys: what they are for, who holds them, and when they may sign.

A key signs objects whose version (`modified`) is earlier than the moment it stopped being
usable: its retirement (a rotation) or its revocation. The start of its period is not a
bound: a member may relay content older than its key (MITRE's, say), and a signature
attests who published, not when the content was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class KeyPurpose(StrEnum):
    SIGN = "sign"  # Ed25519: signatures on objects
    ENCRYPT = "encrypt"  # X25519: end-to-end encrypted items sealed to the org


class Custody(StrEnum):
    """Who holds an org's private keys."""

    NODE = "node"  # the node, wrapped under a secret outside its data directory
    CLIENT = "client"  # the org itself; the node sees public keys only
    REMOTE = "remote"  # hosted by a peer node: public keys from its signed directory


@dataclass(frozen=True, slots=True)
class OrgKey:
    key_id: str
    org_id: int
    purpose: KeyPurpose
    public_key: bytes
    created: int
    valid_until: int | None  # set when a rotation retired the key
    revoked_at: int | None
    revoked_reason: str | None
    held_by_node: bool

    @property
    def current(self) -> bool:
        return self.valid_until is None and self.revoked_at is None

    def ends(self) -> int | None:
        """The first moment the key no longer covers (None: still current)."""
        ends = [t for t in (self.valid_until, self.revoked_at) if t is not None]
        return min(ends) if ends else None

    def refusal_at(self, version_us: int) -> str | None:
        """Why this key may not sign a version made at `version_us`; None when it may."""
        if self.revoked_at is not None and self.revoked_at <= version_us:
            return f"signed with {self.key_id}, revoked before this version ({self.revoked_reason})"
        if self.valid_until is not None and self.valid_until <= version_us:
            return f"signed with {self.key_id}, retired by a rotation before this version"
        return None


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key to register: its public half, and for node custody the wrapped private half."""

    key_id: str
    purpose: KeyPurpose
    public_key: bytes
    wrapped_private: bytes | None
