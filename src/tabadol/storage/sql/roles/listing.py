"""The listing role in shared SQL: the newest versions a reader may see, across channels."""

from __future__ import annotations

from tabadol.domain.policy import Visibility
from tabadol.storage.contract import ListedRow, ListingFilter
from tabadol.storage.sql.queries import in_clause
from tabadol.storage.sql.roles.role import SqlRole
from tabadol.storage.sql.rows import RowMap

_LISTED = RowMap(ListedRow, convert={"sealed": bool})


def _conditions(flt: ListingFilter, before: int | None) -> tuple[list[str], list[object]]:
    """The filter's conditions on one channel's rows, with their parameters."""
    clauses: list[str] = []
    args: list[object] = []
    if not flt.every_version:
        clauses.append("is_last = 1")
    for column, values in (
        ("type", flt.types),
        ("author_org", flt.author_orgs),
        ("tlp", flt.tlps),
        ("stix_id", flt.ids),
    ):
        if values:
            clause, more = in_clause(column, values)
            clauses.append(clause)
            args.extend(more)
    if flt.skip_types and not flt.types:
        clause, more = in_clause("type", flt.skip_types)
        clauses.append(f"NOT ({clause})")
        args.extend(more)
    for bound, value in (
        ("date_added > ?", flt.added_after),
        ("date_added < ?", flt.added_before),
        ("date_added < ?", before),
    ):
        if value is not None:
            clauses.append(bound)
            args.append(value)
    return clauses, args


def listing_query(
    visible: Visibility, flt: ListingFilter, before: int | None, limit: int
) -> tuple[str, tuple[object, ...]]:
    """SELECT a page of the visible versions, newest first (parameters, never text).

    One subquery per channel, each newest first with the page's limit, merged: a channel's
    rows come from its `(collection_id, …, date_added)` index in order, where one query over
    `collection_id IN (…)` sorted every visible row to keep the newest few. By id the rows
    are few: found by id and sorted (the unary plus keeps SQLite off a walk of the
    date_added index, as in `object_query`)."""
    clauses, args = _conditions(flt, before)
    order = "+date_added" if flt.ids else "date_added"
    parts: list[str] = []
    params: list[object] = []
    for collection_id in sorted(visible.collection_ids):
        where = " AND ".join(["collection_id = ?", *clauses])
        parts.append(
            f"SELECT * FROM (SELECT {_LISTED.select} FROM objects WHERE {where}"
            f" ORDER BY {order} DESC LIMIT ?) AS c{len(parts)}"
        )
        params += [collection_id, *args, limit]
    if len(parts) == 1:
        return parts[0], tuple(params)
    merged = " UNION ALL ".join(parts)
    return f"SELECT * FROM ({merged}) AS merged ORDER BY date_added DESC LIMIT ?", (
        *params,
        limit,
    )


class SqlListing(SqlRole):
    """`contract.ListingStore`."""

    def list_recent(
        self, visible: Visibility, flt: ListingFilter, before: int | None, limit: int
    ) -> list[ListedRow]:
        if visible.empty or limit < 1:
            return []
        sql, params = listing_query(visible, flt, before, limit)
        return _LISTED.all(self._db.reader().execute(sql, params).fetchall())
