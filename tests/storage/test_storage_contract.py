"""The storage contract: what every `Store` backend must do, tested on the store directly.

Each backend is a factory that opens a store on one database (the same database again after a
close). Both run here: SQLite, and PostgreSQL on the machine's server (a schema per test).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import Conflict
from tabadol.domain.filters import ObjectFilter, VersionFilter
from tabadol.domain.model import Collection, Token
from tabadol.domain.policy import Visibility
from tabadol.storage.contract import (
    DirectoryRecord,
    NewVersion,
    RemoteOrg,
    StatusRecord,
    Store,
    StoredRow,
    WriteOutcome,
)
from tabadol.storage.errors import IntegrityViolation
from tabadol.storage.postgres.store import PostgresStore
from tabadol.storage.sqlite.store import SQLiteStore

from ..pg import database_url, fresh_schema

Opener = Callable[[], Store]


def _sqlite(tmp_path: Path) -> Opener:
    path = tmp_path / "contract.db"
    return lambda: SQLiteStore(path)


def _postgres(tmp_path: Path) -> Opener:
    del tmp_path
    url, schema = database_url(), fresh_schema()
    return lambda: PostgresStore(url, schema=schema, max_connections=2)


BACKENDS: dict[str, Callable[[Path], Opener]] = {"sqlite": _sqlite, "postgres": _postgres}

ALL = VersionFilter(first=False, last=False, all=True)
FIRST = VersionFilter(first=True, last=False)
LAST = VersionFilter(first=False, last=True)
T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


@pytest.fixture(params=sorted(BACKENDS))
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens a store on this test's database; every call opens the same database."""
    return BACKENDS[request.param](tmp_path)


@pytest.fixture
def store(open_store: Opener) -> Iterator[Store]:
    opened = open_store()
    yield opened
    opened.close()


def new_version(
    stix_id: str,
    version_us: int | None,
    *,
    type_: str | None = None,
    spec: str = "2.1",
    note: str = "",
) -> NewVersion:
    kind = type_ or stix_id.split("--")[0]
    body = {"type": kind, "id": stix_id, "modified_us": version_us, "note": note}
    return NewVersion(
        stix_id=stix_id,
        type=kind,
        spec_version=spec,
        version_us=version_us,
        created_by_ref=None,
        tlp="TLP:GREEN",
        tlp_defaulted=False,
        body=orjson.dumps(body),
    )


_ids = itertools.count(1)


def sid(kind: str = "indicator") -> str:
    return f"{kind}--00000000-0000-4000-8000-{next(_ids):012d}"


def setup_orgs(store: Store, *names: str) -> list[int]:
    return [store.create_org(n, f"identity--{n}", True, T0).id for n in names]


def channel(store: Store, name: str) -> Collection:
    """A fresh channel: `members` for the first, then group channels (one per kind and ref)."""
    taken = store.list_collections()
    if not any(c.kind is AudienceKind.MEMBERS for c in taken):
        return store.create_collection(f"uuid-{name}", AudienceKind.MEMBERS, None, name, "")
    return store.create_collection(f"uuid-{name}", AudienceKind.GROUP, 1000 + len(taken), name, "")


def everything(store: Store) -> Visibility:
    return Visibility(frozenset(c.id for c in store.list_collections()))


def rows(
    store: Store,
    collection: Collection | None = None,
    flt: ObjectFilter | None = None,
    after: int | None = None,
    limit: int = 1000,
) -> list[StoredRow]:
    vis = everything(store) if collection is None else Visibility(frozenset({collection.id}))
    return store.query_objects(vis, flt or ObjectFilter(versions=ALL), after, limit)


def versions_of(store: Store, collection: Collection, stix_id: str, which: VersionFilter) -> list:
    flt = ObjectFilter(ids=frozenset({stix_id}), versions=which)
    return sorted(r.version_us for r in rows(store, collection, flt))


# --- organizations -----------------------------------------------------------------------------
def test_org_create_and_look_up(store: Store) -> None:
    """An org reads back the same by name, id and identity; unknown keys give None."""
    a = store.create_org("Org A", "identity--a", True, T0)
    g = store.create_org("Org G", "identity--g", False, T0 + 1)
    assert (a.name, a.identity_id, a.member, a.created) == ("Org A", "identity--a", True, T0)
    assert a.id != g.id
    assert store.org_by_name("Org A") == a
    assert store.org_by_id(g.id) == g
    assert store.org_by_identity("identity--g") == g
    assert g.member is False
    assert store.list_orgs() == [a, g]
    assert store.org_by_name("Org Z") is None
    assert store.org_by_id(g.id + 100) is None
    assert store.org_by_identity("identity--z") is None


def test_orgs_by_ids_maps_the_existing_ones(store: Store) -> None:
    """`orgs_by_ids` gives the orgs of the ids asked that exist, by id, as `org_by_id` reads
    them; no id gives an empty map."""
    a, b, c = (store.create_org(n, f"identity--{n}", n != "B", T0) for n in "ABC")
    assert store.orgs_by_ids([a.id, c.id, c.id + 100]) == {a.id: a, c.id: c}
    assert store.orgs_by_ids({b.id}) == {b.id: store.org_by_id(b.id)}
    assert store.orgs_by_ids([]) == {}


@pytest.mark.parametrize("clash", ["name", "identity"])
def test_org_uniqueness(store: Store, clash: str) -> None:
    """A second org with a taken name or identity is a Conflict and leaves the first alone."""
    first = store.create_org("Org A", "identity--a", True, T0)
    name, identity = ("Org A", "identity--b") if clash == "name" else ("Org B", "identity--a")
    with pytest.raises(Conflict):
        store.create_org(name, identity, True, T0)
    assert store.list_orgs() == [first]


# --- tokens ------------------------------------------------------------------------------------
def _token_of(store: Store, secret_hash: bytes) -> Token | None:
    bearer = store.bearer(secret_hash)
    return None if bearer is None else bearer.token


def test_tokens_create_and_list(store: Store) -> None:
    """Tokens are found by hash and id and listed per org; node-admin tokens have no org."""
    a, b = setup_orgs(store, "Org A", "Org B")
    ta = store.create_token(a, "publisher", "ci", b"h-a", "tbd_aaaa", T0)
    tb = store.create_token(b, "reader", "", b"h-b", "tbd_bbbb", T0 + 1)
    admin = store.create_token(None, "node-admin", "ops", b"h-op", "tbd_oooo", T0 + 2)
    assert (ta.org_id, ta.role, ta.label, ta.prefix, ta.created, ta.revoked) == (
        a,
        "publisher",
        "ci",
        "tbd_aaaa",
        T0,
        None,
    )
    assert _token_of(store, b"h-a") == ta
    assert _token_of(store, b"h-op") == admin
    assert store.token_by_id(tb.id) == tb
    assert store.bearer(b"nope") is None
    assert store.token_by_id(admin.id + 100) is None
    assert store.list_tokens(a) == [ta]
    assert store.list_tokens(b) == [tb]
    assert store.list_tokens(None) == [admin]


def test_token_hash_is_unique(store: Store) -> None:
    """Two tokens can never share a secret hash: the second is a Conflict."""
    (a,) = setup_orgs(store, "Org A")
    first = store.create_token(a, "publisher", "", b"same", "tbd_1", T0)
    with pytest.raises(Conflict):
        store.create_token(a, "reader", "", b"same", "tbd_2", T0)
    assert store.list_tokens(a) == [first]


def test_token_revocation(store: Store) -> None:
    """Revoking stamps the token once (True), a second time or an unknown id does nothing."""
    (a,) = setup_orgs(store, "Org A")
    keep = store.create_token(a, "publisher", "", b"keep", "tbd_k", T0)
    drop = store.create_token(a, "publisher", "", b"drop", "tbd_d", T0)
    assert store.revoke_token(drop.id, T0 + 5) is True
    assert store.revoke_token(drop.id, T0 + 9) is False
    assert store.revoke_token(drop.id + keep.id + 100, T0) is False
    revoked = _token_of(store, b"drop")
    assert revoked is not None
    assert revoked.revoked == T0 + 5
    assert store.token_by_id(drop.id) == revoked
    assert _token_of(store, b"keep") == keep


def test_bearer_is_the_token_its_org_and_groups(store: Store) -> None:
    """One lookup gives what a request needs: the token, its org and every group of the org
    (none, one, several; the operator's token has no org); a revoked token still comes back,
    stamped, for the caller to refuse."""
    a, b, c = setup_orgs(store, "Org A", "Org B", "Org C")
    g1 = store.create_group("g1", "G1", a, T0)
    g2 = store.create_group("g2", "G2", b, T0)
    store.set_group_member(g2.id, a, False)
    ta = store.create_token(a, "publisher", "", b"h-a", "tbd_a", T0)
    tc = store.create_token(c, "reader", "", b"h-c", "tbd_c", T0)
    admin = store.create_token(None, "node-admin", "", b"h-op", "tbd_o", T0)
    of_a = store.bearer(b"h-a")
    assert of_a is not None
    assert (of_a.token, of_a.org, of_a.group_ids) == (
        ta,
        store.org_by_id(a),
        frozenset({g1.id, g2.id}),
    )
    of_c = store.bearer(b"h-c")
    assert of_c is not None
    assert (of_c.token, of_c.org, of_c.group_ids) == (tc, store.org_by_id(c), frozenset())
    of_admin = store.bearer(b"h-op")
    assert of_admin is not None
    assert (of_admin.token, of_admin.org, of_admin.group_ids) == (admin, None, frozenset())
    assert store.bearer(b"nope") is None
    store.revoke_token(ta.id, T0 + 1)
    revoked = store.bearer(b"h-a")
    assert revoked is not None
    assert revoked.token.revoked == T0 + 1


# --- groups ------------------------------------------------------------------------------------
def test_group_membership(store: Store) -> None:
    """A group starts with its owner; members are added, promoted and removed exactly once."""
    a, b, c = setup_orgs(store, "Org A", "Org B", "Org C")
    group = store.create_group("g-uuid", "AB group", a, T0)
    assert (group.uuid, group.name, group.created_by, group.created) == (
        "g-uuid",
        "AB group",
        a,
        T0,
    )
    assert group.owners == group.members == frozenset({a})
    store.set_group_member(group.id, b, False)
    after_add = store.group_by_id(group.id)
    assert after_add is not None
    assert (after_add.owners, after_add.members) == (frozenset({a}), frozenset({a, b}))
    store.set_group_member(group.id, b, True)
    promoted = store.group_by_name("AB group")
    assert promoted is not None
    assert promoted.owners == frozenset({a, b})
    assert store.group_ids_of(b) == frozenset({group.id})
    assert store.group_ids_of(c) == frozenset()
    assert store.remove_group_member(group.id, b) is True
    assert store.remove_group_member(group.id, b) is False
    assert store.group_ids_of(b) == frozenset()
    final = store.group_by_id(group.id)
    assert final is not None
    assert (final.owners, final.members) == (frozenset({a}), frozenset({a}))
    other = store.create_group("h-uuid", "C group", c, T0)
    assert [g.name for g in store.list_groups()] == ["AB group", "C group"]
    assert store.group_ids_of(c) == frozenset({other.id})
    assert store.group_by_name("nope") is None
    assert store.group_by_id(other.id + 100) is None


@pytest.mark.parametrize("clash", ["name", "uuid"])
def test_group_uniqueness(store: Store, clash: str) -> None:
    """A second group with a taken name or uuid is a Conflict and adds no group."""
    (a,) = setup_orgs(store, "Org A")
    store.create_group("g-uuid", "AB group", a, T0)
    uuid_, name = ("other", "AB group") if clash == "name" else ("g-uuid", "Other")
    with pytest.raises(Conflict):
        store.create_group(uuid_, name, a, T0)
    assert [g.name for g in store.list_groups()] == ["AB group"]
    assert store.group_ids_of(a) == frozenset({store.list_groups()[0].id})


# --- collections -------------------------------------------------------------------------------
def test_collections_round_trip(store: Store) -> None:
    """Collections of every kind read back as created, in creation order."""
    (a,) = setup_orgs(store, "Org A")
    group = store.create_group("g-uuid", "AB group", a, T0)
    made = [
        store.create_collection("u-m", AudienceKind.MEMBERS, None, "members", "all members"),
        store.create_collection("u-p", AudienceKind.PUBLIC, None, "public", "everyone"),
        store.create_collection("u-a", AudienceKind.ORG, a, "Org A", "private"),
        store.create_collection("u-g", AudienceKind.GROUP, group.id, "AB group", "group"),
    ]
    assert store.list_collections() == made
    kinds = [AudienceKind.MEMBERS, AudienceKind.PUBLIC, AudienceKind.ORG, AudienceKind.GROUP]
    assert [c.kind for c in store.list_collections()] == kinds
    assert [c.ref for c in store.list_collections()] == [None, None, a, group.id]
    assert len({c.id for c in made}) == 4
    assert all(isinstance(c.kind, AudienceKind) for c in store.list_collections())


@pytest.mark.parametrize("clash", ["uuid", "org-channel", "members-channel"])
def test_collection_uniqueness(store: Store, clash: str) -> None:
    """A collection uuid, and the channel of an audience, exist once: a second is a Conflict."""
    (a,) = setup_orgs(store, "Org A")
    store.create_collection("u-m", AudienceKind.MEMBERS, None, "members", "")
    store.create_collection("u-a", AudienceKind.ORG, a, "Org A", "")
    before = store.list_collections()
    second = {
        "uuid": ("u-m", AudienceKind.PUBLIC, None),
        "org-channel": ("u-a2", AudienceKind.ORG, a),
        "members-channel": ("u-m2", AudienceKind.MEMBERS, None),
    }[clash]
    with pytest.raises(Conflict):
        store.create_collection(*second, "again", "")
    assert store.list_collections() == before


# --- writing versions --------------------------------------------------------------------------
def test_write_outcomes(store: Store) -> None:
    """A new version is STORED, the same version again is EXISTS (nothing changes), a version
    by another org of an id it does not own in that collection is OWNED_BY_OTHER."""
    a, b = setup_orgs(store, "Org A", "Org B")
    members, other = channel(store, "members"), channel(store, "other")
    x = sid()
    first = store.write_versions(members.id, a, [new_version(x, T0, note="one")], T0)
    assert first == [(WriteOutcome.STORED, T0)]
    again = store.write_versions(members.id, a, [new_version(x, T0, note="two")], T0 + 10)
    assert again == [(WriteOutcome.EXISTS, T0)]
    (row,) = rows(store, members)
    assert orjson.loads(row.body)["note"] == "one"
    taken = store.write_versions(members.id, b, [new_version(x, T0 + 1)], T0 + 20)
    assert taken == [(WriteOutcome.OWNED_BY_OTHER, T0 + 1)]
    replay = store.write_versions(members.id, b, [new_version(x, T0)], T0 + 30)
    assert replay[0][0] in (WriteOutcome.EXISTS, WriteOutcome.OWNED_BY_OTHER)
    assert [r.version_us for r in rows(store, members)] == [T0]
    assert store.authors_of(members.id, x) == {a}
    # The same id in another collection is another object.
    assert store.write_versions(other.id, b, [new_version(x, T0 + 1)], T0 + 40) == [
        (WriteOutcome.STORED, T0 + 1)
    ]
    assert store.authors_of(other.id, x) == {b}
    assert store.count_objects(everything(store)) == 2


def test_write_outcomes_within_one_batch(store: Store) -> None:
    """Outcomes come back in input order; a duplicate within the batch is EXISTS."""
    (a,) = setup_orgs(store, "Org A")
    members = channel(store, "members")
    x, y = sid(), sid()
    batch = [new_version(x, T0 + 2), new_version(y, T0), new_version(x, T0 + 2)]
    outcomes = store.write_versions(members.id, a, batch, T0)
    assert outcomes == [
        (WriteOutcome.STORED, T0 + 2),
        (WriteOutcome.STORED, T0),
        (WriteOutcome.EXISTS, T0 + 2),
    ]
    assert [(r.stix_id, r.version_us) for r in rows(store, members)] == [(x, T0 + 2), (y, T0)]


def _same_note(asked: list[bytes]) -> Callable[[NewVersion, bytes], bool]:
    """A content rule for the tests: two bodies are the same content when their notes are."""

    def same(version: NewVersion, stored: bytes) -> bool:
        asked.append(stored)
        return bool(orjson.loads(version.body)["note"] == orjson.loads(stored)["note"])

    return same


def test_copy_of_another_orgs_version(store: Store) -> None:
    """A version another org published here is COPY_OF_OTHER when the content rule finds it
    the same (nothing stored, the owner unchanged); other content, a new version, or no rule
    at all keep it OWNED_BY_OTHER."""
    a, b = setup_orgs(store, "Org A", "Org B")
    members = channel(store, "members")
    x = sid()
    store.write_versions(members.id, a, [new_version(x, T0, note="one")], T0)
    asked: list[bytes] = []
    same = _same_note(asked)

    def write(note: str, version: int = T0, rule: bool = True) -> list[tuple[WriteOutcome, int]]:
        batch = [new_version(x, version, note=note)]
        return store.write_versions(
            members.id, b, batch, T0 + 10, same_content=same if rule else None
        )

    assert write("one") == [(WriteOutcome.COPY_OF_OTHER, T0)]
    assert orjson.loads(asked[0])["note"] == "one"  # the rule saw the stored body
    assert write("two") == [(WriteOutcome.OWNED_BY_OTHER, T0)]
    assert write("one", T0 + 1) == [(WriteOutcome.OWNED_BY_OTHER, T0 + 1)]
    assert write("one", rule=False) == [(WriteOutcome.OWNED_BY_OTHER, T0)]
    assert len(asked) == 2  # asked only of a stored version, and only with a rule
    (row,) = rows(store, members)
    assert orjson.loads(row.body)["note"] == "one"
    assert store.authors_of(members.id, x) == {a}


def test_version_without_timestamp_is_compared_with_its_latest(store: Store) -> None:
    """An object without timestamps (an SCO) has no version of its own: with a content rule,
    one identical to its latest version is EXISTS for its publisher and COPY_OF_OTHER for
    another org, reported at that version; other content is a new version for its publisher
    (OWNED_BY_OTHER for another org). Without a rule each write is a new version."""
    a, b = setup_orgs(store, "Org A", "Org B")
    members = channel(store, "members")
    y = sid("ipv4-addr")
    same = _same_note([])

    def write(org: int, *notes: str, rule: bool = True) -> list[tuple[WriteOutcome, int]]:
        batch = [new_version(y, None, note=note) for note in notes]
        return store.write_versions(members.id, org, batch, T0, same_content=same if rule else None)

    ((stored, v1),) = write(a, "one")
    assert stored is WriteOutcome.STORED
    assert write(a, "one") == [(WriteOutcome.EXISTS, v1)]
    assert write(b, "one") == [(WriteOutcome.COPY_OF_OTHER, v1)]
    ((outcome, _),) = write(b, "two")
    assert outcome is WriteOutcome.OWNED_BY_OTHER
    (first, again) = write(a, "two", "two")
    assert first[0] is WriteOutcome.STORED
    assert again == (WriteOutcome.EXISTS, first[1])  # compared within the batch too
    assert versions_of(store, members, y, ALL) == [v1, first[1]]
    ((back, v3),) = write(a, "one")  # the latest is "two": "one" again is a new version
    assert back is WriteOutcome.STORED
    assert write(a, "one") == [(WriteOutcome.EXISTS, v3)]
    ((no_rule, _),) = write(a, "one", rule=False)
    assert no_rule is WriteOutcome.STORED
    assert len(versions_of(store, members, y, ALL)) == 4


def test_version_without_timestamp_takes_date_added(store: Store) -> None:
    """A version without its own timestamp is versioned by its date_added."""
    (a,) = setup_orgs(store, "Org A")
    members = channel(store, "members")
    x = sid("ipv4-addr")
    ((outcome, version),) = store.write_versions(members.id, a, [new_version(x, None)], T0 + 7)
    assert outcome is WriteOutcome.STORED
    (row,) = rows(store, members)
    assert row.version_us == version == row.date_added
    assert row.date_added >= T0 + 7


ORDERS = sorted(set(itertools.permutations([1, 2, 3])))


@pytest.mark.parametrize("one_batch", [False, True], ids=["batches", "one-batch"])
@pytest.mark.parametrize("order", ORDERS, ids=["".join(map(str, o)) for o in ORDERS])
def test_first_and_last_follow_versions(
    store: Store, order: tuple[int, ...], one_batch: bool
) -> None:
    """first/last name the oldest and newest version whatever the arrival order, and move
    when versions are deleted."""
    (a,) = setup_orgs(store, "Org A")
    members = channel(store, "members")
    x, other = sid(), sid()
    store.write_versions(members.id, a, [new_version(other, T0 + 500)], T0)
    versions = [new_version(x, T0 + 100 * n) for n in order]
    if one_batch:
        store.write_versions(members.id, a, versions, T0 + 1)
    else:
        for i, version in enumerate(versions):
            store.write_versions(members.id, a, [version], T0 + 1 + i)
    v1, v2, v3 = T0 + 100, T0 + 200, T0 + 300
    assert versions_of(store, members, x, FIRST) == [v1]
    assert versions_of(store, members, x, LAST) == [v3]
    assert versions_of(store, members, x, VersionFilter(first=True, last=True)) == [v1, v3]
    assert versions_of(store, members, x, ALL) == [v1, v2, v3]
    assert versions_of(store, members, other, VersionFilter(first=True, last=True)) == [T0 + 500]

    at_v3 = ObjectFilter(versions=VersionFilter(last=False, at=frozenset({v3})))
    assert store.delete_versions(members.id, x, at_v3, T0 + 10) == 1
    assert versions_of(store, members, x, LAST) == [v2]
    assert versions_of(store, members, x, FIRST) == [v1]
    first_only = ObjectFilter(versions=FIRST)
    assert store.delete_versions(members.id, x, first_only, T0 + 11) == 1
    assert versions_of(store, members, x, FIRST) == [v2]
    assert versions_of(store, members, x, LAST) == [v2]
    assert store.delete_versions(members.id, x, ObjectFilter(versions=ALL), T0 + 12) == 1
    assert versions_of(store, members, x, ALL) == []
    assert versions_of(store, members, other, ALL) == [T0 + 500]
    # A version arriving after the deletions starts the id afresh.
    store.write_versions(members.id, a, [new_version(x, T0 + 50)], T0 + 13)
    assert versions_of(store, members, x, VersionFilter(first=True, last=True)) == [T0 + 50]


def test_date_added_strictly_increases(store: Store) -> None:
    """date_added strictly increases across and within batches, even when the clock goes back
    or a batch only rewrites a stored version, and follows the clock when it is ahead."""
    (a,) = setup_orgs(store, "Org A")
    members = channel(store, "members")
    clock = [T0 + 5000, T0 + 1000, T0 + 1000, T0 + 3000, T0 + 90_000]
    written: list[str] = []
    for i, now in enumerate(clock):
        batch = [new_version(sid(), T0 + i), new_version(sid(), T0 + i)]
        store.write_versions(members.id, a, batch, now)
        written += [v.stix_id for v in batch]
    found = rows(store, members)
    assert [r.stix_id for r in found] == written
    added = [r.date_added for r in found]
    assert all(x < y for x, y in itertools.pairwise(added))
    assert added[0] >= clock[0]
    assert added[-2] >= clock[-1]
    assert store.write_versions(members.id, a, [new_version(written[0], T0)], T0)[0][0] is (
        WriteOutcome.EXISTS
    )
    y = sid()
    store.write_versions(members.id, a, [new_version(y, T0)], T0)
    assert rows(store, members)[-1].stix_id == y
    assert rows(store, members)[-1].date_added > added[-1]


# --- reading -----------------------------------------------------------------------------------
def test_query_respects_visibility(store: Store) -> None:
    """A query returns rows of the visible collections only; an empty visibility, nothing."""
    (a,) = setup_orgs(store, "Org A")
    one, two, three = channel(store, "one"), channel(store, "two"), channel(store, "three")
    ids = {c.id: [sid(), sid()] for c in (one, two)}
    for cid, pair in ids.items():
        store.write_versions(cid, a, [new_version(i, T0) for i in pair], T0)
    flt = ObjectFilter(versions=ALL)
    assert store.query_objects(Visibility(frozenset()), flt, None, 100) == []
    assert store.count_objects(Visibility(frozenset())) == 0
    only_one = store.query_objects(Visibility(frozenset({one.id})), flt, None, 100)
    assert [r.stix_id for r in only_one] == ids[one.id]
    both = store.query_objects(Visibility(frozenset({one.id, two.id})), flt, None, 100)
    assert [r.stix_id for r in both] == ids[one.id] + ids[two.id]
    assert store.query_objects(Visibility(frozenset({three.id})), flt, None, 100) == []
    assert store.count_objects(Visibility(frozenset({two.id}))) == 2
    assert store.count_objects(Visibility(frozenset({one.id, two.id, three.id}))) == 4
    # An id filter cannot reach outside the visibility.
    reach = ObjectFilter(ids=frozenset(ids[two.id]), versions=ALL)
    assert store.query_objects(Visibility(frozenset({one.id})), reach, None, 100) == []


def test_authored_in_asks_within_the_visibility(store: Store) -> None:
    """Whether an org published anything is answered within the visibility only."""
    a, b = setup_orgs(store, "Org A", "Org B")
    one, two = channel(store, "one"), channel(store, "two")
    store.write_versions(one.id, a, [new_version(sid(), T0)], T0)
    assert store.authored_in(Visibility(frozenset({one.id})), a)
    assert store.authored_in(everything(store), a)
    assert not store.authored_in(Visibility(frozenset({two.id})), a)
    assert not store.authored_in(everything(store), b)
    assert not store.authored_in(Visibility(frozenset()), a)


def test_directory_record_of_a_peers_org_keeps_its_latest_version(store: Store) -> None:
    """A peer's org's record is kept as received; a later version replaces it, an older or
    equal one (a stale relay) does not; an org without one has none."""
    peer = store.add_peer("node-x", "http://x", b"k" * 32, T0)

    def merge(version_us: int | None, note: str) -> None:
        record = (
            None
            if version_us is None
            else DirectoryRecord(version_us, orjson.dumps({"id": "identity--x1", "note": note}))
        )
        org = RemoteOrg("identity--x1", "Org X1", True, [], record)
        assert store.merge_directory(peer.id, 1, [org], [], {}, T0 + 5) == []

    merge(None, "")
    (org,) = [o for o in store.list_orgs() if o.name == "Org X1"]
    assert store.directory_record(org.id) is None
    merge(T0 + 2, "second")
    merge(T0 + 1, "older")
    merge(T0 + 2, "same version again")
    kept = store.directory_record(org.id)
    assert kept is not None
    assert (kept.stix_id, kept.version_us, kept.date_added) == ("identity--x1", T0 + 2, T0 + 5)
    assert orjson.loads(kept.body)["note"] == "second"
    merge(T0 + 3, "third")
    kept = store.directory_record(org.id)
    assert kept is not None
    assert orjson.loads(kept.body)["note"] == "third"


@pytest.fixture
def corpus(store: Store) -> tuple[Collection, list[tuple[str, str, int, int]]]:
    """Three ids of two types, with three, two and one versions, written out of order;
    returns the collection and (id, type, version, date_added) in date_added order."""
    (a,) = setup_orgs(store, "Org A")
    members = channel(store, "members")
    x, y, z = sid("indicator"), sid("malware"), sid("indicator")
    plan = [
        [new_version(x, T0 + 200), new_version(y, T0 + 100)],
        [new_version(x, T0 + 100), new_version(z, T0 + 100)],
        [new_version(x, T0 + 300), new_version(y, T0 + 200)],
    ]
    for i, batch in enumerate(plan):
        store.write_versions(members.id, a, batch, T0 + 1000 * (i + 1))
    found = [
        (r.stix_id, orjson.loads(r.body)["type"], r.version_us, r.date_added)
        for r in rows(store, members)
    ]
    assert [(f[0], f[2]) for f in found] == [
        (v.stix_id, v.version_us) for batch in plan for v in batch
    ]
    return members, found


def expected(
    found: list[tuple[str, str, int, int]], flt: ObjectFilter, after: int | None
) -> list[tuple[str, int]]:
    """A direct model of the filter semantics over the corpus."""
    by_id: dict[str, list[int]] = {}
    for stix_id, _, version, _ in found:
        by_id.setdefault(stix_id, []).append(version)
    low = max([v for v in (flt.added_after, after) if v is not None], default=None)
    out = []
    for stix_id, kind, version, added in found:
        v = flt.versions
        chosen = (
            v.all
            or (v.first and version == min(by_id[stix_id]))
            or (v.last and version == max(by_id[stix_id]))
            or version in v.at
        )
        if (
            chosen
            and (low is None or added > low)
            and (not flt.ids or stix_id in flt.ids)
            and (not flt.types or kind in flt.types)
            and (not flt.spec_versions or "2.1" in flt.spec_versions)
        ):
            out.append((stix_id, version))
    return out


FILTER_CASES = {
    "latest": lambda ids, added: ObjectFilter(),
    "all": lambda ids, added: ObjectFilter(versions=ALL),
    "first": lambda ids, added: ObjectFilter(versions=FIRST),
    "first-and-last": lambda ids, added: ObjectFilter(versions=VersionFilter(first=True)),
    "at-one": lambda ids, added: ObjectFilter(
        versions=VersionFilter(last=False, at=frozenset({T0 + 200}))
    ),
    "at-and-first": lambda ids, added: ObjectFilter(
        versions=VersionFilter(first=True, last=False, at=frozenset({T0 + 300, T0 + 999}))
    ),
    "nothing": lambda ids, added: ObjectFilter(versions=VersionFilter(last=False)),
    "type": lambda ids, added: ObjectFilter(types=frozenset({"indicator"}), versions=ALL),
    "types": lambda ids, added: ObjectFilter(types=frozenset({"indicator", "malware"})),
    "absent-type": lambda ids, added: ObjectFilter(types=frozenset({"tool"}), versions=ALL),
    "id": lambda ids, added: ObjectFilter(ids=frozenset({ids[0]}), versions=ALL),
    "ids-last": lambda ids, added: ObjectFilter(ids=frozenset(ids[:2])),
    "spec": lambda ids, added: ObjectFilter(spec_versions=frozenset({"2.1"}), versions=ALL),
    "other-spec": lambda ids, added: ObjectFilter(spec_versions=frozenset({"2.0"})),
    "added-after": lambda ids, added: ObjectFilter(added_after=added[1], versions=ALL),
    "added-after-last": lambda ids, added: ObjectFilter(added_after=added[1]),
    "added-after-end": lambda ids, added: ObjectFilter(added_after=added[-1], versions=ALL),
    "combined": lambda ids, added: ObjectFilter(
        added_after=added[0],
        ids=frozenset(ids),
        types=frozenset({"indicator"}),
        versions=VersionFilter(first=True, last=True),
        spec_versions=frozenset({"2.1", "2.0"}),
    ),
}


@pytest.mark.parametrize("case", sorted(FILTER_CASES))
def test_query_filters(
    store: Store, corpus: tuple[Collection, list[tuple[str, str, int, int]]], case: str
) -> None:
    """Every filter selects what the model says, in date_added order."""
    members, found = corpus
    ids = list(dict.fromkeys(f[0] for f in found))
    added = [f[3] for f in found]
    flt = FILTER_CASES[case](ids, added)
    got = [(r.stix_id, r.version_us) for r in rows(store, members, flt)]
    want = expected(found, flt, None)
    assert got == want
    if case not in ("nothing", "absent-type", "other-spec", "added-after-end"):
        assert want, "the case should select something"


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
@pytest.mark.parametrize("case", ["all", "latest", "first", "type", "added-after"])
def test_query_pages_with_after_and_limit(
    store: Store, corpus: tuple[Collection, list[tuple[str, str, int, int]]], case: str, limit: int
) -> None:
    """Paging with `limit` and `after` (the last date_added seen) covers the selection once,
    in order, each page at most `limit` rows; `after` combines with added_after."""
    members, found = corpus
    ids = list(dict.fromkeys(f[0] for f in found))
    flt = FILTER_CASES[case](ids, [f[3] for f in found])
    seen: list[StoredRow] = []
    after: int | None = None
    while True:
        page = rows(store, members, flt, after, limit)
        assert len(page) <= limit
        seen += page
        if len(page) < limit:
            break
        after = page[-1].date_added
    assert [(r.stix_id, r.version_us) for r in seen] == expected(found, flt, None)
    mid = found[2][3]
    assert [(r.stix_id, r.version_us) for r in rows(store, members, flt, mid)] == expected(
        found, flt, mid
    )


def test_delete_versions_by_filter(store: Store) -> None:
    """delete_versions removes the matching versions of one id in one collection only and
    returns how many; no match deletes nothing."""
    a, b = setup_orgs(store, "Org A", "Org B")
    members, other = channel(store, "members"), channel(store, "other")
    x = sid()
    store.write_versions(members.id, a, [new_version(x, T0 + n) for n in (1, 2, 3)], T0)
    store.write_versions(other.id, b, [new_version(x, T0 + n) for n in (1, 2)], T0)
    none = ObjectFilter(versions=VersionFilter(last=False, at=frozenset({T0 + 9})))
    assert store.delete_versions(members.id, x, none, T0) == 0
    wrong_spec = ObjectFilter(versions=ALL, spec_versions=frozenset({"2.0"}))
    assert store.delete_versions(members.id, x, wrong_spec, T0) == 0
    two = ObjectFilter(versions=VersionFilter(last=False, at=frozenset({T0 + 1, T0 + 3})))
    assert store.delete_versions(members.id, x, two, T0) == 2
    assert versions_of(store, members, x, ALL) == [T0 + 2]
    assert versions_of(store, other, x, ALL) == [T0 + 1, T0 + 2]
    assert store.authors_of(members.id, x) == {a}
    assert store.delete_versions(members.id, x, ObjectFilter(versions=ALL), T0) == 1
    assert store.authors_of(members.id, x) == set()
    assert store.authors_of(other.id, x) == {b}


# --- statuses and transactions -----------------------------------------------------------------
def status_record(uuid: str, org_id: int | None = 1) -> StatusRecord:
    return StatusRecord(
        uuid=uuid,
        org_id=org_id,
        request_us=T0 + 42,
        total=3,
        successes=[("indicator--1", "2026-01-01T00:00:00.000Z", "stored")],
        failures=[("", "", "not a STIX object"), ("indicator--2", "v", "TLP:RED …")],
    )


@pytest.mark.parametrize("org_id", [1, None], ids=["org", "no-org"])
def test_status_round_trip(store: Store, org_id: int | None) -> None:
    """A saved status reads back field for field; an unknown uuid gives None."""
    saved = status_record("status-1", org_id)
    store.save_status(saved)
    loaded = store.status("status-1")
    assert loaded is not None
    assert (loaded.uuid, loaded.org_id, loaded.request_us, loaded.total) == (
        "status-1",
        org_id,
        T0 + 42,
        3,
    )
    assert [tuple(s) for s in loaded.successes] == list(saved.successes)
    assert [tuple(f) for f in loaded.failures] == list(saved.failures)
    assert store.status("status-2") is None


def test_an_unexpected_integrity_violation_is_the_storages_own_error(store: Store) -> None:
    """Each engine raises a broken constraint as `IntegrityViolation` (a 500 that keeps the
    driver's text out of its description), never as its driver's error; nothing is written."""
    store.save_status(status_record("status-1"))
    with pytest.raises(IntegrityViolation) as raised:
        store.save_status(status_record("status-1"))
    assert raised.value.http_status == 500
    assert raised.value.description == IntegrityViolation.title
    assert raised.value.detail
    assert store.status("status-1") is not None


def test_status_is_written_with_the_versions(store: Store) -> None:
    """write_versions hands the outcomes to status_of and stores its status in the same write."""
    (a,) = setup_orgs(store, "Org A")
    members = channel(store, "members")
    x = sid()
    seen: list[list[tuple[WriteOutcome, int]]] = []

    def status_of(outcomes: list[tuple[WriteOutcome, int]]) -> StatusRecord:
        seen.append(list(outcomes))
        return StatusRecord("s-1", a, T0, len(outcomes), [(x, str(o[1]), "") for o in outcomes], [])

    outcomes = store.write_versions(
        members.id, a, [new_version(x, T0), new_version(x, T0)], T0, status_of
    )
    assert seen == [outcomes]
    assert [o for o, _ in outcomes] == [WriteOutcome.STORED, WriteOutcome.EXISTS]
    status = store.status("s-1")
    assert status is not None
    assert status.total == 2
    assert len(status.successes) == 2


class Boom(Exception):
    """Raised inside a write transaction."""


def test_failed_write_leaves_nothing(store: Store) -> None:
    """If anything raises inside write_versions, no version, no status and no date_added
    survive: the transaction is all or nothing."""
    (a,) = setup_orgs(store, "Org A")
    members = channel(store, "members")
    x, y = sid(), sid()

    def explode(outcomes: list[tuple[WriteOutcome, int]]) -> StatusRecord:
        assert [o for o, _ in outcomes] == [WriteOutcome.STORED, WriteOutcome.STORED]
        raise Boom

    with pytest.raises(Boom):
        store.write_versions(
            members.id, a, [new_version(x, T0), new_version(y, T0)], T0 + 1000, explode
        )
    assert rows(store, members) == []
    assert store.count_objects(everything(store)) == 0
    assert store.authors_of(members.id, x) == set()
    # The date_added counter was rolled back too: the clock's value is used as if nothing
    # had been written before.
    assert store.write_versions(members.id, a, [new_version(x, T0)], T0 + 1000) == [
        (WriteOutcome.STORED, T0)
    ]
    assert [r.date_added for r in rows(store, members)] == [T0 + 1000]


def test_failed_status_save_leaves_nothing(store: Store) -> None:
    """A status whose uuid is taken fails the whole write: the versions are not stored."""
    (a,) = setup_orgs(store, "Org A")
    members = channel(store, "members")
    store.save_status(status_record("taken"))
    x = sid()
    with pytest.raises(Exception) as raised:  # noqa: PT011 - backends differ
        store.write_versions(
            members.id, a, [new_version(x, T0)], T0, lambda _: status_record("taken", a)
        )
    assert not isinstance(raised.value, AssertionError)
    assert rows(store, members) == []
    loaded = store.status("taken")
    assert loaded is not None
    assert loaded.org_id == 1


def test_reopen_keeps_everything(open_store: Opener) -> None:
    """Everything committed before close is there after reopening, and date_added keeps
    increasing from where it was."""
    store = open_store()
    a, b = setup_orgs(store, "Org A", "Org B")
    token = store.create_token(a, "publisher", "", b"hash", "tbd_x", T0)
    store.revoke_token(token.id, T0 + 1)
    group = store.create_group("g-uuid", "AB group", a, T0)
    store.set_group_member(group.id, b, False)
    members = channel(store, "members")
    x = sid()
    store.write_versions(
        members.id, a, [new_version(x, T0 + 1), new_version(x, T0 + 2)], T0 + 10_000
    )
    store.save_status(status_record("s"))
    snapshot = (
        store.list_orgs(),
        store.list_tokens(a),
        store.list_groups(),
        store.list_collections(),
        rows(store),
        rows(store, flt=ObjectFilter()),
        store.status("s"),
    )
    store.close()

    reopened = open_store()
    try:
        assert (
            reopened.list_orgs(),
            reopened.list_tokens(a),
            reopened.list_groups(),
            reopened.list_collections(),
            rows(reopened),
            rows(reopened, flt=ObjectFilter()),
            reopened.status("s"),
        ) == snapshot
        assert reopened.group_ids_of(b) == frozenset({group.id})
        last_added = snapshot[4][-1].date_added
        reopened.write_versions(members.id, a, [new_version(sid(), T0)], T0)
        assert rows(reopened)[-1].date_added > last_added
        assert reopened.write_versions(members.id, a, [new_version(x, T0 + 2)], T0) == [
            (WriteOutcome.EXISTS, T0 + 2)
        ]
    finally:
        reopened.close()
