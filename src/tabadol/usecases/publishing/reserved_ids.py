"""Identity ids the node reserves: an org's identity id is derived from its home node and its
name (`org_identity_id`), so a member could compute the id of an org not yet created and
publish it first. Only the node publishes those; a member names, as author, only an identity
that exists (its own, or a producer's it relays)."""

from __future__ import annotations

import uuid
from typing import Any

from tabadol.usecases.membership.ids import org_identity_id
from tabadol.usecases.publishing.envelope import Envelope


def derived_form(stix_id: str) -> bool:
    """Whether an id has the form of a derived one (a UUIDv5, as `org_identity_id` makes)."""
    try:
        return uuid.UUID(stix_id.partition("--")[2]).version == 5
    except ValueError:
        return False


def _namespaces(env: Envelope) -> tuple[str, ...]:
    """This node's id and its peers': the namespaces org identity ids are derived in."""
    if env._namespaces is None:
        env._namespaces = (env.node.node_id, *(p.node_id for p in env.node.store.peers()))
    return env._namespaces


def reserved_identity(env: Envelope, obj: dict[str, Any]) -> bool:
    """Whether an identity's id is the one an org of its name gets on this node or a peer.

    The name is what the derivation hashes: an identity posted under another name than the
    one its id derives from is caught when it is named (`created_by_ref`) or when the org is
    added (`add_org` refuses a name whose id another author already holds)."""
    name = obj.get("name")
    if not isinstance(name, str):
        return False
    stripped = name.strip()
    return any(
        obj.get("id") in (org_identity_id(ns, name), org_identity_id(ns, stripped))
        for ns in _namespaces(env)
    )


def envelope_identities(env: Envelope) -> frozenset[str]:
    """The identities of the envelope a member may name as author: those not reserved."""
    if env._relayable is None:
        env._relayable = frozenset(
            i for i, obj in env.posted_identities.items() if not reserved_identity(env, obj)
        )
    return env._relayable
