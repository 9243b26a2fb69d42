"""The analysts' workspace, reading: the inbox (`/inbox`) and an item's page
(`/items/{stix_id}`), for a signed-in person.

Thin over the reading use cases (`reading.inbox`, `reading.item`, `reading.correlate`),
each called with the person as principal, so the one access policy decides inside every
query. An item the person may not read is the same 404 page as an id that never existed —
on every tab. A filter that cannot be read is a 400 page saying which; nothing is a 500.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tabadol.domain.errors import InvalidFilter, NotFound
from tabadol.domain.model import Principal
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node
from tabadol.usecases.reading import correlate, inbox, item
from tabadol.web import auth
from tabadol.web.forms import blocking, message, signed_in, to_sign_in
from tabadol.web.templating import render
from tabadol.web.text_view import HELPERS

router = APIRouter(include_in_schema=False)
INBOX = "/inbox"
TABS = ("text", "indicators", "correlations", "versions", "provenance", "audience")
TLPS = [t.label for t in TLP]
TYPES = ("report", "note", "indicator", "malware", "threat-actor", "vulnerability", "campaign")
_FILTERS = ("q", "channel", "org", "tlp", "type", "from", "to", "limit")


def tlp_class(label: str) -> str:
    """The badge class of a TLP label (`TLP:AMBER+STRICT` -> `tlp-amber-strict`)."""
    return "tlp-" + label.removeprefix("TLP:").lower().replace("+", "-") if label else "tlp-none"


def _context(**values: Any) -> dict[str, Any]:
    return {**HELPERS, "tlp_class": tlp_class, **values}


def _inbox_view(node: Node, principal: Principal, params: dict[str, list[str]]) -> Any:
    return inbox.inbox(node, principal, inbox.InboxRequest.parse(params))


def _params(request: Request) -> dict[str, list[str]]:
    query = request.query_params
    return {name: query.getlist(name) for name in (*_FILTERS, "next")}


def _next_url(params: dict[str, list[str]], token: str) -> str:
    pairs = [(k, v) for k in _FILTERS for v in params.get(k, []) if v]
    return INBOX + "?" + urlencode([*pairs, ("next", token)])


@router.get(INBOX)
async def inbox_page(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return to_sign_in(request)
    params = _params(request)
    chosen = {k: [v for v in params.get(k, []) if v] for k in _FILTERS}
    context = _context(chosen=chosen, tlps=TLPS, types=TYPES, problem="", detail="")
    try:
        page = await blocking(_inbox_view, auth.node_of(request), principal, params)
    except InvalidFilter as exc:
        channels = await blocking(inbox.readable_channels, auth.node_of(request), principal)
        context |= {"entries": [], "next_url": "", "channels": channels}
        context |= {"problem": "invalid", "detail": exc.description, "searching": False}
        return render(request, "inbox.html", context, status_code=400)
    context |= {
        "entries": page.entries,
        "channels": page.channels,
        "next_url": _next_url(params, page.next_token) if page.next_token else "",
        "searching": bool((chosen.get("q") or [""])[0].strip()),
    }
    return render(request, "inbox.html", context)


def _start(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 10 else 0


def _item_view(
    node: Node, principal: Principal, stix_id: str, tab: str, start: int
) -> dict[str, Any]:
    view = item.item(node, principal, stix_id)
    shown: dict[str, Any] = {"view": view, "tab": tab}
    if tab == "indicators":
        shown["indicators"] = item.indicators(node, principal, view, start)
    elif tab == "provenance":
        shown["provenance"] = item.provenance(node, view)
    elif tab == "correlations":
        shown["correlations"] = correlate.correlations(node, principal, view.stix_id)
    return shown


@router.get("/items/{stix_id}")
async def item_page(request: Request, stix_id: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return to_sign_in(request)
    tab = request.query_params.get("tab", "text")
    tab = tab if tab in TABS else "text"
    start = _start(request.query_params.get("from"))
    try:
        shown = await blocking(_item_view, auth.node_of(request), principal, stix_id, tab, start)
    except NotFound:
        return message(request, "not-found", "no-item", 404)
    return render(request, "item.html", _context(tabs=TABS, **shown))
