"""The directory role: member orgs and their API tokens, sharing groups and the TAXII
collections (audience channels) that come with them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tabadol.domain.audience import AudienceKind
from tabadol.domain.audit import AuditEvent
from tabadol.domain.keys import Custody, NewKey
from tabadol.domain.model import Collection, Group, Org, Token
from tabadol.domain.people import Person


@dataclass(frozen=True, slots=True)
class Bearer:
    """Who holds a token: the token, its org (none for the node's operator), the org's
    sharing groups, and for a personal token its person (None once removed)."""

    token: Token
    org: Org | None
    group_ids: frozenset[int]
    person: Person | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """The TAXII face of a new audience channel, created with its org or group."""

    uuid: str
    title: str
    description: str


class OrgDirectory(Protocol):
    """Orgs and the tokens that act for them (or for the operator)."""

    def create_org(
        self,
        name: str,
        identity_id: str,
        member: bool,
        now: int,
        channel: Channel | None = None,
        *,
        custody: Custody = Custody.NODE,
        keys: Sequence[NewKey] = (),
        audit: Sequence[AuditEvent] = (),
    ) -> Org:
        """Create an org with its keys (and its private channel), in one transaction."""
        ...

    def discard_new_org(self, org_id: int, now: int, audit: Sequence[AuditEvent] = ()) -> None:
        """Remove an org `create_org` just made (its keys, channel and row), in one
        transaction with `audit`: an org whose creation could not complete leaves nothing.
        Only for an org nothing has been published by or to yet."""
        ...

    def org_by_name(self, name: str) -> Org | None: ...
    def org_by_id(self, org_id: int) -> Org | None: ...
    def org_by_identity(self, identity_id: str) -> Org | None: ...
    def list_orgs(self) -> list[Org]: ...
    def orgs_by_ids(self, org_ids: Iterable[int]) -> dict[int, Org]:
        """The orgs of these ids that exist, by id: one indexed look-up where a page needs
        the names of a few authors (not a scan of every org)."""
        ...

    def create_token(
        self,
        org_id: int | None,
        role: str,
        label: str,
        secret_hash: bytes,
        prefix: str,
        now: int,
        *,
        person_id: int | None = None,
        expires: int | None = None,
        created_by_person: int | None = None,
        audit: Sequence[AuditEvent] = (),
    ) -> Token:
        """A token of the org (of its person `person_id`: a personal token), or of the
        operator (`org_id` None); `expires` None: until revoked; `created_by_person`: the
        person who made an org token (it ends when their access ends)."""
        ...

    def bearer(self, secret_hash: bytes) -> Bearer | None:
        """A token with its org, the org's groups and its person, in one round trip (every
        request authenticates: on PostgreSQL three queries cost a third of a page's
        database time)."""
        ...

    def list_tokens(self, org_id: int | None) -> list[Token]: ...
    def tokens_of_person(self, person_id: int) -> list[Token]: ...
    def token_by_id(self, token_id: int) -> Token | None: ...
    def revoke_token(
        self, token_id: int, now: int, *, audit: Sequence[AuditEvent] = ()
    ) -> bool: ...


class GroupDirectory(Protocol):
    """Sharing groups, their members, and the collections of every audience."""

    def create_group(
        self,
        uuid: str,
        name: str,
        owner_org: int,
        now: int,
        channel: Channel | None = None,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> Group:
        """Create a group owned by `owner_org` (and its channel, in the same transaction)."""
        ...

    def group_by_name(self, name: str) -> Group | None: ...
    def group_by_id(self, group_id: int) -> Group | None: ...
    def list_groups(self) -> list[Group]: ...
    def set_group_member(
        self,
        group_id: int,
        org_id: int,
        owner: bool,
        *,
        now: int = 0,
        audit: Sequence[AuditEvent] = (),
    ) -> None: ...
    def remove_group_member(
        self, group_id: int, org_id: int, *, now: int = 0, audit: Sequence[AuditEvent] = ()
    ) -> bool: ...
    def group_ids_of(self, org_id: int) -> frozenset[int]: ...

    def create_collection(
        self, uuid: str, kind: AudienceKind, ref: int | None, title: str, description: str
    ) -> Collection: ...
    def list_collections(self) -> list[Collection]: ...
