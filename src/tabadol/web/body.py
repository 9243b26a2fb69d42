"""Request bodies read with a hard size limit on every route, before anything parses them.

An ASGI middleware rather than a helper each handler calls: FastAPI reads a JSON body whole
before the handler runs (the native API read 20–40 MiB bodies before refusing them), so only
a layer in front of it can refuse early. Each route's limit: the TAXII POST of objects takes
`max_request_bytes`, every other route `API_BODY_LIMIT` (their bodies are a few fields).
Starlette's own RequestBodyLimitMiddleware was not enough: one limit per app, checked only
when the app reads, and answered in plain text rather than the TAXII error format.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tabadol.domain.errors import InvalidInput, RequestTooLarge, TabadolError
from tabadol.web.errors import ABORTED, render_error

API_BODY_LIMIT = 64 * 1024  # bytes: an org, a token request, a key, a revocation reason
# A written report or note (its text up to 1 MiB, percent-encoded by a browser's form, or
# JSON-escaped): its pages and the native API's route, which say when the text is too long.
WRITE_BODY_LIMIT = 8 * 1024 * 1024
WRITE_PAGES = frozenset({"/write", "/write/publish"})
WRITE_ROUTES = WRITE_PAGES | {"/api/v1/reports"}
_TAXII_POST = re.compile(r"^/taxii2/root/collections/[^/]+/objects/$")
_TOO_LARGE_PAGE = (
    b'<!doctype html><html lang="en"><meta charset="utf-8"><title>tabadol</title>'
    b"<p>The form is too large for this node: nothing was published.</p>"
    b'<p><a href="/write">Back to the form</a></p></html>'
)


def body_limit(method: str, path: str, taxii_limit: int) -> int:
    """The largest body the route at `method path` accepts."""
    if method == "POST" and _TAXII_POST.match(path):
        return taxii_limit
    if method == "POST" and path in WRITE_ROUTES:
        return WRITE_BODY_LIMIT
    return API_BODY_LIMIT


class BodyLimit:
    """Reads the whole body before the app, refusing it with 413 (in the route's error
    format) as soon as its declared length or the bytes received pass the route's limit,
    chunked or not; the app then reads it from memory. A client that goes away mid-body is
    marked in the scope (`ABORTED`) and the app is not called: the access log says so in one
    line."""

    def __init__(self, app: ASGIApp, taxii_limit: Callable[[], int]) -> None:
        self.app = app
        self.taxii_limit = taxii_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["method"], scope["path"], self.taxii_limit())
        try:
            body = await self._read(scope, receive, limit)
        except TabadolError as error:
            if scope["path"] in WRITE_PAGES:  # a browser's form: a page, not JSON
                page = HTMLResponse(_TOO_LARGE_PAGE, error.http_status, {"Connection": "close"})
                await page(scope, receive, send)
                return
            await render_error(scope["path"], error)(scope, receive, send)
            return
        if body is None:
            scope[ABORTED] = True
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # then what follows: a disconnect, for a stream

        await self.app(scope, replay, send)

    @staticmethod
    async def _read(scope: Scope, receive: Receive, limit: int) -> bytes | None:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                raise InvalidInput("Content-Length is not a number")
            if int(declared) > limit:
                raise RequestTooLarge(
                    f"the body has {int(declared)} bytes; this route accepts {limit}"
                )
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise RequestTooLarge(f"the body exceeds {limit} bytes, which this route accepts")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
