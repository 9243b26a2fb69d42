"""The storage contract in the SQL both engines run, its roles combined."""

from __future__ import annotations

from tabadol.storage.sql.roles.audit import SqlAudit
from tabadol.storage.sql.roles.challenges import SqlChallenges
from tabadol.storage.sql.roles.directory import SqlGroupDirectory, SqlOrgDirectory
from tabadol.storage.sql.roles.federation import SqlFeed, SqlPeers
from tabadol.storage.sql.roles.keys import SqlKeys
from tabadol.storage.sql.roles.listing import SqlListing
from tabadol.storage.sql.roles.objects import SqlObjects
from tabadol.storage.sql.roles.people import SqlPeople
from tabadol.storage.sql.roles.sessions import SqlSessions


class SqlStore(
    SqlOrgDirectory,
    SqlGroupDirectory,
    SqlPeople,
    SqlSessions,
    SqlChallenges,
    SqlKeys,
    SqlObjects,
    SqlListing,
    SqlAudit,
    SqlPeers,
    SqlFeed,
):
    """Objects as compact JSON plus index columns; every read takes a Visibility. An engine's
    store sets `_db` (its `storage.engine.Engine`) and `_head_signer`, and adds `search`,
    the one query that differs between engines (FTS5 against `tsvector`)."""

    def close(self) -> None:
        self._db.close()
