"""Where an imported item goes: the collection of the audience its export names.

An export carries each item's audience (the node's tabadol-audience entry). An import keeps
it: the item goes to the collection of that audience on the importing node — the group by its
uuid (the same group, federated) or else by its name (the group of that name on another
node), the importing org's own channel, `members`, `public` — or is refused with the reason,
never widened. An explicit target collection is taken when it is narrower than the item's
audience or the same (the importing org's own channel is the narrowest; a group is narrower
than `members`, which is narrower than `public`), refused when it is wider.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tabadol.domain.attestation import Audience
from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import Refused
from tabadol.domain.model import Collection, Group, Org

_WIDTH = {AudienceKind.ORG: 0, AudienceKind.GROUP: 1, AudienceKind.MEMBERS: 2}


@dataclass(frozen=True, slots=True)
class Channels:
    """What the importing org may publish into, and the node's groups, read once."""

    org: Org
    writable: Sequence[Collection]
    groups: Sequence[Group]

    def by_kind(self, kind: AudienceKind, ref: int | None = None) -> Collection | None:
        for collection in self.writable:
            if collection.kind is kind and collection.ref == ref:
                return collection
        return None

    def group(self, audience: Audience) -> Group | None:
        """The group an audience names: by uuid, or else by name."""
        for group in self.groups:
            if audience.group_id is not None and group.uuid == audience.group_id:
                return group
        for group in self.groups:
            if audience.group is not None and group.name == audience.group:
                return group
        return None

    def names_own_org(self, audience: Audience) -> bool:
        """Whether an org audience is the importing org's own channel (its identity on this
        node, or its name: the same org exported from another node)."""
        return audience.org_ref == self.org.identity_id or audience.org == self.org.name


def audience_collection(channels: Channels, audience: Audience) -> Collection:
    """The collection of exactly that audience on this node, or Refused with why not."""
    kind = audience.kind
    if kind is AudienceKind.ORG:
        if not channels.names_own_org(audience):
            raise Refused(
                f"its audience is {audience.describe()}: {channels.org.name!r} may not"
                " import it (that would widen its audience)"
            )
        found = channels.by_kind(kind, channels.org.id)
    elif kind is AudienceKind.GROUP:
        group = channels.group(audience)
        if group is None:
            raise Refused(f"its audience is {audience.describe()}, not known here")
        found = channels.by_kind(kind, group.id)
        if found is None:
            raise Refused(
                f"its audience is {audience.describe()}: {channels.org.name!r} may not"
                " publish there"
            )
    else:
        found = channels.by_kind(kind)
    if found is None:
        raise Refused(f"its audience is {audience.describe()}: no such collection to publish in")
    return found


def _same_group(channels: Channels, target: Collection, audience: Audience) -> bool:
    group = next((g for g in channels.groups if g.id == target.ref), None)
    return group is not None and (group.uuid == audience.group_id or group.name == audience.group)


def narrower_or_same(channels: Channels, target: Collection, audience: Audience) -> bool:
    """Whether every reader of `target` is a reader of `audience`'s items (by kind: the own
    channel, then a group, then members, then public)."""
    if audience.kind is AudienceKind.PUBLIC:
        return True
    if target.kind is AudienceKind.ORG:
        return audience.kind is not AudienceKind.ORG or channels.names_own_org(audience)
    if target.kind is AudienceKind.GROUP and audience.kind is AudienceKind.GROUP:
        return _same_group(channels, target, audience)
    return _WIDTH.get(target.kind, 3) <= _WIDTH[audience.kind]


def target_of(
    channels: Channels, audience: Audience | None, explicit: Collection | None
) -> Collection:
    """The collection an imported item goes to, or Refused with the reason."""
    if audience is None:
        if explicit is None:
            raise Refused(
                "it names no audience (no tabadol-audience extension): name a --collection"
            )
        return explicit
    if explicit is None:
        return audience_collection(channels, audience)
    if not narrower_or_same(channels, explicit, audience):
        raise Refused(
            f"its audience is {audience.describe()}: {explicit.title!r} is wider, and an"
            " import never widens an audience"
        )
    return explicit
