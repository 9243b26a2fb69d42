"""Authoring: a report or a note from plain fields — the channels and TLPs offered, the
checks, the STIX composed (what a strict consumer accepts), one envelope or nothing."""

from __future__ import annotations

import pytest

from tabadol.domain.errors import Forbidden, Refused
from tabadol.domain.model import Org, Principal, Role
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node
from tabadol.text.extract import Indicator
from tabadol.text.language import detect_language
from tabadol.usecases.membership.principals import org_principal
from tabadol.usecases.publishing import authoring

from ..conftest import Community, assert_strict_stix

IP = "۱۸۵.۲۲۰.۱۰۱.۴"
BTC = "18ZaVcAT9uahY1jsgF4MQSE7TiZrCjgR3v"
TEXT = f"کارزار فیشینگ از نشانی {IP} و hxxp://evil-update[.]com/path؛ باج به {BTC} و {BTC[:-1]}w"


def _as(community: Community, name: str, role: Role = Role.PUBLISHER) -> Principal:
    node = community.node
    return org_principal(node, community.orgs[name], role)


def _draft(community: Community, **more: object) -> authoring.Draft:
    fields: dict[str, object] = {
        "kind": "report",
        "title": "گزارش\u200cها",
        "text": TEXT,
        "channel": community.collections["AB group"],
        "tlp": "amber",
    }
    return authoring.Draft(**(fields | more))  # type: ignore[arg-type]


def test_channels_offer_what_the_policy_allows(community: Community) -> None:
    """A publisher of A writes to members, public, its own channel and its group, with the
    TLPs each audience allows; a reader and a guest write nowhere."""
    channels = {
        c.collection.title: c
        for c in authoring.writable_channels(community.node, _as(community, "A"))
    }
    assert set(channels) == {"members", "public", "Org A", "AB group"}
    assert channels["public"].tlps == (TLP.CLEAR,)
    assert channels["members"].tlps == (TLP.CLEAR, TLP.GREEN, TLP.AMBER)
    assert channels["AB group"].sealed_tlps == (TLP.AMBER_STRICT, TLP.RED)
    assert authoring.writable_channels(community.node, _as(community, "A", Role.READER)) == []
    assert authoring.writable_channels(community.node, _as(community, "G")) == []
    with pytest.raises(Forbidden):
        authoring.check_draft(community.node, _as(community, "A", Role.READER), _draft(community))


def test_the_composed_objects_are_strict_stix(community: Community) -> None:
    """The report (and a note) with the kept indicators' objects and relationships: what
    stix2 parses without custom properties and stix2-validator passes in strict mode."""
    node, principal = community.node, _as(community, "A")
    for kind, title in (("report", "گزارش\u200cها"), ("note", "")):
        checked = authoring.check_draft(node, principal, _draft(community, kind=kind, title=title))
        objects = authoring.compose(checked, community.orgs["A"].identity_id, node.clock())
        assert_strict_stix(objects)
        source = objects[0]
        assert source["type"] == kind
        assert source["lang"] == "fa"
        assert len(source["object_refs"]) == 4  # ip, url, its domain, the valid wallet
        assert sum(o["type"] == "relationship" for o in objects) == 4


def test_the_checks(community: Community) -> None:
    node, principal = community.node, _as(community, "A")
    check = authoring.check_draft
    assert check(node, principal, _draft(community, confidence="۸۰")).confidence == 80
    assert check(node, principal, _draft(community, language="ar")).language == "ar"
    kept = frozenset({Indicator("btc", BTC), Indicator("ipv4", "203.0.113.9")})
    # only what the text holds: a value it does not hold is not published
    assert check(node, principal, _draft(community, keep=kept)).indicators == (
        Indicator("btc", BTC),
    )
    refusals = {
        "tlp": _draft(community, channel=community.collections["members"], tlp="red"),
        "audience": _draft(community, channel=community.collections["Org B"]),
        "kind": _draft(community, kind="opinion"),
        "title": _draft(community, title=""),
        "text": _draft(community, text="x" * (authoring.MAX_TEXT_BYTES + 1)),
        "confidence": _draft(community, confidence="۱۰۱"),
        "language": _draft(community, language="de"),
    }
    for field, draft in refusals.items():
        with pytest.raises(authoring.DraftRefused) as refused:
            check(node, principal, draft)
        assert refused.value.field == field
    with pytest.raises(authoring.DraftRefused, match="U\\+0000"):
        check(node, principal, _draft(community, text="a\x00b"))


def test_a_red_report_is_published_sealed_in_one_envelope(community: Community) -> None:
    node = community.node
    published = authoring.publish_draft(node, _as(community, "A"), _draft(community, tlp="red"))
    assert published.sealed
    assert published.indicators == 4
    assert len(published.status.successes) == 9  # the report, 4 indicators, 4 relationships
    assert all("(sealed: tabadol-sealed--" in m for _, _, m in published.status.successes)


def test_a_client_custody_org_is_refused_before_anything_is_written(
    community: Community, client_org: tuple[Org, object]
) -> None:
    node: Node = community.node
    principal = org_principal(node, client_org[0], Role.PUBLISHER)
    draft = _draft(community, channel=community.collections["members"])
    before = len(node.store.audit_entries(limit=10_000))
    with pytest.raises(Refused, match="keeps its own keys"):
        authoring.publish_draft(node, principal, draft)
    assert len(node.store.audit_entries(limit=10_000)) == before


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("گزارش فیشینگ از دامنه evil.com و هش e3b0c44298fc1c149afbf4c8996fb92427ae41e4", "fa"),
        ("هجوم تصيد احتيالي من النطاق evil.com", "ar"),
        ("phishing from evil.com, see the report", "en"),
        ("185.220.101.4 ۱۲۳", None),
    ],
)
def test_the_language_is_detected(text: str, language: str | None) -> None:
    assert detect_language(text) == language
