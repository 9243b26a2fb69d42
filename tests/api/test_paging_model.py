"""Paging and filtering against a model of TAXII 2.1, with generated data and queries.

Each example posts a random set of object versions (a few ids of several types, several
versions each, in random order and batches, some posted twice) into a fresh node, then pages
through GET objects, manifest, one object and its versions with random filters, following
`next`, and compares every page with a pure-Python model:

- records come in `date_added` order, each once, none missing; `more`/`next` are exact;
- `first`/`last` are the oldest/newest version of an id in the collection (whatever
  `added_after` selects); the other filters are ANDed;
- a `next` token continues only the request it was issued for: other filters, another
  endpoint or another object → 400.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tabadol.domain.timestamps import format_us, parse_us
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node, init_node, open_node
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.web.app import create_app
from tabadol.web.media import STIX_21, TAXII_21

from ..conftest import START_US, StepClock

ROOT = "/taxii2/root"
TYPES = ("indicator", "malware", "attack-pattern")
PAGE_DEFAULT, PAGE_MAX = 3, 4  # small, so that default and clamped limits page too
CREATED_US = START_US - 86_400_000_000  # a day before the node's clock starts
NEVER_ADDED = "1999-01-01T00:00:00.000Z"  # an added_after value no generated query uses
EXAMPLES = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

Params = list[tuple[str, str]]


# --- data --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Version:
    stix_id: str
    type: str
    version_us: int

    @property
    def stamp(self) -> str:
        return format_us(self.version_us)

    def as_stix(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "type": self.type,
            "spec_version": "2.1",
            "id": self.stix_id,
            "created": format_us(CREATED_US),
            "modified": self.stamp,
            "name": f"{self.type} {self.stix_id[-4:]}",
            # AMBER: stored in clear in the org's channel (unmarked would take its default,
            # AMBER+STRICT, and be stored as a sealed item of another id and type); the
            # model is about paging and filters, sealed items have their own tests
            "object_marking_refs": [TLP.AMBER.marking_id],
        }
        if self.type == "indicator":
            obj |= {
                "pattern": "[ipv4-addr:value = '203.0.113.9']",
                "pattern_type": "stix",
                "valid_from": format_us(CREATED_US),
            }
        elif self.type == "malware":
            obj["is_family"] = False
        return obj


@st.composite
def postings(draw: st.DrawFn) -> list[list[Version]]:
    """Batches (one POST each) of versions in random order; some versions come twice."""
    versions: list[Version] = []
    for n in range(draw(st.integers(1, 4))):
        stix_type = draw(st.sampled_from(TYPES))
        stix_id = f"{stix_type}--{uuid.UUID(int=n + 1, version=4)}"
        offsets = draw(st.lists(st.integers(0, 40), min_size=1, max_size=4, unique=True))
        versions += [Version(stix_id, stix_type, CREATED_US + ms * 1000) for ms in offsets]
    order = draw(st.permutations(versions))
    repeats = draw(st.lists(st.sampled_from(versions), max_size=3))
    sequence = [*order, *repeats]
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(sequence) - 1)), max_size=4)))
    bounds = [0, *(c for c in cuts if c < len(sequence)), len(sequence)]
    return [sequence[lo:hi] for lo, hi in itertools.pairwise(bounds) if hi > lo]


@dataclass(frozen=True)
class Stored:
    version: Version
    date_added: int


# --- the model ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    added_after: str | None = None
    ids: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    versions: tuple[str, ...] | None = None
    spec_versions: tuple[str, ...] | None = None
    limit: int | None = None
    repeated: bool = False  # list values as repeated parameters instead of one comma list

    def params(self) -> Params:
        out: Params = []
        if self.added_after is not None:
            out.append(("added_after", self.added_after))
        for name, values in (
            ("match[id]", self.ids),
            ("match[type]", self.types),
            ("match[version]", self.versions),
            ("match[spec_version]", self.spec_versions),
        ):
            if values is None:
                continue
            if self.repeated:
                out += [(name, v) for v in values]
            else:
                out.append((name, ",".join(values)))
        if self.limit is not None:
            out.append(("limit", str(self.limit)))
        return out

    @property
    def page_size(self) -> int:
        return PAGE_DEFAULT if self.limit is None else min(self.limit, PAGE_MAX)


def select(
    stored: Sequence[Stored], query: Query, *, only_id: str | None = None, default_last: bool
) -> list[Stored]:
    """TAXII 2.1 section 3.4 over the stored versions, in date_added order."""
    by_id: dict[str, list[int]] = {}
    for s in stored:
        by_id.setdefault(s.version.stix_id, []).append(s.version.version_us)
    tokens = set(query.versions or ())
    if query.versions is None:
        tokens = {"last"} if default_last else {"all"}
    exact = {parse_us(t) for t in tokens - {"first", "last", "all"}}
    low = parse_us(query.added_after) if query.added_after is not None else None
    out = []
    for s in sorted(stored, key=lambda s: s.date_added):
        v = s.version
        mine = by_id[v.stix_id]
        if (
            (only_id is None or v.stix_id == only_id)
            and (low is None or s.date_added > low)
            and (query.ids is None or v.stix_id in query.ids)
            and (query.types is None or v.type in query.types)
            and (query.spec_versions is None or "2.1" in query.spec_versions)
            and (
                "all" in tokens
                or ("first" in tokens and v.version_us == min(mine))
                or ("last" in tokens and v.version_us == max(mine))
                or v.version_us in exact
            )
        ):
            out.append(s)
    return out


def chunks(items: list[Stored], size: int) -> list[list[Stored]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


# --- the node ----------------------------------------------------------------------------------
@dataclass
class Harness:
    node: Node
    client: TestClient
    headers: dict[str, str]
    collection: str

    def url(self, endpoint: str, stix_id: str = "") -> str:
        base = f"{ROOT}/collections/{self.collection}/"
        return {
            "objects": base + "objects/",
            "manifest": base + "manifest/",
            "object": base + f"objects/{stix_id}/",
            "versions": base + f"objects/{stix_id}/versions/",
        }[endpoint]

    def get(self, url: str, params: Params) -> Any:
        return self.client.get(url, params=params, headers=self.headers)


@contextmanager
def fresh_node(base: Path) -> Iterator[Harness]:
    """A node of its own, with one org publishing into its private channel."""
    data = base / "node"
    init_node(data)
    with open_node(
        data, clock=StepClock(), page_size_default=PAGE_DEFAULT, page_size_max=PAGE_MAX
    ) as node:
        org = organizations.add_org(node, "Org P")
        _, secret = api_tokens.create_token(node, OPERATOR, "Org P", "publisher")
        (channel,) = [c.uuid for c in node.store.list_collections() if c.ref == org.id]
        headers = {"Authorization": f"Bearer {secret}", "Accept": TAXII_21}
        with TestClient(create_app(lambda: node), raise_server_exceptions=False) as client:
            yield Harness(node, client, headers, channel)


def publish(
    harness: Harness, batches: list[list[Version]], before: Sequence[Stored] = ()
) -> list[Stored]:
    """Post the batches; check each status and learn the date_added the node gave each new
    version, which must follow the posting order strictly. Returns every stored version."""
    posted = [s.version for s in before]
    for batch in batches:
        answer = harness.client.post(
            harness.url("objects"),
            json={"objects": [v.as_stix() for v in batch]},
            headers={**harness.headers, "Content-Type": TAXII_21},
        )
        assert answer.status_code == 202, answer.text
        status = answer.json()
        assert (status["success_count"], status["failure_count"]) == (len(batch), 0)
        for v in batch:
            if v not in posted:
                posted.append(v)
    every: Params = [("match[version]", "all"), ("limit", "999")]
    clamped = harness.get(harness.url("manifest"), every).json()
    assert len(clamped["objects"]) == min(len(posted), PAGE_MAX)
    records = []
    params = every
    while True:
        page = harness.get(harness.url("manifest"), params).json()
        records += page["objects"]
        if not page["more"]:
            break
        params = [*every, ("next", page["next"])]
    assert [(r["id"], r["version"]) for r in records] == [(v.stix_id, v.stamp) for v in posted]
    added = [parse_us(r["date_added"]) for r in records]
    assert all(a < b for a, b in itertools.pairwise(added))
    assert added[0] > START_US
    assert [s.date_added for s in before] == added[: len(before)]
    return [Stored(v, d) for v, d in zip(posted, added, strict=True)]


# --- checking pages ----------------------------------------------------------------------------
def item_key(endpoint: str, item: Any) -> tuple[str, str]:
    if endpoint in ("objects", "object"):
        return item["id"], item["modified"]
    return item["id"], item["version"]


def page_through(
    harness: Harness, endpoint: str, url: str, query: Query, want: list[Stored]
) -> list[str]:
    """Follow `next` from the first page to the last; check every page against the model.
    Returns the `next` tokens seen."""
    params = query.params()
    pages = chunks(want, query.page_size)
    tokens: list[str] = []
    for number, expected in enumerate(pages):
        answer = harness.get(url, params)
        assert answer.status_code == 200, (answer.text, params)
        body = answer.json()
        last_page = number == len(pages) - 1
        assert body["more"] is (not last_page), (number, len(pages), body)
        if endpoint == "versions":
            assert body.get("versions", []) == [s.version.stamp for s in expected]
        else:
            got = [item_key(endpoint, item) for item in body.get("objects", [])]
            assert got == [(s.version.stix_id, s.version.stamp) for s in expected]
        if endpoint == "manifest":
            for item, s in zip(body.get("objects", []), expected, strict=True):
                assert parse_us(item["date_added"]) == s.date_added
                assert item["media_type"] == STIX_21
        if expected:
            first, last = (answer.headers[f"X-TAXII-Date-Added-{e}"] for e in ("First", "Last"))
            assert (parse_us(first), parse_us(last)) == (
                expected[0].date_added,
                expected[-1].date_added,
            )
        else:
            assert body == {"more": False}
            assert "X-TAXII-Date-Added-First" not in answer.headers
        if last_page:
            assert "next" not in body
            break
        tokens.append(body["next"])
        params = [*query.params(), ("next", body["next"])]
    return tokens


def assert_token_bound(
    harness: Harness, url: str, query: Query, token: str, other_urls: Sequence[str]
) -> None:
    """The token continues its own request (repeatably) and nothing else."""
    again = [*query.params(), ("next", token)]
    first, second = harness.get(url, again), harness.get(url, again)
    assert first.status_code == 200
    assert first.content == second.content
    changed = dataclasses.replace(query, added_after=NEVER_ADDED)
    refused = harness.get(url, [*changed.params(), ("next", token)])
    assert refused.status_code == 400, refused.text
    assert refused.json()["title"] == "Invalid filter"
    for other in other_urls:
        # The same filters where the other endpoint takes them, so that only the scope differs.
        drop: set[str] = set()
        if not other.endswith(("/objects/", "/manifest/")):
            drop = {"match[id]", "match[type]"}
        if other.endswith("/versions/"):
            drop.add("match[version]")
        params = [(k, v) for k, v in again if k not in drop]
        assert harness.get(other, params).status_code == 400, other
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert harness.get(url, [*query.params(), ("next", tampered)]).status_code == 400


# --- queries -----------------------------------------------------------------------------------
def queries(
    stored: list[Stored], *, id_and_type: bool = True, versions: bool = True
) -> st.SearchStrategy[Query]:
    """Random filter combinations drawn from the values of the stored data (and some others)."""
    ids = sorted({s.version.stix_id for s in stored})
    stamps = sorted({s.version.stamp for s in stored})
    added = [format_us(s.date_added) for s in stored]
    missing_id = f"tool--{uuid.UUID(int=999, version=4)}"
    missing_stamp = format_us(CREATED_US + 999_000)
    some = st.lists
    return st.builds(
        Query,
        added_after=st.one_of(st.none(), st.sampled_from([*added, "2000-01-01T00:00:00Z"])),
        ids=(
            st.one_of(st.none(), some(st.sampled_from([*ids, missing_id]), min_size=1, max_size=3))
            if id_and_type
            else st.none()
        ).map(lambda v: tuple(dict.fromkeys(v)) if v else None),
        types=(
            st.one_of(st.none(), some(st.sampled_from([*TYPES, "tool"]), min_size=1, max_size=2))
            if id_and_type
            else st.none()
        ).map(lambda v: tuple(dict.fromkeys(v)) if v else None),
        versions=(
            st.one_of(
                st.none(),
                some(
                    st.sampled_from(["first", "last", "all", *stamps, missing_stamp]),
                    min_size=1,
                    max_size=3,
                ),
            )
            if versions
            else st.none()
        ).map(lambda v: tuple(dict.fromkeys(v)) if v else None),
        spec_versions=st.one_of(st.none(), st.sampled_from([("2.1",), ("2.0",), ("2.0", "2.1")])),
        limit=st.one_of(st.none(), st.integers(1, 6)),
        repeated=st.booleans(),
    )


# --- the properties ----------------------------------------------------------------------------
@EXAMPLES
@given(batches=postings(), data=st.data())
def test_objects_and_manifest_follow_the_model(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[Version]], data: st.DataObject
) -> None:
    """GET objects and GET manifest page through exactly the model's selection, and their
    `next` tokens are bound to endpoint, collection and filters."""
    with fresh_node(tmp_path_factory.mktemp("paging")) as harness:
        stored = publish(harness, batches)
        for _ in range(3):
            query = data.draw(queries(stored), label="query")
            want = select(stored, query, default_last=True)
            tokens: dict[str, list[str]] = {}
            for endpoint in ("objects", "manifest"):
                url = harness.url(endpoint)
                tokens[endpoint] = page_through(harness, endpoint, url, query, want)
            assert len(tokens["objects"]) == len(tokens["manifest"])
            if tokens["objects"]:
                other = {"objects": "manifest", "manifest": "objects"}
                for endpoint in ("objects", "manifest"):
                    assert_token_bound(
                        harness,
                        harness.url(endpoint),
                        query,
                        tokens[endpoint][0],
                        [harness.url(other[endpoint])],
                    )


@EXAMPLES
@given(batches=postings(), data=st.data())
def test_one_object_and_its_versions_follow_the_model(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[Version]], data: st.DataObject
) -> None:
    """GET object (latest by default) and GET versions (all, oldest added first) page through
    the model's versions of that id; an unknown id is 404; tokens stay with their id."""
    with fresh_node(tmp_path_factory.mktemp("paging")) as harness:
        stored = publish(harness, batches)
        ids = sorted({s.version.stix_id for s in stored})
        for _ in range(3):
            stix_id = data.draw(st.sampled_from(ids), label="id")
            others = [i for i in ids if i != stix_id]
            query = data.draw(queries(stored, id_and_type=False), label="object query")
            want = select(stored, query, only_id=stix_id, default_last=True)
            url = harness.url("object", stix_id)
            tokens = page_through(harness, "object", url, query, want)
            if tokens:
                other_urls = [harness.url("object", o) for o in others]
                other_urls.append(harness.url("versions", stix_id))
                assert_token_bound(harness, url, query, tokens[0], other_urls)

            query = data.draw(queries(stored, id_and_type=False, versions=False), label="vq")
            want = select(stored, query, only_id=stix_id, default_last=False)
            url = harness.url("versions", stix_id)
            tokens = page_through(harness, "versions", url, query, want)
            if tokens:
                other_urls = [harness.url("versions", o) for o in others]
                assert_token_bound(harness, url, query, tokens[0], other_urls)
        unknown = f"indicator--{uuid.UUID(int=777, version=4)}"
        for endpoint in ("object", "versions"):
            assert harness.get(harness.url(endpoint, unknown), []).status_code == 404


# --- fixed cases -------------------------------------------------------------------------------
def versions_of(n: int, stix_type: str = "indicator", ident: int = 1) -> list[Version]:
    stix_id = f"{stix_type}--{uuid.UUID(int=ident, version=4)}"
    return [Version(stix_id, stix_type, CREATED_US + k * 1000) for k in range(n)]


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        ("objects", [("limit", "0")]),
        ("objects", [("limit", "-1")]),
        ("objects", [("limit", "two")]),
        ("objects", [("added_after", "yesterday")]),
        ("objects", [("match[version]", "2026-13-01T00:00:00Z")]),
        ("objects", [("match[id]", "not-an-id")]),
        ("objects", [("match[id]", "")]),
        ("objects", [("match[color]", "red")]),
        ("objects", [("next", "bm90IGEgdG9rZW4")]),
        ("manifest", [("next", "!!!")]),
        ("object", [("match[type]", "indicator")]),
        ("versions", [("match[version]", "all")]),
    ],
    ids=lambda v: v if isinstance(v, str) else "&".join(f"{k}={x}" for k, x in v),
)
def test_bad_parameters_are_400(tmp_path: Path, endpoint: str, params: Params) -> None:
    """A malformed filter, limit or token is a 400 Invalid filter, never a silent default."""
    with fresh_node(tmp_path) as harness:
        publish(harness, [versions_of(2)])
        stix_id = versions_of(1)[0].stix_id
        answer = harness.get(harness.url(endpoint, stix_id), params)
        assert answer.status_code == 400, answer.text
        assert answer.json()["http_status"] == "400"


def test_next_token_survives_a_restart(tmp_path: Path) -> None:
    """A `next` token is stateless: it continues the listing after the node is reopened."""
    versions = versions_of(5)
    with fresh_node(tmp_path) as harness:
        stored = publish(harness, [versions[:2], versions[2:]])
        first = harness.get(harness.url("versions", versions[0].stix_id), [("limit", "2")]).json()
        assert first["more"] is True
        token = first["next"]
        headers = harness.headers
    with (
        open_node(tmp_path / "node", page_size_default=PAGE_DEFAULT) as node,
        TestClient(create_app(lambda: node), raise_server_exceptions=False) as client,
    ):
        rest = client.get(
            harness.url("versions", versions[0].stix_id),
            params=[("limit", "2"), ("next", token)],
            headers=headers,
        )
        assert rest.status_code == 200, rest.text
        assert rest.json()["versions"] == [s.version.stamp for s in stored[2:4]]
        assert rest.json()["more"] is True


def test_paging_sees_versions_added_meanwhile(tmp_path: Path) -> None:
    """Versions added while a client pages through `all` versions appear on later pages,
    after the ones already listed, with no duplicate and no gap."""
    first_batch = versions_of(4)
    later = versions_of(6)[4:]
    other = versions_of(2, "malware", ident=2)
    with fresh_node(tmp_path) as harness:
        stored = publish(harness, [first_batch])
        params: Params = [("match[version]", "all"), ("limit", "3")]
        page = harness.get(harness.url("objects"), params).json()
        seen = [item_key("objects", o) for o in page["objects"]]
        stored = publish(harness, [later, other], before=stored)
        while page["more"]:
            page = harness.get(harness.url("objects"), [*params, ("next", page["next"])]).json()
            seen += [item_key("objects", o) for o in page["objects"]]
        assert seen == [(s.version.stix_id, s.version.stamp) for s in stored]
