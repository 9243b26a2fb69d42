"""The ASGI application factory: no import-time state; the node is opened in the lifespan."""

from __future__ import annotations

import ssl
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

import uvicorn
from anyio import to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp

from tabadol import __version__
from tabadol.config import Settings
from tabadol.domain.errors import TabadolError
from tabadol.node.node import Node
from tabadol.sync.loop import SyncManager
from tabadol.text import extract
from tabadol.usecases.people import passwords
from tabadol.web import (
    api,
    assets,
    break_glass_api,
    docs,
    federation_api,
    pages,
    people_api,
    report_api,
    search_api,
    taxii,
    trust_api,
)
from tabadol.web.body import BodyLimit
from tabadol.web.edge import Edge
from tabadol.web.errors import (
    on_disconnect,
    on_http_error,
    on_tabadol_error,
    on_unexpected,
    on_validation_error,
)
from tabadol.web.logs import configure_logging
from tabadol.web.openapi import truthful


class _App(FastAPI):
    """FastAPI with the node's edge outside everything, Starlette's error middleware
    included: the body limit and the headers apply to every answer, a 500 too."""

    def build_middleware_stack(self) -> ASGIApp:
        def taxii_limit() -> int:
            node: Node = self.state.node
            return node.settings.max_request_bytes

        return Edge(BodyLimit(super().build_middleware_stack(), taxii_limit))

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document, corrected to what the server answers (`web.openapi`)."""
        if not getattr(self.state, "openapi_corrected", False):
            self.openapi_schema = truthful(super().openapi())
            self.state.openapi_corrected = True
        assert self.openapi_schema is not None
        return self.openapi_schema


def create_app(open_node: Callable[[], Node]) -> FastAPI:
    """Build the app; `open_node` runs at startup and the node is closed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        node = open_node()
        app.state.node = node
        extract.warm_up()
        passwords.warm_up(node.settings)  # an unknown address costs what a wrong password does
        sync = SyncManager(node) if node.settings.sync_peers else None
        if sync is not None:
            sync.start()
        # Bound the threads that run blocking handlers: each may open a SQLite reader with
        # its own page cache (anyio's default of 40 let RSS reach 691 MB under 32 clients).
        to_thread.current_default_thread_limiter().total_tokens = node.settings.worker_threads
        try:
            yield
        finally:
            if sync is not None:
                sync.stop()
            node.close()

    app = _App(
        title="tabadol",
        version=__version__,
        description="STIX 2.1 exchange between member organizations: TAXII 2.1 and native API.",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # web.docs serves it, with its assets from the node
        redoc_url=None,
        # No redirect to the path with a slash: Starlette builds its Location from `Host`.
        redirect_slashes=False,
    )
    routers = [
        taxii.router,
        api.router,
        trust_api.router,
        break_glass_api.router,
        people_api.router,
        report_api.router,
        search_api.router,
        federation_api.router,
        docs.router,
        pages.router,
        assets.router,
    ]
    for router in routers:
        app.include_router(router)
    app.state.routes = [route for router in routers for route in router.routes]  # for `Allow`
    app.add_exception_handler(TabadolError, on_tabadol_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(ClientDisconnect, on_disconnect)
    app.add_exception_handler(Exception, on_unexpected)
    return app


class _Server(uvicorn.Server):
    """uvicorn, ending the change streams as soon as it is asked to stop: they would otherwise
    hold the shutdown for minutes (their readers resume from their cursor)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        end_streams(self.config.app)
        super().handle_exit(sig, frame)


def end_streams(app: Any) -> None:
    node = getattr(getattr(app, "state", None), "node", None)
    if node is not None:
        node.changes.close()


def server(
    app: FastAPI,
    host: str,
    port: int,
    log_level: str,
    *,
    tls_cert_file: str = "",
    tls_key_file: str = "",
) -> uvicorn.Server:
    """uvicorn as the node runs it: logging left to the node (`web.logs`; uvicorn's access
    log is replaced by `web.edge`'s), forwarded headers not trusted (the node never builds
    anything from them), no `Server` header, HTTPS when given a certificate and its key."""
    return _Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level.lower(),
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=5,
            ssl_certfile=tls_cert_file or None,
            ssl_keyfile=tls_key_file or None,
        )
    )


def settings_server(app: FastAPI, settings: Settings) -> uvicorn.Server:
    return server(
        app,
        settings.host,
        settings.port,
        settings.log_level,
        tls_cert_file=settings.tls_cert_file,
        tls_key_file=settings.tls_key_file,
    )


def tls_problem(settings: Settings) -> str | None:
    """Why the certificate and key of the settings cannot serve HTTPS, or None (checked
    before serving, so that a bad file is one line, not uvicorn's traceback)."""
    if not settings.tls_cert_file:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
    except (OSError, ssl.SSLError) as exc:
        what = f"{settings.tls_cert_file} / {settings.tls_key_file}"
        return f"TLS certificate and key {what}: {getattr(exc, 'strerror', None) or exc}"
    return None


def run_server(app: FastAPI, settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_format)
    settings_server(app, settings).run()


def run_servers(apps: list[tuple[FastAPI, Settings]]) -> None:
    """Several nodes in one process (the demo federation): all but the last in threads; when
    the last stops (Ctrl-C), the others stop too."""
    configure_logging(apps[-1][1].log_level, apps[-1][1].log_format)
    servers = [settings_server(app, s) for app, s in apps]
    threads = [threading.Thread(target=srv.run, daemon=True) for srv in servers[:-1]]
    for thread in threads:
        thread.start()
    try:
        servers[-1].run()
    finally:
        for srv in servers[:-1]:
            end_streams(srv.config.app)
            srv.should_exit = True
        for thread in threads:
            thread.join(10)
