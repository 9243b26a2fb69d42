"""Several worker processes on one PostgreSQL database (`tabadol serve --workers 2`): writers
and readers at once, across workers — no gap, no duplicate, no lost write; `next` tokens and
change streams work whichever worker serves them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tabadol.config import Settings
from tabadol.domain.model import Role
from tabadol.node.node import init_node, open_node
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR

from ..conftest import free_port
from ..federation.nodes import TAXII, note
from ..pg import database_url, fresh_schema


@dataclass
class Served:
    url: str
    token: str
    members: str  # the members collection's id
    process: subprocess.Popen[bytes]  # the supervisor (`tabadol serve --workers 2`)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Served]:
    """A node on PostgreSQL served by two worker processes."""
    data = tmp_path / "node"
    init_node(data, Settings(database_url=database_url(), database_schema=fresh_schema()))
    with open_node(data) as node:
        organizations.add_org(node, "Org W")
        _, token = api_tokens.create_token(node, OPERATOR, "Org W", Role.PUBLISHER.value)
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tabadol", "serve", "--data", str(data), "--port", str(port),
         "--workers", "2"],
        env={**os.environ, "TABADOL_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                listing = httpx.get(
                    f"{url}/taxii2/root/collections/",
                    headers={"Authorization": f"Bearer {token}", "Accept": TAXII},
                    timeout=2,
                )
                if listing.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError((tmp_path / "serve.log").read_text())
            time.sleep(0.1)
        (members,) = [c["id"] for c in listing.json()["collections"] if c["title"] == "members"]
        yield Served(url, token, members, process)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_writers_and_readers_on_two_workers(workers: Served) -> None:
    url, token, members = workers.url, workers.token, workers.members
    auth = {"Authorization": f"Bearer {token}", "Accept": TAXII}
    acknowledged: list[str] = []
    lock = threading.Lock()
    done = threading.Event()

    def write(seed: int) -> None:
        for i in range(20):
            batch = [note(f"worker test {seed} {i} {j}") for j in range(10)]
            response = httpx.post(  # a new connection each time: either worker may take it
                f"{url}/taxii2/root/collections/{members}/objects/",
                json={"objects": batch},
                headers={**auth, "Content-Type": TAXII},
                timeout=30,
            )
            assert response.status_code == 202
            assert response.json()["success_count"] == 10
            with lock:
                acknowledged.extend(o["id"] for o in batch)

    seen: list[str] = []

    def follow() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            page = httpx.get(
                f"{url}/api/v1/changes", params={"after": cursor}, headers=auth, timeout=30
            ).json()
            seen.extend(e["id"] for e in page["changes"] if e["id"].startswith("note--"))
            cursor = page["cursor"]
            if finished and not page["changes"]:
                return

    streamed: list[str] = []

    def stream() -> None:
        with httpx.stream("GET", f"{url}/api/v1/stream", headers=auth, timeout=30) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    body: dict[str, Any] = orjson.loads(line[5:])
                    streamed.extend(e["id"] for e in body["changes"] if e["id"].startswith("note"))
                if len(set(streamed)) >= 600:
                    return

    follower, streamer = threading.Thread(target=follow), threading.Thread(target=stream)
    follower.start()
    streamer.start()
    writers = [threading.Thread(target=write, args=(seed,)) for seed in range(3)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(120)
    done.set()
    follower.join(60)
    streamer.join(60)
    assert len(acknowledged) == 600
    assert sorted(seen) == sorted(acknowledged)  # every write, once, in a gap-free feed
    assert sorted(set(streamed)) == sorted(acknowledged)
    # TAXII paging with `next` tokens, each page on a new connection (any worker)
    paged: list[str] = []
    params: dict[str, str] = {"limit": "70"}
    for _ in range(100):
        page = httpx.get(
            f"{url}/taxii2/root/collections/{members}/objects/", params=params, headers=auth
        ).json()
        paged += [o["id"] for o in page.get("objects", []) if o["id"].startswith("note--")]
        if not page.get("more"):
            break
        params = {"limit": "70", "next": page["next"]}
    assert sorted(paged) == sorted(acknowledged)


def _worker_pids(supervisor: int) -> list[int]:
    """The supervisor's worker processes (its children that run a server: not multiprocessing's
    resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == supervisor and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _connections_by_pid(port: int) -> dict[int, int]:
    """Established connections to `port`, counted by the process that holds them (from
    /proc/net/tcp and each process's socket descriptors)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    counts: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:
            continue
        held = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)
        if held:
            counts[int(entry.name)] = held
    return counts


def _both_serving(workers: Served, pids: list[int]) -> None:
    """Wait until each worker has answered a request on a connection of its own."""
    port = int(workers.url.rsplit(":", 1)[1])
    auth = {"Authorization": f"Bearer {workers.token}", "Accept": TAXII}
    clients: list[httpx.Client] = []
    try:
        for _ in range(64):
            client = httpx.Client(base_url=workers.url, headers=auth, timeout=10)
            clients.append(client)
            assert client.get("/taxii2/root/collections/").status_code == 200
            held = _connections_by_pid(port)
            if all(held.get(pid) for pid in pids):
                return
        raise AssertionError(f"a worker never served: {held}")
    finally:
        for client in clients:
            client.close()


def test_connections_spread_over_the_workers(workers: Served) -> None:
    """Each worker listens on a socket of its own (SO_REUSEPORT): 32 keep-alive connections
    opened at once land on both workers, not all on the one that woke first."""
    pids = _worker_pids(workers.process.pid)
    assert len(pids) == 2
    port = int(workers.url.rsplit(":", 1)[1])
    auth = {"Authorization": f"Bearer {workers.token}", "Accept": TAXII}
    clients = [httpx.Client(base_url=workers.url, headers=auth, timeout=10) for _ in range(32)]
    try:
        for client in clients:
            assert client.get("/taxii2/root/collections/").status_code == 200
        held = _connections_by_pid(port)
        served = {pid: held.get(pid, 0) for pid in pids}
        assert sum(served.values()) == 32, held
        # by the address hash: one worker with fewer than 4 of 32 has a chance below 1e-5
        assert min(served.values()) >= 4, served
    finally:
        for client in clients:
            client.close()


def test_a_killed_worker_is_replaced_and_stop_ends_them_all(workers: Served) -> None:
    """SIGKILL of a worker: the supervisor starts another and the node keeps serving. SIGTERM
    of the supervisor: every worker stops, none is left behind."""
    auth = {"Authorization": f"Bearer {workers.token}", "Accept": TAXII}
    first = _worker_pids(workers.process.pid)
    _both_serving(workers, first)  # a worker killed before it served would stop them all
    os.kill(first[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        now = _worker_pids(workers.process.pid)
        if len(now) == 2 and first[0] not in now:
            break
        assert time.monotonic() < deadline, now
        time.sleep(0.2)
    for _ in range(20):  # new connections: some reach the new worker once it listens
        response = httpx.get(f"{workers.url}/taxii2/root/collections/", headers=auth, timeout=10)
        assert response.status_code == 200
    workers.process.send_signal(signal.SIGTERM)
    assert workers.process.wait(30) == 0
    for pid in now:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        )


def test_a_taken_port_is_one_line_and_no_worker_starts(tmp_path: Path) -> None:
    """Another server on the port (even one that would let a SO_REUSEPORT socket join it):
    `serve --workers 2` refuses with one line and exit code 1."""
    data = tmp_path / "node"
    init_node(data, Settings(database_url=database_url(), database_schema=fresh_schema()))
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "tabadol", "serve", "--data", str(data), "--port", str(port),
             "--workers", "2"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.strip() == f"error: 127.0.0.1:{port} is in use"
    assert "Traceback" not in run.stderr + run.stdout
