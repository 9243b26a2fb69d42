"""Issue 13, finding 4 through sync-in: a peer's member cannot deliver, as an item, the
identity an org of this node (not yet added) will get."""

from __future__ import annotations

from tabadol.domain.tlp import TLP
from tabadol.usecases.federation.sync_in import apply_page
from tabadol.usecases.membership import ids, organizations

from ..conftest import Community
from .test_federation_security import _entry, _fake_peer, _member


def test_a_peer_cannot_deliver_a_reserved_identity(community: Community) -> None:
    """The squat arrives signed by the peer's member and is refused as reserved; the org is
    then added here with the node's directory record."""
    node = community.node
    b1 = _member("Org B1")
    fake = _fake_peer(node, b1)
    victim = ids.org_identity_id(node.node_id, "Org Later")
    stamp = "2026-01-01T00:00:00.001Z"
    squat = b1.signed(
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": victim,
            "created": stamp,
            "modified": stamp,
            "name": "Org Later",
            "identity_class": "organization",
            "created_by_ref": b1.identity_id,
            "object_marking_refs": [TLP.GREEN.marking_id],
        }
    )
    result = apply_page(node, fake.peer, [_entry(squat, b1.identity_id, TLP.GREEN)], 1, 1)
    reasons = dict(result.refused)
    assert "reserved" in reasons[victim], reasons
    org = organizations.add_org(node, "Org Later")
    assert org.identity_id == victim
