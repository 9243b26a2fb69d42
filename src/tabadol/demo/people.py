"""The demo's people: one analyst per member org, a publisher who signs in with a password
the banner prints (a demo, on a demo node: never a password to keep). A publisher needs no
second factor under the default policy, so the printed sign-in is all it takes."""

from __future__ import annotations

from dataclasses import dataclass

from tabadol.domain.errors import NotFound
from tabadol.domain.model import Role
from tabadol.node.node import Node
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.people import accounts, enrolment

DEMO_PASSWORD = "tabadol-demo-password"
EMAILS = {
    "Pardis CERT": "analyst@pardis.example",
    "Al-Rafidain Cyber Centre": "analyst@rafidain.example",
    "Northwind Security Agency": "analyst@northwind.example",
}
# From the demo's second run on the orgs have admins (the banner's admin tokens): enrolling
# a missing analyst then is the operator's break-glass step, shown to those admins.
DEMO_BREAK_GLASS = "tabadol demo: the member's demo analyst"


@dataclass(frozen=True)
class DemoSignIn:
    """What the banner prints for a member: where to sign in, as whom, with what."""

    org: str
    url: str
    email: str
    password: str


def demo_person(node: Node, org: str, base: str) -> DemoSignIn:
    """The org's demo analyst (invited and enrolled the first time), and their sign-in at
    `base`, the node's address."""
    email = EMAILS[org]
    try:
        accounts.find_person(node, OPERATOR, org, email)
    except NotFound:
        made = accounts.invite(
            node, OPERATOR, org, email, Role.PUBLISHER, "Demo analyst",
            break_glass=DEMO_BREAK_GLASS,
        )  # fmt: skip
        enrolment.redeem(node, made.url.rsplit("/", 1)[1], DEMO_PASSWORD)
    return DemoSignIn(org, f"{base}/sign-in", email, DEMO_PASSWORD)


def sign_in_line(person: DemoSignIn) -> str:
    return f"sign in: {person.url}  email: {person.email}  password: {person.password}"
