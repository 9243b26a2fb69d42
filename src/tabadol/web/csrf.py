"""Cross-site request forgery: a synchronizer token bound to the browser's cookie secret.

The token is HMAC-SHA256 keyed by the secret the browser's cookie carries (its session
secret once signed in, its pre-session secret before: `web.cookies`) over a fixed label,
base64url without padding. It needs no storage, changes whenever the session does (a new
session after sign-in gets new tokens), and reveals nothing of the secret. Another site can
make a browser send the cookie (SameSite=Strict already stops that in current browsers) but
cannot read a page to learn the token.

Every state-changing request a browser makes with its cookie must carry the token: forms in
the hidden field `csrf`, scripts in the header `X-CSRF-Token`. `require` is that check as a
FastAPI dependency. A request with an `Authorization` header is authenticated by that header
(the node reads a bearer before a cookie), which no other site can make a browser send, so
it needs no token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from starlette.requests import Request

from tabadol.domain.errors import Forbidden
from tabadol.web import cookies

LABEL = b"tabadol csrf v1"
FIELD = "csrf"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
REFUSED = "the form has expired or did not come from this node: reload the page and try again"


def token_for(secret: str) -> str:
    """The token that proves a request came from a page this node served to `secret`."""
    mac = hmac.new(secret.encode(), LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def matches(secret: str | None, presented: str | None) -> bool:
    """Whether `presented` is the token of `secret`, compared in constant time."""
    if not secret or not presented:
        return False
    return hmac.compare_digest(token_for(secret).encode(), presented.encode("utf-8", "replace"))


def bound_secret(request: Request) -> str | None:
    """The cookie secret this request's token must be bound to: the session's, else the
    pre-session's."""
    return cookies.session_secret(request) or cookies.presession_secret(request)


async def presented(request: Request) -> str | None:
    """The token the request carries: the header, else the form field."""
    header = request.headers.get(HEADER)
    if header:
        return header
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind in _FORMS:
        value = (await request.form()).get(FIELD)
        return value if isinstance(value, str) else None
    return None


async def require(request: Request) -> None:
    """Refuse (403) a state-changing, cookie-authenticated request without its token."""
    if request.method in SAFE_METHODS or "authorization" in request.headers:
        return
    if not matches(bound_secret(request), await presented(request)):
        raise Forbidden(REFUSED)
