"""What every object of one envelope shares as it is admitted: who publishes, where, who
signs, with which keys; the signing key and the audience's encryption keys are loaded once
per envelope, when an object first needs them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nacl.signing import SigningKey

from tabadol.crypto.object_signature import read_signature
from tabadol.domain.attestation import Entries, audience_entry, provenance_entry
from tabadol.domain.audience import AudienceKind
from tabadol.domain.containment import inherited_tlps
from tabadol.domain.errors import InvalidInput, Refused, SignatureError
from tabadol.domain.extensions import AUDIENCE_EXTENSION, PROVENANCE_EXTENSION
from tabadol.domain.keys import KeyPurpose, OrgKey
from tabadol.domain.model import Collection, Org
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node
from tabadol.usecases.publishing.recipients import audience_orgs
from tabadol.usecases.publishing.signers import Signer


@dataclass
class Envelope:
    """What every object of one envelope shares: who publishes, where, with which keys."""

    node: Node
    org: Org
    collection: Collection
    hosted: dict[str, Org]  # identity id -> hosted org
    orgs_by_id: dict[int, Org]
    known_keys: dict[str, OrgKey]  # the keys the envelope's signatures name
    signer: Signer  # who signs what arrives unsigned: the org, or the node (directory)
    encrypt: bool  # seal every object, whatever its TLP
    now: int
    jcs_exact: bool  # the decoder saw no float, big integer or non-ASCII key
    from_peer: bool = False  # synced from a peer: sealed to the audience as its author saw it
    origin_node: str = ""  # the node the items were published on (this one unless synced)
    posted_identities: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> object
    # id -> the TLP an unmarked object takes from the envelope's containers that list it
    inherited: dict[str, TLP] = field(default_factory=dict)
    _namespaces: tuple[str, ...] | None = None  # this node's id and its peers' (org ids)
    _relayable: frozenset[str] | None = None  # the envelope's identities a member may name
    _signing_key: tuple[SigningKey, str] | None = None
    _recipients: dict[str, bytes] | None = None
    _attestations: dict[TLP, Entries] = field(default_factory=dict)

    def attestation(self, tlp: TLP) -> Entries:
        """What the node attests on each version it stores from this envelope: who
        published it and where (provenance), for which audience at which TLP (audience).
        Built once per TLP for the envelope; the entries are shared, never changed."""
        entries = self._attestations.get(tlp)
        if entries is None:
            kind, ref = self.collection.kind, self.collection.ref
            owner = group = None
            if kind is AudienceKind.ORG and ref is not None:
                owner = self.orgs_by_id.get(ref)
            if kind is AudienceKind.GROUP and ref is not None:
                group = self.node.store.group_by_id(ref)
            entries = self._attestations[tlp] = {
                PROVENANCE_EXTENSION: provenance_entry(self.org, self.origin_node),
                AUDIENCE_EXTENSION: audience_entry(self.collection, owner, group, tlp),
            }
        return entries

    def signing_key(self) -> tuple[SigningKey, str]:
        """The key the node signs with for this envelope (loaded once per envelope: building
        a SigningKey from its seed costs a scalar multiplication)."""
        if self._signing_key is None:
            self._signing_key = self.signer.key(self.node, self.org)
        return self._signing_key

    def recipients(self) -> dict[str, bytes]:
        """The current encryption keys of exactly the orgs of the audience."""
        if self._recipients is None:
            try:
                org_ids = audience_orgs(self.node, self.collection)
            except InvalidInput as exc:
                raise Refused(exc.description) from None
            keys = self.node.store.current_keys(org_ids, KeyPurpose.ENCRYPT)
            missing = [self.orgs_by_id[o].name for o in org_ids if o not in keys]
            if missing:
                raise Refused(f"no current encryption key for {', '.join(sorted(missing))}")
            self._recipients = {k.key_id: k.public_key for k in keys.values()}
        return self._recipients


def signature_key_ids(objects: Sequence[Any]) -> set[str]:
    """The key ids the objects' signatures name (their keys are read in one query)."""
    ids = set()
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        try:
            signature = read_signature(obj)  # either form
        except (SignatureError, ValueError):
            continue  # admission refuses it with its reason
        if signature is not None:
            ids.add(signature.key_id)
    return ids


def open_envelope(
    node: Node,
    org: Org,
    collection: Collection,
    objects: Sequence[Any],
    orgs: Sequence[Org],
    signer: Signer,
    *,
    encrypt: bool = False,
    jcs_exact: bool = False,
    from_peer: bool = False,
    origin_node: str | None = None,
) -> Envelope:
    """The envelope of `objects` published by `org` into `collection` (`orgs`: every org
    this node knows, as the caller read them; `origin_node`: the node they were published
    on, when they come from a peer)."""
    return Envelope(
        node=node,
        org=org,
        collection=collection,
        hosted={o.identity_id: o for o in orgs},
        orgs_by_id={o.id: o for o in orgs},
        known_keys=node.store.keys_by_id(signature_key_ids(objects)),
        signer=signer,
        encrypt=encrypt,
        now=node.clock(),
        jcs_exact=jcs_exact,
        from_peer=from_peer,
        origin_node=origin_node or node.node_id,
        inherited=inherited_tlps(objects),
        posted_identities={
            o["id"]: o
            for o in objects
            if isinstance(o, dict) and o.get("type") == "identity" and isinstance(o.get("id"), str)
        },
    )
