"""The `tabadol` command: a thin skin over the use cases; every error is one line, exit 1.

The commands live by concern in the sibling modules (`serve_cli`, `org_cli`, `user_cli`,
`trust_cli`, `peer_cli`, `transfer_cli`, `client_cli`, `report_cli`); this module registers
them on the one app.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tabadol.cli import (
    break_glass_cli,
    client_cli,
    ops_cli,
    org_cli,
    peer_cli,
    report_cli,
    serve_cli,
    transfer_cli,
    trust_cli,
    user_cli,
)
from tabadol.cli.common import DEFAULT_DATA, BreakGlassReason, DataDir, err, guarded, node_at, out
from tabadol.domain.model import Role
from tabadol.usecases.membership import break_glass as glass
from tabadol.usecases.membership import lookup, principals

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="tabadol: members exchange STIX 2.1 through a node that speaks TAXII 2.1.",
)
# The order of registration is the order of `tabadol --help`: commands, then groups.
app.add_typer(org_cli.org_app, name="org")
app.add_typer(org_cli.token_app, name="token")
app.add_typer(user_cli.user_app, name="user")
app.add_typer(org_cli.group_app, name="group")
app.add_typer(org_cli.collection_app, name="collection")
app.add_typer(report_cli.report_app, name="report")
app.add_typer(break_glass_cli.break_glass_app, name="break-glass")
app.add_typer(trust_cli.key_app, name="key")
app.add_typer(trust_cli.audit_app, name="audit")
app.add_typer(peer_cli.node_app, name="node")
app.add_typer(peer_cli.peer_app, name="peer")
app.command("verify")(trust_cli.verify)
app.command("publish")(client_cli.publish)
app.command("fetch")(client_cli.fetch)
app.command("init")(ops_cli.init)
app.command("serve")(serve_cli.serve)
app.command("demo")(serve_cli.demo)
app.command("migrate")(transfer_cli.migrate)
app.command("import")(transfer_cli.import_)
app.command("export")(transfer_cli.export)
app.command("backup")(ops_cli.backup)
app.command("restore")(ops_cli.restore)


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="Words in Persian, Arabic or English.")],
    org: Annotated[str, typer.Option(help="Search what this organization may read.")],
    data: DataDir = DEFAULT_DATA,
    type_: Annotated[
        str | None, typer.Option("--type", help="STIX types, comma-separated.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON hit per line.")] = False,
    break_glass: BreakGlassReason = None,
) -> None:
    """Search what ORG may read; matched words are highlighted in their original spelling.
    For an org that has its own admins this is a break-glass step (--break-glass REASON)."""
    from tabadol.usecases.reading import search as search_service
    from tabadol.web.search_api import render

    def parsed() -> search_service.SearchRequest:
        return search_service.SearchRequest.parse(query, types=type_, limit=str(limit))

    with node_at(data) as node:
        found = guarded(lambda: lookup.require_org(node, org))
        principal = principals.org_principal(node, found, Role.READER)
        request = guarded(parsed)
        guarded(
            lambda: glass.record_break_glass(
                node, principals.OPERATOR, found, "search", break_glass
            )
        )
        page = guarded(lambda: search_service.search(node, principal, request))
    if not page.hits:
        err.print(f"no results for {query!r} in what {found.name} may read", highlight=False)
        return
    if as_json:
        for hit in render(page)["hits"]:
            sys.stdout.write(json.dumps(hit, ensure_ascii=False) + "\n")
        return
    for hit in page.hits:
        line = "".join(
            f"[bold yellow]{escape(s.text)}[/]" if s.match else escape(s.text) for s in hit.snippet
        )
        out.print(
            f"[dim]{hit.obj.get('type')}[/] {escape(str(hit.obj.get('name', hit.obj.get('id'))))}",
            highlight=False,
        )
        out.print(f"  {line}", highlight=False)


@app.command()
def extract(
    source: Annotated[Path | None, typer.Argument(help="A text file (default: stdin).")] = None,
    private: Annotated[
        bool, typer.Option("--private", help="Also private, loopback and documentation IPs.")
    ] = False,
) -> None:
    """Print the indicators in a text, one JSON object per line: {"type": …, "value": …}."""
    from tabadol.text.extract import extract as find_indicators

    def read() -> str:
        if source is None:
            return sys.stdin.read()
        return source.read_text(encoding="utf-8", errors="replace")

    text = guarded(read)
    for indicator in find_indicators(text, allow_private=private):
        sys.stdout.write(
            json.dumps({"type": indicator.type, "value": indicator.value}, ensure_ascii=False)
            + "\n"
        )


def run() -> None:
    """Entry point: the app, with no traceback ever reaching the user."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
