"""`tabadol user …`: the people of an org — invite, list, change a role, disable, enable,
remove, send a reset link, list and end their sessions.

Two ways to run each command, like `break-glass list`: the operator on the node's data
directory (with `--break-glass REASON` once the org has admins of its own: the step is
recorded and shown to them), or an admin of the org through the node's API with `--url`
and `--token`. Both call the same use cases and print the same thing; an enrolment or reset
link is the last line printed, alone, so that a script can take it with `tail -n 1`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table

from tabadol.cli.common import (
    DEFAULT_DATA,
    AdminToken,
    AdminUrl,
    BreakGlassReason,
    DataDir,
    err,
    fail,
    guarded,
    node_at,
    out,
)
from tabadol.client.remote import RemoteNode
from tabadol.node.node import Node
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.people import accounts, sessions
from tabadol.web.people_api import InvitationOut, PersonOut, SessionOut

user_app = typer.Typer(
    no_args_is_help=True,
    help="People of an org: invite, list, roles, disable, remove, reset, sessions.",
)
Role = Annotated[str, typer.Argument(help="admin, publisher or reader.", show_default=False)]


class _Where:
    """The node a command acts on: the data directory as the operator, or the API as the
    token's holder. Each command gives both ways; this runs the one chosen."""

    def __init__(self, data: Path, url: str | None, token: str | None) -> None:
        if bool(url) != bool(token):
            raise fail("acting through the API needs both --url and --token")
        self.data = data
        self.remote = RemoteNode(url, token) if url and token else None

    def run(self, local: Callable[[Node], Any], method: str, path: str, **call: Any) -> Any:
        """`local(node)` on the data directory, or the API call `method path`."""
        if self.remote is None:
            with node_at(self.data) as node:
                return guarded(lambda: local(node))
        remote = self.remote
        try:
            return guarded(lambda: remote.call(method, f"/api/v1{path}", **call))
        finally:
            remote.close()


def _person_path(org: str, email: str, *more: str) -> str:
    parts = ("orgs", org, "people", email, *more)
    return "/" + "/".join(quote(part, safe="@") for part in parts)


def _glass(reason: str | None) -> dict[str, str]:
    return {"break_glass": reason} if reason else {}


def _print_link(made: dict[str, Any], what: str) -> None:
    person = made["person"]
    err.print(
        f"{what} for {person['email']} ({person['role']}), valid until {made['expires']}, usable"
        " once; hand it to them:",
        highlight=False,
        soft_wrap=True,
    )
    print(made["enrolment_url"])


def _said(person: dict[str, Any], what: str) -> None:
    out.print(f"{person['email']}: {what}", highlight=False, soft_wrap=True)


@user_app.command("add")
def add(
    org: str,
    email: str,
    role: Annotated[str, typer.Option(help="admin, publisher or reader.")],
    name: Annotated[str, typer.Option(help="The person's name, as listings show it.")] = "",
    data: DataDir = DEFAULT_DATA,
    url: AdminUrl = None,
    token: AdminToken = None,
    break_glass: BreakGlassReason = None,
) -> None:
    """Invite a person into ORG. Their one-time enrolment link is the last line printed."""
    made = _Where(data, url, token).run(
        lambda node: InvitationOut.of(
            accounts.invite(node, OPERATOR, org, email, role, name, break_glass=break_glass)
        ).model_dump(),
        "POST",
        f"/orgs/{quote(org, safe='')}/people",
        body={"email": email, "role": role, "name": name, **_glass(break_glass)},
    )
    _print_link(made, "invited: an enrolment link")


@user_app.command("list")
def list_people(
    org: str, data: DataDir = DEFAULT_DATA, url: AdminUrl = None, token: AdminToken = None
) -> None:
    """The people of ORG: role, status, second factors, last sign-in."""

    def local(node: Node) -> list[dict[str, Any]]:
        people = accounts.list_people(node, OPERATOR, org)
        last = sessions.last_sign_ins(node, people)
        return [PersonOut.of(p, last.get(p.id)).model_dump() for p in people]

    people = _Where(data, url, token).run(local, "GET", f"/orgs/{quote(org, safe='')}/people")
    if not people:
        out.print(f"no people in {org} yet: `tabadol user add` invites one", highlight=False)
        return
    table = Table("email", "name", "role", "status", "factors", "last sign-in")
    for p in people:
        table.add_row(
            p["email"],
            p["name"],
            p["role"],
            p["status"],
            ", ".join(p["factors"]) or ("password" if p["has_password"] else "—"),
            p["last_sign_in"] or "",
        )
    out.print(table)


@user_app.command("role")
def role(
    org: str,
    email: str,
    new_role: Role,
    data: DataDir = DEFAULT_DATA,
    url: AdminUrl = None,
    token: AdminToken = None,
    break_glass: BreakGlassReason = None,
) -> None:
    """Give the person another role, from their next request on."""
    person = _Where(data, url, token).run(
        lambda node: PersonOut.of(
            accounts.set_role(node, OPERATOR, org, email, new_role, break_glass=break_glass)
        ).model_dump(),
        "PATCH",
        _person_path(org, email),
        body={"role": new_role, **_glass(break_glass)},
    )
    _said(person, f"now {person['role']} in {org}")


def _status(
    act: Callable[..., Any], status: str, org: str, email: str, where: _Where, reason: str | None
) -> dict[str, Any]:
    person: dict[str, Any] = where.run(
        lambda node: PersonOut.of(act(node, OPERATOR, org, email, break_glass=reason)).model_dump(),
        "PATCH",
        _person_path(org, email),
        body={"status": status, **_glass(reason)},
    )
    return person


@user_app.command("disable")
def disable(
    org: str,
    email: str,
    data: DataDir = DEFAULT_DATA,
    url: AdminUrl = None,
    token: AdminToken = None,
    break_glass: BreakGlassReason = None,
) -> None:
    """The person signs in and acts no more: their sessions, personal tokens and open
    streams end at once."""
    where = _Where(data, url, token)
    person = _status(accounts.disable, "disabled", org, email, where, break_glass)
    _said(person, "disabled; their sessions and personal tokens have ended")


@user_app.command("enable")
def enable(
    org: str,
    email: str,
    data: DataDir = DEFAULT_DATA,
    url: AdminUrl = None,
    token: AdminToken = None,
    break_glass: BreakGlassReason = None,
) -> None:
    """A disabled person may sign in again (their old sessions and tokens stay ended)."""
    where = _Where(data, url, token)
    person = _status(accounts.enable, "active", org, email, where, break_glass)
    _said(person, f"enabled ({person['status']})")


@user_app.command("remove")
def remove(
    org: str,
    email: str,
    data: DataDir = DEFAULT_DATA,
    url: AdminUrl = None,
    token: AdminToken = None,
    break_glass: BreakGlassReason = None,
) -> None:
    """Delete the person and their credentials (the audit log keeps naming them)."""
    person = _Where(data, url, token).run(
        lambda node: PersonOut.of(
            accounts.remove(node, OPERATOR, org, email, break_glass=break_glass)
        ).model_dump(),
        "DELETE",
        _person_path(org, email),
        params=_glass(break_glass),
    )
    _said(person, f"removed from {org}")


@user_app.command("reset")
def reset(
    org: str,
    email: str,
    data: DataDir = DEFAULT_DATA,
    url: AdminUrl = None,
    token: AdminToken = None,
    break_glass: BreakGlassReason = None,
) -> None:
    """A new one-time link to set a new password (the last line printed); the person's
    older unused links stop working."""
    made = _Where(data, url, token).run(
        lambda node: InvitationOut.of(
            accounts.reset_link(node, OPERATOR, org, email, break_glass=break_glass)
        ).model_dump(),
        "POST",
        _person_path(org, email, "reset"),
        body=_glass(break_glass),
    )
    _print_link(made, "a new link")


@user_app.command("sessions")
def list_sessions(
    org: str,
    email: str,
    data: DataDir = DEFAULT_DATA,
    url: AdminUrl = None,
    token: AdminToken = None,
    break_glass: BreakGlassReason = None,
) -> None:
    """The person's sessions, live and ended, oldest first."""
    found = _Where(data, url, token).run(
        lambda node: [
            SessionOut.of(s).model_dump()
            for s in sessions.list_sessions(node, OPERATOR, org, email, break_glass=break_glass)
        ],
        "GET",
        _person_path(org, email, "sessions"),
        params=_glass(break_glass),
    )
    if not found:
        out.print(f"{email} has no sessions", highlight=False)
        return
    table = Table("id", "signed in", "last seen", "ends", "ended", "address", "factor", "browser")
    for s in found:
        table.add_row(
            str(s["id"]),
            s["created"],
            s["last_seen"],
            s["expires"],
            s["revoked"] or "",
            s["address"],
            s["factor"] if s["stage"] == "complete" else f"{s['factor']} (pending)",
            s["user_agent"],
        )
    out.print(table)


@user_app.command("revoke-session")
def revoke_session(
    org: str,
    email: str,
    session_id: Annotated[int, typer.Argument(min=1, max=2**63 - 1)],
    data: DataDir = DEFAULT_DATA,
    url: AdminUrl = None,
    token: AdminToken = None,
    break_glass: BreakGlassReason = None,
) -> None:
    """End one live session of the person (its id from `tabadol user sessions`)."""
    _Where(data, url, token).run(
        lambda node: sessions.revoke_session(
            node, OPERATOR, org, email, session_id, break_glass=break_glass
        ),
        "DELETE",
        _person_path(org, email, "sessions", str(session_id)),
        params=_glass(break_glass),
    )
    out.print(f"ended session {session_id} of {email}", highlight=False)
