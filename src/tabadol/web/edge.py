"""The outermost layer of every response: a request id, the security headers, one access log
line, and a last-resort 500 in the error format.

It wraps the whole application, Starlette's error middleware included, so that a 500 or a
413 written before any route ran carries the same headers as a 200.

Headers: `nosniff`, a CSP that allows nothing (the API serves JSON; pages and the docs page
set their own, `web.templating`), no framing, no referrer, same-origin isolation, and
`Cache-Control: no-store` on every response but static files (`web.assets`) — most routes
serve content restricted to their caller, and a cache in front is the wrong place to tell
which. HSTS when the node itself speaks HTTPS.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tabadol.domain.errors import TabadolError
from tabadol.web.errors import ABORTED, render_error
from tabadol.web.logs import REQUEST_ID, logged_path

log = logging.getLogger("tabadol.web")
access = logging.getLogger("tabadol.access")

CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
HSTS = "max-age=31536000"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id(scope: Scope) -> str:
    """The client's `X-Request-Id` when it is a short token (echoed, so a client can match
    its log to ours), else a new one: never a free string in the log."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = bytes(value).decode("latin-1")
            if _CLIENT_ID.match(text):
                return text
    return uuid.uuid4().hex


class Edge:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        token = REQUEST_ID.set(rid)
        started = time.monotonic()
        status: list[int] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if scope.get("scheme") == "https":
                    headers["Strict-Transport-Security"] = HSTS
                headers["X-Request-Id"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not status:  # nothing answered it yet: log it and answer 500
                log.exception("unexpected error on %s %s", scope["method"], logged_path(scope))
                failed = render_error(scope["path"], TabadolError("the server could not complete"
                                                                  " the request"))  # fmt: skip
                await failed(scope, receive, send_with_headers)
            # else the error handler has answered and logged it: once is enough
        finally:
            _access_line(scope, status[0] if status else None, time.monotonic() - started)
            REQUEST_ID.reset(token)


def _access_line(scope: Scope, status: int | None, seconds: float) -> None:
    if not access.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    fields = {
        "method": scope["method"],
        "path": logged_path(scope),
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "client": client[0] if client else None,
    }
    if scope.get(ABORTED):
        access.info("%s %s aborted by the client before its body was complete", fields["method"],
                    fields["path"], extra={**fields, "aborted": True})  # fmt: skip
        return
    access.info("%s %s %s %.1f ms", fields["method"], fields["path"], status,
                fields["duration_ms"], extra=fields)  # fmt: skip
