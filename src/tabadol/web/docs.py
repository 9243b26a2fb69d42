"""The browsable API documentation (Swagger UI) at /api/v1/docs, served whole by the node.

Swagger UI's files come from the `swagger-ui-bundle-v2` package (its files are those of the
`swagger-ui-dist` release of the same version; a test holds their digests) and are served
under `/static/swagger-ui/` (`web.assets`); the page starts it with a script file of the
node's, so the page's CSP allows the node's own files only. It works on a network without
the internet. `/api/v1/openapi.json` is the same document, as JSON.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse

from tabadol.web.templating import PAGE_HEADERS, environment

router = APIRouter(include_in_schema=False)
OPENAPI_URL = "/api/v1/openapi.json"


@router.get("/api/v1/docs")
def swagger_ui() -> HTMLResponse:
    page = environment("en").get_template("api_docs.html").render(openapi_url=OPENAPI_URL)
    return HTMLResponse(page, headers=PAGE_HEADERS)
