"""No route is an oracle of existence (issue 14, finding 3): on every route that names a
thing (an org, a group, a collection, an object, a status, a token, a key, a channel), a
caller who may not act on or read a thing that exists gets exactly the answer — status and
body, byte for byte — it gets for a thing that does not exist. The caller's right is checked
before the existence."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from tabadol.crypto.signing import b64url
from tabadol.domain.tlp import TLP
from tabadol.web.media import TAXII_21

from ..conftest import Community, make_indicator, stix_id
from ..federation.test_federation_security import _fake_peer, _member, _signed_get

ROOT = "/taxii2/root/collections"
POST = {"Content-Type": TAXII_21}


@dataclass
class World:
    """Things of org A (and of the AB group) that others may not reach, and names of none."""

    community: Community
    org_a: str  # the TAXII id of org A's private channel
    group_ab: str  # the TAXII id of the AB group's channel
    members: str
    object_a: str  # an indicator in org A's channel
    object_ab: str  # an indicator in the AB group's channel
    status_a: str  # the status of org A's post
    token_a: int  # a token of org A
    key_a: str  # a key of org A
    absent_uuid: str = str(uuid.uuid4())
    absent_object: str = stix_id("indicator")
    absent_key: str = "ed25519:" + b64url(uuid.uuid4().bytes)


@pytest.fixture
def world(client: TestClient, community: Community) -> World:
    cols = community.collections
    ids = {}
    for title in ("Org A", "AB group"):
        obj = make_indicator(description="seen at 198.51.100.7")
        posted = client.post(
            f"{ROOT}/{cols[title]}/objects/",
            json={"objects": [obj]},
            headers={**community.auth("A"), **POST},
        )
        assert posted.status_code == 202, posted.text
        ids[title] = (obj["id"], posted.json()["id"])
    store = community.node.store
    return World(
        community,
        org_a=cols["Org A"],
        group_ab=cols["AB group"],
        members=cols["members"],
        object_a=ids["Org A"][0],
        object_ab=ids["AB group"][0],
        status_a=ids["Org A"][1],
        token_a=store.list_tokens(community.orgs["A"].id)[0].id,
        key_a=store.org_keys(community.orgs["A"].id)[0].key_id,
    )


Request = tuple[str, str, dict[str, Any] | None]  # method, path, JSON body
Pair = Callable[[World], tuple[Request, Request]]  # (exists but not yours, absent)
ENVELOPE = {"objects": [make_indicator()]}


def _objects(w: World, col: str) -> str:
    return f"{ROOT}/{col}/objects/"


CASES: dict[str, tuple[tuple[str, str], Pair]] = {
    # --- TAXII: a collection the caller may not read (org A's) ----------------------------
    "taxii collection": (("C", "publisher"), lambda w: (
        ("GET", f"{ROOT}/{w.org_a}/", None), ("GET", f"{ROOT}/{w.absent_uuid}/", None))),
    "taxii manifest": (("C", "publisher"), lambda w: (
        ("GET", f"{ROOT}/{w.org_a}/manifest/", None),
        ("GET", f"{ROOT}/{w.absent_uuid}/manifest/", None))),
    "taxii objects": (("B", "publisher"), lambda w: (
        ("GET", _objects(w, w.org_a), None), ("GET", _objects(w, w.absent_uuid), None))),
    "taxii post objects": (("C", "publisher"), lambda w: (
        ("POST", _objects(w, w.group_ab), ENVELOPE),
        ("POST", _objects(w, w.absent_uuid), ENVELOPE))),
    "taxii object": (("C", "publisher"), lambda w: (
        ("GET", f"{_objects(w, w.org_a)}{w.object_a}/", None),
        ("GET", f"{_objects(w, w.absent_uuid)}{w.object_a}/", None))),
    "taxii versions": (("G", "reader"), lambda w: (
        ("GET", f"{_objects(w, w.group_ab)}{w.object_ab}/versions/", None),
        ("GET", f"{_objects(w, w.absent_uuid)}{w.object_ab}/versions/", None))),
    "taxii delete": (("B", "admin"), lambda w: (
        ("DELETE", f"{_objects(w, w.org_a)}{w.object_a}/", None),
        ("DELETE", f"{_objects(w, w.absent_uuid)}{w.object_a}/", None))),
    # --- TAXII: an object of another channel, asked for in one the caller reads -----------
    "taxii object elsewhere": (("C", "publisher"), lambda w: (
        ("GET", f"{_objects(w, w.members)}{w.object_ab}/", None),
        ("GET", f"{_objects(w, w.members)}{w.absent_object}/", None))),
    "taxii versions elsewhere": (("C", "reader"), lambda w: (
        ("GET", f"{_objects(w, w.members)}{w.object_a}/versions/", None),
        ("GET", f"{_objects(w, w.members)}{w.absent_object}/versions/", None))),
    "taxii delete elsewhere": (("C", "admin"), lambda w: (
        ("DELETE", f"{_objects(w, w.members)}{w.object_a}/", None),
        ("DELETE", f"{_objects(w, w.members)}{w.absent_object}/", None))),
    "taxii status": (("B", "admin"), lambda w: (
        ("GET", f"/taxii2/root/status/{w.status_a}/", None),
        ("GET", f"/taxii2/root/status/{w.absent_uuid}/", None))),
    # --- native API: orgs the caller does not manage --------------------------------------
    "list tokens, guest": (("G", "reader"), lambda w: (
        ("GET", "/api/v1/orgs/Org A/tokens", None), ("GET", "/api/v1/orgs/Org Nope/tokens", None))),
    "list tokens, other admin": (("B", "admin"), lambda w: (
        ("GET", "/api/v1/orgs/Org A/tokens", None), ("GET", "/api/v1/orgs/Org Nope/tokens", None))),
    "create token, guest": (("G", "admin"), lambda w: (
        ("POST", "/api/v1/orgs/Org A/tokens", {}), ("POST", "/api/v1/orgs/Org Nope/tokens", {}))),
    "create token, own publisher": (("A", "publisher"), lambda w: (
        ("POST", "/api/v1/orgs/Org A/tokens", {}), ("POST", "/api/v1/orgs/Org Nope/tokens", {}))),
    "revoke token": (("B", "admin"), lambda w: (
        ("DELETE", f"/api/v1/tokens/{w.token_a}", None),
        ("DELETE", "/api/v1/tokens/999999", None))),
    "rotate keys": (("G", "admin"), lambda w: (
        ("POST", "/api/v1/orgs/Org A/keys", {}), ("POST", "/api/v1/orgs/Org Nope/keys", {}))),
    "revoke key": (("C", "admin"), lambda w: (
        ("POST", f"/api/v1/keys/{w.key_a}/revoke", {"reason": "x"}),
        ("POST", f"/api/v1/keys/{w.absent_key}/revoke", {"reason": "x"}))),
    # --- native API: groups -----------------------------------------------------------------
    "create group, guest reader": (("G", "reader"), lambda w: (
        ("POST", "/api/v1/groups", {"name": "AB group", "owner": "Org A"}),
        ("POST", "/api/v1/groups", {"name": "No group", "owner": "Org A"}))),
    "create group, member reader": (("C", "reader"), lambda w: (
        ("POST", "/api/v1/groups", {"name": "AB group", "owner": "Org C"}),
        ("POST", "/api/v1/groups", {"name": "No group", "owner": "Org C"}))),
    "create group, another owner": (("C", "admin"), lambda w: (
        ("POST", "/api/v1/groups", {"name": "New group", "owner": "Org A"}),
        ("POST", "/api/v1/groups", {"name": "New group", "owner": "Org Nope"}))),
    "add group member": (("C", "admin"), lambda w: (
        ("POST", "/api/v1/groups/AB group/members", {"org": "Org C"}),
        ("POST", "/api/v1/groups/No group/members", {"org": "Org C"}))),
    "remove group member": (("G", "admin"), lambda w: (
        ("DELETE", "/api/v1/groups/AB group/members/Org B", None),
        ("DELETE", "/api/v1/groups/No group/members/Org B", None))),
    # --- native API: collections and objects -----------------------------------------------
    "recipients": (("C", "admin"), lambda w: (
        ("GET", f"/api/v1/collections/{w.group_ab}/recipients", None),
        ("GET", f"/api/v1/collections/{w.absent_uuid}/recipients", None))),
    "correlations": (("C", "reader"), lambda w: (
        ("GET", f"/api/v1/correlations/{w.object_a}", None),
        ("GET", f"/api/v1/correlations/{w.absent_object}", None))),
    "derive, collection": (("B", "admin"), lambda w: (
        ("POST", f"/api/v1/collections/{w.org_a}/objects/{w.object_a}/indicators", None),
        ("POST", f"/api/v1/collections/{w.absent_uuid}/objects/{w.object_a}/indicators", None))),
    "derive, object": (("C", "admin"), lambda w: (
        ("POST", f"/api/v1/collections/{w.members}/objects/{w.object_ab}/indicators", None),
        ("POST", f"/api/v1/collections/{w.members}/objects/{w.absent_object}/indicators", None))),
    "search by org, guest": (("G", "reader"), lambda w: (
        ("GET", "/api/v1/search?q=bad&org=Org A", None),
        ("GET", "/api/v1/search?q=bad&org=Org Nope", None))),
    "search by org, member": (("C", "reader"), lambda w: (
        ("GET", "/api/v1/search?q=bad&org=Org A&tlp=AMBER%2BSTRICT", None),
        ("GET", "/api/v1/search?q=bad&org=Org Nope&tlp=AMBER%2BSTRICT", None))),
    "search by collection": (("C", "reader"), lambda w: (
        ("GET", f"/api/v1/search?q=bad&collection={w.org_a}", None),
        ("GET", f"/api/v1/search?q=bad&collection={w.absent_uuid}", None))),
}  # fmt: skip


def _send(client: TestClient, world: World, who: tuple[str, str], request: Request) -> Any:
    method, path, body = request
    headers = world.community.auth(*who)
    if method == "POST" and path.startswith("/taxii2"):
        headers = {**headers, **POST}
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("case", list(CASES))
def test_exists_but_not_yours_answers_as_absent(
    client: TestClient, world: World, case: str
) -> None:
    """The same status and the same bytes for a thing that exists out of the caller's reach
    as for a thing that does not exist."""
    who, pair = CASES[case]
    hidden, absent = pair(world)
    first, second = _send(client, world, who, hidden), _send(client, world, who, absent)
    assert first.status_code in (200, 403, 404), first.text
    assert (first.status_code, first.content) == (second.status_code, second.content)
    if first.status_code == 200:  # a search: nothing was found either way
        assert first.json()["hits"] == []


def test_the_pairs_tell_apart_what_the_owner_may_reach(client: TestClient, world: World) -> None:
    """The check itself: for the owner, the 'exists' side of a pair does answer otherwise
    than the absent side (so the table compares things that exist with things that do not)."""
    owner = ("A", "admin")
    for case in ("taxii object", "list tokens, guest", "correlations", "search by org, guest"):
        hidden, absent = CASES[case][1](world)
        first, second = _send(client, world, owner, hidden), _send(client, world, owner, absent)
        assert (first.status_code, first.content) != (second.status_code, second.content), case


def test_a_peer_asking_for_a_channel_it_may_not_receive_gets_an_empty_page(
    client: TestClient, community: Community
) -> None:
    """`/federation/v1/changes?channel=` answers a channel the peer may not receive (org A's)
    exactly as a channel that does not exist."""
    node = community.node
    fake = _fake_peer(node, _member("Org P1"))
    obj = make_indicator(object_marking_refs=[TLP.AMBER.marking_id])
    posted = client.post(
        f"{ROOT}/{community.collections['members']}/objects/",
        json={"objects": [obj]},
        headers={**community.auth("A"), **POST},
    )
    assert posted.status_code == 202
    # channels are named by audience: "org" is every org's own channel (org A's here)
    hidden = _signed_get(client, node, fake.key, "/federation/v1/changes?after=0&channel=org")
    absent = _signed_get(client, node, fake.key, "/federation/v1/changes?after=0&channel=nope")
    assert hidden.status_code == absent.status_code == 200
    assert hidden.content == absent.content
    assert hidden.json()["changes"] == []
