"""Enrolment (and password reset) by a one-time link: `/enrol/{secret}`.

The page asks for the password twice and, where the policy asks the person for a second
factor they do not have (admins, or everyone under `second_factor = "all"`), for one: an
authenticator app (the TOTP secret shown as text and as a QR code drawn on the server as
SVG by `segno`, confirmed by a code) or a passkey (the WebAuthn ceremony run by
`static/js/passkeys.js`, its challenge kept server-side and bound to this browser and this
link). Everything is sent in one form and written in one transaction by
`enrolment.redeem`: a refused form writes nothing. A used, replaced or expired link is a
page that says so (410), whatever was sent.
"""

from __future__ import annotations

import re

import orjson
import segno
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tabadol.domain.errors import Conflict, InvalidInput, NotFound
from tabadol.node.node import Node
from tabadol.usecases.people import enrolment, passkeys, passwords, totp, weak_passwords
from tabadol.web import auth, csrf
from tabadol.web.forms import blocking, message, read_form, refused
from tabadol.web.templating import render

router = APIRouter(include_in_schema=False)
_BASE32 = re.compile(r"^[A-Z2-7]{32}$")
PROBLEMS = (  # what a refusal of the use case says, as the page words it
    ("the password must have at least", "short"),
    ("the password must have at most", "long"),
    ("the password must not be your e-mail", "email-password"),
    ("this password is one of the most common", "common"),
    ("your role needs a second factor", "factor-needed"),
    ("the code does not match", "totp-code"),
    ("the TOTP secret is not", "totp-code"),
    (passkeys.NOT_ACCEPTED, "passkey"),
    ("this passkey is registered already", "passkey"),
)


def problem_of(error: InvalidInput | Conflict) -> str:
    for start, code in PROBLEMS:
        if error.description.startswith(start):
            return code
    return "invalid"


def qr_of(uri: str) -> str:
    """The provisioning URI as a QR code: an SVG `data:` URL (no script, no inline style)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=4, border=2))


def _page(
    request: Request,
    node: Node,
    secret: str,
    view: enrolment.LinkView,
    totp_secret: str,
    problem: str = "",
    detail: str = "",
    status: int = 200,
) -> Response:
    uri = totp.provisioning_uri(node, totp_secret, view.person.email)
    return render(
        request,
        "enrol.html",
        {
            "action": f"/enrol/{secret}",
            "email": view.person.email,
            "org": view.org_name,
            "reset": view.purpose.value == "reset",
            "factor": view.second_factor_required,
            "totp_secret": totp_secret,
            "totp_grouped": " ".join(re.findall(".{1,4}", totp_secret)),
            "qr": qr_of(uri),
            "problem": problem,
            "detail": detail,
        },
        status_code=status,
    )


def _gone(request: Request) -> Response:
    return message(request, "enrol", "link-gone", 410)


@router.get("/enrol/{secret}")
async def enrol_page(request: Request, secret: str) -> Response:
    node = auth.node_of(request)
    try:
        view = await blocking(enrolment.open_link, node, secret)
    except NotFound:
        return _gone(request)
    return _page(request, node, secret, view, totp.new_secret())


def _check_password(password: str, confirm: str, email: str) -> None:
    if password != confirm:
        raise InvalidInput("the two passwords differ")
    passwords.check_new_password(password)
    weak_passwords.check_choice(password, email)


def _enrol(node: Node, secret: str, rp_origin: str, bound: bytes, form: dict[str, str]) -> None:
    """Redeem the link with what the form holds (InvalidInput, NotFound when it cannot)."""
    view = enrolment.open_link(node, secret)
    password = form.get("password", "")
    _check_password(password, form.get("confirm", ""), view.person.email)
    setup = None
    passkey: passkeys.NewPasskey | None = None
    if form.get("passkey"):
        rp = passkeys.relying_party(node.settings, rp_origin)
        passkey = passkeys.verify_registration(node, rp, bound, form["passkey"], "enrolment")
    elif form.get("code", "").strip():
        setup = totp.TotpSetup(form.get("totp_secret", ""), form["code"])
    enrolment.redeem(node, secret, password, totp=setup, passkey=passkey)


@router.post("/enrol/{secret}")
async def enrol_submit(request: Request, secret: str) -> Response:
    form = await read_form(request)
    if form is None:
        return refused(request)
    node = auth.node_of(request)
    bound = passkeys.binding("enrol", csrf.bound_secret(request) or "", secret)
    try:
        await blocking(_enrol, node, secret, auth.request_origin(request), bound, form)
    except NotFound:
        return _gone(request)
    except (InvalidInput, Conflict) as exc:  # Conflict: that passkey is registered already
        try:
            view = await blocking(enrolment.open_link, node, secret)
        except NotFound:
            return _gone(request)
        kept = form.get("totp_secret", "")
        totp_secret = kept if _BASE32.match(kept) else totp.new_secret()
        problem = "mismatch" if exc.description == "the two passwords differ" else problem_of(exc)
        return _page(request, node, secret, view, totp_secret, problem, exc.description, 400)
    return message(request, "enrolled", "enrolled", 200)


@router.post("/enrol/{secret}/passkey-options")
async def enrol_passkey_options(request: Request, secret: str) -> Response:
    """The WebAuthn creation options for the person of this link (JSON for `passkeys.js`);
    the challenge is kept server-side, bound to this browser and this link."""
    bound_secret = csrf.bound_secret(request)
    if not csrf.matches(bound_secret, request.headers.get(csrf.HEADER)):
        return _json(403, csrf.REFUSED)
    node = auth.node_of(request)
    try:
        view = await blocking(enrolment.open_link, node, secret)
        rp = passkeys.relying_party(node.settings, auth.request_origin(request))
        bound = passkeys.binding("enrol", bound_secret or "", secret)
        options = await blocking(passkeys.registration_options, node, rp, bound, view.person)
    except (NotFound, InvalidInput) as exc:
        return _json(exc.http_status, exc.description)
    return Response(options, media_type="application/json", headers={"Cache-Control": "no-store"})


def _json(status: int, text: str) -> Response:
    body = orjson.dumps({"title": "refused", "description": text, "http_status": str(status)})
    return Response(body, status_code=status, media_type="application/json")
