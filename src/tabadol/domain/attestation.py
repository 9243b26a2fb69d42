"""What the node attests of every object it stores: provenance and audience.

Two STIX 2.1 property extensions (domain/extensions.py) that the node adds as it stores a
version, outside the author's signature (crypto.canonical leaves them out of the payload):

    provenance: {"extension_type": "property-extension", "publisher_ref": <identity of the
                 member that published the item>, "node": <id of the node it was published on>}
    audience:   {"extension_type": "property-extension", "kind": "org" | "group" | "members" |
                 "public", "org_ref"/"org" (an org channel), "group"/"group_id" (a group
                 channel), "tlp": <the item's TLP label>}

They are the node's statement, never a member's: whatever a member (or a peer) posts under
those ids is dropped before admission (`without_attestation`). Dropped rather than refused,
because a member re-posting or relaying an object it read from a node, or a peer forwarding a
stored version, carries the entries of the node it read them from; refusing them would break
every such round trip, while dropping them loses nothing (the signature never covered them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import InvalidObject
from tabadol.domain.extensions import (
    AUDIENCE_EXTENSION,
    NODE_ATTESTED,
    PROPERTY_EXTENSION,
)
from tabadol.domain.model import Collection, Group, Org
from tabadol.domain.tlp import TLP

Entries = dict[str, dict[str, str]]  # extension-definition id -> entry


@dataclass(frozen=True, slots=True)
class Audience:
    """An item's audience as an audience entry names it (read back from an export)."""

    kind: AudienceKind
    org_ref: str | None = None
    org: str | None = None  # the org's name: an org channel on another node
    group: str | None = None  # the group's name
    group_id: str | None = None  # the group's uuid
    tlp: str | None = None

    def describe(self) -> str:
        if self.kind is AudienceKind.GROUP:
            return f"the group {self.group or self.group_id!r}"
        if self.kind is AudienceKind.ORG:
            return f"the own channel of {self.org or self.org_ref!r}"
        return f"'{self.kind.value}'"


def provenance_entry(publisher: Org, node_id: str) -> dict[str, str]:
    """Who published the item into the exchange (a member org), and on which node."""
    return {
        "extension_type": PROPERTY_EXTENSION,
        "publisher_ref": publisher.identity_id,
        "node": node_id,
    }


def audience_entry(
    collection: Collection, owner: Org | None, group: Group | None, tlp: TLP
) -> dict[str, str]:
    """The channel the item was published to (`owner`: the org of an org channel, `group`:
    the group of a group channel) and its TLP."""
    entry = {"extension_type": PROPERTY_EXTENSION, "kind": collection.kind.value}
    if collection.kind is AudienceKind.ORG and owner is not None:
        entry["org_ref"] = owner.identity_id
        entry["org"] = owner.name
    if collection.kind is AudienceKind.GROUP and group is not None:
        entry["group"] = group.name
        entry["group_id"] = group.uuid
    entry["tlp"] = tlp.label
    return entry


def attested(obj: Mapping[str, Any], entries: Entries) -> dict[str, Any]:
    """A copy of `obj` carrying `entries` in its `extensions` (replacing any it had under
    those ids); `obj` and its nested `extensions` are left as they are."""
    extensions = obj.get("extensions")
    merged = {**extensions, **entries} if isinstance(extensions, dict) else dict(entries)
    return {**obj, "extensions": merged}


def has_attestation(obj: Mapping[str, Any]) -> bool:
    extensions = obj.get("extensions")
    return isinstance(extensions, dict) and not NODE_ATTESTED.isdisjoint(extensions)


def without_attestation(obj: Any) -> Any:
    """`obj` without the node's entries (a copy when it had some; `extensions` goes when no
    other entry is left); anything else as it is."""
    if not isinstance(obj, dict) or not has_attestation(obj):
        return obj
    rest = {k: v for k, v in obj["extensions"].items() if k not in NODE_ATTESTED}
    out = {k: v for k, v in obj.items() if k != "extensions"}
    if rest:
        out["extensions"] = rest
    return out


def attestation_of(obj: Mapping[str, Any]) -> Entries:
    """The node's entries an object carries (none: an empty dict)."""
    extensions = obj.get("extensions")
    if not isinstance(extensions, dict):
        return {}
    return {k: v for k, v in extensions.items() if k in NODE_ATTESTED and isinstance(v, dict)}


def carry_attestation(source: Mapping[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """`target` (the plaintext of a sealed item) with the entries the node attested on
    `source` (its sealed form) in place of any it carried inside."""
    entries = attestation_of(source)
    if not entries:
        return without_attestation(target)  # type: ignore[no-any-return]
    return attested(without_attestation(target), entries)


def _text(entry: Mapping[str, Any], name: str) -> str | None:
    value = entry.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidObject(f"the audience extension's {name!r} must be a non-empty string")
    return value


def read_audience(obj: Mapping[str, Any]) -> Audience | None:
    """The audience an object's audience entry names (None: it carries none);
    InvalidObject when the entry is malformed."""
    extensions = obj.get("extensions")
    entry = extensions.get(AUDIENCE_EXTENSION) if isinstance(extensions, dict) else None
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise InvalidObject("the audience extension must be an object")
    try:
        kind = AudienceKind(str(entry.get("kind")))
    except ValueError:
        raise InvalidObject(
            f"the audience extension's kind must be one of org, group, members, public,"
            f" not {entry.get('kind')!r}"
        ) from None
    audience = Audience(
        kind,
        org_ref=_text(entry, "org_ref"),
        org=_text(entry, "org"),
        group=_text(entry, "group"),
        group_id=_text(entry, "group_id"),
        tlp=_text(entry, "tlp"),
    )
    if kind is AudienceKind.GROUP and not (audience.group or audience.group_id):
        raise InvalidObject("a group audience names its group (group or group_id)")
    if kind is AudienceKind.ORG and not (audience.org or audience.org_ref):
        raise InvalidObject("an org audience names its org (org or org_ref)")
    return audience
