"""A small demo community: three members, a working group of two, reports in three languages."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import Conflict
from tabadol.domain.model import Collection, Org, Role
from tabadol.domain.timestamps import format_us
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node
from tabadol.usecases.membership import api_tokens, organizations, sharing_groups
from tabadol.usecases.membership.lookup import collection_by_kind, find_org
from tabadol.usecases.membership.principals import OPERATOR, org_principal
from tabadol.usecases.publishing.publish import publish_objects

ORGS = ("Pardis CERT", "Al-Rafidain Cyber Centre", "Northwind Security Agency")
GROUP = "ICS Working Group"


@dataclass(frozen=True)
class DemoToken:
    org: str
    role: str
    secret: str


def _sdo(kind: str, now: str, **props: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        **props,
    }


@dataclass(frozen=True, slots=True)
class Indicator:
    name: str
    pattern: str
    tlp: TLP
    key: str | None = None  # what later items call it in their `refs`

    def stix(self, now: str, _ids: Mapping[str, str]) -> dict[str, Any]:
        return _sdo(
            "indicator",
            now,
            name=self.name,
            description=f"{self.name}: {self.pattern}",
            pattern=self.pattern,
            pattern_type="stix",
            valid_from=now,
            indicator_types=["malicious-activity"],
            object_marking_refs=[self.tlp.marking_id],
        )


@dataclass(frozen=True, slots=True)
class Vulnerability:
    name: str
    tlp: TLP
    key: str | None = None

    def stix(self, now: str, _ids: Mapping[str, str]) -> dict[str, Any]:
        return _sdo("vulnerability", now, name=self.name, object_marking_refs=[self.tlp.marking_id])


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    description: str
    refs: tuple[str, ...]
    lang: str
    tlp: TLP
    key: str | None = None

    def stix(self, now: str, ids: Mapping[str, str]) -> dict[str, Any]:
        return _sdo(
            "report",
            now,
            name=self.name,
            description=self.description,
            published=now,
            report_types=["threat-report"],
            object_refs=[ids[ref] for ref in self.refs],
            lang=self.lang,
            object_marking_refs=[self.tlp.marking_id],
        )


@dataclass(frozen=True, slots=True)
class Note:
    content: str
    refs: tuple[str, ...]
    lang: str
    tlp: TLP
    key: str | None = None

    def stix(self, now: str, ids: Mapping[str, str]) -> dict[str, Any]:
        return _sdo(
            "note",
            now,
            content=self.content,
            object_refs=[ids[ref] for ref in self.refs],
            lang=self.lang,
            object_marking_refs=[self.tlp.marking_id],
        )


Item = Indicator | Vulnerability | Report | Note


@dataclass(frozen=True, slots=True)
class Post:
    """One org publishing items into one of its channels: "members", "public", "group" (the
    working group) or "own" (the org's own channel)."""

    org: str
    channel: str
    items: tuple[Item, ...]


_PARDIS, _RAFIDAIN, _NORTHWIND = ORGS

POSTS: tuple[Post, ...] = (
    Post(
        _PARDIS,
        "members",
        (
            Indicator(
                "Phishing server",
                "[ipv4-addr:value = '198.51.100.23']",
                TLP.GREEN,
                key="phishing-ip",
            ),
            Report(
                "کارزار فیشینگ علیه مشتریان بانک‌ها",
                "از هفته‌ی گذشته پیامک‌هایی با پیوند به درگاه پرداخت جعلی برای مشتریان"
                " بانک‌ها ارسال می‌شود. سرور فیشینگ در نشانی ۱۹۸٫۵۱٫۱۰۰٫۲۳ میزبانی می‌شود و"
                " دامنه‌ی pay-mellat[.]example را به کار می‌برد. بیش از ۷۰۰ کاربر گزارش"
                " داده‌اند.",
                ("phishing-ip",),
                "fa",
                TLP.GREEN,
            ),
        ),
    ),
    Post(
        _RAFIDAIN,
        "members",
        (
            Report(
                "حملة تصيّد تستهدف عملاء المصارف",
                "رصدنا رسائل نصية تحتوي على روابط إلى بوابة دفع مزيفة. يستضيف الخادم على"
                " العنوان ١٩٨٫٥١٫١٠٠٫٢٣ صفحات تصيّد باللغة الفارسية والعربية. نوصي بحظر"
                " العنوان فوراً.",
                ("phishing-ip",),
                "ar",
                TLP.GREEN,
            ),
        ),
    ),
    Post(
        _NORTHWIND,
        "public",
        (
            Indicator(
                "Ransomware payment wallet",
                "[x-crypto-wallet:value = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq']",
                TLP.CLEAR,
                key="wallet",
            ),
            Report(
                "Advisory: ransomware campaign against municipal services",
                "A ransomware group is encrypting file servers of municipal services and asks"
                " for payment to a Bitcoin wallet. Patch VPN appliances and keep offline"
                " backups.",
                ("wallet",),
                "en",
                TLP.CLEAR,
            ),
        ),
    ),
    Post(
        _PARDIS,
        "group",
        (
            Vulnerability("CVE-2024-0000 (demo) in PLC web interface", TLP.AMBER, key="plc"),
            Report(
                "آسیب‌پذیری در رابط وب کنترل‌گرهای صنعتی",
                "در کنترل‌گرهای منطقی برنامه‌پذیر نصب‌شده در ایستگاه‌های پمپاژ، رابط وب بدون"
                " احراز هویت در دسترس است. فقط برای اعضای کارگروه.",
                ("plc",),
                "fa",
                TLP.AMBER,
            ),
        ),
    ),
    Post(
        _RAFIDAIN,
        "group",
        (
            Note(
                "تم التحقق من الثغرة في محطتين لدينا. التحديث متاح من المصنّع.",
                ("plc",),
                "ar",
                TLP.AMBER,
            ),
            # TLP:RED: end-to-end encrypted to the two members of the working group
            Note(
                "عناوين المحطتين المتأثرتين: ١٠٫٢٠٫٣٠٫٤٠ و١٠٫٢٠٫٣٠٫٤١. لا تُشارك.",
                ("plc",),
                "ar",
                TLP.RED,
            ),
        ),
    ),
    Post(
        _NORTHWIND,
        "own",
        (
            Note(
                "Internal: incident 2026-114 is contained; do not share yet.",
                ("wallet",),
                "en",
                TLP.AMBER_STRICT,
            ),
        ),
    ),
)


def publish_as(node: Node, org: Org, collection: Collection, objects: list[dict[str, Any]]) -> None:
    """Publish the org's own items, naming it their author (the node keeps authorship as
    posted and fills no `created_by_ref`)."""
    authored = [{"created_by_ref": org.identity_id, **obj} for obj in objects]
    status = publish_objects(node, org_principal(node, org, Role.PUBLISHER), collection, authored)
    if status.failures:
        raise Conflict(f"demo content refused: {status.failures}")


Plan = list[tuple[str, str, list[dict[str, Any]]]]  # (org, channel, objects)


def plan(now: str) -> Plan:
    """The demo content as STIX objects made at `now`, post by post (`POSTS`); an item's
    `refs` name items made before it."""
    ids: dict[str, str] = {}
    planned: Plan = []
    for post in POSTS:
        objects = []
        for item in post.items:
            made = item.stix(now, ids)
            if item.key is not None:
                ids[item.key] = made["id"]
            objects.append(made)
        planned.append((post.org, post.channel, objects))
    return planned


def channel_of(node: Node, org: Org, channel: str) -> Collection:
    if channel == "group":
        group = sharing_groups.require_group(node, OPERATOR, GROUP)
        return collection_by_kind(node, AudienceKind.GROUP, group.id)
    if channel == "own":
        return collection_by_kind(node, AudienceKind.ORG, org.id)
    return collection_by_kind(node, AudienceKind(channel))


def populate(node: Node) -> None:
    """Create the demo community in one empty node (idempotent: skips if already there)."""
    if find_org(node, ORGS[0]) is not None:
        return
    orgs = {name: organizations.add_org(node, name) for name in ORGS}
    sharing_groups.create_group(node, OPERATOR, GROUP, ORGS[0])
    sharing_groups.add_group_member(node, OPERATOR, GROUP, ORGS[1])
    for org_name, channel, objects in plan(format_us(node.clock())):
        org = orgs[org_name]
        publish_as(node, org, channel_of(node, org, channel), objects)


# The demo mints its members' admin tokens on every run: from the second run on, the orgs
# have admins, and the step is a break-glass one like any other (their admins see it).
DEMO_BREAK_GLASS = "tabadol demo: a fresh admin token for the banner of this run"


def demo_tokens(node: Node) -> list[DemoToken]:
    """A fresh admin token per demo org (secrets are shown once, so each run makes new ones)."""
    made = []
    for name in ORGS:
        _, secret = api_tokens.create_token(
            node, OPERATOR, name, Role.ADMIN.value, "demo", break_glass=DEMO_BREAK_GLASS
        )
        made.append(DemoToken(name, Role.ADMIN.value, secret))
    return made
