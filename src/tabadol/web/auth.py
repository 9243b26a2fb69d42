"""Who a request comes from, for the native API, TAXII and the pages: a bearer token in
`Authorization`, else the session cookie of a signed-in person.

A bearer is read first (no other site can make a browser send one, so it needs no CSRF
token). A request authenticated by its session cookie that changes state must carry the
CSRF token of that session in `X-CSRF-Token` (`web.csrf`), else it is refused (403) before
anything is done. The session look-up is the core's (`sessions.session_principal`): the
person's role and groups as they are now, the idle and absolute timeouts; an ended session
is a 401 in the API's error format (pages redirect to the sign-in form instead).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import quote

from starlette.requests import Request

from tabadol.config import Network, proxy_networks
from tabadol.domain.errors import Forbidden, Unauthorized
from tabadol.domain.model import Principal, PrincipalKind
from tabadol.node.node import Node
from tabadol.usecases.membership import principals
from tabadol.usecases.people import sessions
from tabadol.web import cookies, csrf

MAX_NEXT = 2000
HOME = "/inbox"  # where a person lands after signing in
AFTER_FORM = "/account"  # after a form posted with an ended session (it answers POST only)


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def cookie_principal(request: Request) -> Principal | None:
    """The person of the request's session cookie (None without one; Unauthorized when the
    session has ended), the CSRF header checked for a state-changing method."""
    secret = cookies.session_secret(request)
    if secret is None:
        return None
    principal = sessions.session_principal(node_of(request), secret)
    if request.method not in csrf.SAFE_METHODS and not csrf.matches(
        secret, request.headers.get(csrf.HEADER)
    ):
        raise Forbidden(csrf.REFUSED)
    return principal


def api_principal(request: Request, *, anonymous: bool = False) -> Principal:
    """The caller of an API request: its bearer, else its session cookie; without either,
    anonymous where `anonymous` allows (TAXII's public reads), else Unauthorized."""
    node = node_of(request)
    authorization = request.headers.get("authorization")
    if authorization:
        return (
            principals.authenticate_reader(node, authorization)
            if anonymous
            else principals.authenticate_token(node, authorization)
        )
    found = cookie_principal(request)
    if found is not None:
        return found
    if anonymous:
        return principals.authenticate_reader(node, None)
    raise Unauthorized("this API needs a bearer token (or the session of a signed-in person)")


def client_address(request: Request) -> str:
    """The client's address: the socket's, or — when the socket's is a trusted proxy
    (`trusted_proxies`) — the nearest `X-Forwarded-For` address that is not one. Every
    browser behind a proxy would otherwise share one sign-in counter (and one lock)."""
    peer = request.client.host if request.client else ""
    proxies = proxy_networks(node_of(request).settings.trusted_proxies)
    if not proxies or not _within(peer, proxies):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
    ]
    for hop in reversed(hops):  # the nearest hop first: only proxies we trust appended
        if _within(hop, proxies):
            continue
        return hop if _is_address(hop) else peer  # a proxy appends addresses only
    return peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:200]


def request_origin(request: Request) -> str:
    """`scheme://host[:port]` as the browser addressed the node."""
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this node, never another site (`//evil`,
    `/\\evil`, `https://…`, control characters are all refused for the home page)."""
    if not value or len(value) > MAX_NEXT or not value.startswith("/"):
        return HOME
    if value.startswith(("//", "/\\")) or any(ch < " " or ch == "\x7f" for ch in value):
        return HOME
    if "\\" in value:
        return HOME
    return value


def sign_in_url(next_path: str) -> str:
    return "/sign-in?next=" + quote(safe_next(next_path), safe="/")


def is_person(principal: Principal) -> bool:
    return principal.kind is PrincipalKind.ORG and principal.person_id is not None
