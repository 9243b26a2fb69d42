"""`tabadol init`, `backup` and `restore`: a node's data directory made, saved and brought
back — each telling the operator where the key secret is, which no data directory and no
backup holds."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from tabadol.cli.common import DEFAULT_DATA, DataDir, err, fail, guarded, node_at, out
from tabadol.config import load_settings
from tabadol.node.node import init_node
from tabadol.usecases.operations import backup as backups


def init(
    directory: Annotated[
        Path | None, typer.Argument(help="Directory to create (or give --data).")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", "-d", envvar="TABADOL_DATA", help="Directory to create."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Title of the node.")] = None,
) -> None:
    """Create a data directory (0700): tabadol.toml, the SQLite database and the node key;
    print where the key secret is and what to run next."""
    if directory is not None and data is not None and directory != data:
        raise fail(f"two directories given: {directory} and --data {data}")
    target = directory or data or DEFAULT_DATA
    settings = guarded(lambda: load_settings(target, node_name=name))
    guarded(lambda: init_node(target, settings))
    with node_at(target) as node:
        secret = node.key_secret_path
    where = shlex.quote(str(target))
    out.print(f"initialized {target}", highlight=False)
    out.print(
        f"key secret: {secret}\n  it wraps the node key and the org keys the node holds;"
        " without it this node never starts again. It is not in the data directory nor in"
        " its backups: keep a copy of it somewhere safe, apart from them.",
        highlight=False,
        soft_wrap=True,
    )
    out.print(
        "next:\n"
        f"  tabadol org add 'Your Org' --data {where}\n"
        f"  tabadol token create 'Your Org' --role admin --data {where}\n"
        f"  tabadol serve --data {where}",
        highlight=False,
        soft_wrap=True,
    )


def backup(
    target: Annotated[Path, typer.Argument(help="The backup file to create (0600).")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Back up a node, running or not: settings, node key (wrapped) and a consistent copy of
    the database with its audit log, in one 0600 file. The key secret is not in it."""
    with node_at(data) as node:
        report = guarded(lambda: backups.backup_node(node, target))
    out.print(
        f"backed up {data} to {target} (node {report.node_id},"
        f" {report.audit_entries} audit entries)",
        highlight=False,
        soft_wrap=True,
    )
    if not report.database_included:
        err.print(
            "the database is on PostgreSQL and not in this file: back it up with pg_dump"
            " (README: Operations)",
            highlight=False,
            soft_wrap=True,
        )
    err.print(
        f"reminder: the key secret {report.key_secret} is not in the backup (on purpose)."
        " Keep a copy of it apart from the backups: without it a restored node cannot start.",
        highlight=False,
        soft_wrap=True,
    )


def restore(
    archive: Annotated[Path, typer.Argument(help="A file made by `tabadol backup`.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Restore a backup into a fresh directory (never over an existing one), then verify the
    audit log and every stored object's signature."""
    report = guarded(lambda: backups.restore_node(archive, data))
    out.print(f"restored {archive} into {data} (node {report.node_id})", highlight=False)
    if not report.database_included:
        err.print(
            "the backup holds no database (PostgreSQL): restore it with pg_restore before"
            " `tabadol serve` (README: Operations)",
            highlight=False,
            soft_wrap=True,
        )
        return
    out.print(
        f"audit log: {report.audit_entries} entries; signatures: {report.verified} verified,"
        f" {len(report.bad_signatures)} failed",
        highlight=False,
    )
    for problem in [*report.audit_problems, *report.bad_signatures][:20]:
        err.print(f"  {problem}", highlight=False)
    if not report.ok:
        raise fail("the restored data does not verify")
