"""Several worker processes on one port (`tabadol serve --workers N`, PostgreSQL).

Each worker listens on a socket of its own, bound with SO_REUSEPORT, so the kernel spreads
new connections evenly over the workers. uvicorn's own `--workers` hands every worker the same
socket: the worker that wakes first accepts every pending connection (asyncio accepts up to
the backlog at once), and under keep-alive clients one worker took most of them — measured at
1M objects with 8 wrk connections: 25 s of CPU on one worker against 4 s on the other in 20 s.
No library we use starts workers with sockets of their own, so this supervisor is written
here: start the workers, restart one that dies, stop them all on SIGINT or SIGTERM.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

from tabadol.config import load_settings

log = logging.getLogger("tabadol.workers")

STOP_TIMEOUT_S = 10.0  # then SIGKILL
_POLL_S = 0.2


def _listening_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on the port. Bound without SO_REUSEPORT, so it also fails when
    another group of workers holds it (their sockets would otherwise let ours join them and
    split that server's traffic)."""
    try:
        _listening_socket(host, port, reuse_port=False).close()
    except OSError:
        return False
    return True


def _watch_parent(parent: int, server: Any) -> None:
    """Stop this worker if the supervisor is gone (killed with SIGKILL: no SIGTERM came)."""
    while not server.should_exit:
        if os.getppid() != parent:
            server.should_exit = True
            return
        time.sleep(1.0)


def _worker(data: str, overrides: dict[str, Any], parent: int, ready: Any) -> None:
    """One worker process: its own socket, one uvicorn server, the node opened in its
    lifespan, logging configured as the settings say."""
    from tabadol.node.node import open_node
    from tabadol.web.app import create_app, settings_server
    from tabadol.web.logs import configure_logging

    settings = load_settings(Path(data), **overrides)
    configure_logging(settings.log_level, settings.log_format)
    sock = _listening_socket(settings.host, settings.port, reuse_port=True)
    sock.listen(2048)

    def open_and_report() -> Any:
        node = open_node(Path(data), **overrides)
        ready.set()  # the node opened: from here on, a death is not a failure to start
        return node

    srv = settings_server(create_app(open_and_report), settings)
    threading.Thread(target=_watch_parent, args=(parent, srv), daemon=True).start()
    srv.run(sockets=[sock])
    if not srv.started:
        raise SystemExit(3)  # the lifespan failed: the reason is in the log above


class Supervisor:
    """Starts `count` workers and keeps them running until asked to stop."""

    def __init__(self, data: Path, overrides: dict[str, Any], count: int) -> None:
        self._args = (str(data), overrides, os.getpid())
        self._count = count
        self._context = multiprocessing.get_context("spawn")  # no inherited threads or pools
        self._stop = threading.Event()
        self.failed: str | None = None

    def _start(self) -> tuple[multiprocessing.process.BaseProcess, Any]:
        ready = self._context.Event()
        process = self._context.Process(
            target=_worker, args=(*self._args, ready), name="tabadol-worker"
        )
        process.start()
        return process, ready

    def request_stop(self, *_signal: object) -> None:
        """Stop every worker (also the SIGINT and SIGTERM handler)."""
        self._stop.set()

    def run(self) -> None:
        """Until SIGINT/SIGTERM (or `request_stop`): a worker that dies is replaced; one that
        dies before its node opened stops them all (`failed` says why): a broken configuration
        would fail the same way on every restart."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self.request_stop)
            signal.signal(signal.SIGTERM, self.request_stop)
        workers = [self._start() for _ in range(self._count)]
        while not self._stop.wait(_POLL_S):
            for index, (process, ready) in enumerate(workers):
                if process.is_alive():
                    continue
                if not ready.is_set():
                    self.failed = f"a worker exited while starting (exit code {process.exitcode})"
                    self._stop.set()
                    break
                log.warning("worker %s exited (code %s): starting another", process.pid,
                            process.exitcode)  # fmt: skip
                workers[index] = self._start()
        self._stop_all([process for process, _ in workers])

    @staticmethod
    def _stop_all(processes: list[multiprocessing.process.BaseProcess]) -> None:
        for process in processes:
            process.terminate()  # SIGTERM: uvicorn's graceful stop (nothing if already gone)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(5)
