"""The browsable API documentation (Swagger UI) at /api/v1/docs, under a CSP of its own.

Every other response forbids scripts (`web.edge`); this page loads Swagger UI from its CDN
and runs one inline script, which its CSP allows by hash, not with `unsafe-inline`. On a
network without the CDN the page stays empty; `/api/v1/openapi.json` is the same document.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
CDN = "https://cdn.jsdelivr.net"
ICON = "https://fastapi.tiangolo.com"
_INLINE = re.compile(rb"<script>(.*?)</script>", re.S)


def _csp(page: bytes) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE.findall(page)
    )
    return (
        f"default-src 'none'; script-src {CDN} {hashes}; style-src {CDN};"
        f" img-src 'self' data: {ICON}; connect-src 'self'; frame-ancestors 'none';"
        " base-uri 'none'; form-action 'none'"
    )


@router.get("/api/v1/docs")
def swagger_ui() -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url="/api/v1/openapi.json", title="tabadol API")
    body = bytes(page.body)
    return HTMLResponse(body, headers={"Content-Security-Policy": _csp(body)})
