"""`tabadol serve` and `demo`: run a node (the demo also creates its community first);
`tabadol init` is in `ops_cli`."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from tabadol.cli.common import DEFAULT_DATA, DataDir, fail, guarded, node_at, out
from tabadol.config import load_settings
from tabadol.demo import banner
from tabadol.demo import community as demo_service
from tabadol.demo import people as demo_people
from tabadol.node.node import init_node, open_node


def serve(
    data: DataDir = DEFAULT_DATA,
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (PostgreSQL: any number; SQLite: 1).")
    ] = 1,
    tls_cert: Annotated[
        Path | None, typer.Option(help="PEM certificate chain: serve HTTPS (with --tls-key).")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert.")] = None,
    log_level: Annotated[
        str | None, typer.Option(help="critical, error, warning, info or debug.")
    ] = None,
    log_format: Annotated[
        str | None, typer.Option(help="text (one line per event) or json (one object a line).")
    ] = None,
) -> None:
    """Run the node (TAXII 2.1 at /taxii2/, native API at /api/v1/) under uvicorn."""
    from tabadol.web.app import create_app, run_server, tls_problem
    from tabadol.web.workers import Supervisor, port_is_free

    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "tls_cert_file": str(tls_cert) if tls_cert else None,
        "tls_key_file": str(tls_key) if tls_key else None,
        "log_level": log_level,
        "log_format": log_format,
    }
    settings = guarded(lambda: load_settings(data, **overrides))
    with node_at(data):
        pass  # fail early, with one line, if the directory is not usable
    if (problem := tls_problem(settings)) is not None:
        raise fail(problem)
    if workers > 1 and not settings.database_url:
        raise fail("several workers need PostgreSQL (database_url): SQLite has one writer")
    if workers > 1 and not port_is_free(settings.host, settings.port):
        raise fail(f"{settings.host}:{settings.port} is in use")
    scheme = "https" if settings.tls_cert_file else "http"
    out.print(f"tabadol serving {data} on {scheme}://{settings.host}:{settings.port}/taxii2/")
    if workers > 1:
        supervisor = Supervisor(data, overrides, workers)
        supervisor.run()
        if supervisor.failed:
            raise fail(supervisor.failed)
        return
    run_server(create_app(lambda: open_node(data, **overrides)), settings)


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
    tokens = guarded(lambda: federation_tokens(nodes))
    for node, token in tokens:
        base = f"http://{host or '127.0.0.1'}:{node.port}"
        with node_at(node.data) as opened:
            person = guarded(partial(demo_people.demo_person, opened, node.org, base))
        out.print(f"\n  [bold]{node.org}[/bold] on its own node ({node.data})")
        out.print(f"    TAXII 2.1: {base}/taxii2/   native API docs: {base}/api/v1/docs")
        out.print(
            f"    {token.org} ({token.role}): {token.secret}", highlight=False, soft_wrap=True
        )
        out.print(f"    {demo_people.sign_in_line(person)}", highlight=False, soft_wrap=True)
    northwind, secret = tokens[2][0], tokens[2][1].secret
    base = f"http://{host or '127.0.0.1'}:{northwind.port}"
    out.print(
        f"\n  the nodes sync as soon as they run; after a second, search {northwind.org}'s"
        f" node for Pardis's Persian report:\n  {banner.search_example(base, secret)}\n",
        highlight=False,
        soft_wrap=True,
        markup=False,
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
        settings = node.settings
        base = f"http://{host or settings.host}:{port or settings.port}"
        people = guarded(
            lambda: [demo_people.demo_person(node, org, base) for org in demo_service.ORGS]
        )
        tokens = guarded(lambda: demo_service.demo_tokens(node))
    out.print(f"\n[bold]tabadol demo node[/bold] — data in {data}")
    out.print(f"  TAXII 2.1 discovery: {base}/taxii2/")
    out.print(f"  native API docs:     {base}/api/v1/docs")
    for token, person in zip(tokens, people, strict=True):
        out.print(f"  {token.org} ({token.role}): {token.secret}", highlight=False, soft_wrap=True)
        out.print(f"    {demo_people.sign_in_line(person)}", highlight=False, soft_wrap=True)
    out.print(
        f"\n  try:\n  {banner.collections_example(base, tokens[0].secret)}"
        f"\n  {banner.search_example(base, tokens[2].secret)}\n",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    if not no_serve:
        serve(data, host, port)
