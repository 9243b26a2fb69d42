"""`tabadol break-glass …`: the steps the operator took as an org that has its own admins.

The operator lists them from the data directory; the org's admins list them, and
acknowledge each once seen, through the node's API with their token (`--url`, `--token`).
"""

from __future__ import annotations

from typing import Any

import typer

from tabadol.cli.common import (
    DEFAULT_DATA,
    AdminToken,
    AdminUrl,
    DataDir,
    fail,
    guarded,
    node_at,
    out,
)
from tabadol.client.remote import RemoteNode
from tabadol.domain.timestamps import format_us
from tabadol.usecases.membership import break_glass
from tabadol.usecases.membership.principals import OPERATOR

break_glass_app = typer.Typer(
    no_args_is_help=True,
    help="Steps the operator took as an org that has its own admins (shown to them).",
)


def _print(steps: list[dict[str, Any]], org: str) -> None:
    if not steps:
        out.print(f"no pending break-glass steps for {org}", highlight=False)
        return
    for step in steps:  # one line each, never cut: a reason is read whole
        detail = ", ".join(f"{k}={v}" for k, v in step["detail"].items())
        out.print(
            f"entry {step['entry']}  {step['at']}  {step['actor']}  {step['act']}"
            f"  reason: {step['reason']}" + (f"  ({detail})" if detail else ""),
            highlight=False,
            soft_wrap=True,
            markup=False,
        )


@break_glass_app.command("list")
def list_steps(
    org: str, data: DataDir = DEFAULT_DATA, url: AdminUrl = None, token: AdminToken = None
) -> None:
    """The break-glass steps taken as ORG that its admins have not acknowledged: from the
    data directory (operator) or, with --url and --token, as an admin of ORG."""
    if url and token:
        remote = RemoteNode(url, token)
        try:
            steps = guarded(lambda: remote.get(f"/api/v1/orgs/{org}/break-glass"))
        finally:
            remote.close()
        _print(steps, org)
        return
    with node_at(data) as node:
        found = guarded(lambda: break_glass.pending(node, OPERATOR, org))
    _print(
        [
            {
                "entry": s.position,
                "at": format_us(s.at),
                "actor": s.actor,
                "act": s.act,
                "reason": s.reason,
                "detail": s.detail,
            }
            for s in found
        ],
        org,
    )


@break_glass_app.command("ack")
def acknowledge(org: str, entry: int, url: AdminUrl = None, token: AdminToken = None) -> None:
    """As an admin of ORG: mark a break-glass step as seen (the audit log keeps it)."""
    if not (url and token):
        raise fail("acknowledging is for the org's admins: give --url and --token")
    remote = RemoteNode(url, token)
    try:
        guarded(lambda: remote.post_json(f"/api/v1/orgs/{org}/break-glass/{entry}/acknowledge"))
    finally:
        remote.close()
    out.print(f"acknowledged break-glass step {entry} for {org}", highlight=False)
