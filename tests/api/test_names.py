"""Names a reader cannot tell apart are one name (issue 14, finding 11), found by either
spelling; names and labels that would read in another order are refused (finding 8)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from tabadol.crypto.directory_doc import DOCUMENT_TYPE, sign_document
from tabadol.crypto.signing import b64url
from tabadol.domain.errors import Conflict, InvalidInput
from tabadol.domain.model import Role
from tabadol.node.node import Node
from tabadol.text.names import look_alike
from tabadol.usecases.federation import own_directory, peer_directory, peers
from tabadol.usecases.membership import api_tokens, lookup, organizations, sharing_groups
from tabadol.usecases.membership.ids import org_identity_id
from tabadol.usecases.membership.principals import OPERATOR, org_principal

from ..conftest import Community
from ..federation.test_federation_security import _groups_for, _member

PERSIAN = "مرکز امنیت سایبری"  # Persian yeh and keheh
ARABIC = "مركز امنيت سايبري"  # the same typed on an Arabic keyboard: ي and ك


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (PERSIAN, ARABIC),
        ("مرکز الأمن", "مرکز الامن"),  # alef with hamza
        ("پردیس‌سرت", "پردیس سرت"),  # ZWNJ against a space
        ("مُرکز", "مرکز"),  # a diacritic
        ("Pardis CERT", "Pаrdis CERT"),  # Cyrillic а
        ("Pardis CERT", "PARDIS  cert"),  # case and spacing
        ("PayPal CERT", "PayPaI CERT"),  # capital I for l
    ],
    ids=["ye-kaf", "hamza", "zwnj", "harakat", "cyrillic", "case", "I-for-l"],
)
def test_a_look_alike_of_an_org_is_refused_and_finds_it(
    community: Community, first: str, second: str
) -> None:
    """The second spelling cannot be another org (409, nothing created), and names the
    first in every lookup: a token made for it is the first org's."""
    node = community.node
    org = organizations.add_org(node, first)
    count = len(node.store.list_orgs())
    with pytest.raises(Conflict, match="looks like"):
        organizations.add_org(node, second)
    assert len(node.store.list_orgs()) == count
    assert lookup.require_org(node, second).id == org.id
    token, _ = api_tokens.create_token(node, OPERATOR, second, "reader")
    assert token.org_id == org.id


def test_different_names_stay_different() -> None:
    """Names that differ in a letter, not in its form, are two names."""
    for a, b in [
        ("کرمان", "کرمانی"),
        ("Org A", "Org B"),
        ("Rafidain", "Northwind"),
        ("سرت", "ثرت"),
    ]:
        assert not look_alike(a, b), (a, b)


def test_groups_and_channels_are_unique_and_found_under_the_same_form(
    community: Community,
) -> None:
    """A group cannot look like an org or another group, nor like `members`; it is found by
    the other keyboard's spelling, by its admins and in the collection lookup of import."""
    node = community.node
    a, b = (org_principal(node, community.orgs[x], Role.ADMIN) for x in "AB")
    sharing_groups.create_group(node, a, "گروه کاری", "Org A")
    with pytest.raises(Conflict):
        sharing_groups.create_group(node, b, "گروه كاري", "Org B")
    with pytest.raises(Conflict):
        sharing_groups.create_group(node, b, "ORG A", "Org B")
    with pytest.raises(InvalidInput, match="reserved"):
        sharing_groups.create_group(node, b, "Membеrs", "Org B")  # Cyrillic е
    group = sharing_groups.add_group_member(node, a, "گروه كاري", "Org C")
    assert group.name == "گروه کاری"
    assert community.orgs["C"].id in group.members


def test_lookups_over_the_api_accept_either_spelling(
    client: TestClient, community: Community
) -> None:
    """An admin typing its org's name on the other keyboard reaches its tokens."""
    node = community.node
    organizations.add_org(node, PERSIAN)
    _, secret = api_tokens.create_token(node, OPERATOR, PERSIAN, "admin")
    headers = {"Authorization": f"Bearer {secret}"}
    listed = client.get(f"/api/v1/orgs/{ARABIC}/tokens", headers=headers)
    assert listed.status_code == 200, listed.text
    assert [t["org"] for t in listed.json()] == [PERSIAN]


@pytest.mark.parametrize(
    "control",
    ["\u202e", "\u202b", "\u2067", "\u200f", "\u061c"],
    ids=["RLO", "RLE", "RLI", "RLM", "ALM"],
)
def test_bidi_controls_are_refused_wherever_a_name_or_label_enters(
    client: TestClient, community: Community, control: str
) -> None:
    """An org name, a group name and a token label holding a bidi control are refused with
    the character named (400), by the API and the use cases alike; nothing is stored."""
    operator = {"Authorization": f"Bearer {community.token('operator')}"}
    admin = {"Authorization": f"Bearer {community.token('A', 'admin')}"}
    before = len(community.node.store.list_orgs())
    answers = [
        client.post("/api/v1/orgs", json={"name": f"Evil{control}TREC"}, headers=operator),
        client.post(
            "/api/v1/groups", json={"name": f"g{control}x", "owner": "Org A"}, headers=admin
        ),
        client.post(
            "/api/v1/orgs/Org A/tokens",
            json={"role": "reader", "label": f"ci{control}nimda"},
            headers=admin,
        ),
    ]
    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert f"U+{ord(control):04X}" in answer.json()["description"]
    assert len(community.node.store.list_orgs()) == before
    assert [g.name for g in community.node.store.list_groups()] == ["AB group"]


def _directory(node: Node, key: SigningKey, peer: Any, names: list[str]) -> dict[str, Any]:
    members = [_member(name) for name in names]
    for member in members:
        member.identity_id = org_identity_id(peer.node_id, member.name)
    body: dict[str, Any] = {
        "type": DOCUMENT_TYPE,
        "node_id": peer.node_id,
        "node_key": b64url(bytes(key.verify_key)),
        "orgs": [m.record(node.clock()) for m in members],
        "groups": [],
        "peers": [],
    }
    body["version"] = own_directory.version_of(body)
    return {**sign_document(body, key), "groups_for_you": _groups_for(node, peer, key)}


def test_a_peer_cannot_bring_a_look_alike_member_or_a_bidi_name(community: Community) -> None:
    """A peer's directory announcing an Arabic-letter twin of an org known here, or a name
    with a bidi override, has those refused (with the reason, audited); its other orgs are
    taken in."""
    node = community.node
    organizations.add_org(node, PERSIAN)
    key = SigningKey.generate()
    peer = peers.add_peer(node, OPERATOR, "http://127.0.0.1:9", b64url(bytes(key.verify_key)))
    document = _directory(node, key, peer, [ARABIC, "Evil\u202eTREC", "Honest CERT"])
    refused = peer_directory.take_in(node, peer, document)
    assert len(refused) == 2, refused
    assert any("looks like" in r for r in refused)
    assert any("bidirectional" in r for r in refused)
    names = {o.name for o in node.store.list_orgs()}
    assert "Honest CERT" in names
    assert ARABIC not in names
    assert not any("\u202e" in n for n in names)
