"""Objects two members relay: the same MISP event (or any producer's object) reaches several
members, and each pushes it into the same channel.

The rule: within a channel an object id belongs to the member that first published it
there. Another member posting the same version with the same content — apart from what each
publisher's node adds, its signature and the node-attested extensions — is an idempotent
success that stores nothing (the exchange already holds that object), reported as already
published by another member. The same id and version with other content, or a new version
of an id another member publishes, is refused with the reason: nobody rewrites another
member's object, and a version names one content. An end-to-end encrypted copy cannot be
compared by the node (each is sealed afresh), so it is refused like other content.
"""

from __future__ import annotations

from typing import Any

import orjson

from tabadol.crypto.canonical import unsigned
from tabadol.domain.extensions import NODE_ATTESTED
from tabadol.domain.sealed import is_sealed
from tabadol.storage.contract import NewVersion

RELAYED_MESSAGE = "already published here by another member: identical, nothing stored"
NEW_VERSION_REFUSAL = "another member publishes this id here: only it publishes new versions of it"
SEALED_REFUSAL = (
    "another member publishes this id here, and an end-to-end encrypted copy cannot be"
    " compared with it"
)


def relayed_content(body: bytes) -> dict[str, Any]:
    """A stored object as its author or relayer posted it: without the signature and what
    the node attests of it (publisher, audience)."""
    obj = unsigned(orjson.loads(body))
    extensions = obj.get("extensions")
    if isinstance(extensions, dict) and NODE_ATTESTED & extensions.keys():
        rest = {k: v for k, v in extensions.items() if k not in NODE_ATTESTED}
        if rest:
            obj["extensions"] = rest
        else:
            del obj["extensions"]
    return obj


class RelayedCopies:
    """The storage's `ContentMatch` for one envelope: whether a version is a copy of the
    stored one it collides with. Asked inside the write transaction; it remembers which
    properties differed, so that the status names them."""

    def __init__(self) -> None:
        self._differences: dict[tuple[str, int | None], str] = {}

    def __call__(self, version: NewVersion, stored: bytes) -> bool:
        key = (version.stix_id, version.version_us)
        new, old = relayed_content(version.body), relayed_content(stored)
        if version.sealed or is_sealed(old):  # either sealed form
            self._differences[key] = SEALED_REFUSAL
            return False
        if new == old:
            return True
        names = sorted(name for name in new.keys() | old.keys() if new.get(name) != old.get(name))
        self._differences[key] = (
            "another member published this version here with other content (differs in: "
            + ", ".join(names)
            + "): relay its object unchanged, or publish yours under a new id"
        )
        return False

    def refusal(self, version: NewVersion) -> str:
        """Why a version colliding with another member's object is refused."""
        return self._differences.get((version.stix_id, version.version_us), NEW_VERSION_REFUSAL)
