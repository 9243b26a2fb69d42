"""The account page of a signed-in person: who they are (org, role), their second factors
and password (changed through `account_factors`), their sessions (end one, or all), their
personal API tokens (make one with a role up to theirs and an expiry — its secret shown
once, on the page that made it — or revoke one).

Every form carries the session's CSRF token; a form without it is refused (403) before
anything is done. A request whose session has ended goes to the sign-in form.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tabadol.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from tabadol.domain.model import Principal, Role
from tabadol.domain.people import role_at_most
from tabadol.domain.timestamps import format_us
from tabadol.node.node import Node
from tabadol.usecases.people import own_factors, personal_tokens, sessions, totp
from tabadol.web import auth, cookies
from tabadol.web.api import RowId
from tabadol.web.enrol_pages import problem_of, qr_of
from tabadol.web.forms import blocking, read_form, refused, see_other, signed_in, to_sign_in
from tabadol.web.templating import render, settings_of

router = APIRouter(include_in_schema=False)
ACCOUNT = "/account"
ROLES = (Role.READER, Role.PUBLISHER, Role.ADMIN)
_BASE32 = re.compile(r"^[A-Z2-7]{32}$")


def _when(us: int | None) -> str:
    return format_us(us)[:16].replace("T", " ") if us else ""


def factors_view(node: Node, principal: Principal, totp_secret: str = "") -> dict[str, Any]:
    """The factors part of the account page: the TOTP state, the passkeys, and a fresh
    TOTP secret to set up (or the one a refused form sent back)."""
    factors = own_factors.own_factors(node, principal)
    secret = totp_secret if _BASE32.match(totp_secret) else totp.new_secret()
    uri = totp.provisioning_uri(node, secret, principal.person_email or "")
    return {
        "required": factors.required,
        "passkey_list": [
            {
                "id": k.id,
                "label": k.label,
                "created": _when(k.created),
                "last_used": _when(k.last_used),
            }
            for k in factors.passkeys
        ],
        "totp_secret": secret,
        "totp_grouped": " ".join(re.findall(".{1,4}", secret)),
        "qr": qr_of(uri),
    }


def _view(node: Node, principal: Principal, totp_secret: str = "") -> dict[str, Any]:
    """What the page shows, read in one worker-thread call."""
    person = sessions.own_person(node, principal)
    now = node.clock()
    own = sessions.own_sessions(node, principal)
    tokens = personal_tokens.list_personal_tokens(node, principal)
    return {
        "person": person,
        "org": principal.org.name if principal.org else "",
        "role": person.role.value,
        "totp": person.totp_enabled,
        "passkeys": person.passkey_count,
        "sessions": [
            {
                "id": s.id,
                "current": s.id == principal.session_id,
                "created": _when(s.created),
                "last_seen": _when(s.last_seen),
                "address": s.address,
                "agent": s.user_agent[:80],
                "live": s.revoked is None and s.expires > now,
            }
            for s in reversed(own)
        ],
        "tokens": [
            {
                "id": t.id,
                "prefix": t.prefix,
                "role": t.role,
                "label": t.label,
                "created": _when(t.created),
                "expires": _when(t.expires),
                "live": t.revoked is None and (t.expires is None or t.expires > now),
            }
            for t in reversed(tokens)
        ],
        "roles": [r.value for r in ROLES if role_at_most(r, person.role)],
        "max_days": node.settings.personal_token_max_days,
        **factors_view(node, principal, totp_secret),
    }


async def render_account(
    request: Request,
    principal: Principal,
    status: int = 200,
    *,
    totp_secret: str = "",
    **more: Any,
) -> Response:
    """The account page (`more`: a problem to say, a new token's secret)."""
    view = await blocking(_view, auth.node_of(request), principal, totp_secret)
    context = {"new_secret": "", "problem": "", "detail": "", "wait": 0, **view, **more}
    return render(request, "account.html", context, status_code=status)


@router.get(ACCOUNT)
async def account_page(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return to_sign_in(request)
    return await render_account(request, principal)


Refusal = Forbidden | Conflict | InvalidInput | NotFound | TooManyRequests


def _code(exc: Refusal) -> str:
    """The `problem` the page names the refusal by (`_problem.html`)."""
    if isinstance(exc, Forbidden) and "recent sign-in" in exc.description:
        return "recent"
    if isinstance(exc, Conflict) and exc.description == own_factors.LAST_FACTOR:
        return "last-factor"
    if isinstance(exc, TooManyRequests):
        return "locked"
    if isinstance(exc, InvalidInput):
        if exc.description == own_factors.WRONG_PASSWORD:
            return "wrong-current"
        if exc.description == "the two passwords differ":
            return "mismatch"
        return problem_of(exc)
    return "invalid"


async def _refusal(
    request: Request, principal: Principal, exc: Refusal, form: dict[str, str]
) -> Response:
    wait = int(getattr(exc, "retry_after", 0) or 0)
    response = await render_account(
        request,
        principal,
        exc.http_status,
        problem=_code(exc),
        detail=exc.description,
        wait=wait,
        totp_secret=form.get("totp_secret", ""),
    )
    if wait:
        response.headers["Retry-After"] = str(wait)
    return response


async def run_form(request: Request, act: Any, *args: Any) -> Response:
    """A form of the page that changes something and comes back to it (factors, password,
    revoking a token or a session): read it (CSRF), find the signed-in person, run
    `act(node, principal, form, *args)` in a worker thread; back to the account page, or the
    page saying why not."""
    form = await read_form(request)
    if form is None:
        return refused(request)
    principal = await signed_in(request)
    if principal is None:
        return to_sign_in(request)
    try:
        await blocking(act, auth.node_of(request), principal, form, *args)
    except Unauthorized:
        return to_sign_in(request)
    except (Forbidden, Conflict, InvalidInput, NotFound, TooManyRequests) as exc:
        return await _refusal(request, principal, exc, form)
    return see_other(ACCOUNT)


async def _person_form(request: Request) -> tuple[Principal | None, dict[str, str] | None]:
    form = await read_form(request)
    if form is None:
        return None, None
    return await signed_in(request), form


@router.post(ACCOUNT + "/tokens")
async def create_token(request: Request) -> Response:
    principal, form = await _person_form(request)
    if form is None:
        return refused(request)
    if principal is None:
        return to_sign_in(request)
    try:
        days = int(form.get("days", "").strip() or "0")
    except ValueError:
        days = 0
    try:
        _, secret = await blocking(
            personal_tokens.create_personal_token,
            auth.node_of(request),
            principal,
            form.get("role", ""),
            days,
            form.get("label", ""),
        )
    except (InvalidInput, Forbidden) as exc:
        return await render_account(
            request, principal, exc.http_status, problem="invalid", detail=exc.description
        )
    return await render_account(request, principal, 201, new_secret=secret)


def _revoke_token(node: Node, principal: Principal, _form: dict[str, str], token_id: int) -> None:
    personal_tokens.revoke_personal_token(node, principal, token_id)


def _revoke_session(
    node: Node, principal: Principal, _form: dict[str, str], session_id: int
) -> None:
    sessions.revoke_own_session(node, principal, session_id)


@router.post(ACCOUNT + "/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: RowId) -> Response:
    return await run_form(request, _revoke_token, token_id)


@router.post(ACCOUNT + "/sessions/{session_id}/revoke")
async def revoke_session(request: Request, session_id: RowId) -> Response:
    return await run_form(request, _revoke_session, session_id)


@router.post(ACCOUNT + "/sign-out-everywhere")
async def sign_out_everywhere(request: Request) -> Response:
    principal, form = await _person_form(request)
    if form is None:
        return refused(request)
    if principal is None:
        return to_sign_in(request)
    await blocking(sessions.sign_out_everywhere, auth.node_of(request), principal)
    response = see_other("/sign-in")
    cookies.clear_session(response, settings_of(request))
    return response
