"""The write side of the workspace over real HTTP to a real `tabadol serve`: a publisher
writes a Persian report, triages the indicators of its pasted text, publishes it to a group;
a member of the group reads it back through TAXII, an outsider does not. Each refusal — a
wrong CSRF token, an ended session, a TLP or an audience the policy refuses, an oversized
paste, invalid UTF-8, a reader — is a page that says so, and nothing is written."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tabadol.domain.tlp import TLP
from tabadol.node.node import open_node
from tabadol.usecases.membership import api_tokens, organizations, sharing_groups
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.people import enrolment

from ..conftest import LiveServer
from .people_web import ORG, PASSWORDS, PUBLISHER, READER, Browser, audit_actors, csrf_of, make_node

TAXII = "application/taxii+json;version=2.1"
READER_PASSWORD = "omid's long reading passphrase"
GROUP = "ICS Working Group"
IP = "۱۸۵.۲۲۰.۱۰۱.۴"  # 185.220.101.4, typed with Persian digits
URL = "hxxp://evil-update[.]com/path"
BTC = "18ZaVcAT9uahY1jsgF4MQSE7TiZrCjgR3v"
BAD_BTC = "18ZaVcAT9uahY1jsgF4MQSE7TiZrCjgR3w"  # one character off: its checksum fails
TITLE = "گزارش\u200cهای فیشینگ"  # with a ZWNJ
TEXT = f"کارزار فیشینگ از نشانی {IP} و {URL} استفاده کرد؛ باج به {BTC} و {BAD_BTC}"
_OPTION = re.compile(r'<option value="([^"]+)"[^>]*>([^<]*)')


@dataclass
class WriteNode:
    path: Path
    server: LiveServer
    tokens: dict[str, str]  # org name -> a reader token
    collections: dict[str, str]  # title -> TAXII id
    opened: list[Browser] = field(default_factory=list)

    def browser(self) -> Browser:
        made = Browser(self.server.url)
        self.opened.append(made)
        return made

    def signed_in(self, email: str = PUBLISHER) -> Browser:
        browser = self.browser()
        password = READER_PASSWORD if email == READER else PASSWORDS[email]
        done = browser.sign_in(email, password)
        assert done.status_code == 303, done.text
        return browser

    def objects(self, org: str, title: str) -> httpx.Response:
        url = f"{self.server.url}/taxii2/root/collections/{self.collections[title]}/objects/"
        headers = {"Authorization": f"Bearer {self.tokens[org]}", "Accept": TAXII}
        return httpx.get(url, headers=headers, timeout=30)

    def publishes(self) -> int:
        return sum(1 for action, _ in audit_actors(self.path) if action == "publish")


@pytest.fixture
def write_node(tmp_path: Path, live_server_factory: Callable[..., LiveServer]) -> Iterator[Any]:
    path = tmp_path / "node"
    links = make_node(path, {PUBLISHER: "publisher", READER: "reader"})
    with open_node(path) as node:
        enrolment.redeem(node, links[PUBLISHER], PASSWORDS[PUBLISHER])
        enrolment.redeem(node, links[READER], READER_PASSWORD)
        for name in ("Rafidain", "Northwind"):
            organizations.add_org(node, name)
        sharing_groups.create_group(node, OPERATOR, GROUP, ORG)
        sharing_groups.add_group_member(node, OPERATOR, GROUP, "Rafidain")
        sharing_groups.create_group(node, OPERATOR, "Other group", "Northwind")
        tokens = {
            name: api_tokens.create_token(node, OPERATOR, name, "reader")[1]
            for name in ("Rafidain", "Northwind")
        }
        collections = {c.title: c.uuid for c in node.store.list_collections()}
    made = WriteNode(path, live_server_factory(path), tokens, collections)
    yield made
    for browser in made.opened:
        browser.close()


def _fields(node: WriteNode, **more: str) -> dict[str, str]:
    return {
        "kind": "report",
        "title": TITLE,
        "text": TEXT,
        "channel": node.collections[GROUP],
        "tlp": "amber",
        "language": "",
        "confidence": "۸۰",
        **more,
    }


def _kept(html: str) -> list[str]:
    return re.findall(r'name="keep" value="([^"]+)"', html)


def test_a_publisher_writes_triages_and_publishes_to_a_group(write_node: WriteNode) -> None:
    """The form offers the channels Sara may write to with `dir="auto"` fields; the triage
    lists the indicators refanged (the Persian-digit IP in ASCII, the URL and its domain,
    the valid wallet; never the invalid one); the report and the kept indicators are
    published as one envelope; a member of the group reads them through TAXII (ZWNJ kept,
    the dropped indicator absent), an outsider does not."""
    browser = write_node.signed_in()
    form = browser.get("/write")
    assert form.status_code == 200, form.text
    assert re.search(r'<input id="title" name="title" dir="auto"', form.text)
    assert re.search(r'<textarea id="text" name="text" dir="auto"', form.text)
    offered = dict(_OPTION.findall(form.text.split('id="channel"')[1].split("</select>")[0]))
    assert write_node.collections[GROUP] in offered
    assert write_node.collections["Other group"] not in offered  # not Pardis's group
    assert write_node.collections["Northwind"] not in offered
    assert 'data-tlps="clear green amber"' in form.text  # members: no RED, no AMBER+STRICT

    triage = browser.submit("/write", "/write", _fields(write_node))
    assert triage.status_code == 200, triage.text
    kept = _kept(triage.text)
    assert kept == [
        "ipv4|185.220.101.4",
        "url|http://evil-update.com/path",
        "domain|evil-update.com",
        f"btc|{BTC}",
    ]
    assert BAD_BTC not in triage.text.split('id="indicators"')[1]
    assert '<bdi dir="ltr" class="ioc">185.220.101.4</bdi>' in triage.text
    assert 'id="sealed-notice"' not in triage.text  # AMBER to a group: not sealed

    before = write_node.publishes()
    body: dict[str, Any] = {**_fields(write_node), "csrf": csrf_of(triage.text)}
    body["keep"] = [k for k in kept if not k.startswith("domain|")]  # drop the domain
    done = browser.http.post("/write/publish", data=body)
    assert done.status_code == 303, done.text
    report_id = done.headers["location"].removeprefix("/items/")
    assert report_id.startswith("report--")
    assert write_node.publishes() == before + 1  # one envelope
    assert browser.get(done.headers["location"]).status_code == 200

    read = write_node.objects("Rafidain", GROUP)
    assert read.status_code == 200, read.text
    objects = {o["id"]: o for o in read.json()["objects"]}
    report = objects[report_id]
    assert report["name"] == TITLE  # the ZWNJ survives
    assert report["lang"] == "fa"
    assert report["confidence"] == 80
    assert report["object_marking_refs"] == [TLP.AMBER.marking_id]
    named = {objects[ref].get("pattern") for ref in report["object_refs"]}
    assert named == {
        "[ipv4-addr:value = '185.220.101.4']",
        "[url:value = 'http://evil-update.com/path']",
        f"[x-crypto-wallet:address = '{BTC}' AND x-crypto-wallet:currency = 'BTC']",
    }
    links = [o for o in objects.values() if o["type"] == "relationship"]
    assert {(r["source_ref"], r["target_ref"]) for r in links} == {
        (ref, report_id) for ref in report["object_refs"]
    }
    outsider = write_node.objects("Northwind", GROUP)
    assert outsider.status_code == 404
    members = write_node.objects("Northwind", "members").json().get("objects", [])
    assert report_id not in {o["id"] for o in members}


def test_a_red_note_is_sealed_end_to_end(write_node: WriteNode) -> None:
    """The triage page says the item will be end-to-end encrypted; its plaintext is in no
    file of the data directory."""
    browser = write_node.signed_in()
    secret = "یادداشت سرخ: رمز عبور سرور پشتیبان را عوض کنید"
    fields = _fields(write_node, kind="note", title="", text=secret, tlp="red")
    triage = browser.submit("/write", "/write", fields)
    assert triage.status_code == 200, triage.text
    assert 'id="sealed-notice"' in triage.text
    done = browser.submit("/write", "/write/publish", fields)
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/items/note--")
    needle = secret.encode()
    for file in write_node.path.rglob("*"):
        if file.is_file():
            assert needle not in file.read_bytes(), file


def _refused(response: httpx.Response, status: int, says: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert says in response.text, response.text


def test_every_refusal_is_a_page_and_writes_nothing(write_node: WriteNode) -> None:
    browser = write_node.signed_in()
    before = write_node.publishes()
    publish = "/write/publish"

    wrong = browser.submit("/write", publish, _fields(write_node), csrf="not-the-token")
    _refused(wrong, 403, "This form has expired or did not come from this node")
    red = browser.submit(
        "/write", publish, _fields(write_node, channel=write_node.collections["members"], tlp="red")
    )
    _refused(red, 403, "This TLP may not be shared with the audience chosen")
    assert "TLP:RED may not be shared" in red.text
    other = browser.submit(
        "/write", publish, _fields(write_node, channel=write_node.collections["Other group"])
    )
    _refused(other, 403, "You may not publish to that audience")
    public_amber = browser.submit(
        "/write", "/write", _fields(write_node, channel=write_node.collections["public"])
    )
    _refused(public_amber, 403, "This TLP may not be shared")
    huge = browser.submit("/write", publish, _fields(write_node, text="الف " * 300_000))
    _refused(huge, 413, "The text cannot be published as it is")
    assert TITLE in huge.text  # the person's fields are kept
    token = csrf_of(browser.get("/write").text)
    bad_utf8 = browser.http.post(
        publish,
        content=f"csrf={token}&kind=report&title=x&text=%FF%FEabc&tlp=amber".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    _refused(bad_utf8, 400, "not valid UTF-8")
    too_big = browser.http.post(
        publish,
        content=b"text=" + b"a" * (9 * 1024 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    _refused(too_big, 413, "too large")
    confidence = browser.submit("/write", publish, _fields(write_node, confidence="۱۰۱"))
    _refused(confidence, 400, "A field is not valid")

    old_session, old_token = browser.session, csrf_of(browser.get("/write").text)
    assert browser.submit("/account", "/sign-out", {}).status_code == 303
    ended = httpx.post(
        write_node.server.url + publish,
        data={**_fields(write_node), "csrf": old_token},
        headers={"Cookie": f"tabadol_session={old_session}"},
    )
    _refused(ended, 401, "Your session has ended: nothing was published")

    reader = write_node.signed_in(READER)
    _refused(reader.get("/write"), 403, "may read but not publish")
    posted = reader.submit("/account", publish, _fields(write_node))
    _refused(posted, 403, "may read but not publish")
    assert write_node.publishes() == before
    assert write_node.objects("Rafidain", GROUP).json().get("objects", []) == []


def test_the_pages_need_a_session(write_node: WriteNode) -> None:
    anonymous = write_node.browser()
    page = anonymous.get("/write")
    assert page.status_code == 303
    assert page.headers["location"] == "/sign-in?next=/write"
    assert anonymous.get("/items/report--00000000-0000-4000-8000-000000000000").status_code == 303
    browser = write_node.signed_in()
    missing = browser.get("/items/report--00000000-0000-4000-8000-000000000000")
    _refused(missing, 404, "There is no such item")
