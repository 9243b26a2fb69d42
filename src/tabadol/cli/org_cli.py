"""`tabadol org`, `token`, `group` and `collection`: the node's members, their API tokens,
their sharing groups and the channels they publish into."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

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
from tabadol.cli.trust_cli import read_public_keys
from tabadol.domain.keys import Custody
from tabadol.domain.timestamps import format_us
from tabadol.usecases.membership import api_tokens, lookup, organizations, sharing_groups
from tabadol.usecases.membership.principals import OPERATOR

org_app = typer.Typer(no_args_is_help=True, help="Member organizations.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens (bearer; stored hashed).")
group_app = typer.Typer(no_args_is_help=True, help="Sharing groups and bilateral channels.")
collection_app = typer.Typer(no_args_is_help=True, help="TAXII collections (audience channels).")


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
        for org in organizations.list_orgs(node, OPERATOR):
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
    break_glass: BreakGlassReason = None,
) -> None:
    """Create a token. The secret is printed once, as the last line. For an org that has its
    own admins this is a break-glass step: give --break-glass REASON (shown to them)."""
    if (org is None) != node_admin:
        raise fail("name an organization, or pass --node-admin")
    with node_at(data) as node:
        token, secret = guarded(
            lambda: api_tokens.create_token(
                node, OPERATOR, org, role, label, break_glass=break_glass
            )
        )
    err.print(f"token {token.id} for {org or 'the node operator'} ({token.role}); shown once:")
    print(secret)


@token_app.command("list")
def token_list(
    org: Annotated[str | None, typer.Argument(help="Organization (omit: every token).")] = None,
    data: DataDir = DEFAULT_DATA,
) -> None:
    """List tokens (never their secrets): ORG's, or all the operator manages."""
    with node_at(data) as node:
        tokens = guarded(lambda: api_tokens.list_tokens(node, OPERATOR, org))
        names = lookup.org_names(node)
        table = Table("id", "org", "prefix", "role", "label", "created", "revoked")
        for t in tokens:
            table.add_row(
                str(t.id),
                names.get(t.org_id, "") if t.org_id is not None else "(operator)",
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
    break_glass: BreakGlassReason = None,
) -> None:
    """Create a sharing group owned by an organization (a two-org group: bilateral channel)."""
    with node_at(data) as node:
        group = guarded(
            lambda: sharing_groups.create_group(
                node, OPERATOR, name, owner, break_glass=break_glass
            )
        )
    out.print(f"created group {group.name} ({group.uuid})", highlight=False)


@group_app.command("add")
def group_add(
    group: str,
    org: str,
    data: DataDir = DEFAULT_DATA,
    owner: Annotated[bool, typer.Option(help="Make the org an owner too.")] = False,
    break_glass: BreakGlassReason = None,
) -> None:
    """Add a member organization to a group."""
    with node_at(data) as node:
        guarded(
            lambda: sharing_groups.add_group_member(
                node, OPERATOR, group, org, owner=owner, break_glass=break_glass
            )
        )
    out.print(f"{org} is now in {group}")


@group_app.command("remove")
def group_remove(
    group: str, org: str, data: DataDir = DEFAULT_DATA, break_glass: BreakGlassReason = None
) -> None:
    """Remove an organization from a group."""
    with node_at(data) as node:
        guarded(
            lambda: sharing_groups.remove_group_member(
                node, OPERATOR, group, org, break_glass=break_glass
            )
        )
    out.print(f"{org} is no longer in {group}")


@group_app.command("list")
def group_list(data: DataDir = DEFAULT_DATA) -> None:
    """List groups with their owners and members."""
    with node_at(data) as node:
        names = lookup.org_names(node)
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
        for c in lookup.list_channels(node):
            table.add_row(c.uuid, c.title, c.kind.value)
        out.print(table)
