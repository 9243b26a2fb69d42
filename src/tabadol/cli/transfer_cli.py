"""`tabadol migrate`, `import` and `export`: moving a node's data to PostgreSQL, and STIX
bundles in and out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from tabadol.cli.common import (
    DEFAULT_DATA,
    BreakGlassReason,
    DataDir,
    err,
    fail,
    guarded,
    node_at,
    out,
)
from tabadol.domain.strict_json import JcsHint
from tabadol.private_files import open_private
from tabadol.usecases.publishing import bundle_import
from tabadol.usecases.reading.export import export_objects, write_bundle


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


def import_(
    bundle: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle (JSON).")],
    org: Annotated[str, typer.Option(help="Publish as this organization.")],
    data: DataDir = DEFAULT_DATA,
    collection: Annotated[
        str | None,
        typer.Option(
            help="Collection title or id: for objects that name no audience, and for every"
            " object whose audience it does not widen (default: each object's own audience)."
        ),
    ] = None,
    batch: Annotated[int, typer.Option(min=1, max=5000, help="Objects per transaction.")] = 500,
    break_glass: BreakGlassReason = None,
) -> None:
    """Import a bundle, keeping each object's audience (an export names it); resumable
    (stored versions are skipped); refusals summarized by reason."""
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
                    break_glass=break_glass,
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


def export(
    org: Annotated[str, typer.Option(help="Export what this organization may read.")],
    data: DataDir = DEFAULT_DATA,
    collection: Annotated[str | None, typer.Option(help="Only this collection.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
    all_versions: Annotated[bool, typer.Option(help="Every version, not only the latest.")] = False,
    break_glass: BreakGlassReason = None,
) -> None:
    """Export a STIX 2.1 bundle of what an organization may read (0600)."""
    with node_at(data) as node:
        chunks = guarded(
            lambda: export_objects(
                node, org, collection, all_versions=all_versions, break_glass=break_glass
            )
        )

        def write() -> int:
            if output is None:
                return write_bundle(chunks, sys.stdout.buffer)
            with open_private(output) as handle:  # it holds sealed items opened: 0600
                return write_bundle(chunks, handle)

        count = guarded(write)
    err.print(f"exported {count} objects")
