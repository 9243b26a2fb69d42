"""Names of orgs and groups: printable, and unique among channels (they title them)."""

from __future__ import annotations

import re

from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import Conflict, InvalidInput
from tabadol.node.node import Node

_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


def _check_name(what: str, name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput(f"{what} name must be 1-100 printable characters")
    return name


_RESERVED = frozenset(kind.value for kind in AudienceKind)


def check_channel_name(node: Node, what: str, name: str) -> str:
    """Org and group names title their channels, so they must be unique among channels."""
    name = _check_name(what, name)
    if name.lower() in _RESERVED:
        raise Conflict(f"{name!r} is reserved for a channel of the node")
    if any(c.title == name for c in node.store.list_collections()):
        raise Conflict(f"a channel named {name!r} already exists")
    return name
