"""The write side of the workspace: a form for a report or a note (`/write`), the triage of
the indicators found in its text (POST `/write`), and its publication (POST
`/write/publish`, then the item's page `/items/{id}`), over `usecases.publishing.authoring`.

The audiences offered are the channels the person may publish into, each with the TLPs its
audience allows (a reader or a guest gets a 403 page instead of the form). A form is read
whole, strictly: its CSRF token first, then its text as UTF-8 (a byte that is not is a
message, never a replacement character published). Every refusal is a page that says what
was wrong, with the person's fields kept, and nothing written.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tabadol.domain.errors import Forbidden, InvalidInput, Refused
from tabadol.domain.model import Principal
from tabadol.domain.tlp import TLP
from tabadol.text.extract import Indicator
from tabadol.text.language import LANGUAGES
from tabadol.usecases.publishing import authoring
from tabadol.usecases.publishing.admission import SEALED_TLPS
from tabadol.web import auth, cookies, csrf
from tabadol.web.forms import blocking, message, see_other, signed_in, to_sign_in
from tabadol.web.templating import render, settings_of

router = APIRouter(include_in_schema=False)
WRITE = "/write"
PUBLISH = "/write/publish"
FORM_PATHS = frozenset({WRITE, PUBLISH})
# The largest form body these pages read: a 1 MiB text sent percent-encoded (3 bytes per
# byte of Persian or Arabic UTF-8), twice over on the triage page, with room to spare.
FORM_LIMIT = 8 * 1024 * 1024
_FIELDS = ("kind", "title", "text", "channel", "tlp", "language", "confidence")
_MAX_FIELDS = authoring.MAX_INDICATORS + 2 * len(_FIELDS)
_FORM = "application/x-www-form-urlencoded"


class _Unreadable(InvalidInput):
    """A form that cannot be read: `problem` says why (a page words it)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


async def _read(request: Request) -> tuple[dict[str, str], list[str]]:
    """The form's fields and its kept indicators, its CSRF token checked before its text
    is decoded (strictly: invalid UTF-8 is refused, not replaced)."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != _FORM:
        raise _Unreadable("form")
    body = await request.body()
    try:
        lenient = dict(parse_qsl(body.decode("latin-1"), max_num_fields=_MAX_FIELDS))
    except ValueError:
        raise _Unreadable("form") from None
    if not csrf.matches(csrf.bound_secret(request), lenient.get(csrf.FIELD)):
        raise _Unreadable("csrf")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=_MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise _Unreadable("utf8") from None
    fields = {k: v for k, v in pairs if k in _FIELDS}
    kept = [v for k, v in pairs if k == "keep"]
    return fields, kept


def _channel_view(channel: authoring.Channel, org_id: int | None) -> dict[str, Any]:
    c = channel.collection
    return {
        "id": c.uuid,
        "title": c.title,
        "kind": c.kind.value,
        "own": c.kind.value == "org" and c.ref == org_id,
        "tlps": " ".join(t.name.lower() for t in channel.tlps),
        "sealed": " ".join(t.name.lower() for t in channel.sealed_tlps),
    }


def _tlp_options() -> list[dict[str, Any]]:
    return [{"value": t.name.lower(), "label": t.label, "sealed": t in SEALED_TLPS} for t in TLP]


def _form_view(
    principal: Principal, channels: list[authoring.Channel], fields: dict[str, str]
) -> dict[str, Any]:
    views = [_channel_view(c, principal.org_id) for c in channels]
    default = next((v["id"] for v in views if v["kind"] == "group"), views[0]["id"])
    return {
        "org": principal.org.name if principal.org else "",
        "channels": views,
        "tlps": _tlp_options(),
        "text_languages": LANGUAGES,
        "field": {
            "kind": "report",
            "title": "",
            "text": "",
            "channel": default,
            "tlp": "amber",
            "language": "",
            "confidence": "",
            **fields,
        },
        "problem": "",
        "detail": "",
    }


async def _channels(request: Request, principal: Principal) -> list[authoring.Channel]:
    return await blocking(authoring.writable_channels, auth.node_of(request), principal)


def _may_not_write(request: Request) -> Response:
    return message(request, "refused", "write-forbidden", 403)


async def _write_form(
    request: Request,
    principal: Principal,
    fields: dict[str, str],
    status: int = 200,
    problem: str = "",
    detail: str = "",
) -> Response:
    channels = await _channels(request, principal)
    if not channels:
        return _may_not_write(request)
    view = _form_view(principal, channels, fields) | {"problem": problem, "detail": detail}
    return render(request, "write.html", view, status_code=status)


def _status_of(refusal: authoring.DraftRefused) -> int:
    if refusal.field in ("tlp", "audience"):
        return 403
    if refusal.field == "text" and "longer than" in refusal.description:
        return 413
    return 400


async def _unreadable(request: Request, problem: str) -> Response:
    """The page of a form that could not be read: refused (CSRF), or its fields unreadable
    (not UTF-8, not a form) — shown on the write form when the person is signed in."""
    if problem == "csrf":
        return message(request, "refused", "csrf", 403)
    principal = await signed_in(request)
    if principal is None:
        return to_sign_in(request)
    return await _write_form(request, principal, {}, 400, problem)


def _session_ended(request: Request) -> Response:
    """A form posted after the session ended: say so (nothing was published) and offer
    the sign-in form, coming back to the write form."""
    response = message(request, "signed-out", "session-ended", 401)
    if cookies.session_secret(request) is not None:
        cookies.clear_session(response, settings_of(request))
    return response


def _draft(fields: dict[str, str], keep: frozenset[Indicator] | None) -> authoring.Draft:
    return authoring.Draft(
        kind=fields.get("kind", ""),
        title=fields.get("title", ""),
        text=fields.get("text", ""),
        channel=fields.get("channel", ""),
        tlp=fields.get("tlp", ""),
        language=fields.get("language", ""),
        confidence=fields.get("confidence", ""),
        keep=keep,
    )


@router.get(WRITE)
async def write_page(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return to_sign_in(request)
    return await _write_form(request, principal, {})


async def _posted(request: Request) -> tuple[Principal, dict[str, str], list[str]] | Response:
    """The signed-in person and their form, or the page that refuses it."""
    try:
        fields, kept = await _read(request)
    except _Unreadable as exc:
        return await _unreadable(request, exc.problem)
    principal = await signed_in(request)
    if principal is None:
        return _session_ended(request)
    return principal, fields, kept


@router.post(WRITE)
async def triage(request: Request) -> Response:
    """The draft checked and the indicators of its text listed, each to keep or drop."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    principal, fields, _ = posted
    node = auth.node_of(request)
    try:
        checked = await blocking(authoring.check_draft, node, principal, _draft(fields, None))
    except Forbidden:
        return _may_not_write(request)
    except authoring.DraftRefused as exc:
        return await _write_form(
            request, principal, fields, _status_of(exc), "draft-" + exc.field, exc.description
        )
    view = {
        "field": {k: fields.get(k, "") for k in _FIELDS},
        "indicators": [{"type": i.type, "value": i.value} for i in checked.indicators],
        "channel": _channel_view(checked.channel, principal.org_id),
        "tlp": checked.tlp.label,
        "sealed": checked.tlp in SEALED_TLPS,
        "language": checked.language or "",
        "problem": "",
        "detail": "",
    }
    return render(request, "write_triage.html", view)


@router.post(PUBLISH)
async def publish(request: Request) -> Response:
    """Publish the draft with the indicators kept, as one envelope; then its page."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    principal, fields, kept = posted
    node = auth.node_of(request)
    draft = _draft(fields, authoring.indicators_named(kept))
    try:
        published = await blocking(authoring.publish_draft, node, principal, draft)
    except Forbidden:
        return _may_not_write(request)
    except authoring.DraftRefused as exc:
        return await _write_form(
            request, principal, fields, _status_of(exc), "draft-" + exc.field, exc.description
        )
    except Refused as exc:
        return await _write_form(request, principal, fields, 409, "refused", exc.description)
    return see_other("/items/" + quote(published.id, safe=""))
