"""`tabadol report new`: a report or a note from plain fields, so that nobody writes STIX by
hand — the same use case as the write page (`usecases.publishing.authoring`).

Two ways, like `tabadol user`: the operator on the data directory acting as a node-custody
org (a break-glass step with `--break-glass REASON` once the org has admins of its own), or
a publisher of the org through the node's API with `--url` and `--token`
(`POST /api/v1/reports`). The new object's id is the last line printed, alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tabadol.cli.common import DEFAULT_DATA, BreakGlassReason, DataDir, err, fail, guarded, node_at
from tabadol.client.remote import RemoteNode
from tabadol.domain.audit import operator_as_org
from tabadol.domain.model import Role
from tabadol.node.node import Node
from tabadol.usecases.membership.break_glass import break_glass_event
from tabadol.usecases.membership.lookup import require_org
from tabadol.usecases.membership.principals import OPERATOR, org_principal
from tabadol.usecases.publishing import authoring

report_app = typer.Typer(no_args_is_help=True, help="Write reports and notes without STIX.")
Url = Annotated[
    str | None,
    typer.Option(envvar="TABADOL_URL", help="As a publisher of the org: the node's URL."),
]
Token = Annotated[
    str | None, typer.Option(envvar="TABADOL_TOKEN", help="As a publisher: your token.")
]


def _text(text: str | None, text_file: Path | None) -> str:
    """The text given inline or in a UTF-8 file (one of the two)."""
    if (text is None) == (text_file is None):
        raise fail("give the text with exactly one of --text and --text-file")
    if text is not None:
        return text
    assert text_file is not None
    try:
        if text_file.stat().st_size > authoring.MAX_TEXT_BYTES:
            raise fail(f"{text_file}: longer than {authoring.MAX_TEXT_BYTES} bytes (1 MiB)")
        return text_file.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise fail(f"{text_file}: not UTF-8 text") from None
    except OSError as exc:
        raise fail(f"{text_file}: {exc.strerror}") from None


def _local(node: Node, org_name: str, draft: authoring.Draft, reason: str | None) -> str:
    """The operator publishes as the org: the draft checked, the break-glass step (when the
    org has its own admins) recorded, then the envelope published."""
    org = require_org(node, org_name)
    principal = org_principal(node, org, Role.PUBLISHER)
    events = break_glass_event(node, OPERATOR, org, "report.new", reason, collection=draft.channel)
    authoring.check_draft(node, principal, draft)
    if events:
        node.store.append_audit(events, node.clock())
    published = authoring.publish_draft(node, principal, draft, actor=operator_as_org(principal))
    _said(published.indicators, published.sealed)
    return published.id


def _remote(url: str, token: str, org_name: str, body: dict[str, Any]) -> str:
    remote = RemoteNode(url, token)
    try:
        who = remote.call("GET", "/api/v1/whoami")
        if who.get("org") != org_name:
            raise fail(f"the token acts for {who.get('org') or 'no org'!r}, not {org_name!r}")
        made = remote.call("POST", "/api/v1/reports", body=body)
    finally:
        remote.close()
    _said(made["indicators"], made["sealed"])
    return str(made["id"])


def _said(indicators: int, sealed: bool) -> None:
    how = ", end-to-end encrypted" if sealed else ""
    err.print(f"published with {indicators} indicators{how}", highlight=False)


@report_app.command("new")
def new(
    org: Annotated[str, typer.Option(help="Publish as this organization.")],
    title: Annotated[str, typer.Option(help="The title (a report needs one).")] = "",
    text: Annotated[str | None, typer.Option(help="The text.")] = None,
    text_file: Annotated[Path | None, typer.Option(help="The text, from a UTF-8 file.")] = None,
    tlp: Annotated[str, typer.Option(help="clear, green, amber, amber+strict or red.")] = "amber",
    to: Annotated[str, typer.Option("--to", help="The audience channel: its title or id.")] = "",
    kind: Annotated[str, typer.Option(help="report or note.")] = "report",
    language: Annotated[str, typer.Option(help="fa, ar or en (default: detected).")] = "",
    confidence: Annotated[str, typer.Option(help="0 to 100, in any digits.")] = "",
    extract: Annotated[
        bool, typer.Option("--extract", help="Publish every indicator found in the text with it.")
    ] = False,
    data: DataDir = DEFAULT_DATA,
    url: Url = None,
    token: Token = None,
    break_glass: BreakGlassReason = None,
) -> None:
    """Publish a report or a note (with --extract, every indicator in its text, linked to
    it) as one envelope. The new object's id is the last line printed."""
    body = _text(text, text_file)
    if not to:
        raise fail("name the audience channel with --to (a collection title or id)")
    if bool(url) != bool(token):
        raise fail("acting through the API needs both --url and --token")
    draft = authoring.Draft(
        kind=kind,
        title=title,
        text=body,
        channel=to,
        tlp=tlp,
        language=language,
        confidence=confidence,
        keep=None if extract else frozenset(),
    )
    if url and token:
        number = guarded(lambda: authoring.ascii_digits(confidence))
        if number and not number.isdigit():
            raise fail("the confidence is a whole number from 0 to 100")
        payload = {
            "kind": kind,
            "title": title,
            "text": body,
            "to": to,
            "tlp": tlp,
            "language": language,
            "confidence": int(number) if number else None,
            "extract": extract,
        }
        made = guarded(lambda: _remote(url, token, org, payload))
    else:
        with node_at(data) as node:
            made = guarded(lambda: _local(node, org, draft, break_glass))
    print(made)
