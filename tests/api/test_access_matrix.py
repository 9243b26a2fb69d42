"""The access matrix: every read path x every audience x every principal, then the write side.

A read world is built once per module (read-only: four audience channels, each holding objects
of org A, posted interleaved so that the channels' `date_added` values alternate); the write
tests mutate, so they use the function-scoped `community` and `client` of conftest.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from tabadol.domain.errors import Forbidden, NotFound
from tabadol.domain.extensions import PROVENANCE_EXTENSION
from tabadol.domain.model import Role
from tabadol.domain.policy import Visibility
from tabadol.domain.sealed import wrapper_id
from tabadol.domain.timestamps import format_us, parse_us
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node, init_node, open_node
from tabadol.usecases.membership import api_tokens, principals, sharing_groups
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.publishing.publish import publish_objects
from tabadol.usecases.reading.export import export_objects
from tabadol.web.app import create_app
from tabadol.web.media import TAXII_21

from ..conftest import BACKENDS, Community, StepClock, build_community, make_indicator, stix_id


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run on SQLite and on PostgreSQL."""
    return str(request.param)


ROOT = "/taxii2/root"
MITRE_IDENTITY = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"
TLP1_RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"

AUDIENCES = ["org-A", "group-AB", "members", "public"]
TITLE = {"org-A": "Org A", "group-AB": "AB group", "members": "members", "public": "public"}
PRINCIPALS = [
    "A",  # the author org, publisher token
    "A-reader",  # the author org, reader token
    "B",  # a member of the AB group
    "C",  # a member org outside the AB group
    "G",  # a guest org
    "operator",  # the node's admin
    "anonymous",  # no token, node without anonymous public read
    "anonymous-public",  # no token, node with anonymous_public_read = true
    "revoked",  # a revoked publisher token of org A
]
UNAUTHENTICATED = frozenset({"anonymous", "revoked"})
READERS: dict[str, frozenset[str]] = {
    "org-A": frozenset({"A", "A-reader"}),
    "group-AB": frozenset({"A", "A-reader", "B"}),
    "members": frozenset({"A", "A-reader", "B", "C"}),
    "public": frozenset({"A", "A-reader", "B", "C", "G", "operator", "anonymous-public"}),
}
RW, RO = (True, True), (True, False)
LISTING: dict[str, dict[str, tuple[bool, bool]]] = {
    "A": {"Org A": RW, "AB group": RW, "members": RW, "public": RW},
    "A-reader": {"Org A": RO, "AB group": RO, "members": RO, "public": RO},
    "B": {"Org B": RW, "AB group": RW, "members": RW, "public": RW},
    "C": {"Org C": RW, "members": RW, "public": RW},
    "G": {"public": RO},
    "operator": {"public": RO},
    "anonymous-public": {"public": RO},
}
EXPORTERS = ["A", "B", "C", "G"]
READ_PATHS = ["objects", "object", "versions", "manifest", "collection"]
V1, V2, V3 = "2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z", "2026-01-04T00:00:00.000Z"


# --- helpers ---------------------------------------------------------------------------------
def revoked_token(node: Node, org: str = "Org A") -> str:
    token, secret = api_tokens.create_token(node, OPERATOR, org, "publisher", break_glass="test")
    api_tokens.revoke_token(node, OPERATOR, token.id)
    return secret


def headers_for(
    com: Community, who: str, revoked: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The request headers of a principal; `anonymous-public` switches the node setting on."""
    if who == "anonymous-public":
        settings = dataclasses.replace(com.node.settings, anonymous_public_read=True)
        monkeypatch.setattr(com.node, "settings", settings)
    if who in ("anonymous", "anonymous-public"):
        return {"Accept": TAXII_21}
    if who == "revoked":
        secret = revoked
    elif who == "operator":
        secret = com.tokens["operator"]
    elif who == "A-reader":
        secret = com.token("A", "reader")
    else:
        secret = com.token(who, "publisher")
    return {"Authorization": f"Bearer {secret}", "Accept": TAXII_21}


def post(
    client: TestClient, headers: dict[str, str], collection: str, objects: list[dict[str, Any]]
) -> httpx.Response:
    return client.post(
        f"{ROOT}/collections/{collection}/objects/",
        json={"objects": objects},
        headers={**headers, "Content-Type": TAXII_21},
    )


def read_url(path: str, collection: str, object_id: str) -> str:
    base = f"{ROOT}/collections/{collection}/"
    return {
        "collection": base,
        "objects": base + "objects/",
        "manifest": base + "manifest/",
        "object": base + f"objects/{object_id}/",
        "versions": base + f"objects/{object_id}/versions/",
    }[path]


def assert_same_answer(got: httpx.Response, never: httpx.Response) -> None:
    """Two answers are indistinguishable: status, body and media type."""
    assert (got.status_code, got.content) == (never.status_code, never.content)
    assert got.headers.get("content-type") == never.headers.get("content-type")
    assert "x-taxii-date-added-first" not in got.headers


def pairs(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(o["id"], o["modified"]) for o in objects]


def all_collection_ids(node: Node) -> Visibility:
    return Visibility(frozenset(c.id for c in node.store.list_collections()))


# --- the read world --------------------------------------------------------------------------
@dataclass
class World:
    """Org A's objects in every audience channel: `first` in two versions, `second` in one."""

    com: Community
    client: TestClient
    revoked: str
    first: dict[str, str] = field(default_factory=dict)  # audience -> id with versions V1, V2
    second: dict[str, str] = field(default_factory=dict)  # audience -> id with version V1
    latest: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # in date_added order
    status_id: str = ""

    def collection(self, audience: str) -> str:
        return self.com.collections[TITLE[audience]]

    def headers(self, who: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
        return headers_for(self.com, who, self.revoked, monkeypatch)

    def stored(self, audience: str, object_id: str) -> str:
        """The id an object is stored (and listed in the manifest) under: in A's own channel
        (AMBER+STRICT by default) its sealed item's; a reader with the key gets it opened."""
        return wrapper_id(object_id) if audience == "org-A" else object_id

    def manifest(self, audience: str) -> list[tuple[str, str]]:
        return [(self.stored(audience, i), v) for i, v in self.latest[audience]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = tmp_path_factory.mktemp("matrix") / "node"
    init_node(data)
    with open_node(data, clock=StepClock()) as node:
        com = build_community(node)
        identities = [(com.orgs[n].identity_id, format_us(com.orgs[n].created)) for n in "ABC"]
        with TestClient(create_app(lambda: node), raise_server_exceptions=False) as client:
            w = World(com, client, revoked_token(node))
            author = com.auth("A")
            rounds: list[dict[str, dict[str, Any]]] = [{}, {}, {}]
            for audience in AUDIENCES:
                first = make_indicator(modified=V1, name=f"first {audience}")
                second = make_indicator(modified=V1, name=f"second {audience}")
                w.first[audience], w.second[audience] = first["id"], second["id"]
                rounds[0][audience] = first
                rounds[1][audience] = second
                rounds[2][audience] = {**first, "modified": V2}
            # Interleave the channels: round by round, one POST per channel.
            for batch in rounds:
                for audience, obj in batch.items():
                    answer = post(client, author, w.collection(audience), [obj])
                    assert answer.status_code == 202, answer.text
                    assert answer.json()["success_count"] == 1, answer.text
                    w.status_id = answer.json()["id"]
            for audience in AUDIENCES:
                w.latest[audience] = [(w.second[audience], V1), (w.first[audience], V2)]
            w.latest["members"] = identities + w.latest["members"]
            yield w


# --- read paths ------------------------------------------------------------------------------
def check_visible(world: World, path: str, audience: str, who: str, got: httpx.Response) -> None:
    """The content a reader of the channel must get from `path`, exactly."""
    assert got.status_code == 200, got.text
    body = got.json()
    if path == "collection":
        assert body["id"] == world.collection(audience)
        assert body["title"] == TITLE[audience]
        assert (body["can_read"], body["can_write"]) == LISTING[who][TITLE[audience]]
        return
    assert body["more"] is False
    assert "next" not in body
    if path == "objects":
        assert pairs(body["objects"]) == world.latest[audience]
    elif path == "object":
        assert pairs(body["objects"]) == [(world.first[audience], V2)]
    elif path == "versions":
        assert body["versions"] == [V1, V2]
    else:  # manifest
        records = body["objects"]
        assert [(r["id"], r["version"]) for r in records] == world.manifest(audience)
        added = [parse_us(r["date_added"]) for r in records]
        assert added == sorted(set(added))
        assert got.headers["X-TAXII-Date-Added-First"] == records[0]["date_added"]
        assert got.headers["X-TAXII-Date-Added-Last"] == records[-1]["date_added"]


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("path", READ_PATHS)
def test_read_path_by_audience(
    world: World, path: str, audience: str, who: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read path shows a channel to its audience only; anyone else gets the answer of a
    collection that never existed (401 for a missing or revoked token)."""
    headers = world.headers(who, monkeypatch)
    got = world.client.get(
        read_url(path, world.collection(audience), world.first[audience]), headers=headers
    )
    never = world.client.get(
        read_url(path, str(uuid.uuid4()), stix_id("indicator")), headers=headers
    )
    if who in UNAUTHENTICATED:
        assert got.status_code == 401
        assert_same_answer(got, never)
    elif who in READERS[audience]:
        check_visible(world, path, audience, who, got)
    else:
        assert got.status_code == 404
        assert_same_answer(got, never)


@pytest.mark.parametrize("who", sorted(set(PRINCIPALS) - UNAUTHENTICATED))
@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("path", ["object", "versions", "objects?match", "manifest?match"])
def test_probe_through_readable_collection(
    world: World, path: str, audience: str, who: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asking a readable channel for an object of another channel answers exactly as for an
    id that never existed."""
    headers = world.headers(who, monkeypatch)
    readable = [a for a in AUDIENCES if who in READERS[a] and a != audience]
    assert readable or who in ("operator", "anonymous-public", "G")
    probed = 0
    for channel in readable:
        collection = world.collection(channel)
        answers = []
        for object_id in (world.first[audience], stix_id("indicator")):
            if "?" in path:
                endpoint = path.split("?")[0]
                answers.append(
                    world.client.get(
                        read_url(endpoint, collection, object_id),
                        params={"match[id]": object_id},
                        headers=headers,
                    )
                )
            else:
                answers.append(
                    world.client.get(read_url(path, collection, object_id), headers=headers)
                )
        got, never = answers
        assert got.status_code == (200 if "?" in path else 404)
        assert_same_answer(got, never)
        probed += 1
    assert probed == len(readable)


READABLE_PAIRS = [(a, w) for a in AUDIENCES for w in PRINCIPALS if w in READERS[a]]


@pytest.mark.parametrize(
    ("audience", "who"), READABLE_PAIRS, ids=[f"{a}-{w}" for a, w in READABLE_PAIRS]
)
@pytest.mark.parametrize("endpoint", ["objects", "manifest"])
def test_paging_reveals_only_the_channel(
    world: World, endpoint: str, audience: str, who: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paging one object at a time through a readable channel yields exactly its objects, with
    `more`, `next` and the X-TAXII-Date-Added-* headers of those objects only."""
    headers = world.headers(who, monkeypatch)
    url = read_url(endpoint, world.collection(audience), "")
    full = world.client.get(read_url("manifest", world.collection(audience), ""), headers=headers)
    added = {(r["id"], r["version"]): r["date_added"] for r in full.json()["objects"]}
    seen: list[tuple[str, str]] = []
    params: dict[str, str] = {"limit": "1"}
    while True:
        page = world.client.get(url, params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        (item,) = body["objects"]
        key = (item["id"], item["modified"] if endpoint == "objects" else item["version"])
        seen.append(key)
        if endpoint == "objects":  # an opened sealed object is listed by its sealed item's id
            key = (world.stored(audience, key[0]), key[1])
        assert page.headers["X-TAXII-Date-Added-First"] == added[key]
        assert page.headers["X-TAXII-Date-Added-Last"] == added[key]
        if not body["more"]:
            assert "next" not in body
            break
        params = {"limit": "1", "next": body["next"]}
    assert seen == (world.latest[audience] if endpoint == "objects" else world.manifest(audience))
    # Nothing was added after the channel's last object, whatever other channels received.
    last = world.manifest(audience)[-1]
    after = world.client.get(url, params={"added_after": added[last]}, headers=headers)
    assert after.status_code == 200
    assert after.content == b'{"more":false}'
    assert "X-TAXII-Date-Added-First" not in after.headers


@pytest.mark.parametrize("who", ["A", "C"])
def test_next_token_does_not_open_another_collection(
    world: World, who: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `next` token of one channel is refused (400) on another readable channel and is no
    key to an unreadable one (404, as for a collection that never existed)."""
    headers = world.headers(who, monkeypatch)
    first = world.client.get(
        read_url("objects", world.collection("members"), ""),
        params={"limit": "1"},
        headers=headers,
    )
    token = first.json()["next"]
    other = world.client.get(
        read_url("objects", world.collection("public"), ""),
        params={"limit": "1", "next": token},
        headers=headers,
    )
    assert other.status_code == 400
    group = world.client.get(
        read_url("objects", world.collection("group-AB"), ""),
        params={"limit": "1", "next": token},
        headers=headers,
    )
    if who in READERS["group-AB"]:
        assert group.status_code == 400
    else:
        never = world.client.get(
            read_url("objects", str(uuid.uuid4()), ""),
            params={"limit": "1", "next": token},
            headers=headers,
        )
        assert group.status_code == 404
        assert_same_answer(group, never)


@pytest.mark.parametrize("who", PRINCIPALS)
def test_collections_listing(world: World, who: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The collections listing names exactly the channels the principal may read or write,
    with its rights; unauthenticated callers get 401."""
    headers = world.headers(who, monkeypatch)
    got = world.client.get(f"{ROOT}/collections/", headers=headers)
    if who in UNAUTHENTICATED:
        assert got.status_code == 401
        assert "collections" not in got.json()
        return
    assert got.status_code == 200, got.text
    listed = {c["title"]: (c["can_read"], c["can_write"]) for c in got.json()["collections"]}
    assert listed == LISTING[who]
    ids = {c["title"]: c["id"] for c in got.json()["collections"]}
    assert all(ids[title] == world.com.collections[title] for title in listed)


@pytest.mark.parametrize("who", PRINCIPALS)
def test_status_of_a_post(world: World, who: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A POST's status is visible to the posting org only; to anyone else it answers exactly
    as a status that never existed."""
    headers = world.headers(who, monkeypatch)
    got = world.client.get(f"{ROOT}/status/{world.status_id}/", headers=headers)
    never = world.client.get(f"{ROOT}/status/{uuid.uuid4()}/", headers=headers)
    if who in UNAUTHENTICATED:
        assert got.status_code == 401
        assert_same_answer(got, never)
    elif who in ("A", "A-reader"):
        assert got.status_code == 200, got.text
        assert got.json()["id"] == world.status_id
        assert got.json()["success_count"] == 1
    else:
        assert got.status_code == 404
        assert_same_answer(got, never)


def exported(node: Node, org: str, ref: str | None, *, all_versions: bool = False) -> list[Any]:
    return [
        orjson.loads(body)
        for body in export_objects(
            node, f"Org {org}", ref, all_versions=all_versions, page=1, break_glass="test"
        )
    ]


@pytest.mark.parametrize("org", EXPORTERS)
@pytest.mark.parametrize("audience", AUDIENCES)
def test_export_one_collection(world: World, audience: str, org: str) -> None:
    """Exporting a channel gives its audience exactly its objects (latest, or every version);
    anyone else gets the error of a collection that never existed."""
    node = world.com.node
    title = TITLE[audience]
    if org in READERS[audience]:
        assert pairs(exported(node, org, title)) == world.latest[audience]
        every = pairs(exported(node, org, world.collection(audience), all_versions=True))
        assert sorted(every) == sorted([*world.latest[audience], (world.first[audience], V1)])
        return
    with pytest.raises(NotFound) as invisible:
        exported(node, org, title)
    with pytest.raises(NotFound) as never:
        exported(node, org, "no such channel")
    assert str(invisible.value).replace(title, "<ref>") == str(never.value).replace(
        "no such channel", "<ref>"
    )
    with pytest.raises(NotFound):
        exported(node, org, world.collection(audience))


@pytest.mark.parametrize("org", EXPORTERS)
def test_export_everything(world: World, org: str) -> None:
    """Exporting everything gives an org the union of the channels it may read, nothing more."""
    expected = sorted(pair for a in AUDIENCES if org in READERS[a] for pair in world.latest[a])
    assert sorted(pairs(exported(world.com.node, org, None))) == expected


# --- the write side --------------------------------------------------------------------------
WRITE_CASES = [
    # (who, audience, expected status)
    ("A", "org-A", 202),
    ("A", "group-AB", 202),
    ("A", "members", 202),
    ("A", "public", 202),
    ("B", "group-AB", 202),
    ("A-reader", "org-A", 403),
    ("A-reader", "members", 403),
    ("A-reader", "public", 403),
    ("C", "group-AB", 404),
    ("C", "org-A", 404),
    ("G", "members", 404),
    ("G", "public", 403),
    ("operator", "public", 403),
    ("operator", "members", 404),
    ("operator", "org-A", 404),
    ("anonymous", "public", 401),
    ("anonymous-public", "public", 403),
    ("anonymous-public", "members", 404),
    ("revoked", "members", 401),
]


def channel(com: Community, audience: str) -> str:
    return com.collections[TITLE[audience]]


@pytest.mark.parametrize(
    ("who", "audience", "expected"), WRITE_CASES, ids=[f"{w}-{a}" for w, a, _ in WRITE_CASES]
)
def test_who_may_post_where(
    client: TestClient,
    community: Community,
    who: str,
    audience: str,
    expected: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Publishers post into channels they read; a reader token or a read-only channel gets 403,
    an invisible channel the 404 of one that never existed; a refused POST stores nothing."""
    node = community.node
    headers = headers_for(community, who, revoked_token(node), monkeypatch)
    everything = all_collection_ids(node)
    before = node.store.count_objects(everything)
    obj = make_indicator(marking=TLP.CLEAR.marking_id)
    got = post(client, headers, channel(community, audience), [obj])
    assert got.status_code == expected, got.text
    if expected == 202:
        assert got.json()["success_count"] == 1
        assert node.store.count_objects(everything) == before + 1
        return
    assert node.store.count_objects(everything) == before
    never = post(client, headers, str(uuid.uuid4()), [obj])
    if expected == 403:
        assert got.json()["title"] == "Forbidden"
        assert never.status_code == 404
    else:
        assert_same_answer(got, never)


TLP_CASES = [
    # (audience, marking, accepted)
    ("members", TLP.RED.marking_id, False),
    ("members", TLP1_RED, False),
    ("members", TLP.AMBER_STRICT.marking_id, False),
    ("members", TLP.AMBER.marking_id, True),
    ("members", TLP.GREEN.marking_id, True),
    ("members", TLP.CLEAR.marking_id, True),
    ("public", TLP.CLEAR.marking_id, True),
    ("public", TLP.GREEN.marking_id, False),
    ("public", TLP.AMBER.marking_id, False),
    ("public", TLP.RED.marking_id, False),
    ("group-AB", TLP.RED.marking_id, True),
    ("group-AB", TLP.AMBER_STRICT.marking_id, True),
    ("org-A", TLP.RED.marking_id, True),
]
_TLP_NAMES = {
    **{level.marking_id: level.name for level in TLP},
    TLP1_RED: "RED-tlp1",
}


@pytest.mark.parametrize(
    ("audience", "marking", "accepted"),
    TLP_CASES,
    ids=[f"{_TLP_NAMES[m]}-into-{a}" for a, m, _ in TLP_CASES],
)
def test_tlp_bounds_the_audience(
    client: TestClient, community: Community, audience: str, marking: str, accepted: bool
) -> None:
    """An object whose TLP forbids the channel's audience is refused on its own, in the
    status, with a reason naming the TLP and the audience; the other objects are stored."""
    companion = make_indicator(marking=TLP.CLEAR.marking_id)
    obj = make_indicator(marking=marking)
    collection = channel(community, audience)
    got = post(client, community.auth("A"), collection, [obj, companion])
    assert got.status_code == 202, got.text
    status = got.json()
    assert status["total_count"] == 2
    stored_ids = {s["id"] for s in status["successes"]}
    if accepted:
        assert (status["success_count"], status["failure_count"]) == (2, 0)
        assert stored_ids == {obj["id"], companion["id"]}
    else:
        assert (status["success_count"], status["failure_count"]) == (1, 1)
        assert stored_ids == {companion["id"]}
        (failure,) = status["failures"]
        assert failure["id"] == obj["id"]
        assert failure["version"] == obj["modified"]
        kind = "members" if audience == "members" else "public"
        assert "TLP:" in failure["message"]
        assert kind in failure["message"]
    read = client.get(read_url("object", collection, obj["id"]), headers=community.auth("A"))
    assert read.status_code == (200 if accepted else 404)


@pytest.mark.parametrize(
    ("created_by", "accepted"),
    [("B", False), ("C", False), ("G", False), ("A", True), ("mitre", True), (None, True)],
    ids=["member-B", "member-C", "guest-G", "own", "outside-mitre", "absent"],
)
def test_created_by_ref(
    client: TestClient, community: Community, created_by: str | None, accepted: bool
) -> None:
    """created_by_ref may not name another hosted org; an outside identity is kept as given;
    an absent one stays absent (the publisher is in the node's provenance entry)."""
    extra: dict[str, Any] = {}
    if created_by == "mitre":
        extra["created_by_ref"] = MITRE_IDENTITY
    elif created_by is not None:
        extra["created_by_ref"] = community.orgs[created_by].identity_id
    obj = make_indicator(**extra)
    members = community.collections["members"]
    got = post(client, community.auth("A"), members, [obj])
    assert got.status_code == 202, got.text
    status = got.json()
    read = client.get(read_url("object", members, obj["id"]), headers=community.auth("C"))
    if not accepted:
        assert (status["success_count"], status["failure_count"]) == (0, 1)
        assert "created_by_ref" in status["failures"][0]["message"]
        assert read.status_code == 404
        return
    assert status["success_count"] == 1
    assert read.status_code == 200
    stored = read.json()["objects"][0]
    assert stored.get("created_by_ref") == extra.get("created_by_ref")
    provenance = stored["extensions"][PROVENANCE_EXTENSION]
    assert provenance["publisher_ref"] == community.orgs["A"].identity_id


DELETE_CASES = [
    # (who, audience, expected status)
    ("A", "members", 200),
    ("A", "org-A", 200),
    ("A-reader", "members", 403),
    ("B", "members", 403),
    ("B", "group-AB", 403),
    ("C", "members", 403),
    ("C", "group-AB", 404),
    ("G", "public", 403),
    ("G", "members", 404),
    ("operator", "public", 403),
    ("operator", "org-A", 404),
    ("revoked", "members", 401),
]


@pytest.mark.parametrize(
    ("who", "audience", "expected"), DELETE_CASES, ids=[f"{w}-{a}" for w, a, _ in DELETE_CASES]
)
def test_delete_rights(
    client: TestClient,
    community: Community,
    who: str,
    audience: str,
    expected: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the publishing org deletes its object; another reader of it gets 403, a caller
    who cannot see it the 404 of an object that never existed."""
    collection = channel(community, audience)
    marking = {"public": TLP.CLEAR, "members": TLP.GREEN}.get(audience, TLP.RED)
    obj = make_indicator(marking=marking.marking_id)
    assert post(client, community.auth("A"), collection, [obj]).json()["success_count"] == 1
    headers = headers_for(community, who, revoked_token(community.node), monkeypatch)
    got = client.delete(read_url("object", collection, obj["id"]), headers=headers)
    assert got.status_code == expected, got.text
    still = client.get(read_url("object", collection, obj["id"]), headers=community.auth("A"))
    assert still.status_code == (404 if expected == 200 else 200)
    if expected == 404:
        never = client.delete(
            read_url("object", str(uuid.uuid4()), stix_id("indicator")), headers=headers
        )
        assert_same_answer(got, never)


def test_group_removal_revokes_read_at_once(client: TestClient, community: Community) -> None:
    """Removing an org from a group closes the group's channel to its existing tokens at the
    next request: listing, collection, objects, export and POST all answer as for nothing."""
    group = community.collections["AB group"]
    obj = make_indicator(marking=TLP.RED.marking_id)
    assert post(client, community.auth("A"), group, [obj]).json()["success_count"] == 1
    b = community.auth("B")
    assert client.get(read_url("object", group, obj["id"]), headers=b).status_code == 200
    assert [o["id"] for o in exported(community.node, "B", "AB group")] == [obj["id"]]

    admin_a = principals.org_principal(community.node, community.orgs["A"], Role.ADMIN)
    sharing_groups.remove_group_member(community.node, admin_a, "AB group", "Org B")

    listed = client.get(f"{ROOT}/collections/", headers=b).json()["collections"]
    assert "AB group" not in {c["title"] for c in listed}
    fake = str(uuid.uuid4())
    for path in ("collection", "objects", "object", "versions", "manifest"):
        got = client.get(read_url(path, group, obj["id"]), headers=b)
        never = client.get(read_url(path, fake, stix_id("indicator")), headers=b)
        assert got.status_code == 404, path
        assert_same_answer(got, never)
    with pytest.raises(NotFound):
        exported(community.node, "B", "AB group")
    assert obj["id"] not in {o["id"] for o in exported(community.node, "B", None)}
    refused = post(client, b, group, [make_indicator()])
    assert_same_answer(refused, post(client, b, fake, [make_indicator()]))
    # Org A still reads it.
    assert (
        client.get(read_url("object", group, obj["id"]), headers=community.auth("A")).status_code
        == 200
    )


def test_same_id_in_two_channels_stays_apart(client: TestClient, community: Community) -> None:
    """The versions of one id in a private channel never show through another channel's
    object, versions or manifest, nor through another org's write outcome."""
    private, members = community.collections["Org A"], community.collections["members"]
    a, c = community.auth("A"), community.auth("C")
    shared = make_indicator(modified=V1, marking=TLP.RED.marking_id)
    post(client, a, private, [shared, {**shared, "modified": V2}])
    public_version = {**shared, "modified": V3, "object_marking_refs": [TLP.GREEN.marking_id]}
    assert post(client, a, members, [public_version]).json()["success_count"] == 1

    versions = client.get(read_url("versions", members, shared["id"]), headers=c).json()
    assert versions["versions"] == [V3]
    every = client.get(
        read_url("object", members, shared["id"]), params={"match[version]": "all"}, headers=c
    ).json()
    assert pairs(every["objects"]) == [(shared["id"], V3)]
    first = client.get(
        read_url("manifest", members, ""),
        params={"match[id]": shared["id"], "match[version]": "first"},
        headers=c,
    ).json()
    assert [r["version"] for r in first["objects"]] == [V3]
    own = client.get(read_url("versions", private, shared["id"]), headers=a).json()
    assert own["versions"] == [V1, V2]

    # C posting an id that exists only in A's private channel learns nothing: it is stored.
    secret = make_indicator(marking=TLP.RED.marking_id)
    post(client, a, private, [secret])
    reuse = {**secret, "object_marking_refs": [TLP.GREEN.marking_id]}
    status = post(client, c, members, [reuse]).json()
    assert (status["success_count"], status["failure_count"]) == (1, 0)
    assert status["successes"][0].get("message") == "stored"
    # ... whereas in a channel both read, the owner is protected.
    newer = {**public_version, "modified": "2026-02-01T00:00:00.000Z"}
    status = post(client, c, members, [newer]).json()
    assert (status["success_count"], status["failure_count"]) == (0, 1)
    assert "another member publishes this id here" in status["failures"][0]["message"]

    # Deleting in one channel leaves the other channel's versions alone.
    assert client.delete(read_url("object", members, shared["id"]), headers=a).status_code == 200
    assert client.get(read_url("versions", private, shared["id"]), headers=a).json()[
        "versions"
    ] == [V1, V2]


SERVICE_WRITE_CASES = [
    ("C", Role.PUBLISHER, "group-AB", NotFound),
    ("G", Role.PUBLISHER, "members", NotFound),
    ("G", Role.PUBLISHER, "public", Forbidden),
    ("A", Role.READER, "members", Forbidden),
    ("A", Role.READER, "org-A", Forbidden),
]


@pytest.mark.parametrize(
    ("org", "role", "audience", "error"),
    SERVICE_WRITE_CASES,
    ids=[f"{o}-{r.value}-{a}" for o, r, a, _ in SERVICE_WRITE_CASES],
)
def test_publish_service_authorizes(
    community: Community, org: str, role: Role, audience: str, error: type[Exception]
) -> None:
    """publish_objects itself (the path of import, CLI and sync) refuses an invisible channel
    with NotFound and a readable one with Forbidden, and stores nothing."""
    node = community.node
    principal = principals.org_principal(node, community.orgs[org], role)
    (collection,) = [c for c in node.store.list_collections() if c.title == TITLE[audience]]
    before = node.store.count_objects(all_collection_ids(node))
    with pytest.raises(error):
        publish_objects(node, principal, collection, [make_indicator()])
    assert node.store.count_objects(all_collection_ids(node)) == before


@pytest.mark.parametrize("owner", ["B", "G"])
def test_identity_of_another_org_is_refused(
    client: TestClient, community: Community, owner: str
) -> None:
    """Nobody publishes a version of another hosted org's identity object."""
    forged = {
        "type": "identity",
        "spec_version": "2.1",
        "id": community.orgs[owner].identity_id,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2027-01-01T00:00:00.000Z",
        "name": "forged",
        "identity_class": "organization",
    }
    status = post(client, community.auth("A"), community.collections["members"], [forged]).json()
    assert (status["success_count"], status["failure_count"]) == (0, 1)
    assert f"Org {owner}" in status["failures"][0]["message"]
    listed = client.get(
        read_url("versions", community.collections["members"], forged["id"]),
        headers=community.auth("C"),
    )
    assert "2027-01-01T00:00:00.000Z" not in listed.text
