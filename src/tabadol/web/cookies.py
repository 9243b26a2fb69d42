"""The cookies the node sets, and their attributes in one place.

`tabadol_session` carries a signed-in person's session secret; `tabadol_csrf` carries a
random secret for a browser that has no session yet (the sign-in and enrolment forms bind
their CSRF token to it); `tabadol_lang` the interface language. The two secrets are
HttpOnly (no script reads them), `SameSite=Strict` (no other site's page sends them), on
`Path=/`, and `Secure` whenever the node is reached over TLS: it serves TLS itself
(`tls_cert_file`) or its `public_url` is https (a TLS-terminating proxy in front). Over TLS
the two secrets are named with the `__Host-` prefix, which browsers accept only from this
very host (Secure, Path=/, no Domain): a page on a sibling subdomain, same-site to
`SameSite`, cannot plant one (a planted session would sign the victim in as the attacker).
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

from tabadol.config import Settings

SESSION_COOKIE = "tabadol_session"
PRESESSION_COOKIE = "tabadol_csrf"
LANG_COOKIE = "tabadol_lang"
PRESESSION_SECONDS = 12 * 3600  # a sign-in form left open this long must be reloaded
LANG_SECONDS = 365 * 24 * 3600


def secure(settings: Settings) -> bool:
    """Whether browsers reach the node over TLS, so cookies must never travel without it."""
    return bool(settings.tls_cert_file) or settings.public_url.lower().startswith("https://")


def _named(name: str, settings: Settings | None) -> str:
    return f"__Host-{name}" if settings is not None and secure(settings) else name


def _settings_of(request: Request) -> Settings | None:
    node = getattr(request.app.state, "node", None)
    return node.settings if node is not None else None


def _set_secret(
    response: Response, name: str, value: str, settings: Settings, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=secure(settings),
        httponly=True,
        samesite="strict",
    )


def set_session(
    response: Response, secret: str, settings: Settings, max_age: int | None = None
) -> None:
    """Hand the browser its session secret (a browser-session cookie unless `max_age`)."""
    _set_secret(response, _named(SESSION_COOKIE, settings), secret, settings, max_age)


def clear_session(response: Response, settings: Settings) -> None:
    """Tell the browser to forget its session secret (sign-out, revoked or expired)."""
    name = _named(SESSION_COOKIE, settings)
    response.delete_cookie(
        name, path="/", secure=secure(settings), httponly=True, samesite="strict"
    )


def session_secret(request: Request) -> str | None:
    return request.cookies.get(_named(SESSION_COOKIE, _settings_of(request))) or None


def presession_secret(request: Request) -> str | None:
    return request.cookies.get(_named(PRESESSION_COOKIE, _settings_of(request))) or None


def new_presession_secret() -> str:
    return secrets.token_urlsafe(32)


def set_presession(response: Response, secret: str, settings: Settings) -> None:
    """Hand a browser without a session the secret its forms' CSRF tokens are bound to."""
    _set_secret(response, _named(PRESESSION_COOKIE, settings), secret, settings, PRESESSION_SECONDS)


def set_language(response: Response, lang: str, settings: Settings) -> None:
    """Remember the interface language chosen with `?lang=` (not a secret: scripts may read
    it; still same-site only)."""
    response.set_cookie(
        LANG_COOKIE, lang, max_age=LANG_SECONDS, path="/", secure=secure(settings),
        samesite="strict",
    )  # fmt: skip
