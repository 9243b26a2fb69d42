"""Start, probe and stop the servers under test, each in its own process on 127.0.0.1.

Every server is a child process we own: `running()` stops it on any exit (terminate, then
kill after a grace period), so an interrupted benchmark leaves no stray listener. Peak memory
is read from the kernel (`VmHWM` in /proc/PID/status): the server's own high-water mark,
not a sample we might miss.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0


def free_port() -> int:
    """A loopback port nobody listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server process on a loopback port, with the log it writes."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def memory_kib(self) -> dict[str, int]:
        """VmHWM (peak RSS), VmRSS, RssAnon and RssFile of the server process, in KiB."""
        wanted = ("VmHWM", "VmRSS", "RssAnon", "RssFile")
        found: dict[str, int] = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in wanted:
                found[key] = int(value.split()[0])
        return found

    def memory_mb(self) -> dict[str, float]:
        """`memory_kib` in MB (10^6 bytes, the unit the targets are stated in)."""
        return {k: round(v * 1024 / 1e6, 1) for k, v in self.memory_kib().items()}

    def stop(self) -> None:
        """Terminate (uvicorn and Flask shut down cleanly on SIGTERM), kill if it hangs."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_GRACE_S)


def _spawn(
    name: str, argv: Sequence[str], port: int, log_path: Path, env: dict[str, str]
) -> Server:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(argv), stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env}
        )
    return Server(name, process, port, log_path)


def _wait_until_up(server: Server, probe_path: str, timeout: float = STARTUP_TIMEOUT_S) -> None:
    """Poll until the server answers HTTP at all (any status); fail if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited at start; see {server.log_path}")
        try:
            httpx.get(server.base_url + probe_path, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s")


@contextmanager
def running(server: Server, probe_path: str) -> Iterator[Server]:
    """Wait for `server` to answer, yield it, and stop it whatever happens."""
    try:
        _wait_until_up(server, probe_path)
        yield server
    finally:
        server.stop()


def tabadol_cli(*args: str, env: dict[str, str] | None = None) -> str:
    """Run `python -m tabadol ARGS` (the real CLI an operator uses); return its stdout.
    `env` adds variables (e.g. PYTHONPATH to run another checkout of tabadol)."""
    done = subprocess.run(
        [sys.executable, "-m", "tabadol", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        raise RuntimeError(f"tabadol {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def publisher_token(data_dir: Path, org: str, env: dict[str, str] | None = None) -> str:
    """A fresh publisher token of `org`: the CLI prints the secret as its last stdout line."""
    out = tabadol_cli(
        "token", "create", org, "--data", str(data_dir), "--role", "publisher", env=env
    )
    return out.strip().splitlines()[-1]


def start_tabadol(data_dir: Path, log_path: Path, env: dict[str, str] | None = None) -> Server:
    """`tabadol serve` on a free loopback port, access log off (warning level)."""
    port = free_port()
    argv = [sys.executable, "-m", "tabadol", "serve", "--data", str(data_dir)]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    return _spawn("tabadol", argv, port, log_path, {"TABADOL_LOG_LEVEL": "warning", **(env or {})})


def start_medallion(python: Path, config: Path, port: int, log_path: Path) -> Server:
    """medallion's own entry point (Flask's threaded server), as its docs run it."""
    argv = [str(python), "-m", "medallion.scripts.run", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "WARN", str(config)]
    return _spawn("medallion", argv, port, log_path, {})
