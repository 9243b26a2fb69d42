"""Signing in and out: the e-mail and password form, the second-factor form (a TOTP code or
a passkey), and signing out.

Each stage hands the browser a new session cookie (the pending session's after the password,
a complete session's after the factor): a cookie planted before sign-in is never the one
that acts. One page and one status (401) for an unknown address and a wrong password; 429
with `Retry-After` while locked out. After signing in the browser goes to `next` when it is
a path on this node, else to the inbox (`auth.safe_next`).
"""

from __future__ import annotations

from urllib.parse import quote

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tabadol.domain.errors import (
    Forbidden,
    InvalidInput,
    TooManyRequests,
    Unauthorized,
)
from tabadol.domain.people import Factor
from tabadol.usecases.people import passkeys, sessions, sign_in
from tabadol.usecases.people.factors import FactorProof, factors_of
from tabadol.usecases.people.totp import TotpCode
from tabadol.web import auth, cookies, csrf
from tabadol.web.forms import blocking, message, read_form, refused, see_other, signed_in
from tabadol.web.templating import render, settings_of

router = APIRouter(include_in_schema=False)
SIGN_IN = "/sign-in"
FACTOR = "/sign-in/factor"


def _form(
    request: Request,
    next_path: str,
    problem: str = "",
    status: int = 200,
    wait: int = 0,
    *,
    session_ending: bool = False,
) -> Response:
    response = render(
        request,
        "sign_in.html",
        {"next": auth.safe_next(next_path), "problem": problem, "wait": wait, "email": ""},
        status_code=status,
        session_ending=session_ending,
    )
    if wait:
        response.headers["Retry-After"] = str(wait)
    return response


@router.get(SIGN_IN)
def sign_in_page(request: Request, next: str = "") -> Response:
    """The sign-in form: email and password, with the CSRF token of this browser."""
    return _form(request, next)


@router.post(SIGN_IN)
async def sign_in_submit(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return refused(request)
    target = auth.safe_next(form.get("next"))
    node = auth.node_of(request)
    try:
        started = await blocking(
            sign_in.sign_in,
            node,
            form.get("email", ""),
            form.get("password", ""),
            address=auth.client_address(request),
            user_agent=auth.user_agent(request),
        )
    except TooManyRequests as exc:
        wait = int(getattr(exc, "retry_after", 0) or 1)
        return _form(request, target, "locked", 429, wait)
    except Unauthorized:
        return _form(request, target, "wrong", 401)
    except Forbidden:
        return message(request, "sign-in", "factor-missing", 403)
    await _end_previous_session(request)
    where = target if started.complete else f"{FACTOR}?next={_quoted(target)}"
    response = see_other(where)
    cookies.set_session(response, started.secret, settings_of(request))
    return response


async def _end_previous_session(request: Request) -> None:
    """A browser signing in again leaves no live session behind its new cookie."""
    previous = await signed_in(request)
    if previous is not None:
        await blocking(sessions.sign_out, auth.node_of(request), previous)


def _quoted(path: str) -> str:
    return quote(path, safe="/")


def _factor_page(
    request: Request,
    factors: tuple[Factor, ...],
    next_path: str,
    problem: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "sign_in_factor.html",
        {
            "next": auth.safe_next(next_path),
            "totp": Factor.TOTP in factors,
            "passkey": Factor.PASSKEY in factors,
            "problem": problem,
        },
        status_code=status,
    )


def _restart(request: Request, problem: str = "pending-expired") -> Response:
    response = _form(request, auth.HOME, problem, 401, session_ending=True)
    cookies.clear_session(response, settings_of(request))
    return response


@router.get(FACTOR)
async def factor_page(request: Request, next: str = "") -> Response:
    """The second factor the person set up: a TOTP code, a passkey, or either."""
    secret = cookies.session_secret(request)
    if secret is None:
        return see_other(SIGN_IN)
    try:
        person = await blocking(passkeys.pending_person, auth.node_of(request), secret)
    except Unauthorized:
        return see_other(auth.sign_in_url(next or auth.HOME))
    return _factor_page(request, factors_of(person), next)


@router.post(FACTOR)
async def factor_submit(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return refused(request)
    secret = cookies.session_secret(request)
    if secret is None:
        return _restart(request)
    node = auth.node_of(request)
    target = auth.safe_next(form.get("next"))
    proof: FactorProof
    if form.get("passkey"):
        try:
            rp = passkeys.relying_party(node.settings, auth.request_origin(request))
        except InvalidInput:
            return _restart(request, "passkey")
        proof = passkeys.PasskeyAssertion(form["passkey"], rp, passkeys.binding("sign-in", secret))
    else:
        proof = TotpCode(form.get("code", ""))
    try:
        done = await blocking(
            sign_in.second_factor,
            node,
            secret,
            proof,
            address=auth.client_address(request),
            user_agent=auth.user_agent(request),
        )
    except TooManyRequests as exc:
        wait = int(getattr(exc, "retry_after", 0) or 1)
        return message(
            request, "sign-in", "locked", 429, {"wait": wait}, {"Retry-After": str(wait)}
        )
    except Unauthorized as exc:
        if exc.description == sign_in.PENDING_EXPIRED:
            return _restart(request)
        try:
            person = await blocking(passkeys.pending_person, node, secret)
        except Unauthorized:
            return _restart(request)
        problem = "passkey" if form.get("passkey") else "factor-wrong"
        return _factor_page(request, factors_of(person), target, problem, 401)
    response = see_other(target)
    cookies.set_session(response, done.secret, settings_of(request))
    return response


@router.post("/sign-in/passkey-options")
async def passkey_options(request: Request) -> Response:
    """The WebAuthn request options for the pending sign-in (JSON for `passkeys.js`); the
    challenge is kept server-side, bound to the pending session."""
    secret = cookies.session_secret(request)
    if secret is None or not csrf.matches(secret, request.headers.get(csrf.HEADER)):
        return _json_error(403, csrf.REFUSED)
    node = auth.node_of(request)
    try:
        rp = passkeys.relying_party(node.settings, auth.request_origin(request))
        person = await blocking(passkeys.pending_person, node, secret)
        options = await blocking(
            passkeys.authentication_options, node, rp, passkeys.binding("sign-in", secret), person
        )
    except (InvalidInput, Unauthorized) as exc:
        return _json_error(exc.http_status, exc.description)
    return Response(options, media_type="application/json", headers={"Cache-Control": "no-store"})


def _json_error(status: int, text: str) -> Response:
    body = orjson.dumps({"title": "refused", "description": text, "http_status": str(status)})
    return Response(body, status_code=status, media_type="application/json")


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """End this session; the cookie is cleared and the browser sent to the sign-in form."""
    form = await read_form(request)
    if form is None:
        return refused(request)
    principal = await signed_in(request)
    if principal is not None and principal.session_id is not None:
        await blocking(sessions.sign_out, auth.node_of(request), principal)
    response = see_other(SIGN_IN)
    cookies.clear_session(response, settings_of(request))
    return response
