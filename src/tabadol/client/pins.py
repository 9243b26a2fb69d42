"""Trust on first use for the CLI client: the keys it has seen, pinned in a 0600 file.

A client-custody org's CLI takes the recipients' public keys and the key directory from the
node, so a node that rewrote its database could substitute a key. The first time the client
talks to a node it pins that node's key (by the URL it used) and every org key the
directory lists; afterwards:

* a pinned key that is gone, or served with other key material, is refused — an
  unannounced change — unless the user passes `--accept-key-changes`;
* a new key for a pinned org is accepted, and said, when the directory announces a
  rotation: every key of the org that was current when pinned is now retired or revoked in
  the directory (whose history is append-only), so the change is public, in the org's
  identity record the node signs and in every member's view of the directory; a new key
  while a pinned current key is still current is refused like a change;
* a new org is pinned on first sight.

What this does not do: tell a rotation the org made from one its node's operator made (both
are announced); compare the key ids out of band (`tabadol key list`) for that.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tabadol.domain import strict_json
from tabadol.domain.errors import InvalidInput, KeyChanged
from tabadol.private_files import private_directory, write_private


def default_pins_path() -> Path:
    """`$XDG_CONFIG_HOME/tabadol/pinned-keys.json` (the user's config directory)."""
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "tabadol" / "pinned-keys.json"


@dataclass
class PinCheck:
    """What a check found: notices to print, and whether the pins file must be written."""

    notices: list[str] = field(default_factory=list)
    changed: bool = False


def load_pins(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"tabadol_pins": 1, "nodes": {}}
    try:
        pins: dict[str, Any] = strict_json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: not a pinned-keys file ({exc})") from None
    if not isinstance(pins.get("nodes"), dict):
        raise InvalidInput(f"{path}: not a pinned-keys file")
    return pins


def save_pins(path: Path, pins: Mapping[str, Any]) -> None:
    private_directory(path.parent)
    write_private(path, orjson.dumps(pins, option=orjson.OPT_INDENT_2))


def _keys_of(org: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(k["key_id"]): k for k in org.get("keys", [])}


def _current(key: Mapping[str, Any]) -> bool:
    return not key.get("valid_until") and not key.get("revoked")


def check_directory(
    pins: dict[str, Any], url: str, directory: Mapping[str, Any], *, accept_changes: bool
) -> PinCheck:
    """Compare a node's key directory with the pins (updating them); KeyChanged when a pinned
    key changed unannounced and `accept_changes` is not given."""
    result = PinCheck()
    node = directory.get("node", {})
    pinned = pins["nodes"].setdefault(url.rstrip("/"), {})
    problems: list[str] = []
    if not pinned:
        result.notices.append(f"first use of {url}: pinned its node key {node.get('key_id')}")
    elif pinned.get("node_key") != node.get("public_key"):
        problems.append(f"the node key of {url} changed (was {pinned.get('node_key_id')})")
    pinned["node_key"], pinned["node_key_id"] = node.get("public_key"), node.get("key_id")
    orgs = pinned.setdefault("orgs", {})
    for org in directory.get("organizations", []):
        problems += _check_org(orgs, org, result)
    if problems and not accept_changes:
        raise KeyChanged(
            "; ".join(problems) + ". Compare the key ids with the org out of band"
            " (`tabadol key list`), then run again with --accept-key-changes"
        )
    result.notices += [f"accepted: {p}" for p in problems]
    result.changed = True
    return result


def _check_org(orgs: dict[str, Any], org: Mapping[str, Any], result: PinCheck) -> list[str]:
    ident, name = str(org.get("identity_id")), str(org.get("name"))
    served = _keys_of(org)
    known: dict[str, Any] | None = orgs.get(ident)
    public = {key_id: str(k.get("public_key")) for key_id, k in served.items()}
    current = sorted(key_id for key_id, k in served.items() if _current(k))
    orgs[ident] = {"name": name, "keys": public, "current": current}
    if known is None:
        return []
    problems = [
        f"{name}: the pinned key {key_id} is "
        + ("no longer listed" if key_id not in public else "served with other key material")
        for key_id, material in known.get("keys", {}).items()
        if public.get(key_id) != material
    ]
    new = sorted(set(public) - set(known.get("keys", {})))
    if not new:
        return problems
    still_current = [k for k in known.get("current", []) if k in served and _current(served[k])]
    if still_current:
        problems.append(f"{name}: new keys {', '.join(new)} while {still_current[0]} is current")
    else:
        result.notices.append(
            f"{name} rotated its keys (announced in the directory): now {', '.join(current)}"
        )
    return problems
