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

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tabadol.domain.errors import Forbidden, InvalidInput, Unauthorized
from tabadol.domain.model import Principal
from tabadol.node.node import Node
from tabadol.usecases.people import own_factors, passkeys, totp
from tabadol.web import auth, csrf
from tabadol.web.account_pages import ACCOUNT, run_form
from tabadol.web.api import RowId
from tabadol.web.forms import blocking, signed_in

router = APIRouter(include_in_schema=False)


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
    return await run_form(request, _set_totp)


@router.post(ACCOUNT + "/totp/remove")
async def remove_totp(request: Request) -> Response:
    return await run_form(request, _remove_totp)


@router.post(ACCOUNT + "/passkeys/{passkey_id}/remove")
async def remove_passkey(request: Request, passkey_id: RowId) -> Response:
    return await run_form(request, _remove_passkey, passkey_id)


@router.post(ACCOUNT + "/password")
async def change_password(request: Request) -> Response:
    return await run_form(request, _password)


@router.post(ACCOUNT + "/passkeys")
async def add_passkey(request: Request) -> Response:
    origin, bound = auth.request_origin(request), _binding(request)

    def add(node: Node, principal: Principal, form: dict[str, str]) -> None:
        rp = passkeys.relying_party(node.settings, origin)
        own_factors.add_passkey(
            node, principal, rp, bound, form.get("passkey", ""), form.get("label", "")
        )

    return await run_form(request, add)


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
