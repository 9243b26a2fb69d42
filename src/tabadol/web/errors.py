"""One renderer for every error: the TAXII error resource, as JSON, with its status."""

from __future__ import annotations

import logging

import orjson
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from tabadol.domain.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    TabadolError,
)
from tabadol.web.logs import logged_path
from tabadol.web.media import TAXII_21

log = logging.getLogger("tabadol.web")
ABORTED = "tabadol.aborted"  # in the scope: the client went away before its body was read


def error_response(request: Request, error: TabadolError) -> Response:
    return render_error(request.url.path, error, request.method)


def render_error(path: str, error: TabadolError, method: str = "GET") -> Response:
    """The TAXII error resource as the route at `path` speaks it: TAXII's media type under
    /taxii2, JSON elsewhere; the headers its status asks for."""
    media = TAXII_21 if path.startswith("/taxii2") else "application/json"
    headers: dict[str, str] | None = None
    if error.http_status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    elif error.http_status == 429:
        retry_after = getattr(error, "retry_after", None) or 1
        headers = {"Retry-After": str(retry_after)}
    elif isinstance(error, MethodNotAllowed) and error.allowed:
        headers = {"Allow": ", ".join(error.allowed)}
    if error.http_status == 413:
        headers = {"Connection": "close"}  # the rest of the body is not read
    return Response(
        orjson.dumps(error.to_taxii()),
        status_code=error.http_status,
        media_type=media,
        headers=headers,
    )


async def on_tabadol_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TabadolError)
    return error_response(request, exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    mapped: TabadolError
    if exc.status_code == 404:
        mapped = NotFound("no such resource")
    elif exc.status_code == 405:
        mapped = MethodNotAllowed(f"{request.method} is not allowed here", allowed_methods(request))
    else:
        mapped = BadRequest(str(exc.detail))
        mapped.http_status = exc.status_code
    return error_response(request, mapped)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at this path (Starlette's own `Allow`
    names only the first route that matches the path, and GET and DELETE of a TAXII object
    are two routes). The routes are the app's `state.routes`, as `create_app` listed them."""
    methods: set[str] = set()
    for route in getattr(request.app.state, "routes", ()):
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return sorted(methods)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return error_response(request, BadRequest(f"{where}: {first.get('msg', 'invalid')}"))


async def on_disconnect(request: Request, exc: Exception) -> Response:
    """The client went away while its body was read: nothing to answer, nothing to fix; the
    access log's line says it (no traceback)."""
    request.scope[ABORTED] = True
    return Response(status_code=400)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, logged_path(request.scope))
    return error_response(request, TabadolError("the server could not complete the request"))
