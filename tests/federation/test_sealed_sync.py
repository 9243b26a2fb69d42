"""Sealed items between nodes (issue 13, finding 7): a `tabadol-sealed` item and an item a
previous release sealed (`x_tabadol_sealed`, which its node still serves as stored) both sync
to the peer hosting a recipient, which opens them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tabadol.crypto.object_signature import attach_signature
from tabadol.domain.keys import KeyPurpose
from tabadol.domain.sealed import wrapper_id
from tabadol.domain.timestamps import parse_us
from tabadol.domain.tlp import TLP
from tabadol.node import keyring
from tabadol.storage.contract import NewVersion
from tabadol.usecases.membership import sharing_groups
from tabadol.usecases.membership.principals import OPERATOR

from ..federation.nodes import FedNode, federation, note, wait_until
from ..usecases.test_sealed_items import previous_release_seal


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[dict[str, FedNode]]:
    yield from federation(tmp_path, {"A": ["Org A1"], "B": ["Org B1"]})


def _old_form_at(a: FedNode, content: str) -> str:
    """An item of A1 for the group, sealed and stored at A as the previous release did (under
    its inner id); the id it is stored under."""
    store = a.node.store
    a1, b1 = store.org_by_name("Org A1"), store.org_by_name("Org B1")
    assert a1 is not None
    assert b1 is not None
    sign = keyring.current_key(a.node, a1, KeyPurpose.SIGN)
    assert sign is not None
    signing = keyring.signing_key_of(a.node, sign)
    inner = note(content, created_by_ref=a1.identity_id, object_marking_refs=[TLP.RED.marking_id])
    attach_signature(inner, signing, sign.key_id)
    keys = store.current_keys([a1.id, b1.id], KeyPurpose.ENCRYPT).values()
    old = previous_release_seal(inner, {k.key_id: k.public_key for k in keys}, signing, sign.key_id)
    group = next(c for c in store.list_collections() if c.title == "AB group")
    version = NewVersion(
        stix_id=old["id"],
        type=old["type"],
        spec_version="2.1",
        version_us=parse_us(old["modified"]),
        created_by_ref=a1.identity_id,
        tlp=TLP.RED.label,
        tlp_defaulted=False,
        body=orjson.dumps(old),
        sealed=True,
    )
    store.write_versions(group.id, a1.id, [version], a.node.clock())
    return str(old["id"])


def test_both_sealed_forms_sync_and_open_for_the_recipient_at_its_node(
    pair: dict[str, FedNode],
) -> None:
    """B takes A's old-form item (what a peer on the previous release sends) and a new
    `tabadol-sealed` item from A's feed, stores both as ciphertext under the ids A serves
    them by, and opens both for B1."""
    a, b = pair["A"], pair["B"]
    wait_until(lambda: b.node.store.org_by_name("Org A1") is not None, "A1 known at B")
    wait_until(lambda: a.node.store.org_by_name("Org B1") is not None, "B1 known at A")
    sharing_groups.create_group(a.node, OPERATOR, "AB group", "Org A1", break_glass="test")
    sharing_groups.add_group_member(a.node, OPERATOR, "AB group", "Org B1", break_glass="test")
    wait_until(lambda: b.node.store.group_by_name("AB group") is not None, "the group at B")
    old_id = _old_form_at(a, "sealed by the previous release")
    new = note("sealed by this release", object_marking_refs=[TLP.RED.marking_id])
    a.publish("Org A1", "AB group", [new])  # wakes the feed for both
    expected = {old_id, wrapper_id(new["id"])}
    wait_until(lambda: expected <= b.received(), "both forms at B")
    opened = {o["id"]: o["content"] for o in b.read("Org B1", "AB group")}
    assert opened == {
        old_id: "sealed by the previous release",
        new["id"]: "sealed by this release",
    }
    stored = b"".join(p.read_bytes() for p in b.data.glob("tabadol.db*"))
    assert b"sealed by the previous release" not in stored
    assert b"sealed by this release" not in stored
