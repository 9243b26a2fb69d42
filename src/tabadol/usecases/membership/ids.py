"""Ids derived from the node an org or group was created on, so that every node can check
which node may speak for them."""

from __future__ import annotations

import uuid


def org_identity_id(node_id: str, name: str) -> str:
    """An org's STIX identity id, derived from its home node and its name: every node can
    check that a peer claiming an org is the node it was created on (a peer cannot claim
    another node's org, even one this node has not heard of yet)."""
    return f"identity--{uuid.uuid5(uuid.UUID(node_id), 'org:' + name)}"


def group_uuid_of(node_id: str, name: str) -> str:
    """A group's id, derived from the node of its owners and its name (as for orgs)."""
    return str(uuid.uuid5(uuid.UUID(node_id), "group:" + name))
