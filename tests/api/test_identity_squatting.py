"""Issue 13, finding 4: org identity ids are derived (node id and name), so a member could
publish the identity of an org the operator has not added yet and sign reports as it. Over
HTTP with the real app, on both engines: the squat is refused, `org add` of the victim then
succeeds with the node's directory record, and an `org add` that cannot complete leaves
nothing."""

from __future__ import annotations

from typing import Any

import pytest
from nacl.signing import SigningKey
from starlette.testclient import TestClient

from tabadol.crypto.object_signature import read_signature
from tabadol.crypto.signing import b64url
from tabadol.domain.extensions import DIRECTORY_EXTENSION
from tabadol.storage.errors import StorageUnavailable
from tabadol.usecases.federation import peers
from tabadol.usecases.membership import ids, organizations
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.trust import directory_record
from tabadol.web.media import TAXII_21

from ..conftest import BACKENDS, Community, stix_id


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _identity(identity_id: str, name: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": name,
        "identity_class": "organization",
    }


def _report(author: str) -> dict[str, Any]:
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": stix_id("report"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Signed as the victim",
        "published": "2026-01-01T00:00:00.000Z",
        "report_types": ["threat-report"],
        "object_refs": [stix_id("indicator")],
        "created_by_ref": author,
    }


def _post(
    client: TestClient, community: Community, org: str, objects: list[dict[str, Any]]
) -> dict[str, Any]:
    members = community.collections["members"]
    headers = {**community.auth(org), "Content-Type": TAXII_21}
    response = client.post(
        f"/taxii2/root/collections/{members}/objects/", json={"objects": objects}, headers=headers
    )
    assert response.status_code == 202, response.text
    status: dict[str, Any] = response.json()
    return status


def _reasons(status: dict[str, Any]) -> dict[str, str]:
    return {f["id"]: f["message"] for f in status.get("failures", [])}


def _add_org(client: TestClient, community: Community, name: str) -> Any:
    return client.post("/api/v1/orgs", json={"name": name}, headers=community.auth("operator"))


def test_squat_refused_then_org_add_completes(client: TestClient, community: Community) -> None:
    """A member's copy of the next org's identity and a report claiming it are refused with
    their reasons; the operator then adds the org, whose identity is the node's record."""
    node = community.node
    victim = ids.org_identity_id(node.node_id, "Org Victim")
    squat, report = _identity(victim, "Org Victim"), _report(victim)
    status = _post(client, community, "A", [squat, report])
    assert status["success_count"] == 0
    reasons = _reasons(status)
    assert "reserved for the identity of an organization" in reasons[victim]
    assert "not known here" in reasons[report["id"]]
    # the report alone, after its identity was refused, names an identity that does not exist
    alone = _reasons(_post(client, community, "B", [_report(victim)]))
    assert any("not known here" in m for m in alone.values())

    added = _add_org(client, community, "Org Victim")
    assert added.status_code == 201, added.text
    members = community.collections["members"]
    got = client.get(
        f"/taxii2/root/collections/{members}/objects/{victim}/", headers=community.auth("B")
    )
    assert got.status_code == 200, got.text
    (record,) = got.json()["objects"]
    assert DIRECTORY_EXTENSION in record["extensions"]  # the directory record, not a copy
    signature = read_signature(record)
    assert signature is not None
    assert signature.key_id == node.node_key_id
    (collection,) = [c for c in node.store.list_collections() if c.uuid == members]
    org = node.store.org_by_name("Org Victim")
    assert org is not None
    assert org.identity_id == victim
    assert node.store.authors_of(collection.id, victim) == {org.id}


def test_peer_org_identity_is_reserved(client: TestClient, community: Community) -> None:
    """The derived id of an org a peer has not announced yet is reserved too."""
    node = community.node
    peer = peers.add_peer(
        node, OPERATOR, "http://127.0.0.1:9", b64url(bytes(SigningKey.generate().verify_key))
    )
    theirs = ids.org_identity_id(peer.node_id, "Org Far")
    reasons = _reasons(_post(client, community, "A", [_identity(theirs, "Org Far")]))
    assert "reserved" in reasons[theirs]


def test_relayed_identity_and_its_reports_still_accepted(
    client: TestClient, community: Community
) -> None:
    """A member relays a producer's own identity (a MISP instance's) and its report, in one
    envelope or the report later: authorship of third parties is not a squat."""
    producer = stix_id("identity")
    first = _post(client, community, "A", [_identity(producer, "MISP of A"), _report(producer)])
    assert first["success_count"] == 2, first
    later = _post(client, community, "A", [_report(producer)])
    assert later["success_count"] == 1, later


def test_decoy_named_squat_makes_org_add_refuse_cleanly(
    client: TestClient, community: Community
) -> None:
    """An identity with the next org's id under another name cannot be told from a relayed
    one; `org add` then refuses the name (409) before creating anything."""
    node = community.node
    victim = ids.org_identity_id(node.node_id, "Org Victim")
    status = _post(client, community, "A", [_identity(victim, "Decoy"), _report(victim)])
    assert status["success_count"] == 2, status
    refused = _add_org(client, community, "Org Victim")
    assert refused.status_code == 409, refused.text
    assert "already used by another author" in refused.json()["description"]
    assert node.store.org_by_name("Org Victim") is None
    assert not any(c.title == "Org Victim" for c in node.store.list_collections())


def test_org_add_leaves_nothing_when_the_record_fails(
    client: TestClient, community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An injected failure while publishing the directory record: no org, key or channel
    remains, the audit says the attempt was undone, and the name can be added again."""
    node = community.node
    keys_before = len(node.store.org_keys())

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise StorageUnavailable("injected: the database went away")

    monkeypatch.setattr(directory_record, "publish_objects", broken)
    failed = _add_org(client, community, "Org Late")
    assert failed.status_code == 503, failed.text
    assert node.store.org_by_name("Org Late") is None
    assert not any(c.title == "Org Late" for c in node.store.list_collections())
    assert len(node.store.org_keys()) == keys_before
    undone = node.store.audit_entries(action="org.add.undone")
    assert [e.detail["org"] for e in undone] == ["Org Late"]

    monkeypatch.undo()
    again = _add_org(client, community, "Org Late")
    assert again.status_code == 201, again.text
    assert organizations.list_orgs(node, OPERATOR)[-1].name == "Org Late"
