"""`tabadol publish` and `tabadol fetch`: the CLI as the client of an org that keeps its own
keys — it signs and seals before upload, opens and verifies after download."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from tabadol.cli.common import err, guarded, out
from tabadol.client import remote as client
from tabadol.client.pins import default_pins_path
from tabadol.domain.stix import new_bundle_id
from tabadol.domain.tlp import TLP
from tabadol.private_files import write_private
from tabadol.usecases.publishing import bundle_import

Url = Annotated[str, typer.Option(envvar="TABADOL_URL", help="The node, e.g. http://host:8470")]
Token = Annotated[str, typer.Option(envvar="TABADOL_TOKEN", help="The org's bearer token.")]
Keys = Annotated[Path, typer.Option("--keys", help="The org's private key file.")]
CollectionId = Annotated[str, typer.Option(help="The TAXII collection id.")]
Pins = Annotated[
    Path | None,
    typer.Option(
        envvar="TABADOL_PINS",
        help="The file of keys pinned on first use (default: in your config dir, 0600).",
    ),
]
AcceptKeyChanges = Annotated[
    bool,
    typer.Option(
        "--accept-key-changes",
        help="Take keys that changed unannounced since pinned (after checking them out of band).",
    ),
]


def _remote(url: str, token: str, pins: Path | None, accept: bool) -> client.RemoteNode:
    return client.RemoteNode(
        url, token, pins=pins or default_pins_path(), accept_key_changes=accept
    )


def _say(remote: client.RemoteNode) -> None:
    for notice in remote.notices:
        err.print(f"keys: {notice}", highlight=False, soft_wrap=True)


def publish(
    bundle: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle (JSON).")],
    url: Url,
    token: Token,
    keys_file: Keys,
    collection: CollectionId,
    tlp: Annotated[
        str | None, typer.Option(help="TLP for unmarked objects (e.g. RED, AMBER+STRICT).")
    ] = None,
    encrypt: Annotated[bool, typer.Option(help="Seal every object, whatever its TLP.")] = False,
    pins: Pins = None,
    accept_key_changes: AcceptKeyChanges = False,
) -> None:
    """Sign every object here and seal TLP:RED / AMBER+STRICT ones to the audience's keys
    before upload: the node never sees the private keys or the sealed plaintext."""
    level = guarded(lambda: TLP.parse(tlp)) if tlp else None
    objects = guarded(lambda: bundle_import.read_bundle(bundle))
    keys = guarded(lambda: client.load_keyfile(keys_file))
    remote = _remote(url, token, pins, accept_key_changes)
    try:
        result = guarded(
            lambda: client.publish(remote, keys, collection, objects, tlp=level, encrypt=encrypt)
        )
    finally:
        remote.close()
        _say(remote)
    refused = result["refused"]
    assert isinstance(refused, list)
    out.print(f"{result['stored']} stored, {len(refused)} refused")
    for stix_id, reason in refused[:20]:
        err.print(f"  {stix_id}: {reason}", highlight=False)
    if refused:
        raise typer.Exit(1)


def fetch(
    url: Url,
    token: Token,
    keys_file: Keys,
    collection: CollectionId,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    pins: Pins = None,
    accept_key_changes: AcceptKeyChanges = False,
) -> None:
    """Download a collection as a bundle, opening what is sealed to this org and verifying
    every signature; exit 1 if any does not verify."""
    keys = guarded(lambda: client.load_keyfile(keys_file))
    remote = _remote(url, token, pins, accept_key_changes)
    try:
        objects, verdicts = guarded(lambda: client.fetch(remote, keys, collection))
    finally:
        remote.close()
        _say(remote)
    body = orjson.dumps({"type": "bundle", "id": new_bundle_id(), "objects": objects})
    if output is None:
        sys.stdout.buffer.write(body + b"\n")
    else:
        guarded(lambda: write_private(output, body + b"\n"))  # sealed items, opened: 0600
    bad = [v for v in verdicts if not v.ok]
    for verdict in bad[:20]:
        err.print(f"{verdict.stix_id}: {verdict.problem}", highlight=False)
    err.print(f"{len(objects)} objects, {len(verdicts) - len(bad)} signatures verified")
    if bad:
        raise typer.Exit(1)
