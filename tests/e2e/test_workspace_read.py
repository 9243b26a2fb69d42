"""The workspace's reading side over real HTTP to a real `tabadol serve`: a person's inbox
and an item's page show exactly what their org may read — a group's item is there for the
group's members and, for a person outside the group, nowhere (inbox, search, the item's
address and every tab of it: the same 404 as an id that never existed); filters and paging;
members' hostile names and text render as text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from ..conftest import LiveServer, free_port
from .people_web import Browser
from .workspace_web import (
    AMBER,
    CLEAR,
    GREEN,
    GROUP,
    INSIDE,
    OUTSIDE,
    PARTNER,
    RED,
    Workspace,
    indicator,
    make_workspace,
    report,
    sid,
)

PERSIAN_NAME = "گزارش کمپین فیشینگ علیه بانک‌ها"
ARABIC_SPELLED = "كمپين"  # Arabic keyboard: kaf and yeh where Persian writes keheh and farsi yeh
HOSTILE_NAME = '<script>alert("x")</script><img src=x onerror=alert(1)> exe\u202egpj.scr'
MARKER = '<span class="bidi-control" title="RIGHT-TO-LEFT OVERRIDE'
_IDS = re.compile(r'<tr data-id="([^"]+)"')


@dataclass
class Published:
    group_report: dict[str, object]
    group_indicators: list[dict[str, object]]
    members: list[dict[str, object]]  # oldest first
    hostile: dict[str, object]
    red_note: dict[str, object]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, Published]]:
    made = make_workspace(tmp_path_factory.mktemp("workspace") / "node")
    server = LiveServer(made.path, free_port())
    server.start()
    made.url = server.url
    try:
        ips = ["198.51.100.7", "203.0.113.9", "192.0.2.44"]
        found = [indicator(f"C2 {ip}", ip) for ip in ips]
        refs = [str(i["id"]) for i in found] + [sid("indicator") for _ in range(57)]
        description = "سرور فرمان در ۱۹۲.۰.۲.۴۴ و evil.example/path دیده شد."
        group_report = report(PERSIAN_NAME, description, refs)
        made.publish(INSIDE, GROUP, [*found, group_report])
        members = []
        for n, marking in enumerate([GREEN, CLEAR, GREEN, AMBER, GREEN, CLEAR, GREEN]):
            obj = indicator(f"members item {n}", f"198.51.100.{10 + n}", marking)
            made.publish(INSIDE if n % 2 else PARTNER, "members", [obj])
            members.append(obj)
        hostile = report(
            HOSTILE_NAME, "<b>bold</b> \u202edesrever\u202c 203.0.113.9", [str(members[0]["id"])]
        )
        made.publish(PARTNER, "members", [hostile])
        red_note = {
            "type": "note",
            "spec_version": "2.1",
            "id": sid("note"),
            "created": "2026-01-03T00:00:00.000Z",
            "modified": "2026-01-03T00:00:00.000Z",
            "content": "یادداشت سرخ: فقط برای گروه",
            "object_refs": [str(group_report["id"])],
            "object_marking_refs": [RED],
        }
        made.publish(INSIDE, GROUP, [red_note])
        yield made, Published(group_report, found, members, hostile, red_note)
    finally:
        made.close()
        server.stop()


def _ids(html: str) -> list[str]:
    return _IDS.findall(html)


def test_signing_in_lands_in_the_inbox_and_a_stranger_is_sent_to_sign_in(
    workspace: tuple[Workspace, Published],
) -> None:
    made, _ = workspace
    made.reader(INSIDE)  # asserts the landing page
    with Browser(made.url) as anonymous:
        answer = anonymous.get("/inbox")
        assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in?next=/inbox")
        answer = anonymous.get("/items/report--x")
        assert answer.status_code == 303


def test_a_group_item_is_seen_by_the_group_and_by_no_one_outside_it(
    workspace: tuple[Workspace, Published],
) -> None:
    made, published = workspace
    report_id = str(published.group_report["id"])
    partner, outsider = made.reader(PARTNER), made.reader(OUTSIDE)

    inbox = partner.get("/inbox")
    assert inbox.status_code == 200
    assert report_id in _ids(inbox.text)
    page = partner.get(f"/items/{report_id}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert PERSIAN_NAME in page.text
    assert '<bdi dir="ltr" class="ioc">۱۹۲.۰.۲.۴۴</bdi>' in page.text
    assert '<bdi dir="ltr" class="ioc">evil.example/path</bdi>' in page.text
    found = partner.get(f"/inbox?q={quote(ARABIC_SPELLED)}")
    assert _ids(found.text) == [report_id]
    tab = partner.get(f"/items/{report_id}?tab=indicators")
    assert tab.status_code == 200
    listed = _ids(tab.text)
    assert listed[:3] == [str(i["id"]) for i in published.group_indicators]
    assert len(listed) == 50
    assert "?tab=indicators&amp;from=50" in tab.text
    rest = _ids(partner.get(f"/items/{report_id}?tab=indicators&from=50").text)
    assert len(rest) == 10
    assert not set(rest) & set(listed)
    correlated = partner.get(f"/items/{published.group_indicators[0]['id']}?tab=correlations")
    assert correlated.status_code == 200
    assert "198.51.100.7" in correlated.text

    made_up = outsider.get(f"/items/{sid('report')}")
    assert made_up.status_code == 404
    assert report_id not in _ids(outsider.get("/inbox").text)
    assert report_id not in outsider.get(f"/inbox?q={quote(ARABIC_SPELLED)}").text
    assert report_id not in outsider.get(f"/inbox?q={quote(PERSIAN_NAME)}").text
    for tab_name in ("text", "indicators", "correlations", "versions", "provenance", "audience"):
        for target in (report_id, str(published.group_indicators[0]["id"])):
            refused = outsider.get(f"/items/{target}?tab={tab_name}")
            assert (refused.status_code, refused.text) == (404, made_up.text)
    channel = made.channels[GROUP]
    assert outsider.get(f"/inbox?channel={channel}").status_code == 200
    assert _ids(outsider.get(f"/inbox?channel={channel}").text) == []


def test_filters_and_paging(workspace: tuple[Workspace, Published]) -> None:
    made, published = workspace
    partner = made.reader(PARTNER)
    members = made.channels["members"]
    newest_first = [str(published.hostile["id"])] + [
        str(o["id"]) for o in reversed(published.members)
    ]
    seen: list[str] = []
    url = f"/inbox?channel={members}&limit=3"
    while url:
        page = partner.get(url)
        assert page.status_code == 200
        seen += _ids(page.text)
        found = re.search(r'href="([^"]+)" id="next-page"', page.text)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert seen == newest_first

    amber = _ids(partner.get(f"/inbox?channel={members}&tlp=TLP:AMBER").text)
    assert amber == [str(published.hostile["id"]), str(published.members[3]["id"])]
    assert _ids(partner.get("/inbox?tlp=red").text) == [str(published.red_note["id"])]
    by_inside = _ids(partner.get(f"/inbox?channel={members}&org={quote(INSIDE)}").text)
    assert by_inside == [
        str(o["id"]) for i, o in reversed(list(enumerate(published.members))) if i % 2
    ]
    reports = _ids(partner.get("/inbox?type=report").text)
    assert reports == [str(published.hostile["id"]), str(published.group_report["id"])]
    assert _ids(partner.get("/inbox?from=2000-01-01&to=2000-01-02").text) == []
    assert _ids(partner.get(f"/inbox?org={quote('No such org')}").text) == []

    for bad in ("tlp=purple", "from=yesterday", "limit=-1", "next=forged", "to=2026-13-40"):
        refused = partner.get(f"/inbox?{bad}")
        assert refused.status_code == 400, bad
        assert 'class="problem"' in refused.text
    other_filters = partner.get(f"/inbox?channel={members}&limit=3")
    token = re.search(r"next=([^\"&]+)", other_filters.text)
    assert token is not None
    assert partner.get(f"/inbox?limit=3&next={token.group(1)}").status_code == 400  # bound


def test_hostile_names_and_text_render_as_text(workspace: tuple[Workspace, Published]) -> None:
    made, published = workspace
    partner = made.reader(INSIDE)
    hostile_id = str(published.hostile["id"])
    for page in (partner.get("/inbox"), partner.get(f"/items/{hostile_id}")):
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "<img src=x" not in page.text
        assert "&lt;script&gt;alert(" in page.text
        assert "\u202e" not in page.text
        assert "\u202c" not in page.text
        assert (
            '<span class="bidi-control" title="RIGHT-TO-LEFT OVERRIDE">U+202E</span>' in page.text
        )
    item = partner.get(f"/items/{hostile_id}").text
    assert "&lt;b&gt;bold&lt;/b&gt;" in item
    for tab in ("versions", "provenance", "audience"):
        assert partner.get(f"/items/{hostile_id}?tab={tab}").status_code == 200
    provenance = partner.get(f"/items/{hostile_id}?tab=provenance").text
    assert 'id="signature"><span class="ok">' in provenance  # signed by the node for the org
    assert re.search(r'<code dir="ltr" id="key-id">[^<]{20,}</code>', provenance)
    assert partner.get("/items/" + "x" * 5000).status_code == 404
    assert partner.get("/items/report--%00%0a").status_code == 404


def test_a_red_note_is_opened_for_the_group_with_its_recipients(
    workspace: tuple[Workspace, Published],
) -> None:
    made, published = workspace
    note_id = str(published.red_note["id"])
    partner = made.reader(PARTNER)
    page = partner.get(f"/items/{note_id}")
    assert page.status_code == 200
    assert "یادداشت سرخ" in page.text
    assert "tlp-red" in page.text
    audience = partner.get(f"/items/{note_id}?tab=audience").text
    recipients = re.search(r'<ul id="recipients">(.*?)</ul>', audience, re.S)
    assert recipients is not None
    assert INSIDE in recipients.group(1)
    assert PARTNER in recipients.group(1)
    assert OUTSIDE not in recipients.group(1)
    outsider = made.reader(OUTSIDE)
    assert outsider.get(f"/items/{note_id}").status_code == 404
    assert note_id not in outsider.get("/inbox?tlp=red").text
