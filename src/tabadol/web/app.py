"""The ASGI application factory: no import-time state; the node is opened in the lifespan."""

from __future__ import annotations

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

from tabadol import __version__
from tabadol.config import Settings
from tabadol.domain.errors import TabadolError
from tabadol.node.node import Node
from tabadol.sync.loop import SyncManager
from tabadol.text import extract
from tabadol.web import api, break_glass_api, federation_api, search_api, taxii, trust_api
from tabadol.web.errors import on_http_error, on_tabadol_error, on_unexpected, on_validation_error


def create_app(open_node: Callable[[], Node]) -> FastAPI:
    """Build the app; `open_node` runs at startup and the node is closed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        node = open_node()
        app.state.node = node
        extract.warm_up()
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

    app = FastAPI(
        title="tabadol",
        version=__version__,
        description="STIX 2.1 exchange between member organizations: TAXII 2.1 and native API.",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.include_router(taxii.router)
    app.include_router(api.router)
    app.include_router(trust_api.router)
    app.include_router(break_glass_api.router)
    app.include_router(search_api.router)
    app.include_router(federation_api.router)
    app.add_exception_handler(TabadolError, on_tabadol_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
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


def server(app: FastAPI, host: str, port: int, log_level: str) -> uvicorn.Server:
    return _Server(
        uvicorn.Config(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
    )


def run_server(app: FastAPI, settings: Settings) -> None:
    server(app, settings.host, settings.port, settings.log_level).run()


def run_servers(apps: list[tuple[FastAPI, Settings]]) -> None:
    """Several nodes in one process (the demo federation): all but the last in threads; when
    the last stops (Ctrl-C), the others stop too."""
    servers = [server(app, s.host, s.port, s.log_level) for app, s in apps]
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
