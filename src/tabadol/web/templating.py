"""Server-rendered pages: Jinja2 with autoescaping, one environment per interface language,
and the headers every page carries.

A page is rendered in the request's language (`web.i18n.choose`), with `<html lang dir>`
set from it, and gets a CSRF token for its forms (`web.csrf`), bound to the browser's
session secret or, before sign-in, to a pre-session secret minted here. Its CSP allows only
the node's own files — no inline script or style, no eval — and the page is never stored by
a cache: pages show what their reader may read.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from tabadol.config import Settings
from tabadol.web import cookies, csrf, i18n
from tabadol.web.assets import static_url

TEMPLATES = Path(__file__).parent / "templates"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@functools.cache
def environment(lang: str) -> Environment:
    """The template environment of one interface language (its catalogue installed)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        static=static_url,
        lang=lang,
        dir=i18n.DIRECTION[lang],
        languages=[(code, i18n.NAMES[code]) for code in i18n.LANGUAGES],
    )
    return env


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.node.settings
    return settings


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    *,
    session_ending: bool = False,
) -> HTMLResponse:
    """`template` rendered for this request, with the page headers and, for a browser that
    has no cookie secret yet, the pre-session cookie its forms' CSRF token is bound to.
    `session_ending`: the response clears the session cookie, so the forms are bound to a
    new pre-session (a token bound to the ending session would refuse the next submit)."""
    settings = settings_of(request)
    lang = i18n.choose(request)
    secret = None if session_ending else csrf.bound_secret(request)
    minted = None
    if secret is None:
        secret = minted = cookies.new_presession_secret()
    html = (
        environment(lang)
        .get_template(template)
        .render({**(context or {}), "csrf_token": csrf.token_for(secret), "csrf_field": csrf.FIELD})
    )
    response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
    if minted is not None:
        cookies.set_presession(response, minted, settings)
    if i18n.known(request.query_params.get("lang")) == lang:
        cookies.set_language(response, lang, settings)
    return response
