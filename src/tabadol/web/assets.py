"""The node's static files — stylesheets, scripts, the font, Swagger UI — served by the node
itself under `/static/`, so the interface and the API docs work on a network without the
internet.

Each file is served under a name that carries its content's hash (`css/base.3f2a….css`),
with a year's `immutable` cache and an ETag: a browser fetches a file once per release, and
a changed file is a new URL. Stylesheets name other files by their plain path
(`url(../fonts/…)`); those references are rewritten to the hashed URLs before the
stylesheet's own hash is taken. Text files are also kept gzip-compressed, sent to clients
that accept it. Everything is read once, on first use, from the package.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from swagger_ui_bundle import swagger_ui_path

from tabadol.domain.errors import NotFound

STATIC = Path(__file__).parent / "static"
PREFIX = "/static/"
SWAGGER_UI = "swagger-ui/"  # where Swagger UI's files are served (web.docs)
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")
MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".woff2": "font/woff2",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Asset:
    name: str  # as templates name it: `css/base.css`
    path: str  # as served, under /static/: `css/base.3f2a9c01d2e4.css`
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str

    @property
    def url(self) -> str:
        return PREFIX + self.path


class Assets:
    """Every static file, by its plain name and by its served (hashed) path."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.by_name: dict[str, Asset] = {}
        # stylesheets last: they name the other files by their hashed URLs
        for name in sorted(files, key=lambda n: (n.endswith(".css"), n)):
            body = files[name]
            if name.endswith(".css"):
                body = self._rewrite_css(name, body)
            self.by_name[name] = _asset(name, body)
        self.by_path = {asset.path: asset for asset in self.by_name.values()}

    def url(self, name: str) -> str:
        """The URL of the static file `name` (a KeyError names a missing file at once)."""
        return self.by_name[name].url

    def _rewrite_css(self, name: str, body: bytes) -> bytes:
        def hashed(match: re.Match[str]) -> str:
            target = match.group(2)
            if ":" in target or target.startswith("/"):
                return match.group(0)  # data: and absolute URLs stay as they are
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
            return f'url("{self.url(resolved)}")'

        return _CSS_URL.sub(hashed, body.decode()).encode()


def _asset(name: str, body: bytes) -> Asset:
    digest = hashlib.sha256(body).hexdigest()
    stem, dot, suffix = name.rpartition(".")
    path = f"{stem}.{digest[:12]}.{suffix}" if dot else f"{name}.{digest[:12]}"
    media_type = MEDIA_TYPES.get("." + suffix, "application/octet-stream")
    textual = media_type.startswith("text/") or suffix == "svg"
    return Asset(
        name=name,
        path=path,
        body=body,
        gzipped=gzip.compress(body, 9, mtime=0) if textual else None,
        media_type=media_type,
        etag=f'"{digest[:32]}"',
    )


def _files() -> dict[str, bytes]:
    files = {
        path.relative_to(STATIC).as_posix(): path.read_bytes()
        for path in sorted(STATIC.rglob("*"))
        if path.is_file() and path.suffix in MEDIA_TYPES
    }
    for name in SWAGGER_FILES:
        files[SWAGGER_UI + name] = (swagger_ui_path / name).read_bytes()
    return files


@functools.cache
def assets() -> Assets:
    """The node's static files, read from the package once per process."""
    return Assets(_files())


def static_url(name: str) -> str:
    return assets().url(name)


@router.get("/static/{path:path}")
def static_file(path: str, request: Request) -> Response:
    """A static file by its hashed name; `If-None-Match` answers 304."""
    asset = assets().by_path.get(path)
    if asset is None:
        raise NotFound("no such file")
    headers = {"Cache-Control": IMMUTABLE, "ETag": asset.etag}
    if asset.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=asset.media_type, headers=headers)
