"""The objects role in shared SQL: versions written, read, deleted, counted, correlated; and
the TAXII statuses of the writes."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from tabadol.domain.audit import AuditEvent
from tabadol.domain.filters import ObjectFilter
from tabadol.domain.policy import Visibility
from tabadol.storage.contract import (
    AuditBuilder,
    ContentMatch,
    Correlation,
    NewVersion,
    StatusBuilder,
    StatusRecord,
    StoredRow,
    WriteOutcome,
)
from tabadol.storage.engine import Connection
from tabadol.storage.sql.queries import STORED_ROW, in_clause, object_query, version_clause
from tabadol.storage.sql.roles.role import SqlRole
from tabadol.storage.sql.rows import RowMap
from tabadol.storage.sql.versions import (
    delete_versions_txn,
    refresh_first_last_txn,
    write_batch_txn,
)

_CORRELATION = RowMap(Correlation, table="o", sql={"kind": "ob.kind", "value": "ob.value"})


def _outcomes(stored: bytes) -> list[tuple[str, ...]]:
    """A status's successes or failures, stored as a JSON list of (id, version, message)."""
    return [tuple(outcome) for outcome in orjson.loads(stored)]


_STATUS = RowMap(StatusRecord, convert={"successes": _outcomes, "failures": _outcomes})


class SqlObjects(SqlRole):
    """`contract.ObjectStore`: each write takes its positions from the node's counter, in the
    transaction that stores the versions (with their status and audit entries)."""

    def write_versions(
        self,
        collection_id: int,
        author_org: int,
        versions: Sequence[NewVersion],
        now: int,
        status_of: StatusBuilder | None = None,
        audit_of: AuditBuilder | None = None,
        same_content: ContentMatch | None = None,
    ) -> list[tuple[WriteOutcome, int]]:
        def txn(conn: Connection) -> list[tuple[WriteOutcome, int]]:
            last_added = conn.execute(
                "SELECT value FROM counters WHERE name = 'date_added'"
            ).fetchone()[0]
            outcomes, next_added = write_batch_txn(
                conn,
                collection_id,
                author_org,
                versions,
                max(now, last_added + 1),
                same_content=same_content,
            )
            conn.execute(
                "UPDATE counters SET value = ? WHERE name = 'date_added'", (next_added - 1,)
            )
            if status_of is not None:
                save_status_txn(conn, status_of(outcomes))
            if audit_of is not None:
                self._audit_txn(conn, audit_of(outcomes), now)
            return outcomes

        return self._db.run_write(txn)

    def query_objects(
        self, visible: Visibility, flt: ObjectFilter, after: int | None, limit: int
    ) -> list[StoredRow]:
        if visible.empty:
            return []
        sql, params = object_query(visible, flt, after, limit)
        rows = self._db.reader().execute(sql, params).fetchall()
        return STORED_ROW.all(rows)

    def count_objects(self, visible: Visibility) -> int:
        if visible.empty:
            return 0
        marks = ",".join("?" * len(visible.collection_ids))
        row = (
            self._db.reader()
            .execute(
                f"SELECT count(*) FROM objects WHERE collection_id IN ({marks})",
                tuple(visible.collection_ids),
            )
            .fetchone()
        )
        return int(row[0])

    def correlations(
        self, visible: Visibility, stix_id: str, per_value: int
    ) -> tuple[list[tuple[str, str]], list[Correlation]]:
        if visible.empty:
            return [], []
        conn = self._db.reader()
        where, params = in_clause("o.collection_id", visible.collection_ids)
        own = conn.execute(
            "SELECT DISTINCT ob.kind, ob.value FROM objects o"
            " JOIN observables ob ON ob.date_added = o.date_added"
            f" WHERE o.stix_id = ? AND o.is_last = 1 AND {where} ORDER BY ob.kind, ob.value",
            (stix_id, *params),
        ).fetchall()
        found: list[Correlation] = []
        for kind, value in own:
            rows = conn.execute(
                f"SELECT {_CORRELATION.select}"
                " FROM observables ob JOIN objects o ON o.date_added = ob.date_added"
                f" WHERE ob.kind = ? AND ob.value = ? AND o.stix_id != ? AND {where}"
                " ORDER BY ob.date_added DESC LIMIT ?",
                (kind, value, stix_id, *params, per_value),
            ).fetchall()
            found.extend(_CORRELATION.all(rows))
        return [(k, v) for k, v in own], found

    def authors_of(self, collection_id: int, stix_id: str) -> set[int]:
        rows = self._db.reader().execute(
            "SELECT DISTINCT author_org FROM objects WHERE collection_id = ? AND stix_id = ?",
            (collection_id, stix_id),
        )
        return {r[0] for r in rows}

    def authored_in(self, visible: Visibility, author_org: int) -> bool:
        if visible.empty:
            return False
        where, params = in_clause("collection_id", visible.collection_ids)
        row = (
            self._db.reader()
            .execute(
                f"SELECT 1 FROM objects WHERE author_org = ? AND {where} LIMIT 1",
                (author_org, *params),
            )
            .fetchone()
        )
        return row is not None

    def delete_versions(
        self,
        collection_id: int,
        stix_id: str,
        flt: ObjectFilter,
        now: int,
        *,
        audit: Sequence[AuditEvent] = (),
    ) -> int:
        versions_sql, version_params = version_clause(flt)
        spec_sql = ""
        spec_params: tuple[object, ...] = ()
        if flt.spec_versions:
            spec_sql = f" AND spec_version IN ({','.join('?' * len(flt.spec_versions))})"
            spec_params = tuple(flt.spec_versions)
        where = f"collection_id = ? AND stix_id = ?{versions_sql}{spec_sql}"
        params = (collection_id, stix_id, *version_params, *spec_params)

        def txn(conn: Connection) -> int:
            deleted = delete_versions_txn(conn, where, params, now)
            refresh_first_last_txn(conn, collection_id, stix_id)
            if deleted:
                self._audit_txn(conn, audit, now)
            return deleted

        return self._db.run_write(txn)

    def save_status(self, status: StatusRecord) -> None:
        self._db.run_write(lambda conn: save_status_txn(conn, status))

    def status(self, uuid: str) -> StatusRecord | None:
        row = (
            self._db.reader()
            .execute(f"SELECT {_STATUS.select} FROM statuses WHERE uuid = ?", (uuid,))
            .fetchone()
        )
        return _STATUS(row) if row is not None else None


def save_status_txn(conn: Connection, status: StatusRecord) -> None:
    conn.execute(
        "INSERT INTO statuses(uuid, org_id, request_us, total, successes, failures)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            status.uuid,
            status.org_id,
            status.request_us,
            status.total,
            orjson.dumps(list(status.successes)),
            orjson.dumps(list(status.failures)),
        ),
    )
