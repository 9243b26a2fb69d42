"""The account page's second factors and password (`usecases.people.own_factors`): add,
replace or remove the authenticator app (TOTP: the secret as text and as a QR code drawn
on the server, confirmed by a code), add a labelled passkey (the WebAuthn ceremony run by
`static/js/passkeys.js`, its challenge kept server-side and bound to this session) or
remove one, change the password.

Every form carries the session's CSRF token (403, nothing done, without it). A change of
factor past the recent-sign-in minutes is refused with a link to sign in again; the last
factor of a person the policy asks to keep one is refused (409). A refusal shows the
account page again, saying why; a change done goes back to it (303).
"""

from __future__ import annotations

from typing import Any

import orjson
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
from tabadol.domain.model import Principal
from tabadol.node.node import Node
from tabadol.usecases.people import own_factors, passkeys, totp
from tabadol.web import auth, csrf
from tabadol.web.account_pages import ACCOUNT, render_account
from tabadol.web.api import RowId
from tabadol.web.enrol_pages import problem_of
from tabadol.web.forms import blocking, read_form, refused, see_other, signed_in, to_sign_in

router = APIRouter(include_in_schema=False)
Refusal = Forbidden | Conflict | InvalidInput | NotFound | TooManyRequests


def _code(exc: Refusal) -> str:
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


async def _act(request: Request, act: Any, *args: Any) -> Response:
    """Read the form (CSRF), find the signed-in person, run `act(node, principal, form,
    *args)` in a worker thread; back to the account page, or the page saying why not."""
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


def _set_totp(node: Node, principal: Principal, form: dict[str, str]) -> None:
    setup = totp.TotpSetup(form.get("totp_secret", ""), form.get("code", ""))
    totp.set_totp(node, principal, setup)


def _remove_totp(node: Node, principal: Principal, _form: dict[str, str]) -> None:
    own_factors.remove_totp(node, principal)


def _remove_passkey(
    node: Node, principal: Principal, _form: dict[str, str], passkey_id: int
) -> None:
    own_factors.remove_passkey(node, principal, passkey_id)


def _password(node: Node, principal: Principal, form: dict[str, str]) -> None:
    own_factors.change_password(
        node, principal, form.get("current", ""), form.get("password", ""), form.get("confirm", "")
    )


def _binding(request: Request) -> bytes:
    return passkeys.binding("account-passkey", csrf.bound_secret(request) or "")


@router.post(ACCOUNT + "/totp")
async def set_totp(request: Request) -> Response:
    return await _act(request, _set_totp)


@router.post(ACCOUNT + "/totp/remove")
async def remove_totp(request: Request) -> Response:
    return await _act(request, _remove_totp)


@router.post(ACCOUNT + "/passkeys/{passkey_id}/remove")
async def remove_passkey(request: Request, passkey_id: RowId) -> Response:
    return await _act(request, _remove_passkey, passkey_id)


@router.post(ACCOUNT + "/password")
async def change_password(request: Request) -> Response:
    return await _act(request, _password)


@router.post(ACCOUNT + "/passkeys")
async def add_passkey(request: Request) -> Response:
    origin, bound = auth.request_origin(request), _binding(request)

    def add(node: Node, principal: Principal, form: dict[str, str]) -> None:
        rp = passkeys.relying_party(node.settings, origin)
        own_factors.add_passkey(
            node, principal, rp, bound, form.get("passkey", ""), form.get("label", "")
        )

    return await _act(request, add)


@router.post(ACCOUNT + "/passkeys/options")
async def passkey_options(request: Request) -> Response:
    """The WebAuthn creation options (JSON for `passkeys.js`), the challenge kept
    server-side under this session; the script sends the CSRF token as a header."""
    if not csrf.matches(csrf.bound_secret(request), request.headers.get(csrf.HEADER)):
        return _json(403, csrf.REFUSED)
    principal = await signed_in(request)
    if principal is None:
        return _json(401, "your session has ended: sign in again")
    node = auth.node_of(request)
    try:
        rp = passkeys.relying_party(node.settings, auth.request_origin(request))
        options = await blocking(
            own_factors.passkey_options, node, principal, rp, _binding(request)
        )
    except (Forbidden, InvalidInput, Unauthorized) as exc:
        return _json(exc.http_status, exc.description)
    return Response(options, media_type="application/json", headers={"Cache-Control": "no-store"})


def _json(status: int, text: str) -> Response:
    body = orjson.dumps({"title": "refused", "description": text, "http_status": str(status)})
    return Response(body, status_code=status, media_type="application/json")
