"""Who signs the objects the node signs in an envelope, as a value the caller passes.

An org publishing signs with its own current key, held here for orgs in node custody (an
org that keeps its keys signs before sending). The node publishing an org's directory
record — its identity, carrying its keys — signs with the node key: the node speaks for its
directory, so it may publish an identity, whatever the org's custody."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from nacl.signing import SigningKey

from tabadol.domain.errors import Refused
from tabadol.domain.keys import Custody, KeyPurpose
from tabadol.domain.model import Org
from tabadol.node.keyring import current_key, signing_key_of
from tabadol.node.node import Node


@dataclass(frozen=True, slots=True)
class OrgSigner:
    """The publishing org's current signing key (only an org in node custody has it here)."""

    audit_action: ClassVar[str] = "publish"
    speaks_for_directory: ClassVar[bool] = False

    def may_sign_for(self, org: Org) -> bool:
        return org.custody is Custody.NODE

    def key(self, node: Node, org: Org) -> tuple[SigningKey, str]:
        key = current_key(node, org, KeyPurpose.SIGN)
        if key is None:
            raise Refused(f"{org.name!r} has no current signing key")
        return signing_key_of(node, key), key.key_id


@dataclass(frozen=True, slots=True)
class DirectorySigner:
    """The node key: the node publishes an org's directory record."""

    audit_action: ClassVar[str] = "directory.publish"
    speaks_for_directory: ClassVar[bool] = True

    def may_sign_for(self, _org: Org) -> bool:
        return True  # whatever the org's custody: the node signs its own directory

    def key(self, node: Node, _org: Org) -> tuple[SigningKey, str]:
        return node.node_key, node.node_key_id


Signer = OrgSigner | DirectorySigner
ORG_SIGNS = OrgSigner()
NODE_SIGNS_DIRECTORY = DirectorySigner()
