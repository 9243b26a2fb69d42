"""A collection named the way a person names it on the command line: by id or by title (in
any spelling a reader takes for it: `text.names`)."""

from __future__ import annotations

from tabadol.domain.errors import InvalidInput, NotFound
from tabadol.domain.model import Collection, Principal
from tabadol.node.node import Node
from tabadol.text.names import look_alike
from tabadol.usecases.reading.read import list_collections


def find_collection(node: Node, principal: Principal, ref: str, *, write: bool) -> Collection:
    """A collection by id or title among those the principal may use."""
    views = [v for v in list_collections(node, principal) if (v.can_write if write else v.can_read)]
    exact = [v for v in views if v.collection.uuid == ref]
    named = exact or [v for v in views if v.collection.title == ref]
    named = named or [v for v in views if look_alike(v.collection.title, ref)]
    if not named:
        raise NotFound(
            f"no collection {ref!r} that {principal.org.name if principal.org else 'you'} may use"
        )
    if len(named) > 1:
        ids = ", ".join(v.collection.uuid for v in named)
        raise InvalidInput(f"{ref!r} names several collections; use one of their ids: {ids}")
    return named[0].collection
