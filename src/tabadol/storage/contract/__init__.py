"""The storage contract: what the use cases need from a database, and nothing of TAXII.

It is split by role, one protocol each: `OrgDirectory` and `GroupDirectory` (directory.py),
`PeopleDirectory` (people.py), `KeyStore` (keys.py), `ObjectStore` (objects.py),
`ListingStore` (listing.py), `SearchStore` (search.py), `AuditStore` (audit.py), `PeerStore`
and `FeedStore` (federation.py). `Store` is all of them: what a node holds, and what each
engine (SQLite, PostgreSQL) implements; the same contract tests run on both. Every read of
objects takes a `Visibility` from the policy and applies it inside the query; every write
that changes who may do what, or what is stored, takes the audit events that record it and
appends them in the SAME transaction (with a signed tree head).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from tabadol.storage.contract.audit import AuditStore
from tabadol.storage.contract.directory import Bearer, Channel, GroupDirectory, OrgDirectory
from tabadol.storage.contract.federation import (
    DirectoryRecord,
    FeedStore,
    PeerStore,
    RemoteGroup,
    RemoteOrg,
    SyncDelete,
    SyncPut,
)
from tabadol.storage.contract.keys import KeyStore
from tabadol.storage.contract.listing import ListedRow, ListingFilter, ListingStore
from tabadol.storage.contract.objects import (
    AuditBuilder,
    ContentMatch,
    Correlation,
    NewVersion,
    ObjectStore,
    StatusBuilder,
    StatusRecord,
    StoredRow,
    WriteOutcome,
)
from tabadol.storage.contract.people import (
    FactorRemoval,
    NewLink,
    NewPasskey,
    NewSession,
    PeopleDirectory,
    PersonSecrets,
    Redemption,
    Reservation,
    SessionBearer,
)
from tabadol.storage.contract.search import SearchFilter, SearchRow, SearchStore

__all__ = [
    "AuditBuilder",
    "AuditStore",
    "Bearer",
    "Channel",
    "ContentMatch",
    "Correlation",
    "DirectoryRecord",
    "FactorRemoval",
    "FeedStore",
    "GroupDirectory",
    "KeyStore",
    "ListedRow",
    "ListingFilter",
    "ListingStore",
    "NewLink",
    "NewPasskey",
    "NewSession",
    "NewVersion",
    "ObjectStore",
    "OrgDirectory",
    "PeerStore",
    "PeopleDirectory",
    "PersonSecrets",
    "Redemption",
    "RemoteGroup",
    "RemoteOrg",
    "Reservation",
    "SearchFilter",
    "SearchRow",
    "SearchStore",
    "SessionBearer",
    "StatusBuilder",
    "StatusRecord",
    "Store",
    "StoredRow",
    "SyncDelete",
    "SyncPut",
    "WriteOutcome",
]


class Store(
    OrgDirectory,
    GroupDirectory,
    PeopleDirectory,
    KeyStore,
    ObjectStore,
    ListingStore,
    SearchStore,
    AuditStore,
    PeerStore,
    FeedStore,
    Protocol,
):
    """Every role of the storage, on one database."""

    def backup(self, target: Path) -> bool:
        """Write a consistent copy of the whole database (objects, directory, keys, audit
        log) to the new file `target` (0600) while the node runs, and return True; False
        where the database is not a file of the node's (PostgreSQL: `pg_dump` backs it up)."""
        ...

    def close(self) -> None: ...
