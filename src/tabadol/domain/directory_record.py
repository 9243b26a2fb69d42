"""Whether an org's directory record (its STIX identity carrying its keys) says what the
directory says of the org: the same id, name and keys. The node that sends its directory
leaves out a record that lags behind a key change, and a node that takes one in refuses a
record that does not agree, so the identity served for an org lists the keys its home
node's directory lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tabadol.domain.extensions import DIRECTORY_EXTENSION


def _by_key_id(keys: object) -> list[Any]:
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        return []
    return sorted(keys, key=lambda k: str(k.get("key_id")))


def disagreement(
    record: Mapping[str, Any], identity_id: str, name: str, keys: Sequence[Mapping[str, Any]]
) -> str | None:
    """Why `record` is not the directory record of the org the directory lists with
    `identity_id`, `name` and `keys` (each as the key directory publishes it), or None."""
    if record.get("type") != "identity" or record.get("id") != identity_id:
        return "not the identity of that org"
    if record.get("name") != name:
        return "it names the org otherwise"
    extension = (record.get("extensions") or {}).get(DIRECTORY_EXTENSION)
    if not isinstance(extension, dict):
        return "it carries no keys"
    listed = _by_key_id(list(keys))
    if _by_key_id(extension.get("keys")) != listed:
        return "its keys are not the ones the directory lists"
    return None
