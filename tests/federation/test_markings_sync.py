"""Markings from a peer get the treatment a member's post gets: a granular TLP bounds the
object, the standard TLP markings are the node's (taken as nothing, or refused if reworded)."""

from __future__ import annotations

from typing import Any

from tabadol.domain.tlp import STANDARD_MARKINGS, TLP
from tabadol.usecases.federation.sync_in import apply_page

from ..conftest import Community
from .test_federation_security import _entry, _fake_peer, _member, _note


def _marking_entry(obj: dict[str, Any], author: str) -> dict[str, Any]:
    return {**_entry({**obj, "modified": obj["created"]}, author, TLP.CLEAR), "object": obj}


def test_a_peers_markings_are_bounded_and_never_its_own(community: Community) -> None:
    """A peer's item with a TLP:RED granular marking in `members` is refused as a member's
    is; its copy of a standard marking is taken as nothing (no refusal, nothing stored); a
    reworded one is refused."""
    node = community.node
    b1 = _member("Org B1")
    fake = _fake_peer(node, b1)
    red = TLP.RED.marking_id
    part = [{"marking_ref": red, "selectors": ["content"]}]
    green = [TLP.GREEN.marking_id]
    red_part = b1.signed(_note("a red part", object_marking_refs=green, granular_markings=part))
    honest = b1.signed(_note("honest", object_marking_refs=green))
    standard = STANDARD_MARKINGS[TLP.GREEN.marking_id]
    forged = {**STANDARD_MARKINGS[red], "name": "TLP:CLEAR"}
    entries = [
        _entry(red_part, b1.identity_id, TLP.GREEN),
        _entry(honest, b1.identity_id, TLP.GREEN),
        _marking_entry(standard, b1.identity_id),
        _marking_entry(forged, b1.identity_id),
    ]
    result = apply_page(node, fake.peer, entries, cursor=4, head=4)
    reasons = dict(result.refused)
    assert set(reasons) == {red_part["id"], red}
    assert "may not be shared with the audience" in reasons[red_part["id"]]
    assert "standard TLP:RED marking-definition" in reasons[red]
    assert result.stored == 1
    stored = node.store._db.reader().execute(  # type: ignore[attr-defined]
        "SELECT stix_id FROM objects WHERE via_peer = ?", (fake.peer.id,)
    )
    assert {row[0] for row in stored} == {honest["id"]}
