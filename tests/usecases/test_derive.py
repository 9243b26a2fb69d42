"""Indicators derived from a report's text: STIX, linked to the report, in its audience."""

from __future__ import annotations

from typing import Any

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from starlette.testclient import TestClient

from tabadol.client.remote import ClientKeys
from tabadol.crypto.object_signature import attach_signature, read_signature
from tabadol.domain.attestation import without_attestation
from tabadol.domain.extensions import SEALED_TYPE
from tabadol.domain.keys import Custody
from tabadol.domain.sealed import wrapper_id
from tabadol.domain.timestamps import parse_us
from tabadol.domain.tlp import TLP
from tabadol.usecases.membership import api_tokens, organizations, sharing_groups
from tabadol.usecases.membership.principals import OPERATOR

from ..api.test_search import note, post
from ..conftest import Community, assert_strict_stix, assert_valid_stix

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
TEXT = (
    "کارزار فیشینگ از دامنه evil-update[.]com و نشانی ۱۸۵.۲۲۰.۱۰۱.۴ استفاده کرد؛ "
    "هش e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 و CVE-2024-3400؛ "
    "باج به 18ZaVcAT9uahY1jsgF4MQSE7TiZrCjgR3v"
)


def derive(client: TestClient, com: Community, who: str, title: str, stix_id: str) -> Any:
    url = f"/api/v1/collections/{com.collections[title]}/objects/{stix_id}/indicators"
    return client.post(url, headers=com.auth(who))


def objects(client: TestClient, com: Community, who: str, title: str) -> list[Any]:
    url = f"/taxii2/root/collections/{com.collections[title]}/objects/"
    return list(client.get(url, headers=com.auth(who)).json().get("objects", []))


def test_indicators_are_derived_and_linked(client: TestClient, community: Community) -> None:
    """Each indicator in the text becomes a valid STIX object with the source's TLP and a
    derived-from relationship to it; the source's latest version lists them in object_refs,
    signed by its publisher; asking twice stores nothing new."""
    source = note(TEXT, object_marking_refs=[TLP.AMBER.marking_id])
    post(client, community, "A", "AB group", [source])
    first = derive(client, community, "A", "AB group", source["id"])
    assert first.status_code == 201, first.text
    # 5 objects, 5 relationships and the note's new version listing the objects
    assert first.json()["success_count"] == 11
    again = derive(client, community, "A", "AB group", source["id"]).json()
    assert {s["message"] for s in again["successes"]} == {"this version was already stored"}
    seen = objects(client, community, "B", "AB group")
    made = [o for o in seen if o["type"] in ("indicator", "vulnerability")]
    links = [o for o in seen if o["type"] == "relationship"]
    assert sorted(o.get("pattern", o["name"]) for o in made) == sorted(
        [
            "CVE-2024-3400",
            "[domain-name:value = 'evil-update.com']",
            f"[file:hashes.'SHA-256' = '{SHA256}']",
            "[ipv4-addr:value = '185.220.101.4']",
            "[x-crypto-wallet:address = '18ZaVcAT9uahY1jsgF4MQSE7TiZrCjgR3v'"
            " AND x-crypto-wallet:currency = 'BTC']",
        ]
    )
    assert {link["target_ref"] for link in links} == {source["id"]}
    assert {link["source_ref"] for link in links} == {o["id"] for o in made}
    assert all(TLP.AMBER.marking_id in o["object_marking_refs"] for o in made + links)
    [latest] = [o for o in seen if o["id"] == source["id"]]
    assert latest["object_refs"] == source["object_refs"] + [
        o["id"] for o in made if o["id"] not in source["object_refs"]
    ]
    assert sorted(latest["object_refs"][1:]) == sorted(o["id"] for o in made)
    assert parse_us(latest["modified"]) > parse_us(source["modified"])
    assert read_signature(latest) is not None  # signed by A, like anything A publishes
    assert_valid_stix(made + links + [latest])
    assert_strict_stix(made + links)  # UUIDv4 ids, descriptions: what strict consumers want
    author = community.orgs["A"].identity_id
    assert {o["created_by_ref"] for o in made + links} == {author}  # the org derived them


def test_only_the_publisher_derives(client: TestClient, community: Community) -> None:
    """B may read A's report but not publish indicators in A's name; C cannot see it at all."""
    source = note(TEXT)
    post(client, community, "A", "AB group", [source])
    assert derive(client, community, "B", "AB group", source["id"]).status_code == 403
    assert derive(client, community, "C", "AB group", source["id"]).status_code == 404


def test_an_org_keeping_its_keys_gets_no_new_version_of_its_source(
    client: TestClient, community: Community
) -> None:
    """The node cannot sign for an org that keeps its own keys: the source stays as that org
    signed it (its client adds the derived ids), and nothing is published unsigned."""
    held = ClientKeys(SigningKey.generate(), PrivateKey.generate())
    org = organizations.add_org(
        community.node, "Org K", custody=Custody.CLIENT, public_keys=held.public()
    )
    _, community.tokens["K:publisher"] = api_tokens.create_token(
        community.node, OPERATOR, "Org K", "publisher"
    )
    source = note(TEXT, created_by_ref=org.identity_id)
    attach_signature(source, held.signing, held.sign_id)
    post(client, community, "K", "members", [source])
    status = derive(client, community, "K", "members", source["id"])
    assert status.status_code == 201, status.text
    assert status.json()["success_count"] == 0
    assert {f["id"] for f in status.json()["failures"]}.isdisjoint({source["id"]})
    [latest] = [o for o in objects(client, community, "A", "members") if o["id"] == source["id"]]
    assert without_attestation(latest) == source


@pytest.mark.parametrize("named_by", ["its own id", "the sealed item's id"])
def test_indicators_are_derived_from_a_sealed_report_and_stay_sealed(
    client: TestClient, community: Community, named_by: str
) -> None:
    """A's RED note is a `tabadol-sealed` item that the node opens for A: derived by either
    id, its indicators and the note's new version are sealed to the group like the note, and
    B opens them linked to the note's own id."""
    source = note(TEXT, object_marking_refs=[TLP.RED.marking_id])
    post(client, community, "A", "AB group", [source])
    asked = source["id"] if named_by == "its own id" else wrapper_id(source["id"])
    status = derive(client, community, "A", "AB group", asked)
    assert status.status_code == 201, status.text
    assert status.json()["success_count"] == 11
    assert all("(sealed: tabadol-sealed--" in s["message"] for s in status.json()["successes"])
    sharing_groups.add_group_member(
        community.node, OPERATOR, "AB group", "Org C", break_glass="test"
    )
    assert {o["type"] for o in objects(client, community, "C", "AB group")} == {SEALED_TYPE}
    seen = objects(client, community, "B", "AB group")
    links = [o for o in seen if o["type"] == "relationship"]
    assert len(links) == 5
    assert {link["target_ref"] for link in links} == {source["id"]}
    [latest] = [o for o in seen if o["id"] == source["id"]]
    assert len(latest["object_refs"]) == 6
    assert derive(client, community, "C", "AB group", source["id"]).status_code == 403
