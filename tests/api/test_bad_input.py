"""Bad input gets a clear 4xx in the TAXII error format, never a 500, and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tabadol.domain.filters import KNOWN_PARAMETERS
from tabadol.domain.policy import Visibility
from tabadol.node.node import Node, open_node
from tabadol.usecases.membership import api_tokens, organizations, principals
from tabadol.usecases.membership.principals import hash_secret
from tabadol.web.app import create_app
from tabadol.web.media import TAXII_21

from ..conftest import Community, StepClock, make_indicator

OBJECTS = "/taxii2/root/collections/{}/objects/"


def stored_count(node: Node) -> int:
    every = Visibility(frozenset(c.id for c in node.store.list_collections()))
    return node.store.count_objects(every)


def assert_taxii_error(response, status: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/taxii+json")
    body = response.json()
    assert body["http_status"] == str(status)
    assert body["title"]
    assert body["description"]


def _body(obj: dict) -> bytes:
    return json.dumps({"objects": [obj]}).encode()


_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
_IND = make_indicator()
_IND_TEXT = json.dumps(_IND)

BAD_BODIES = {
    "malformed JSON": b'{"objects": [',
    "not an envelope (a list)": b"[]",
    "not an envelope (no objects)": b'{"things": []}',
    "objects is not a list": b'{"objects": {"a": 1}}',
    "invalid UTF-8": b'{"objects": [{"name": "\xff\xfe"}]}',
    "lone surrogate": b'{"objects": [{"name": "\\ud800"}]}',
    "NaN": b'{"objects": [{"confidence": NaN}]}',
    "Infinity": b'{"objects": [{"confidence": Infinity}]}',
    "number overflowing to infinity": b'{"objects": [{"confidence": 1e999}]}',
    "absurd nesting": b'{"objects": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
    "duplicate key downgrading a marking": (
        _IND_TEXT[:-1] + f', "object_marking_refs": ["{_RED}"], '
        f'"object_marking_refs": ["{_CLEAR}"]}}'
    )
    .join([b'{"objects": ['.decode(), "]}"])
    .encode(),
    "duplicate key in a nested object": (
        b'{"objects": [{"type": "x-a", "extensions": {"k": 1, "k": 2}}]}'
    ),
    "duplicate key in the envelope": b'{"objects": [], "objects": []}',
    "empty body": b"",
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_body_is_400_and_stores_nothing(
    client: TestClient, community: Community, body: bytes
) -> None:
    """A body that is not a strict-JSON TAXII envelope is refused whole with 400."""
    before = stored_count(community.node)
    response = client.post(
        OBJECTS.format(community.collections["members"]),
        content=body,
        headers={**community.auth("A"), "Content-Type": TAXII_21},
    )
    assert_taxii_error(response, 400)
    assert stored_count(community.node) == before


BAD_OBJECTS = {
    "not an object": "just a string",
    "no type": {"id": "indicator--0b0f9e0e-5b1a-4b8b-9d8e-3f3a4f3b2c1d"},
    "id of another type": make_indicator(id="malware--0b0f9e0e-5b1a-4b8b-9d8e-3f3a4f3b2c1d"),
    "id without uuid": make_indicator(id="indicator--42"),
    "spec_version 2.0": make_indicator(spec_version="2.0"),
    "missing spec_version": {k: v for k, v in make_indicator().items() if k != "spec_version"},
    "timestamp without Z": make_indicator(modified="2026-01-02T03:04:05+00:00"),
    "timestamp as date only": make_indicator(modified="2026-01-02"),
    "impossible date": make_indicator(modified="2026-02-30T00:00:00Z"),
    "modified before created": make_indicator(modified="2025-01-01T00:00:00Z"),
    "indicator without pattern": {k: v for k, v in make_indicator().items() if k != "pattern"},
    "bad created_by_ref": make_indicator(
        created_by_ref="malware--0b0f9e0e-5b1a-4b8b-9d8e-3f3a4f3b2c1d"
    ),
    "bad property name": make_indicator(**{"Bad-Name": 1}),
    "confidence out of range": make_indicator(confidence=101),
    "integer beyond 64 bits": make_indicator(x_big=2**70),
    "object_marking_refs not markings": make_indicator(
        object_marking_refs=["identity--0b0f9e0e-5b1a-4b8b-9d8e-3f3a4f3b2c1d"]
    ),
}


@pytest.mark.parametrize("bad", BAD_OBJECTS.values(), ids=BAD_OBJECTS.keys())
def test_bad_object_fails_alone(client: TestClient, community: Community, bad: object) -> None:
    """An invalid object gets its own failure with a reason; the good one beside it is stored."""
    good = make_indicator()
    before = stored_count(community.node)
    response = client.post(
        OBJECTS.format(community.collections["members"]),
        content=json.dumps({"objects": [bad, good]}),
        headers={**community.auth("A"), "Content-Type": TAXII_21},
    )
    assert response.status_code == 202, response.text
    status = response.json()
    assert status["success_count"] == 1
    assert status["successes"][0]["id"] == good["id"]
    assert status["failure_count"] == 1
    assert status["failures"][0]["message"]
    assert stored_count(community.node) == before + 1


MEDIA_CASES = {
    "json content type": ({"Content-Type": "application/json"}, 415),
    "stix content type": ({"Content-Type": "application/stix+json;version=2.1"}, 415),
    "taxii 2.0 content type": ({"Content-Type": "application/taxii+json;version=2.0"}, 415),
    "no content type": ({"Content-Type": ""}, 415),
    "xml accept": ({"Content-Type": TAXII_21, "Accept": "application/xml"}, 406),
    "taxii 2.0 accept": (
        {"Content-Type": TAXII_21, "Accept": "application/taxii+json;version=2.0"},
        406,
    ),
}


@pytest.mark.parametrize(("headers", "status"), MEDIA_CASES.values(), ids=MEDIA_CASES.keys())
def test_media_types(
    client: TestClient, community: Community, headers: dict[str, str], status: int
) -> None:
    """A body that is not TAXII 2.1 gets 415; a client that does not accept TAXII 2.1 gets 406."""
    before = stored_count(community.node)
    response = client.post(
        OBJECTS.format(community.collections["members"]),
        content=_body(make_indicator()),
        headers={**community.auth("A"), **headers},
    )
    assert_taxii_error(response, status)
    assert stored_count(community.node) == before


def test_unknown_collection_is_404(client: TestClient, community: Community) -> None:
    """A collection id that does not exist answers 404 for reads and writes."""
    url = OBJECTS.format("6f9a4c2e-1111-4222-8333-944455556666")
    assert_taxii_error(client.get(url, headers=community.auth("A")), 404)
    posted = client.post(
        url,
        content=_body(make_indicator()),
        headers={**community.auth("A"), "Content-Type": TAXII_21},
    )
    assert_taxii_error(posted, 404)


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer tbd_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "],
    ids=["missing", "unknown", "wrong scheme", "empty bearer"],
)
def test_bad_credentials_are_401(
    client: TestClient, community: Community, authorization: str
) -> None:
    """No usable token: 401 with a WWW-Authenticate challenge, on every TAXII endpoint."""
    headers = {"Accept": TAXII_21}
    if authorization:
        headers["Authorization"] = authorization
    for path in ("/taxii2/", "/taxii2/root/", "/taxii2/root/collections/"):
        response = client.get(path, headers=headers)
        assert_taxii_error(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"


def test_revoked_token_is_401_at_once(client: TestClient, community: Community) -> None:
    """A revoked token stops working on the next request."""
    headers = community.auth("A")
    assert client.get("/taxii2/root/collections/", headers=headers).status_code == 200
    bearer = community.node.store.bearer(hash_secret(community.token("A")))
    assert bearer is not None
    community.node.store.revoke_token(bearer.token.id, community.node.clock())
    assert_taxii_error(client.get("/taxii2/root/collections/", headers=headers), 401)


BAD_QUERIES = {
    "limit zero": "limit=0",
    "limit negative": "limit=-5",
    "limit text": "limit=ten",
    "added_after not a timestamp": "added_after=yesterday",
    "added_after with offset": "added_after=2026-01-01T00:00:00+01:00",
    "match[version] garbage": "match[version]=newest",
    "match[id] not an id": "match[id]=hello",
    "unknown match field": "match[colour]=red",
    "forged next": "next=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "next not base64": "next=%%%",
    "empty list value": "match[type]=indicator,,malware",
}


@pytest.mark.parametrize("query", BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
def test_bad_query_is_400(client: TestClient, community: Community, query: str) -> None:
    """A malformed filter is refused with 400, never silently ignored."""
    url = OBJECTS.format(community.collections["members"]) + "?" + query
    assert_taxii_error(client.get(url, headers=community.auth("A")), 400)


@pytest.fixture
def small_limits(data_dir: Path) -> Iterator[tuple[TestClient, Node]]:
    with (
        open_node(
            data_dir, clock=StepClock(), max_request_bytes=2000, max_objects_per_envelope=3
        ) as node,
        TestClient(create_app(lambda: node)) as test_client,
    ):
        yield test_client, node


def _member_setup(node: Node) -> tuple[str, dict[str, str]]:
    organizations.add_org(node, "Solo")
    _, secret = api_tokens.create_token(node, principals.OPERATOR, "Solo", "publisher")
    members = next(c.uuid for c in node.store.list_collections() if c.title == "members")
    return members, {"Authorization": f"Bearer {secret}", "Content-Type": TAXII_21}


def test_oversized_body_is_413(small_limits: tuple[TestClient, Node]) -> None:
    """A body over max_request_bytes is refused with 413 before it is parsed."""
    client, node = small_limits
    members, headers = _member_setup(node)
    before = stored_count(node)
    big = make_indicator(description="x" * 5000)
    assert_taxii_error(
        client.post(OBJECTS.format(members), content=_body(big), headers=headers), 413
    )
    assert stored_count(node) == before


def test_too_many_objects_is_413(small_limits: tuple[TestClient, Node]) -> None:
    """An envelope over max_objects_per_envelope is refused whole."""
    client, node = small_limits
    members, headers = _member_setup(node)
    before = stored_count(node)
    body = json.dumps({"objects": [{"type": "x-a"}] * 4})
    assert_taxii_error(client.post(OBJECTS.format(members), content=body, headers=headers), 413)
    assert stored_count(node) == before


def test_unknown_route_and_method(client: TestClient, community: Community) -> None:
    """Unknown paths and methods get TAXII error bodies too."""
    assert_taxii_error(client.get("/taxii2/root/nothing/", headers=community.auth("A")), 404)
    response = client.put("/taxii2/root/collections/", headers=community.auth("A"), content=b"{}")
    assert_taxii_error(response, 405)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
_object_like = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["indicator", "report", "x-custom", "Bad", "", "ipv4-addr"]),
        "id": st.sampled_from(["indicator--0b0f9e0e-5b1a-4b8b-9d8e-3f3a4f3b2c1d", "x--1", ""]),
        "spec_version": st.sampled_from(["2.1", "2.0", 2.1]),
        "created": st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01", 0]),
        "modified": st.sampled_from(["2026-01-02T00:00:00.000Z", "x"]),
        "object_marking_refs": st.lists(st.text(max_size=10), max_size=2),
        "created_by_ref": _json_values,
        "x_extra": _json_values,
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    envelope=st.one_of(
        _json_values,
        st.fixed_dictionaries({"objects": st.lists(_object_like | _json_values, max_size=5)}),
    )
)
def test_random_envelopes_never_cause_a_server_error(
    client: TestClient, community: Community, envelope: object
) -> None:
    """Whatever JSON arrives, the answer is 202 or a 4xx TAXII error, never a 5xx."""
    response = client.post(
        OBJECTS.format(community.collections["AB group"]),
        content=json.dumps(envelope),
        headers={**community.auth("A"), "Content-Type": TAXII_21},
    )
    assert response.status_code == 202 or 400 <= response.status_code < 500, response.text


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from([*sorted(KNOWN_PARAMETERS), "match[x]"]),
        st.text(max_size=40),
        max_size=4,
    )
)
def test_random_filters_never_cause_a_server_error(
    client: TestClient, community: Community, params: dict[str, str]
) -> None:
    """Whatever the query string, GET objects answers 200 or a 4xx, never a 5xx."""
    response = client.get(
        OBJECTS.format(community.collections["members"]), params=params, headers=community.auth("A")
    )
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.text
