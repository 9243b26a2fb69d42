"""One renderer for every error: the TAXII error resource, as JSON, with its status."""

from __future__ import annotations

import logging

import orjson
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from tabadol.domain.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    TabadolError,
)
from tabadol.web.media import TAXII_21

log = logging.getLogger("tabadol.web")


def error_response(request: Request, error: TabadolError) -> Response:
    media = TAXII_21 if request.url.path.startswith("/taxii2") else "application/json"
    headers = {"WWW-Authenticate": "Bearer"} if error.http_status == 401 else None
    if error.http_status == 429:
        headers = {"Retry-After": "1"}
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
        mapped = MethodNotAllowed(f"{request.method} is not allowed here")
    else:
        mapped = BadRequest(str(exc.detail))
        mapped.http_status = exc.status_code
    return error_response(request, mapped)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return error_response(request, BadRequest(f"{where}: {first.get('msg', 'invalid')}"))


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(request, TabadolError("the server could not complete the request"))
