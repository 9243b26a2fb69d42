"""A node for the workspace tests: three member orgs, a group of two of them, a reader in
each (enrolled with a password), publishing tokens, and helpers to publish over TAXII."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tabadol.node.node import init_node, open_node
from tabadol.usecases.membership import api_tokens, organizations, sharing_groups
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.people import accounts

from .people_web import Browser

TAXII = "application/taxii+json;version=2.1"
PASSWORD = "a long passphrase for reading"
INSIDE, PARTNER, OUTSIDE = "Pardis CERT", "Nakhl SOC", "Outsider CERT"
GROUP = "Gulf working group"
PEOPLE = {
    INSIDE: "reza@pardis.example",
    PARTNER: "laila@nakhl.example",
    OUTSIDE: "omid@outsider.example",
}
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


@dataclass
class Workspace:
    path: Path
    links: dict[str, str]  # email -> enrolment secret
    tokens: dict[str, str]  # org -> publisher token
    channels: dict[str, str]  # channel title -> TAXII collection id
    url: str = ""
    opened: list[Browser] = field(default_factory=list)

    def publish(self, org: str, channel: str, objects: list[dict[str, Any]]) -> None:
        """`org` publishes `objects` into `channel` over TAXII; every one is stored."""
        answer = httpx.post(
            f"{self.url}/taxii2/root/collections/{self.channels[channel]}/objects/",
            json={"objects": objects},
            headers={
                "Authorization": f"Bearer {self.tokens[org]}",
                "Content-Type": TAXII,
                "Accept": TAXII,
            },
            timeout=60,
        )
        assert answer.status_code == 202, answer.text
        status = answer.json()
        assert status["failure_count"] == 0, status

    def reader(self, org: str) -> Browser:
        """A browser signed in as the reader of `org` (enrolled on first use)."""
        browser = Browser(self.url)
        self.opened.append(browser)
        email = PEOPLE[org]
        if email in self.links:
            done, _ = browser.enrol(self.links.pop(email), PASSWORD, totp=False)
            assert done.status_code == 200, done.text
        signed = browser.sign_in(email, PASSWORD)
        assert (signed.status_code, signed.headers["location"]) == (303, "/inbox"), signed.text
        return browser

    def close(self) -> None:
        for browser in self.opened:
            browser.close()


def make_workspace(path: Path) -> Workspace:
    init_node(path)
    node = open_node(path)
    try:
        for name in PEOPLE:
            organizations.add_org(node, name)
        sharing_groups.create_group(node, OPERATOR, GROUP, INSIDE)
        sharing_groups.add_group_member(node, OPERATOR, GROUP, PARTNER)
        links = {
            email: accounts.invite(node, OPERATOR, org, email, "reader").url.rsplit("/", 1)[-1]
            for org, email in PEOPLE.items()
        }
        tokens = {
            org: api_tokens.create_token(node, OPERATOR, org, "publisher")[1] for org in PEOPLE
        }
        channels = {c.title: c.uuid for c in node.store.list_collections()}
    finally:
        node.close()
    return Workspace(path, links, tokens, channels)


def sid(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def indicator(name: str, value: str = "198.51.100.7", marking: str = GREEN) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": sid("indicator"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": name,
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [marking],
    }


def report(
    name: str, description: str, refs: list[str], marking: str = AMBER, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": sid("report"),
        "created": "2026-01-02T00:00:00.000Z",
        "modified": "2026-01-02T00:00:00.000Z",
        "name": name,
        "description": description,
        "published": "2026-01-02T00:00:00Z",
        "report_types": ["threat-report"],
        "object_refs": refs,
        "object_marking_refs": [marking],
        **extra,
    }
