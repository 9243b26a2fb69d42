"""The pages people use in a browser (server-rendered, `web.templating`).

So far the sign-in form; signing in itself (the form's POST) comes with people's accounts.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse

from tabadol.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/sign-in")
def sign_in_page(request: Request) -> HTMLResponse:
    """The sign-in form: email and password, with the CSRF token of this browser."""
    return render(request, "sign_in.html")
