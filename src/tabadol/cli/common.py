"""What every CLI module shares: consoles, the data-directory option, one-line errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from tabadol.domain.errors import TabadolError
from tabadol.node.node import Node, open_node

out = Console()
err = Console(stderr=True)
T = TypeVar("T")

DataDir = Annotated[
    Path,
    typer.Option("--data", "-d", envvar="TABADOL_DATA", help="The node's data directory."),
]
DEFAULT_DATA = Path("tabadol-data")
BreakGlassReason = Annotated[
    str | None,
    typer.Option(
        "--break-glass",
        metavar="REASON",
        help="Acting as an org that has its own admins: why (recorded, shown to them).",
    ),
]
AdminUrl = Annotated[  # the commands an org's admin runs through the API, not on the data
    str | None,
    typer.Option(envvar="TABADOL_URL", help="As an org admin: the node, http://host:8470"),
]
AdminToken = Annotated[
    str | None, typer.Option(envvar="TABADOL_TOKEN", help="As an org admin: your token.")
]


def fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


@contextmanager
def node_at(data: Path) -> Iterator[Node]:
    """Open the node, turning every tabadol error into one line and exit code 1."""
    try:
        with open_node(data) as node:
            yield node
    except TabadolError as exc:
        raise fail(exc.description) from None


def guarded(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except TabadolError as exc:
        raise fail(exc.description) from None
    except OSError as exc:
        raise fail(f"{exc.filename or ''}: {exc.strerror}") from None
