"""Several worker processes on one PostgreSQL database (`tabadol serve --workers 2`): writers
and readers at once, across workers — no gap, no duplicate, no lost write; `next` tokens and
change streams work whichever worker serves them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tabadol.config import Settings
from tabadol.domain.model import Role
from tabadol.services import directory
from tabadol.services.directory import OPERATOR
from tabadol.services.node import init_node, open_node

from .conftest import free_port
from .federation import TAXII, note
from .pg import database_url, fresh_schema


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A node on PostgreSQL served by two worker processes: (url, token, members id)."""
    data = tmp_path / "node"
    init_node(data, Settings(database_url=database_url(), database_schema=fresh_schema()))
    with open_node(data) as node:
        directory.add_org(node, "Org W")
        _, token = directory.create_token(node, OPERATOR, "Org W", Role.PUBLISHER.value)
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
        yield url, token, members
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_writers_and_readers_on_two_workers(workers: tuple[str, str, str]) -> None:
    url, token, members = workers
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
