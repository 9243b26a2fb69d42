"""`tabadol key …`, `tabadol audit …` and `tabadol verify`: keys, the audit log, and
offline verification of signed objects."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tabadol.cli.common import DEFAULT_DATA, DataDir, err, fail, guarded, node_at, out
from tabadol.client.remote import generate_keyfile
from tabadol.domain import strict_json
from tabadol.domain.errors import InvalidInput
from tabadol.domain.timestamps import format_us
from tabadol.usecases.membership.lookup import org_names
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.publishing import bundle_import
from tabadol.usecases.trust import audit, key_directory, keys
from tabadol.usecases.trust.verify import verify_all

key_app = typer.Typer(no_args_is_help=True, help="Org signing and encryption keys.")
audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")


def read_json(path: Path) -> Any:
    try:
        return strict_json.loads(path.read_bytes())
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}") from None


def read_public_keys(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    value = read_json(path)
    if not isinstance(value, dict):
        raise InvalidInput(f"{path}: expected {{'sign': …, 'encrypt': …}}")
    return value


# --- keys ------------------------------------------------------------------------------------
@key_app.command("list")
def key_list(
    org: Annotated[str | None, typer.Argument(help="Only this organization.")] = None,
    data: DataDir = DEFAULT_DATA,
    as_json: Annotated[
        bool, typer.Option("--json", help="The key directory document, for `tabadol verify`.")
    ] = False,
) -> None:
    """List keys with their validity, one per line with its full id whatever the terminal's
    width (ids are compared out of band); --json prints the key directory (ORG's part)."""
    with node_at(data) as node:
        if as_json:
            directory = guarded(lambda: key_directory.key_directory(node, org))
            print(json.dumps(directory, indent=2, ensure_ascii=False))
            return
        found = guarded(lambda: key_directory.list_keys(node, org))
        names = org_names(node)
    for key in found:
        state = [f"created {format_us(key.created)}"]
        if key.valid_until:
            state.append(f"retired {format_us(key.valid_until)}")
        if key.revoked_at:
            state.append(f"revoked {format_us(key.revoked_at)} ({key.revoked_reason})")
        held = "node" if key.held_by_node else "client"
        print(f"{key.key_id}  {names[key.org_id]}  {key.purpose.value}  {', '.join(state)}  {held}")


@key_app.command("rotate")
def key_rotate(
    org: str,
    data: DataDir = DEFAULT_DATA,
    public_keys: Annotated[
        Path | None, typer.Option(help="Client custody: the org's new public keys.")
    ] = None,
) -> None:
    """New current keys for ORG; the old ones are retired, not revoked: they still verify
    what they signed and open what was sealed to them."""
    public = guarded(lambda: read_public_keys(public_keys))
    with node_at(data) as node:
        stored = guarded(lambda: keys.rotate_keys_of(node, OPERATOR, org, public))
    for key in stored:
        out.print(f"{key.purpose.value}: {key.key_id}", highlight=False)


@key_app.command("revoke")
def key_revoke(
    key_id: str,
    reason: Annotated[str, typer.Option(help="Why (recorded and published).")],
    data: DataDir = DEFAULT_DATA,
    since: Annotated[
        str | None,
        typer.Option(help="RFC 3339 time the key is distrusted from (default now)."),
    ] = None,
) -> None:
    """Revoke a key: objects whose version is at or after SINCE signed with it are refused."""
    at = guarded(lambda: keys.parse_time(since)) if since else None
    with node_at(data) as node:
        key = guarded(lambda: keys.revoke_key(node, OPERATOR, key_id, reason, at))
    out.print(f"revoked {key.key_id} from {format_us(key.revoked_at or 0)}", highlight=False)


@key_app.command("generate")
def key_generate(
    out_file: Annotated[Path, typer.Option("--out", help="Private key file to create (0600).")],
) -> None:
    """Client custody: make an org's keys on this machine. Prints the public keys (JSON) to
    register with `tabadol org add NAME --public-keys FILE`; the private file never leaves."""
    generated = guarded(lambda: generate_keyfile(out_file))
    print(json.dumps(generated.public()))
    err.print(f"private keys written to {out_file} (keep it; the node never sees it)")


# --- audit -----------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify(
    data: DataDir = DEFAULT_DATA,
    head: Annotated[
        list[Path] | None,
        typer.Option(help="A signed head kept outside the node (`tabadol audit head`)."),
    ] = None,
) -> None:
    """Check every entry, the chain, the Merkle root at every signed head, and their
    signatures. Exit 1 naming the first bad position."""
    kept = guarded(lambda: [read_json(path) for path in head or []])
    with node_at(data) as node:
        result = guarded(lambda: audit.verify_log(node, kept))
    if result.ok:
        out.print(f"audit log ok: {result.entries} entries, {result.heads} signed heads")
        return
    first = result.problems[0]
    err.print(f"audit log FAILED at position {first.position}: {first.reason}", highlight=False)
    for problem in result.problems[1:10]:
        err.print(f"  also at {problem.position}: {problem.reason}", highlight=False)
    raise typer.Exit(1)


@audit_app.command("show")
def audit_show(
    data: DataDir = DEFAULT_DATA,
    action: Annotated[
        str | None,
        typer.Option(help="e.g. publish, key.revoke; a trailing * matches any end: 'token.*'."),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(help="e.g. 'org:Pardis CERT/token:3', or every token of it: 'org:Pardis*'."),
    ] = None,
    since: Annotated[str | None, typer.Option(help="RFC 3339 lower bound.")] = None,
    until: Annotated[str | None, typer.Option(help="RFC 3339 upper bound (exclusive).")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON entry per line.")] = False,
) -> None:
    """List audit entries, oldest first, filtered (exactly, or by prefix with a trailing *)."""
    low = guarded(lambda: keys.parse_time(since)) if since else None
    high = guarded(lambda: keys.parse_time(until)) if until else None
    with node_at(data) as node:
        found = list(
            audit.entries(node, action=action, actor=actor, since=low, until=high, limit=limit)
        )
    if as_json:
        for entry in found:
            sys.stdout.write(entry.entry.decode() + "\n")
        return
    table = Table("#", "at", "actor", "action", "outcome", "objects", "detail")
    for entry in found:
        ids = list(entry.object_ids)
        table.add_row(
            str(entry.position),
            format_us(entry.at),
            entry.actor,
            entry.action,
            entry.outcome,
            f"{len(ids)}: {ids[0]}…" if len(ids) > 1 else (ids[0] if ids else ""),
            json.dumps(entry.detail, ensure_ascii=False)[:120],
        )
    out.print(table)


@audit_app.command("head")
def audit_head(data: DataDir = DEFAULT_DATA) -> None:
    """Print the newest signed tree head (JSON): keep it elsewhere, and later
    `tabadol audit verify --head FILE` proves the log still extends it."""
    with node_at(data) as node:
        print(json.dumps(guarded(lambda: audit.latest_head(node))))


@audit_app.command("prove")
def audit_prove(
    data: DataDir = DEFAULT_DATA,
    entry: Annotated[int | None, typer.Option(help="Inclusion proof of this position.")] = None,
    old_size: Annotated[
        int | None, typer.Option(help="Consistency proof from this tree size.")
    ] = None,
    size: Annotated[int | None, typer.Option(help="Tree size (default: current).")] = None,
) -> None:
    """RFC 9162 inclusion or consistency proofs, as JSON."""
    if (entry is None) == (old_size is None):
        raise fail("give --entry N (inclusion) or --old-size N (consistency)")
    with node_at(data) as node:
        if entry is not None:
            proof = guarded(lambda: audit.prove_inclusion(node, entry, size))
        else:
            assert old_size is not None
            proof = guarded(lambda: audit.prove_consistency(node, old_size, size))
    print(json.dumps(proof))


# --- offline verification ----------------------------------------------------------------------
def verify(
    bundle: Annotated[Path, typer.Argument(help="A STIX bundle, export or TAXII envelope.")],
    keys_file: Annotated[
        Path | None,
        typer.Option("--keys", help="Key directory JSON (GET /api/v1/keys, `key list --json`)."),
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", "-d", help="Or read the keys from this node.")
    ] = None,
) -> None:
    """Verify every object's signature offline; exit 1 if any does not verify."""
    objects = guarded(lambda: bundle_import.read_bundle(bundle))
    if keys_file is not None:
        directory = guarded(lambda: read_json(keys_file))
    elif data is not None:
        with node_at(data) as node:
            directory = key_directory.key_directory(node)
    else:
        raise fail("give --keys FILE (the node's key directory) or --data DIR")
    verdicts = guarded(lambda: verify_all(objects, directory))
    bad = [v for v in verdicts if not v.ok]
    for verdict in bad[:50]:
        err.print(f"{verdict.stix_id or '(no id)'}: {verdict.problem}", highlight=False)
    out.print(f"{len(verdicts) - len(bad)} verified, {len(bad)} failed")
    if bad or not verdicts:
        raise typer.Exit(1)
