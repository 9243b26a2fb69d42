"""What the pages share (`sign_in_pages`, `enrol_pages`, `account_pages`): reading a form
with its CSRF token, the pages that explain a refusal, the signed-in person of a request.

Handlers are async only to read the form; everything that hashes a password or touches the
store runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tabadol.domain.errors import Unauthorized
from tabadol.domain.model import Principal
from tabadol.usecases.people import sessions
from tabadol.web import auth, cookies, csrf
from tabadol.web.templating import render, settings_of

T = TypeVar("T")
MAX_FIELD = 4096


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn` in a worker thread (Argon2 and the store block)."""
    return await run_in_threadpool(fn, *args, **kwargs)


async def read_form(request: Request) -> dict[str, str] | None:
    """The form's text fields (each cut to a sane length), or None when its CSRF token is
    missing or not this browser's."""
    form = await request.form()
    fields = {k: v[:MAX_FIELD] for k, v in form.items() if isinstance(v, str)}
    if "passkey" in form and isinstance(form["passkey"], str):
        fields["passkey"] = form["passkey"][: 64 * 1024]
    if not csrf.matches(csrf.bound_secret(request), fields.get(csrf.FIELD)):
        return None
    return fields


def message(
    request: Request,
    title: str,
    problem: str,
    status_code: int,
    context: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page that says what went wrong (`problem`: a code the template words)."""
    response = render(
        request,
        "message.html",
        {"title": title, "problem": problem, "detail": "", "wait": 0, **(context or {})},
        status_code=status_code,
    )
    response.headers.update(headers or {})
    return response


def refused(request: Request) -> HTMLResponse:
    """The 403 page of a form whose CSRF token is missing or wrong: nothing was done."""
    return message(request, "refused", "csrf", 403)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def signed_in(request: Request) -> Principal | None:
    """The signed-in person of the request's session cookie, or None (no cookie, or a
    session that has ended)."""
    secret = cookies.session_secret(request)
    if secret is None:
        return None
    try:
        return await blocking(sessions.session_principal, auth.node_of(request), secret)
    except Unauthorized:
        return None


def to_sign_in(request: Request) -> Response:
    """Back to the sign-in form, coming back here after (to the account page after a form:
    its address answers POST only); a dead session cookie is cleared."""
    back = request.url.path if request.method == "GET" else auth.AFTER_FORM
    response = see_other(auth.sign_in_url(back))
    if cookies.session_secret(request) is not None:
        cookies.clear_session(response, settings_of(request))
    return response
