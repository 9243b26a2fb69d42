"""The unmodified taxii2-client against `tabadol serve` on a loopback port."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from tabadol.node.node import open_node
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR

from ..conftest import ICS_BUNDLE, LiveServer, assert_valid_stix, make_indicator, needs_attack_data


@pytest.fixture
def served(
    data_dir: Path, live_server_factory: Callable[[Path], LiveServer]
) -> tuple[LiveServer, dict[str, str]]:
    with open_node(data_dir) as node:
        organizations.add_org(node, "Relay CERT")
        organizations.add_org(node, "Outsider")
        secrets = {
            "relay": api_tokens.create_token(node, OPERATOR, "Relay CERT", "publisher")[1],
            "outsider": api_tokens.create_token(node, OPERATOR, "Outsider", "publisher")[1],
        }
    return live_server_factory(data_dir), secrets


def _collection(server: LiveServer, token: str, title: str) -> Collection:
    api_root = ApiRoot(f"{server.url}/taxii2/root/", auth=_bearer(token))
    (found,) = [c for c in api_root.collections if c.title == title]
    return found


class _bearer:
    """requests auth adding a bearer token (taxii2-client accepts any requests auth)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def test_discovery_and_collections(served: tuple[LiveServer, dict[str, str]]) -> None:
    """Discovery names the API root; a member sees members, public and its own channel."""
    server, secrets = served
    disco = Server(f"{server.url}/taxii2/", auth=_bearer(secrets["relay"]))
    assert disco.title
    (api_root,) = disco.api_roots
    assert api_root.versions == ["application/taxii+json;version=2.1"]
    titles = sorted(c.title for c in api_root.collections)
    assert titles == ["Relay CERT", "members", "public"]


@needs_attack_data
def test_add_get_pages_manifest_versions_delete(
    served: tuple[LiveServer, dict[str, str]],
) -> None:
    """The full client workflow on the ATT&CK ICS bundle, relayed into `public`."""
    server, secrets = served
    public = _collection(server, secrets["relay"], "public")
    bundle = json.loads(ICS_BUNDLE.read_text())
    objects = bundle["objects"]
    for start in range(0, len(objects), 500):
        status = public.add_objects(
            json.dumps({"objects": objects[start : start + 500]}), wait_for_completion=True
        )
        assert status.status == "complete"
        assert status.failure_count == 0, status.failures[:3]

    seen: list[dict] = []
    for envelope in as_pages(public.get_objects, per_request=300):
        seen.extend(envelope.get("objects", []))
    assert len({o["id"] for o in seen}) == len(seen) == len({o["id"] for o in objects})
    assert_valid_stix(seen)

    manifest = [
        m
        for page in as_pages(public.get_manifest, per_request=1000)
        for m in page.get("objects", [])
    ]
    assert {m["id"] for m in manifest} == {o["id"] for o in seen}
    assert len(manifest) == len(seen)

    target = next(o for o in objects if o["type"] == "attack-pattern")
    versions = public.object_versions(target["id"])
    assert versions["versions"]
    one = public.get_object(target["id"])
    assert one["objects"][0]["id"] == target["id"]

    public.delete_object(target["id"])
    after = public.get_objects(**{"type": "attack-pattern"})
    assert target["id"] not in {o["id"] for o in after.get("objects", [])}


def test_outsider_cannot_read_private_channel(served: tuple[LiveServer, dict[str, str]]) -> None:
    """Another org's private channel is not listed and its URL answers like a missing one."""
    server, secrets = served
    private = _collection(server, secrets["relay"], "Relay CERT")
    private.add_objects(json.dumps({"objects": [make_indicator()]}), wait_for_completion=True)
    outsider_root = ApiRoot(f"{server.url}/taxii2/root/", auth=_bearer(secrets["outsider"]))
    assert "Relay CERT" not in {c.title for c in outsider_root.collections}
    sneaky = Collection(private.url, auth=_bearer(secrets["outsider"]))
    with pytest.raises(Exception, match="404"):
        sneaky.get_objects()
