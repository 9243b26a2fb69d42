"""Names of orgs and groups, and labels: printable, free of bidi controls, and — for names,
which title channels and name members across the federation — unique under the form a
reader sees (`text.names`: letter forms of Arabic and Persian, diacritics, case, Unicode
confusables), so two members never look alike; and found by any spelling of that form."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import Conflict, InvalidInput
from tabadol.domain.people import check_utf8
from tabadol.node.node import Node
from tabadol.text.names import bidi_controls_in, look_alike

_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_text(what: str, text: str) -> str:
    """A label, a reason: no control characters, no bidi controls (which would make it read
    in another order than it is stored), valid text (no lone surrogate)."""
    check_utf8(what, text)
    found = bidi_controls_in(text)
    if found:
        raise InvalidInput(
            f"{what} holds bidirectional control characters ({', '.join(found)}):"
            " they reorder how it reads; write it without them"
        )
    if _CONTROL.search(text):
        raise InvalidInput(f"{what} holds control characters")
    return text


def _check_name(what: str, name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput(f"{what} name must be 1-100 printable characters")
    return check_text(f"the {what} name", name)


_RESERVED = tuple(kind.value for kind in AudienceKind)


def check_channel_name(node: Node, what: str, name: str) -> str:
    """Org and group names title their channels, so they must be unique among channels and
    every org and group the node knows (its peers' too), as a reader sees them. The refusal
    does not repeat the name it met: a group's name is for its members only."""
    name = _check_name(what, name)
    if any(look_alike(name, reserved) for reserved in _RESERVED):
        raise Conflict(f"{name!r} is reserved for a channel of the node")
    taken = [
        *(c.title for c in node.store.list_collections()),
        *(o.name for o in node.store.list_orgs()),
        *(g.name for g in node.store.list_groups()),
    ]
    if name in taken:
        raise Conflict(f"a channel named {name!r} already exists")
    if any(look_alike(name, other) for other in taken):
        raise Conflict(
            f"{name!r} looks like the name of an existing channel or organization (the same"
            " letters in another form, case or script): choose a name a reader can tell apart"
        )
    return name


def remote_name_problem(name: str, known: Iterable[str]) -> str | None:
    """Why a name a peer's directory brings cannot be taken in, or None: bidi controls, or
    a look-alike of another org or group the node already knows."""
    found = bidi_controls_in(name)
    if found:
        return f"the name {name!r} holds bidirectional controls ({', '.join(found)})"
    if any(look_alike(name, other) for other in known):
        return f"the name {name!r} looks like the name of another organization or group"
    return None
