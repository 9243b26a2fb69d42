"""Writing and deleting object versions: the batch writer, the first/last flags,
the tombstones, and the node's position counter that orders the change feed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from tabadol.storage.contract import ContentMatch, NewVersion, WriteOutcome
from tabadol.storage.engine import Connection

_ID_CHUNK = 5000  # ids per IN (...) query, well under SQLite's variable limit


@dataclass
class _Known:
    """What the collection already holds (or this batch added) of one object id."""

    owner: int
    versions: set[int]
    first: int | None = None  # the stored first/last before this batch, if any
    last: int | None = None
    bodies: dict[int, bytes] = field(default_factory=dict)  # by version: those to compare


Outcome = tuple[WriteOutcome, int]


def _rows_of_ids_txn(
    conn: Connection, columns: str, collection_id: int, stix_ids: list[str]
) -> Iterator[tuple[Any, ...]]:
    """`columns` of every stored version of `stix_ids` in the collection, read in chunks of
    ids (the engines bound the parameters of one statement)."""
    for start in range(0, len(stix_ids), _ID_CHUNK):
        chunk = stix_ids[start : start + _ID_CHUNK]
        yield from conn.execute(
            f"SELECT {columns} FROM objects WHERE collection_id = ?"
            f" AND stix_id IN ({','.join('?' * len(chunk))})",
            (collection_id, *chunk),
        )


def _known_versions_txn(
    conn: Connection, collection_id: int, stix_ids: list[str]
) -> dict[str, _Known]:
    known: dict[str, _Known] = {}
    columns = "stix_id, author_org, version_us"
    for stix_id, owner, version_us in _rows_of_ids_txn(conn, columns, collection_id, stix_ids):
        entry = known.setdefault(stix_id, _Known(owner, set()))
        entry.versions.add(version_us)
    for entry in known.values():
        entry.first, entry.last = min(entry.versions), max(entry.versions)
    return known


class _Planned(NamedTuple):
    """A version of the batch that will be stored, at its position."""

    version: NewVersion
    version_us: int
    date_added: int


_OBJECT_COLUMNS = (
    "collection_id, stix_id, type, spec_version, version_us, date_added, is_first, is_last,"
    " author_org, created_by_ref, tlp, tlp_defaulted, body, sealed, via_peer"
)
_INSERT_OBJECT = (
    f"INSERT INTO objects({_OBJECT_COLUMNS})"
    f" VALUES ({', '.join('?' * len(_OBJECT_COLUMNS.split(',')))})"
)


def _compared_bodies_txn(
    conn: Connection,
    collection_id: int,
    author_org: int,
    versions: Sequence[NewVersion],
    known: dict[str, _Known],
) -> None:
    """Read into `known` the stored bodies a content comparison may need: the version
    another org published at the same version, and the latest of an object without
    timestamps. Only ids already stored here are read (a relay, a re-post): rare."""
    wanted: dict[str, set[int]] = {}
    for version in versions:
        entry = known.get(version.stix_id)
        if entry is None:
            continue
        if version.version_us is None:
            wanted.setdefault(version.stix_id, set()).add(max(entry.versions))
        elif entry.owner != author_org and version.version_us in entry.versions:
            wanted.setdefault(version.stix_id, set()).add(version.version_us)
    columns = "stix_id, version_us, body"
    for stix_id, version_us, body in _rows_of_ids_txn(conn, columns, collection_id, list(wanted)):
        if version_us in wanted[stix_id]:
            known[stix_id].bodies[version_us] = bytes(body)


def write_batch_txn(
    conn: Connection,
    collection_id: int,
    author_org: int,
    versions: Sequence[NewVersion],
    date_added: int,
    via_peer: int | None = None,
    same_content: ContentMatch | None = None,
) -> tuple[list[Outcome], int]:
    """Decide each version's outcome from one look-up of the envelope's ids, then insert
    the new ones with `executemany` and fix the first/last flags of what was there before.
    Measured: about twice as fast as a SELECT and an INSERT per object. Returns the outcomes
    and the next free position. `same_content`: see `ObjectStore.write_versions`."""
    known = _known_versions_txn(conn, collection_id, list({v.stix_id for v in versions}))
    if same_content is not None:
        _compared_bodies_txn(conn, collection_id, author_org, versions, known)
    outcomes, planned = _plan_batch(known, author_org, versions, date_added, same_content)
    bounds = _retire_old_bounds_txn(conn, collection_id, known, planned)
    latest = [p for p in planned if p.version_us == bounds[p.version.stix_id][1]]
    _index_latest_txn(conn, latest)
    conn.executemany(
        _INSERT_OBJECT,
        [_object_row(collection_id, author_org, p, bounds, via_peer) for p in planned],
    )
    return outcomes, date_added + len(planned)


def _existing_outcome(
    entry: _Known, author_org: int, version: NewVersion, version_us: int, same: ContentMatch | None
) -> Outcome | None:
    """The outcome of a version of an id the collection holds, or None: store it. An object
    without timestamps is compared with its latest version (its content is its version)."""
    timeless = version.version_us is None
    target = max(entry.versions) if timeless else version_us
    body = entry.bodies.get(target)
    identical = same is not None and body is not None and same(version, body)
    if entry.owner == author_org:
        if target in entry.versions and (identical or not timeless):
            return WriteOutcome.EXISTS, target
        return None
    if identical:
        return WriteOutcome.COPY_OF_OTHER, target
    return WriteOutcome.OWNED_BY_OTHER, version_us


def _plan_batch(
    known: dict[str, _Known],
    author_org: int,
    versions: Sequence[NewVersion],
    date_added: int,
    same: ContentMatch | None = None,
) -> tuple[list[Outcome], list[_Planned]]:
    """Each version's outcome (`known` takes in the ones to store), and the ones to store,
    at consecutive positions from `date_added`."""
    outcomes: list[Outcome] = []
    planned: list[_Planned] = []
    for version in versions:
        version_us = version.version_us if version.version_us is not None else date_added
        entry = known.get(version.stix_id)
        if entry is not None:
            outcome = _existing_outcome(entry, author_org, version, version_us, same)
            if outcome is not None:
                outcomes.append(outcome)
                continue
        else:
            entry = known[version.stix_id] = _Known(author_org, set())
        entry.versions.add(version_us)
        entry.bodies[version_us] = version.body  # a later copy in this batch compares with it
        planned.append(_Planned(version, version_us, date_added))
        outcomes.append((WriteOutcome.STORED, version_us))
        date_added += 1
    return outcomes, planned


def _retire_old_bounds_txn(
    conn: Connection, collection_id: int, known: dict[str, _Known], planned: list[_Planned]
) -> dict[str, tuple[int, int]]:
    """The (first, last) version of every id the batch touches; a stored version that is no
    longer first or last loses its flag (and, no longer last, its index rows)."""
    touched = {p.version.stix_id for p in planned}
    bounds = {sid: (min(known[sid].versions), max(known[sid].versions)) for sid in touched}
    no_longer_first: list[tuple[int, str, int]] = []
    no_longer_last: list[tuple[int, str, int]] = []
    for stix_id, (first, last) in bounds.items():
        entry = known[stix_id]
        if entry.first is not None and first < entry.first:
            no_longer_first.append((collection_id, stix_id, entry.first))
        if entry.last is not None and last > entry.last:
            no_longer_last.append((collection_id, stix_id, entry.last))
    _clear_flag_txn(conn, "is_first", no_longer_first)
    _unindex_txn(conn, no_longer_last)
    _clear_flag_txn(conn, "is_last", no_longer_last)
    return bounds


def _index_latest_txn(conn: Connection, latest: list[_Planned]) -> None:
    """The search text and the observables of the new latest versions (search and
    correlation see latest versions only)."""
    searchable = [
        (p.date_added, p.version.search_body, p.version.search_stems)
        for p in latest
        if p.version.search_body or p.version.search_stems
    ]
    if searchable:
        conn.executemany(
            "INSERT INTO search_index(rowid, body, stems) VALUES (?, ?, ?)", searchable
        )
    observed = [
        (kind, value, p.date_added) for p in latest for kind, value in p.version.observables
    ]
    if observed:
        conn.executemany(
            "INSERT INTO observables(kind, value, date_added) VALUES (?, ?, ?)", observed
        )


def _object_row(
    collection_id: int,
    author_org: int,
    planned: _Planned,
    bounds: dict[str, tuple[int, int]],
    via_peer: int | None,
) -> tuple[object, ...]:
    """The values of `_OBJECT_COLUMNS`, in its order."""
    version = planned.version
    first, last = bounds[version.stix_id]
    return (
        collection_id,
        version.stix_id,
        version.type,
        version.spec_version,
        planned.version_us,
        planned.date_added,
        int(planned.version_us == first),
        int(planned.version_us == last),
        author_org,
        version.created_by_ref,
        version.tlp,
        int(version.tlp_defaulted),
        version.body,
        int(version.sealed),
        via_peer,
    )


def _unindex_txn(conn: Connection, versions: list[tuple[int, str, int]]) -> None:
    """These versions (collection, id, version) are no longer the latest: search and
    correlation see latest versions only. One `executemany` per statement: on PostgreSQL it is
    pipelined, where a statement per version was a round trip each (a third of an ingest)."""
    if not versions:
        return
    for table, column in (("search_index", "rowid"), ("observables", "date_added")):
        conn.executemany(
            f"DELETE FROM {table} WHERE {column} = (SELECT date_added FROM objects"
            " WHERE collection_id = ? AND stix_id = ? AND version_us = ?)",
            versions,
        )


def _clear_flag_txn(conn: Connection, flag: str, versions: list[tuple[int, str, int]]) -> None:
    if versions:
        conn.executemany(
            f"UPDATE objects SET {flag} = 0"
            " WHERE collection_id = ? AND stix_id = ? AND version_us = ?",
            versions,
        )


def next_position_txn(conn: Connection, now: int, count: int = 1) -> int:
    """Take `count` positions of the node's date_added counter (strictly increasing, never
    behind the clock) and return the first."""
    last = conn.execute("SELECT value FROM counters WHERE name = 'date_added'").fetchone()[0]
    first = max(now, last + 1)
    conn.execute("UPDATE counters SET value = ? WHERE name = 'date_added'", (first + count - 1,))
    return int(first)


def delete_versions_txn(
    conn: Connection,
    where: str,
    params: tuple[object, ...],
    now: int,
    via_peer: int | None = None,
) -> int:
    """Delete the versions `where` selects, leaving a tombstone for each at a new feed
    position, and drop them from search and correlation."""
    for table, column in (("search_index", "rowid"), ("observables", "date_added")):
        conn.execute(
            f"DELETE FROM {table} WHERE {column} IN (SELECT date_added FROM objects WHERE {where})",
            params,
        )
    rows = conn.execute(
        f"SELECT collection_id, stix_id, version_us, author_org, tlp FROM objects WHERE {where}"
        " ORDER BY date_added",
        params,
    ).fetchall()
    if not rows:
        return 0
    position = next_position_txn(conn, now, len(rows))
    conn.executemany(
        "INSERT INTO tombstones(collection_id, stix_id, version_us, author_org, tlp,"
        " deleted_at, via_peer) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(*row, position + i, via_peer) for i, row in enumerate(rows)],
    )
    conn.execute(f"DELETE FROM objects WHERE {where}", params)
    return len(rows)


def refresh_first_last_txn(conn: Connection, collection_id: int, stix_id: str) -> None:
    conn.execute(
        "UPDATE objects SET"
        " is_first = CASE WHEN version_us = (SELECT min(version_us) FROM objects o"
        "   WHERE o.collection_id = objects.collection_id AND o.stix_id = objects.stix_id)"
        "   THEN 1 ELSE 0 END,"
        " is_last = CASE WHEN version_us = (SELECT max(version_us) FROM objects o"
        "   WHERE o.collection_id = objects.collection_id AND o.stix_id = objects.stix_id)"
        "   THEN 1 ELSE 0 END"
        " WHERE collection_id = ? AND stix_id = ?",
        (collection_id, stix_id),
    )
