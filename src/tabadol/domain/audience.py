"""Audiences (who may read an item) and how TLP bounds them."""

from __future__ import annotations

from enum import StrEnum

from tabadol.domain.tlp import TLP


class AudienceKind(StrEnum):
    """The four kinds of audience; each TAXII collection is one audience channel."""

    ORG = "org"  # the author org only
    GROUP = "group"  # the members of one sharing group
    MEMBERS = "members"  # every member org of the exchange
    PUBLIC = "public"  # anyone the node serves, members or not


# The widest audience each TLP level allows (TLP 2.0): RED and AMBER+STRICT need an explicit
# org or group audience, AMBER may reach every member, GREEN at most members, CLEAR anyone.
_ALLOWED: dict[TLP, frozenset[AudienceKind]] = {
    TLP.CLEAR: frozenset(AudienceKind),
    TLP.GREEN: frozenset({AudienceKind.ORG, AudienceKind.GROUP, AudienceKind.MEMBERS}),
    TLP.AMBER: frozenset({AudienceKind.ORG, AudienceKind.GROUP, AudienceKind.MEMBERS}),
    TLP.AMBER_STRICT: frozenset({AudienceKind.ORG, AudienceKind.GROUP}),
    TLP.RED: frozenset({AudienceKind.ORG, AudienceKind.GROUP}),
}


def tlp_allows(tlp: TLP, kind: AudienceKind) -> bool:
    """Whether an item marked `tlp` may be shared with an audience of `kind`."""
    return kind in _ALLOWED[tlp]
