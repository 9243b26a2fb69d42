"""Part 1: the MITRE ATT&CK bundles over TAXII 2.1, tabadol and medallion side by side.

Both servers get the same envelopes, the same full read and the same filtered queries from
the same client code. tabadol is set up exactly as an operator would (`tabadol init`,
`org add`, `token create`, `serve`); medallion as its documentation describes (memory
backend, one API root, one collection, basic auth).
"""

from __future__ import annotations

import random
import statistics
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

import medallion_env
from floor import raw_floor
from servers import (
    Server,
    free_port,
    publisher_token,
    running,
    start_medallion,
    start_tabadol,
    tabadol_cli,
)
from workload import (
    FullRead,
    Ingest,
    Query,
    Target,
    find_collection,
    full_read,
    ingest,
    measure,
    open_client,
    warm_up,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # beside the repo, as in tests
BUNDLES = ("ics-attack-18.1.json", "mobile-attack-17.1.json")
ORG = "Bench Org"
PAGE = 1000  # `limit` of the full read and of the filtered queries (both servers honour it)
IDS_PER_QUERY = 10
TYPE_QUERY = "attack-pattern"


@dataclass
class Plan:
    """How much to measure; a slow server gets a time budget instead of a request count."""

    max_requests: int
    budget_s: float
    full_reads: int
    ingest_runs: int = 3  # each on a fresh, empty server


@dataclass
class Bundles:
    """The two bundles' objects, and what the filtered queries must return."""

    named: list[tuple[str, list[Any]]]
    ids: list[str]
    type_matches: int  # distinct ids of TYPE_QUERY

    @property
    def total(self) -> int:
        return sum(len(objects) for _, objects in self.named)


def load_bundles(data: Path = DATA) -> Bundles:
    """Read the bundles from the shared data folder (they are never copied into the repo)."""
    named = [(name, orjson.loads((data / name).read_bytes())["objects"]) for name in BUNDLES]
    every = [obj for _, objects in named for obj in objects]
    ids = sorted({obj["id"] for obj in every})
    types = {obj["id"] for obj in every if obj["type"] == TYPE_QUERY}
    return Bundles(named, ids, len(types))


def _id_queries(ids: Sequence[str], seed: int) -> Iterator[Query]:
    """Endless `match[id]` requests of IDS_PER_QUERY random ids (same seed: same ids for
    both servers)."""
    rng = random.Random(seed)
    while True:
        chosen = rng.sample(list(ids), IDS_PER_QUERY)
        yield Query({"match[id]": ",".join(chosen), "limit": str(PAGE)})


def _repeat(params: dict[str, str]) -> Iterator[Query]:
    while True:
        yield Query(dict(params))


def ingest_bundles(target: Target, bundles: Bundles) -> dict[str, Ingest]:
    """POST both bundles, ICS then Mobile, 500 objects per envelope."""
    return {name: ingest(target, objects) for name, objects in bundles.named}


def _ingest_figures(runs: list[dict[str, Ingest]], total: int) -> dict[str, Any]:
    """Median rate over runs on fresh servers (one run lasts under a second: noisy alone)."""
    seconds = [sum(i.seconds for i in run.values()) for run in runs]
    last = runs[-1]
    return {
        "objects": total,
        "runs": len(runs),
        "stored": sum(i.stored for i in last.values()),
        "failed": sum(i.failed for i in last.values()),
        "seconds_median": round(statistics.median(seconds), 3),
        "objects_per_s": round(total / statistics.median(seconds), 1),
        "objects_per_s_each": [round(total / s, 1) for s in seconds],
        "per_bundle_objects_per_s": {n: round(i.objects_per_s, 1) for n, i in last.items()},
    }


def _read_figures(reads: list[FullRead]) -> dict[str, Any]:
    return {
        "objects": reads[0].objects,
        "pages": reads[0].pages,
        "runs": len(reads),
        "seconds_median": round(statistics.median(r.seconds for r in reads), 4),
        "wall_seconds_median": round(statistics.median(r.wall_seconds for r in reads), 4),
        "first_page_s": round(statistics.median(r.first_page_s for r in reads), 4),
        "objects_per_s": round(statistics.median(r.objects_per_s for r in reads), 1),
    }


def exercise(
    target: Target, bundles: Bundles, plan: Plan, earlier: list[dict[str, Ingest]]
) -> dict[str, Any]:
    """Ingest both bundles, read everything back, run the three filtered queries."""
    ingests = ingest_bundles(target, bundles)
    stamps = [s for done in ingests.values() for s in done.request_timestamps]
    mid = stamps[len(stamps) // 2]
    reads = [full_read(target, PAGE) for _ in range(plan.full_reads)]
    queries = {
        "match_type": _repeat({"match[type]": TYPE_QUERY, "limit": str(PAGE)}),
        "match_id": _id_queries(bundles.ids, seed=42),
        "added_after": _repeat({"added_after": mid, "limit": str(PAGE)}),
    }
    warm_up(target, _id_queries(bundles.ids, seed=1), n=3)
    latency = {
        name: measure(
            target, name, requests, max_requests=plan.max_requests, budget_s=plan.budget_s
        ).as_dict()
        for name, requests in queries.items()
    }
    return {
        "ingest": _ingest_figures([*earlier, ingests], bundles.total),
        "full_read": _read_figures(reads),
        "added_after": mid,
        "latency": latency,
    }


@dataclass
class Session:
    """A freshly started, empty server and a client bound to its collection."""

    target: Target
    server: Server
    db: Path | None  # tabadol's SQLite file (for the raw floor)
    collection: str


@contextmanager
def tabadol_session(logs: Path) -> Iterator[Session]:
    """A fresh node set up the way an operator does it: init, org add, token, serve."""
    with tempfile.TemporaryDirectory(prefix="tabadol-bench-") as tmp:
        data = Path(tmp) / "node"
        tabadol_cli("init", str(data))
        tabadol_cli("org", "add", ORG, "--data", str(data))
        token = publisher_token(data, ORG)
        server = start_tabadol(data, logs / "tabadol-attack.log")
        with running(server, "/taxii2/"), open_client(server.base_url, bearer=token) as client:
            collection = find_collection(client, "/taxii2/root/", "public")
            target = Target("tabadol", client, f"/taxii2/root/collections/{collection}/objects/")
            yield Session(target, server, data / "tabadol.db", collection)


@contextmanager
def medallion_session(logs: Path) -> Iterator[Session]:
    """medallion 3 from its own venv, memory backend, on a free loopback port."""
    with tempfile.TemporaryDirectory(prefix="medallion-bench-") as tmp:
        port = free_port()
        config = medallion_env.write_config(Path(tmp), port)
        log = logs / "medallion-attack.log"
        server = start_medallion(medallion_env.python(), config, port, log)
        basic = (medallion_env.USER, medallion_env.PASSWORD)
        with running(server, "/taxii2/"), open_client(server.base_url, basic=basic) as client:
            api_root = f"/{medallion_env.API_ROOT}/"
            objects_url = f"{api_root}collections/{medallion_env.COLLECTION_ID}/objects/"
            target = Target("medallion", client, objects_url)
            yield Session(target, server, None, medallion_env.COLLECTION_ID)


def run_server(
    session: Callable[[Path], AbstractContextManager[Session]],
    bundles: Bundles,
    plan: Plan,
    logs: Path,
) -> dict[str, Any]:
    """Ingest-only runs on fresh servers, then one fresh server measured on everything."""
    earlier = []
    for _ in range(plan.ingest_runs - 1):
        with session(logs) as fresh:
            earlier.append(ingest_bundles(fresh.target, bundles))
    with session(logs) as main:
        figures = exercise(main.target, bundles, plan, earlier)
        figures["memory_mb"] = main.server.memory_mb()
        if main.db is not None:
            floor = raw_floor(main.db, main.collection, page=PAGE)
            figures["raw_floor"] = {
                "objects": floor.objects,
                "seconds_median": round(floor.seconds, 4),
                "objects_per_s": round(floor.objects_per_s, 1),
            }
    return figures


def expected(bundles: Bundles) -> dict[str, int]:
    """What a correct server returns, to check both answers (not only time them)."""
    return {
        "objects_posted": bundles.total,
        "latest_versions": len(bundles.ids),
        "match_type_objects": bundles.type_matches,
        "match_id_objects": IDS_PER_QUERY,
    }
