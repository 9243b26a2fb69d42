"""The records the layers pass to each other: orgs, groups, collections, principals."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tabadol.domain.audience import AudienceKind
from tabadol.domain.keys import Custody
from tabadol.domain.tlp import TLP


class Role(StrEnum):
    """What a token of an org may do. Each role includes the ones below it."""

    ADMIN = "admin"  # manage the org's tokens and the groups it owns, and publish
    PUBLISHER = "publisher"  # read and publish
    READER = "reader"  # read only


class PrincipalKind(StrEnum):
    ORG = "org"  # a token of an organization (member or guest)
    NODE_ADMIN = "node-admin"  # the node's operator: the directory, not the content
    ANONYMOUS = "anonymous"  # no token (public reads, where the node allows them)


@dataclass(frozen=True, slots=True)
class Org:
    id: int
    name: str
    identity_id: str  # the STIX identity object of the org
    member: bool  # a member of the exchange; a guest org reads public items only
    created: int
    custody: Custody = Custody.NODE
    home_peer: int | None = None  # the peer node that hosts it; None: hosted here

    @property
    def hosted_here(self) -> bool:
        return self.home_peer is None


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    uuid: str
    name: str
    created_by: int  # org id
    owners: frozenset[int]
    members: frozenset[int]  # includes the owners
    created: int
    home_peer: int | None = None  # the peer node whose org owns it; None: owned here


@dataclass(frozen=True, slots=True)
class Collection:
    """A TAXII collection: one audience channel."""

    id: int  # internal key
    uuid: str  # the TAXII collection id
    kind: AudienceKind
    ref: int | None  # org id for ORG, group id for GROUP
    title: str
    description: str


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    prefix: str  # the first characters, shown in listings; never the secret
    org_id: int | None
    role: str
    label: str
    created: int
    revoked: int | None
    person_id: int | None = None  # a personal token: it acts as that person
    expires: int | None = None  # None: until revoked (org tokens); personal tokens expire
    created_by_person: int | None = None  # an org token made by a signed-in person: theirs


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking, with everything the policy needs to decide."""

    kind: PrincipalKind
    org: Org | None = None
    role: Role | None = None
    group_ids: frozenset[int] = field(default_factory=frozenset)
    token_id: int | None = None
    person_id: int | None = None  # a person of the org (by a session or a personal token)
    person_email: str | None = None
    session_id: int | None = None  # signed in through the interface: the session

    @property
    def org_id(self) -> int | None:
        return self.org.id if self.org else None

    @property
    def is_member(self) -> bool:
        return self.org is not None and self.org.member


@dataclass(frozen=True, slots=True)
class ChannelDefaults:
    """The TLP an unmarked object takes in each kind of channel (configurable)."""

    org: TLP = TLP.AMBER_STRICT
    group: TLP = TLP.AMBER
    members: TLP = TLP.GREEN
    public: TLP = TLP.CLEAR

    def for_kind(self, kind: AudienceKind) -> TLP:
        level: TLP = getattr(self, kind.value)
        return level
