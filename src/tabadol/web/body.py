"""Reading a request body with a hard size limit, before anything parses it."""

from __future__ import annotations

from starlette.requests import Request

from tabadol.domain.errors import InvalidInput, RequestTooLarge


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, or 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidInput("Content-Length is not a number")
        if int(declared) > limit:
            raise RequestTooLarge(f"the body has {declared} bytes; this node accepts {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"the body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
