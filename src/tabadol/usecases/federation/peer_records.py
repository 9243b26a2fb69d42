"""The directory records a peer's signed directory carries: each hosted org's STIX identity
as its node published it, signed by that node's key. A record is kept (to be served where
the org's items are read, `reading.authors`) only when it is a valid STIX identity, agrees
with the directory entry it comes in (id, name, keys) and is signed by the key of the node
whose directory it is in — that node alone speaks for its orgs. A record that fails is left
out with its reason; the org and its keys are taken in all the same."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from tabadol.crypto.object_signature import read_signature, verify_object
from tabadol.crypto.signing import key_id
from tabadol.domain.directory_record import disagreement
from tabadol.domain.errors import DirectoryError, InvalidObject, SignatureError, TimestampError
from tabadol.domain.federation import Peer
from tabadol.domain.stix import check_object
from tabadol.storage.contract import DirectoryRecord, RemoteOrg


def checked_record(item: dict[str, Any], org: RemoteOrg, peer: Peer) -> DirectoryRecord | None:
    """The record in a directory entry, checked; None when the entry has none (a node that
    predates them). DirectoryError says why a record is refused."""
    raw = item.get("record")
    if raw is None:
        return None
    try:
        checked = check_object(raw)
        problem = disagreement(raw, org.identity_id, org.name, item.get("keys") or [])
        if problem is not None:
            raise DirectoryError(problem)
        signature = read_signature(raw)
        if signature is None or signature.key_id != key_id(peer.public_key):
            raise DirectoryError(f"it is not signed by the key of {peer.node_id}")
        verify_object(raw, signature, peer.public_key)
    except (InvalidObject, SignatureError, TimestampError, ValueError) as exc:
        raise DirectoryError(str(exc)) from None
    if checked.version_us is None:
        raise DirectoryError("it has no version time")
    return DirectoryRecord(checked.version_us, orjson.dumps(raw))


def with_records(
    orgs: list[RemoteOrg], items: list[dict[str, Any]], peer: Peer
) -> tuple[list[RemoteOrg], list[str]]:
    """The orgs (parsed from `items`, in order) with their checked records, and the records
    refused, each with its reason."""
    kept, refused = [], []
    for org, item in zip(orgs, items, strict=True):
        try:
            record = checked_record(item, org, peer)
        except DirectoryError as exc:
            refused.append(f"{org.identity_id}: its directory record: {exc}")
            record = None
        kept.append(replace(org, record=record))
    return kept, refused
