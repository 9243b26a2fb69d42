"""The `tabadol` command: a thin skin over the use cases; every error is one line, exit 1."""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from tabadol.cli import client_cli, peer_cli, trust_cli
from tabadol.cli.common import DEFAULT_DATA, DataDir, err, fail, guarded, node_at, out
from tabadol.cli.trust_cli import read_public_keys
from tabadol.config import load_settings
from tabadol.demo import community as demo_service
from tabadol.domain.keys import Custody
from tabadol.domain.model import Role
from tabadol.domain.strict_json import JcsHint
from tabadol.domain.timestamps import format_us
from tabadol.node.node import init_node, open_node
from tabadol.usecases.membership import (
    api_tokens,
    lookup,
    organizations,
    principals,
    sharing_groups,
)
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.publishing import bundle_import
from tabadol.usecases.reading.export import export_objects, write_bundle

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="tabadol: members exchange STIX 2.1 through a node that speaks TAXII 2.1.",
)
org_app = typer.Typer(no_args_is_help=True, help="Member organizations.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens (bearer; stored hashed).")
group_app = typer.Typer(no_args_is_help=True, help="Sharing groups and bilateral channels.")
collection_app = typer.Typer(no_args_is_help=True, help="TAXII collections (audience channels).")
app.add_typer(org_app, name="org")
app.add_typer(token_app, name="token")
app.add_typer(group_app, name="group")
app.add_typer(collection_app, name="collection")
app.add_typer(trust_cli.key_app, name="key")
app.add_typer(trust_cli.audit_app, name="audit")
app.add_typer(peer_cli.node_app, name="node")
app.add_typer(peer_cli.peer_app, name="peer")
app.command("verify")(trust_cli.verify)
app.command("publish")(client_cli.publish)
app.command("fetch")(client_cli.fetch)


# --- node ------------------------------------------------------------------------------------
@app.command()
def init(
    data: Annotated[Path, typer.Argument(help="Directory to create.")] = DEFAULT_DATA,
    name: Annotated[str | None, typer.Option(help="Title of the node.")] = None,
) -> None:
    """Create a data directory: tabadol.toml, the SQLite database and the node key."""
    settings = guarded(lambda: load_settings(data, node_name=name))
    guarded(lambda: init_node(data, settings))
    out.print(f"initialized {data}")


@app.command()
def serve(
    data: DataDir = DEFAULT_DATA,
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (PostgreSQL: any number; SQLite: 1).")
    ] = 1,
) -> None:
    """Run the node (TAXII 2.1 at /taxii2/, native API at /api/v1/) under uvicorn."""
    from tabadol.web.app import create_app, run_server
    from tabadol.web.workers import Supervisor, port_is_free

    settings = guarded(lambda: load_settings(data, host=host, port=port))
    with node_at(data):
        pass  # fail early, with one line, if the directory is not usable
    if workers > 1 and not settings.database_url:
        raise fail("several workers need PostgreSQL (database_url): SQLite has one writer")
    if workers > 1 and not port_is_free(settings.host, settings.port):
        raise fail(f"{settings.host}:{settings.port} is in use")
    out.print(f"tabadol serving {data} on http://{settings.host}:{settings.port}/taxii2/")
    if workers > 1:
        supervisor = Supervisor(data, settings, workers)
        supervisor.run()
        if supervisor.failed:
            raise fail(supervisor.failed)
        return
    run_server(create_app(lambda: open_node(data, host=host, port=port)), settings)


@app.command()
def demo(
    data: DataDir = Path("demo-data"),
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port of the first node (the others follow it).")
    ] = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Set up, print, exit.")] = False,
    single: Annotated[
        bool, typer.Option("--single", help="One node hosting all three members.")
    ] = False,
) -> None:
    """Create (once) a demo community and serve it: three members writing Persian, Arabic and
    English, a working group of two; by default as a federation of three nodes, one per
    member, syncing with each other."""
    if single:
        _demo_single(data, host, port, no_serve)
        return
    if (data / "keys").exists():
        raise fail(f"{data} holds a single-node demo: use --single, or another --data")
    from tabadol.demo.federation import federation_tokens, populate_federation

    nodes = guarded(lambda: populate_federation(data, port or 8470))
    out.print(f"\n[bold]tabadol demo federation[/bold] — three nodes under {data}")
    for node, token in guarded(lambda: federation_tokens(nodes)):
        base = f"http://{host or '127.0.0.1'}:{node.port}"
        out.print(f"\n  [bold]{node.org}[/bold] on its own node ({node.data})")
        out.print(f"    TAXII 2.1: {base}/taxii2/   native API docs: {base}/api/v1/docs")
        out.print(
            f"    {token.org} ({token.role}): {token.secret}", highlight=False, soft_wrap=True
        )
    out.print(
        "\n  the nodes sync as soon as they run; try, after a second:\n"
        f'  curl -H "Authorization: Bearer <{nodes[2].org} token>"'
        f' "http://127.0.0.1:{nodes[2].port}/api/v1/search?q=فیشینگ"\n',
        highlight=False,
        soft_wrap=True,
    )
    if not no_serve:
        from tabadol.web.app import create_app, run_servers

        apps = []
        for node in nodes:
            settings = guarded(partial(load_settings, node.data, host=host, port=node.port))
            opener = partial(open_node, node.data, host=host, port=node.port)
            apps.append((create_app(opener), settings))
        run_servers(apps)


def _demo_single(data: Path, host: str | None, port: int | None, no_serve: bool) -> None:
    if not (data / "keys").exists():
        guarded(lambda: init_node(data, load_settings(data, node_name="tabadol demo")))
    with node_at(data) as node:
        guarded(lambda: demo_service.populate(node))
        tokens = guarded(lambda: demo_service.demo_tokens(node))
        settings = node.settings
    base = f"http://{host or settings.host}:{port or settings.port}"
    out.print(f"\n[bold]tabadol demo node[/bold] — data in {data}")
    out.print(f"  TAXII 2.1 discovery: {base}/taxii2/")
    out.print(f"  native API docs:     {base}/api/v1/docs")
    for token in tokens:
        out.print(f"  {token.org} ({token.role}): {token.secret}", highlight=False, soft_wrap=True)
    out.print(
        f'\n  try: curl -H "Authorization: Bearer {tokens[0].secret}" '
        f'-H "Accept: application/taxii+json;version=2.1" {base}/taxii2/root/collections/\n',
        highlight=False,
        soft_wrap=True,
    )
    if not no_serve:
        serve(data, host, port)


# --- organizations ---------------------------------------------------------------------------
@org_app.command("add")
def org_add(
    name: str,
    data: DataDir = DEFAULT_DATA,
    guest: Annotated[bool, typer.Option(help="Not a member: reads public only.")] = False,
    public_keys: Annotated[
        Path | None,
        typer.Option(
            help="Client custody: the org's public keys (from `tabadol key generate`);"
            " the node then never holds its private keys."
        ),
    ] = None,
) -> None:
    """Add an organization (with its keys, its STIX identity and its private channel)."""
    public = guarded(lambda: read_public_keys(public_keys)) if public_keys else None
    custody = Custody.CLIENT if public is not None else Custody.NODE
    with node_at(data) as node:
        org = guarded(
            lambda: organizations.add_org(
                node, name, member=not guest, custody=custody, public_keys=public
            )
        )
    out.print(
        f"added {org.name} ({org.identity_id}), keys held by the {custody.value}", highlight=False
    )


@org_app.command("list")
def org_list(data: DataDir = DEFAULT_DATA) -> None:
    """List organizations."""
    with node_at(data) as node:
        table = Table("name", "identity", "member", "keys held by", "created")
        for org in node.store.list_orgs():
            table.add_row(
                org.name,
                org.identity_id,
                "yes" if org.member else "guest",
                org.custody.value,
                format_us(org.created),
            )
        out.print(table)


# --- tokens ----------------------------------------------------------------------------------
@token_app.command("create")
def token_create(
    org: Annotated[
        str | None, typer.Argument(help="Organization (omit with --node-admin).")
    ] = None,
    data: DataDir = DEFAULT_DATA,
    role: Annotated[str, typer.Option(help="admin, publisher or reader.")] = "publisher",
    label: Annotated[str, typer.Option(help="A note to recognise the token by.")] = "",
    node_admin: Annotated[bool, typer.Option(help="A token of the node's operator.")] = False,
) -> None:
    """Create a token. The secret is printed once, as the last line."""
    if (org is None) != node_admin:
        raise fail("name an organization, or pass --node-admin")
    with node_at(data) as node:
        token, secret = guarded(lambda: api_tokens.create_token(node, OPERATOR, org, role, label))
    err.print(f"token {token.id} for {org or 'the node operator'} ({token.role}); shown once:")
    print(secret)


@token_app.command("list")
def token_list(
    org: Annotated[str | None, typer.Argument(help="Organization (omit for node-admin).")] = None,
    data: DataDir = DEFAULT_DATA,
) -> None:
    """List tokens (never their secrets)."""
    with node_at(data) as node:
        tokens = guarded(lambda: api_tokens.list_tokens(node, OPERATOR, org))
        table = Table("id", "prefix", "role", "label", "created", "revoked")
        for t in tokens:
            table.add_row(
                str(t.id),
                t.prefix + "…",
                t.role,
                t.label,
                format_us(t.created),
                format_us(t.revoked) if t.revoked else "",
            )
        out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: int, data: DataDir = DEFAULT_DATA) -> None:
    """Revoke a token at once."""
    with node_at(data) as node:
        guarded(lambda: api_tokens.revoke_token(node, OPERATOR, token_id))
    out.print(f"revoked token {token_id}")


# --- groups ----------------------------------------------------------------------------------
@group_app.command("create")
def group_create(
    name: str,
    owner: Annotated[str, typer.Option(help="The owning organization.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Create a sharing group owned by an organization (a two-org group: bilateral channel)."""
    with node_at(data) as node:
        group = guarded(lambda: sharing_groups.create_group(node, OPERATOR, name, owner))
    out.print(f"created group {group.name} ({group.uuid})", highlight=False)


@group_app.command("add")
def group_add(
    group: str,
    org: str,
    data: DataDir = DEFAULT_DATA,
    owner: Annotated[bool, typer.Option(help="Make the org an owner too.")] = False,
) -> None:
    """Add a member organization to a group."""
    with node_at(data) as node:
        guarded(lambda: sharing_groups.add_group_member(node, OPERATOR, group, org, owner=owner))
    out.print(f"{org} is now in {group}")


@group_app.command("remove")
def group_remove(group: str, org: str, data: DataDir = DEFAULT_DATA) -> None:
    """Remove an organization from a group."""
    with node_at(data) as node:
        guarded(lambda: sharing_groups.remove_group_member(node, OPERATOR, group, org))
    out.print(f"{org} is no longer in {group}")


@group_app.command("list")
def group_list(data: DataDir = DEFAULT_DATA) -> None:
    """List groups with their owners and members."""
    with node_at(data) as node:
        names = {o.id: o.name for o in node.store.list_orgs()}
        table = Table("name", "owners", "members")
        for g in sharing_groups.list_groups(node, OPERATOR):
            table.add_row(
                g.name,
                ", ".join(sorted(names[o] for o in g.owners)),
                ", ".join(sorted(names[m] for m in g.members)),
            )
        out.print(table)


@collection_app.command("list")
def collection_list(data: DataDir = DEFAULT_DATA) -> None:
    """List the TAXII collections: one per audience channel."""
    with node_at(data) as node:
        table = Table("id", "title", "audience")
        for c in node.store.list_collections():
            table.add_row(c.uuid, c.title, c.kind.value)
        out.print(table)


# --- import / export -------------------------------------------------------------------------
@app.command("migrate")
def migrate(
    to: Annotated[str, typer.Option("--to", help="The PostgreSQL URL: postgresql://user@host/db.")],
    data: DataDir = DEFAULT_DATA,
    source: Annotated[
        str | None,
        typer.Option("--from", help="sqlite:///path/to/file.db (default: the data dir's file)."),
    ] = None,
    schema: Annotated[str | None, typer.Option(help="PostgreSQL schema (default: public).")] = None,
    switch: Annotated[
        bool, typer.Option("--switch", help="Then point the node's settings at PostgreSQL.")
    ] = False,
) -> None:
    """Move the node's data from SQLite to PostgreSQL with a progress bar: resumable (run it
    again after an interruption), verified by counts and every object's signature."""
    from tabadol.usecases.operations.migrate import migrate_to_postgres, switch_to_postgres

    path = None
    if source is not None:
        if not source.startswith("sqlite:///"):
            raise fail("--from must be sqlite:///path/to/file.db")
        path = Path(source.removeprefix("sqlite:///"))
    columns = (TextColumn("{task.description:>14}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=max(total, 1))
            bar.update(tasks[table], completed=done if total else 1)

        report = guarded(lambda: migrate_to_postgres(data, to, schema, progress, path))
    for counted in report.counts:
        if counted.source != counted.target:
            err.print(
                f"{counted.table}: {counted.source} rows in SQLite, {counted.target} in PostgreSQL"
            )
    for problem in report.bad_signatures[:20]:
        err.print(f"signature: {problem}", highlight=False)
    if not report.ok:
        raise fail("the copy does not match: the settings were not changed")
    out.print(
        f"copied {sum(c.target for c in report.counts):,} rows; {report.verified:,} objects"
        " verified against their authors' keys",
        highlight=False,
    )
    if switch:
        guarded(lambda: switch_to_postgres(data, to, schema))
        out.print(f"{data} now uses {to}", highlight=False)


@app.command("import")
def import_(
    bundle: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle (JSON).")],
    org: Annotated[str, typer.Option(help="Publish as this organization.")],
    collection: Annotated[str, typer.Option(help="Collection title or id.")],
    data: DataDir = DEFAULT_DATA,
    batch: Annotated[int, typer.Option(min=1, max=5000, help="Objects per transaction.")] = 500,
) -> None:
    """Import a bundle; resumable (stored versions are skipped); errors summarized."""
    hint = JcsHint()
    objects = guarded(lambda: bundle_import.read_bundle(bundle, hint))
    with node_at(data) as node:
        columns = (
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("import", total=len(objects))
            summary = guarded(
                lambda: bundle_import.import_objects(
                    node,
                    org,
                    collection,
                    objects,
                    batch=batch,
                    progress=lambda n: bar.advance(task, n),
                    jcs_exact=hint.exact,
                )
            )
    out.print(
        f"{summary.total} objects: {summary.stored} stored, "
        f"{summary.already_present} already present, {summary.failed} refused"
    )
    for reason, count in summary.reasons.most_common(10):
        out.print(f"  {count} × {reason}", highlight=False)
    if summary.failed:
        raise typer.Exit(1)


@app.command()
def export(
    org: Annotated[str, typer.Option(help="Export what this organization may read.")],
    data: DataDir = DEFAULT_DATA,
    collection: Annotated[str | None, typer.Option(help="Only this collection.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
    all_versions: Annotated[bool, typer.Option(help="Every version, not only the latest.")] = False,
) -> None:
    """Export a STIX 2.1 bundle of what an organization may read."""
    with node_at(data) as node:
        chunks = export_objects(node, org, collection, all_versions=all_versions)

        def write() -> int:
            if output is None:
                return write_bundle(chunks, sys.stdout.buffer)
            with output.open("wb") as handle:
                return write_bundle(chunks, handle)

        count = guarded(write)
    err.print(f"exported {count} objects")


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
) -> None:
    """Search what ORG may read; matched words are highlighted in their original spelling."""
    from tabadol.usecases.reading import search as search_service
    from tabadol.web.search_api import render

    params = {"q": query, "limit": str(limit)}
    if type_:
        params["type"] = type_
    with node_at(data) as node:
        principal = principals.org_principal(
            node, guarded(lambda: lookup.require_org(node, org)), Role.READER
        )
        page = guarded(lambda: search_service.search(node, principal, params))
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
