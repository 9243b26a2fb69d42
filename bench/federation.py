"""The federation benchmark: sync throughput, publish-to-readable latency, and a no-change
sync round against a peer holding 1,000,000 objects.

    make bench-federation      # = .venv/bin/python bench/federation.py

1. Throughput: node A (`tabadol serve`) holds both ATT&CK bundles (3,974 objects, published
   over TAXII into `members`); a fresh node B pulls them with `sync_once` (the catch-up path:
   signed requests, pages of 1,000, the directory, admission with signature checks, one
   transaction per page). Median of 3 fresh B nodes.
2. Latency: A and B both served, peered both ways; a member application of B follows B's
   change stream (`/api/v1/stream`). 200 notes are published on A one POST at a time, 50 ms
   apart; latency is from the start of the POST on A to the note's arrival in B's stream
   (B has stored it: it is readable).
3. No change: the 1M-object node of `make bench` (copied) serves as A; B is a peer caught up
   to A's head; one sync round (a signed `changes` request, the feed query, the directory
   version, B's bookkeeping) is timed 50 times. Then 10 new objects on A, and one round
   brings exactly those 10.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from attack import load_bundles
from servers import publisher_token, running, start_tabadol
from synthetic import cached_data_dir
from tabadol.domain.model import Role
from tabadol.domain.tlp import TLP
from tabadol.node.node import init_node, open_node
from tabadol.sync.client import PeerClient
from tabadol.sync.loop import sync_once
from tabadol.usecases.federation import peers
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR
from workload import Target, find_collection, ingest, open_client, percentile

RESULTS = Path(__file__).resolve().parent / "results"
TAXII = "application/taxii+json;version=2.1"


def _node(root: Path, name: str, org: str) -> tuple[Path, str]:
    data = root / name
    init_node(data)
    with open_node(data) as node:
        organizations.add_org(node, org)
        _, token = api_tokens.create_token(node, OPERATOR, org, Role.ADMIN.value)
    return data, token


def _peer(data: Path, url: str, other: Path) -> None:
    with open_node(other) as node:
        key = peers.node_card(node).node_key
    with open_node(data) as node:
        peers.add_peer(node, OPERATOR, url, key)


def _knows(data: Path, org: str) -> bool:
    with open_node(data) as node:
        return node.store.org_by_name(org) is not None


def throughput(runs: int, logs: Path) -> dict[str, Any]:
    objects = [o for _, named in load_bundles().named for o in named]
    seconds, received = [], 0
    with tempfile.TemporaryDirectory(prefix="tabadol-fed-") as tmp:
        a_data, _ = _node(Path(tmp), "A", "Org A1")
        token = publisher_token(a_data, "Org A1")
        server = start_tabadol(a_data, logs / "federation-A.log")
        with running(server, "/taxii2/"), open_client(server.base_url, bearer=token) as client:
            members = find_collection(client, "/taxii2/root/", "members")
            loaded = ingest(
                Target("A", client, f"/taxii2/root/collections/{members}/objects/"), objects
            )
            for run in range(runs):
                b_data, _ = _node(Path(tmp), f"B{run}", f"Org B{run}")
                # B is served (so that A can read B's directory and learn that B hosts a
                # member) but does not follow A itself: the pull below is what is timed
                b_server = start_tabadol(
                    b_data, logs / "federation-B.log", env={"TABADOL_SYNC_PEERS": "false"}
                )
                with running(b_server, "/taxii2/"):
                    _peer(a_data, b_server.base_url, b_data)
                    _peer(b_data, server.base_url, a_data)
                    _wait(lambda r=run: _knows(a_data, f"Org B{r}"), 30)
                    with open_node(b_data) as b:
                        (peer,) = b.store.peers()
                        started = time.perf_counter()
                        sync_once(b, peer)
                        seconds.append(time.perf_counter() - started)
                        conn = b.store._db.reader()  # type: ignore[attr-defined]
                        received = conn.execute(
                            "SELECT count(*) FROM objects WHERE via_peer IS NOT NULL"
                        ).fetchone()[0]
                rate = received / seconds[-1]
                print(f"run {run + 1}: {received} objects, {rate:,.0f}/s", file=sys.stderr)
    return {
        "objects_on_A": loaded.stored,
        "received_by_B": received,
        "seconds_each": [round(s, 3) for s in seconds],
        "objects_per_s": round(received / statistics.median(seconds), 1),
    }


def latency(count: int, logs: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tabadol-fed-") as tmp:
        a_data, a_token = _node(Path(tmp), "A", "Org A1")
        b_data, b_token = _node(Path(tmp), "B", "Org B1")
        a_server = start_tabadol(a_data, logs / "federation-latency-A.log")
        with running(a_server, "/taxii2/"):
            b_server = start_tabadol(b_data, logs / "federation-latency-B.log")
            with running(b_server, "/taxii2/"):
                _peer(a_data, b_server.base_url, b_data)
                _peer(b_data, a_server.base_url, a_data)
                return _measure_latency(
                    a_server.base_url, a_token, b_server.base_url, b_token, count
                )


def _measure_latency(
    a_url: str, a_token: str, b_url: str, b_token: str, count: int
) -> dict[str, Any]:
    arrived: dict[str, float] = {}
    stop = threading.Event()

    def follow() -> None:
        headers = {"Authorization": f"Bearer {b_token}"}
        with httpx.stream("GET", f"{b_url}/api/v1/stream", headers=headers, timeout=60) as response:
            for line in response.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("data:"):
                    now = time.perf_counter()
                    for entry in orjson.loads(line[5:])["changes"]:
                        arrived.setdefault(entry["id"], now)

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    auth = {"Authorization": f"Bearer {a_token}", "Accept": TAXII}
    with httpx.Client(base_url=a_url, headers=auth, timeout=30) as client:
        listing = client.get("/taxii2/root/collections/").json()["collections"]
        (members,) = [c["id"] for c in listing if c["title"] == "members"]
        url = f"/taxii2/root/collections/{members}/objects/"
        warm = _note("warm-up")  # the first delivery also fetches the directory
        client.post(url, json={"objects": [warm]}, headers={"Content-Type": TAXII})
        _wait(lambda: warm["id"] in arrived, 30)
        sent: dict[str, float] = {}
        for i in range(count):
            obj = _note(f"latency {i}")
            sent[obj["id"]] = time.perf_counter()
            response = client.post(url, json={"objects": [obj]}, headers={"Content-Type": TAXII})
            assert response.status_code == 202
            time.sleep(0.05)
        _wait(lambda: sent.keys() <= arrived.keys(), 60)
    stop.set()
    ms = sorted((arrived[i] - t) * 1000 for i, t in sent.items())
    return {
        "items": count,
        "p50_ms": round(percentile(ms, 50), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(ms[-1], 1),
    }


def _note(content: str) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "content": content,
        "object_refs": [f"indicator--{uuid.uuid4()}"],
    }


def _wait(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.005)


def no_change(n: int, rounds: int, logs: Path) -> dict[str, Any]:
    source, summary = cached_data_dir(n)
    with tempfile.TemporaryDirectory(prefix="tabadol-fed-1m-") as tmp:
        a_data = Path(tmp) / "A"
        shutil.copytree(source, a_data)
        b_data, _ = _node(Path(tmp), "B", "Org B1")
        token = publisher_token(a_data, "Bench Org")
        server = start_tabadol(a_data, logs / "federation-1m.log")
        with running(server, "/taxii2/"):
            _peer(a_data, "http://127.0.0.1:9", b_data)
            _peer(b_data, server.base_url, a_data)
            with open_node(b_data) as b:
                (peer,) = b.store.peers()
                client = PeerClient(peer.url, b.node_key, b.clock, peer.node_id)
                head = client.changes(0, limit=1)["head"]
                b.store.apply_peer_changes(peer.id, head, head, [], b.clock())  # caught up
                peer = b.store.peers()[0]
                sync_once(b, peer, client)  # the directory, once
                times = []
                for _ in range(rounds):
                    peer = b.store.peers()[0]
                    started = time.perf_counter()
                    peer = sync_once(b, peer, client)
                    times.append((time.perf_counter() - started) * 1000)
                with open_client(server.base_url, bearer=token) as http:
                    public = find_collection(http, "/taxii2/root/", "public")
                    fresh = [_note(f"after the 1M {i}") for i in range(10)]
                    for obj in fresh:
                        obj["object_marking_refs"] = [TLP.CLEAR.marking_id]
                    ingest(Target("A", http, f"/taxii2/root/collections/{public}/objects/"), fresh)
                conn = b.store._db.reader()  # type: ignore[attr-defined]
                before = conn.execute("SELECT count(*) FROM objects").fetchone()[0]
                started = time.perf_counter()
                sync_once(b, b.store.peers()[0], client)
                ten_ms = (time.perf_counter() - started) * 1000
                after = conn.execute("SELECT count(*) FROM objects").fetchone()[0]
                client.close()
    times.sort()
    return {
        "objects_on_A": summary["objects"],
        "rounds": rounds,
        "no_change_round_p50_ms": round(percentile(times, 50), 1),
        "no_change_round_p95_ms": round(percentile(times, 95), 1),
        "no_change_round_max_ms": round(times[-1], 1),
        "round_with_10_new_ms": round(ten_ms, 1),
        "objects_that_round_brought": after - before,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-items", type=int, default=200)
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "command": "bench/federation.py " + " ".join(sys.argv[1:]),
        "throughput": throughput(args.runs, logs),
        "latency": latency(args.latency_items, logs),
    }
    if not args.skip_scale:
        results["no_change"] = no_change(args.scale, 50, logs)
    (RESULTS / "federation.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
