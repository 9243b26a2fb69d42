"""The CLI client pins the keys it has seen (issue 14, finding 9): trust on first use in a
0600 file; an announced rotation is taken and said; a key changed unannounced is refused
until the user accepts it."""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import httpx
from nacl.public import PrivateKey

from tabadol.web.media import TAXII_21

from ..cli_runner import tabadol
from ..conftest import LiveServer


def test_keys_are_pinned_on_first_use_and_a_silent_change_is_refused(
    tmp_path: Path, live_server_factory: Callable[[Path], LiveServer]
) -> None:
    """First fetch pins every key (0600 file); a rotation the directory announces passes
    with a notice; a key whose material the node's database changed is refused, naming it,
    until --accept-key-changes; the pins then hold the new key."""
    data, keyfile, public = tmp_path / "node", tmp_path / "k.keys", tmp_path / "k.pub"
    pins = tmp_path / "config" / "pins.json"
    tabadol("init", "--data", data)
    public.write_text(tabadol("key", "generate", "--out", keyfile)[0])
    tabadol("org", "add", "Org K", "--public-keys", public, "--data", data)
    tabadol("org", "add", "Org A", "--data", data)
    token = tabadol("token", "create", "Org K", "--data", data)[0].strip().splitlines()[-1]
    server = live_server_factory(data)
    listed = httpx.get(
        f"{server.url}/taxii2/root/collections/",
        headers={"Authorization": f"Bearer {token}", "Accept": TAXII_21},
    ).json()["collections"]
    members = next(c["id"] for c in listed if c["title"] == "members")
    fetch = [
        *("fetch", "--url", server.url, "--token", token, "--keys", keyfile),
        *("--collection", members, "--pins", pins, "-o", tmp_path / "out.json"),
    ]

    _, err = tabadol(*fetch)
    assert "first use" in err
    assert stat.S_IMODE(pins.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == 0o600
    pinned = json.loads(pins.read_text())["nodes"][server.url]["orgs"]
    assert {o["name"] for o in pinned.values()} == {"Org K", "Org A"}

    tabadol("key", "rotate", "Org A", "--data", data)  # announced: the old keys retired
    _, err = tabadol(*fetch)
    assert "Org A rotated its keys" in err

    directory = json.loads(tabadol("key", "list", "Org A", "--json", "--data", data)[0])
    (current,) = [
        k
        for k in directory["organizations"][0]["keys"]
        if k["purpose"] == "encrypt" and not k["valid_until"]
    ]
    with sqlite3.connect(data / "tabadol.db") as db:  # the operator rewrites the database
        db.execute(
            "UPDATE org_keys SET public_key = ? WHERE key_id = ?",
            (bytes(PrivateKey.generate().public_key), current["key_id"]),
        )
    _, err = tabadol(*fetch, ok=False)
    assert f"Org A: the pinned key {current['key_id']} is served with other key material" in err
    assert "--accept-key-changes" in err
    assert len(err.strip().splitlines()) == 1
    _, err = tabadol(*fetch, "--accept-key-changes")
    assert "accepted" in err
    tabadol(*fetch)  # pinned anew
