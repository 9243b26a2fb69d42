"""The listing role of the storage contract, on SQLite and on PostgreSQL: the newest versions
a reader may see across channels, filtered, paged by a cursor, never past the visibility."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tabadol.domain.policy import Visibility
from tabadol.storage.contract import ListingFilter, Store

from .test_storage_contract import BACKENDS, T0, channel, new_version, setup_orgs, sid


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = BACKENDS[request.param](tmp_path)()
    yield opened
    opened.close()


def _ids(store: Store, vis: Visibility, flt: ListingFilter | None = None, **kw: int) -> list[str]:
    return [
        r.stix_id
        for r in store.list_recent(
            vis, flt or ListingFilter(), kw.get("before"), kw.get("limit", 100)
        )
    ]


def test_newest_first_latest_versions_within_the_visibility(store: Store) -> None:
    a, b = setup_orgs(store, "A", "B")
    members, group = channel(store, "members"), channel(store, "group")
    old, new, hidden, rel = sid(), sid("report"), sid(), sid("relationship")
    store.write_versions(members.id, a, [new_version(old, T0, note="v1")], T0)
    store.write_versions(group.id, b, [new_version(hidden, T0)], T0 + 1)
    store.write_versions(members.id, b, [new_version(new, T0), new_version(rel, T0)], T0 + 2)
    store.write_versions(members.id, a, [new_version(old, T0 + 5, note="v2")], T0 + 3)
    only_members = Visibility(frozenset({members.id}))

    assert _ids(store, only_members) == [old, rel, new]  # old's second version is the newest
    both = Visibility(frozenset({members.id, group.id}))
    assert _ids(store, both) == [old, rel, new, hidden]  # channels merged, newest first
    assert _ids(store, both, limit=2) == [old, rel]
    assert hidden not in _ids(store, Visibility(frozenset({members.id})))
    assert _ids(store, Visibility(frozenset()), ListingFilter()) == []
    assert _ids(store, only_members, ListingFilter(skip_types=frozenset({"relationship"}))) == [
        old,
        new,
    ]
    assert _ids(store, only_members, ListingFilter(types=frozenset({"report"}))) == [new]
    assert _ids(store, only_members, ListingFilter(author_orgs=frozenset({b}))) == [rel, new]
    rows = store.list_recent(
        only_members, ListingFilter(ids=frozenset({old}), every_version=True), None, 10
    )
    assert [r.version_us for r in rows] == [T0 + 5, T0]
    assert {(r.collection_id, r.author_org, r.sealed, r.via_peer) for r in rows} == {
        (members.id, a, False, None)
    }
    assert _ids(store, Visibility(frozenset({group.id})), ListingFilter(ids=frozenset({old}))) == []


def test_pages_by_cursor_and_date_bounds(store: Store) -> None:
    (a,) = setup_orgs(store, "A")
    members, group = channel(store, "members"), channel(store, "group")
    made = [sid() for _ in range(5)]
    for i, stix_id in enumerate(made):  # alternately in two channels
        where = members if i % 2 else group
        store.write_versions(where.id, a, [new_version(stix_id, T0)], T0 + i)
    vis = Visibility(frozenset({members.id, group.id}))
    first = store.list_recent(vis, ListingFilter(), None, 2)
    second = store.list_recent(vis, ListingFilter(), first[-1].date_added, 2)
    third = store.list_recent(vis, ListingFilter(), second[-1].date_added, 2)
    assert [r.stix_id for r in first + second + third] == made[::-1]
    added = [r.date_added for r in first + second + third][::-1]
    window = ListingFilter(added_after=added[0], added_before=added[3])
    assert _ids(store, vis, window) == [made[2], made[1]]
    assert _ids(store, vis, replace(window, tlps=frozenset({"TLP:RED"}))) == []
    assert _ids(store, vis, replace(window, tlps=frozenset({"TLP:GREEN"}))) == [made[2], made[1]]
