"""The PostgreSQL benchmark: the node of `make bench` moved to PostgreSQL, served by one and
by two worker processes.

    make bench-postgres      # = .venv/bin/python bench/postgres.py

1. Migrate: the cached 1,000,000-object SQLite node (`bench/synthetic.py`) is copied and moved
   to PostgreSQL with `tabadol migrate`, into a fresh schema (timed: copy, ANALYZE, counts,
   and the verification of every object's signature).
2. Latency, one client: the query kinds of `make bench` part 2 and its four searches, 200
   requests each, with 1 worker and with 2.
3. Read throughput: wrk (16 keep-alive connections) issues `match[type]` pages (limit=100), then
   single-object GETs, then `added_after` pages, for 20 s each; requests/s with 1 worker and
   with 2 (the target: 2 workers ≥ 1.5× one).
4. Ingest: two clients at once, each posting both ATT&CK bundles (three versions of each
   object) over TAXII into a collection of its own, on a fresh PostgreSQL schema served by 1
   worker, then by 2; the median of 5 fresh schemas.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg

from attack import load_bundles
from scale import KINDS, SEARCH_KINDS, _queries, _searches, sample
from servers import Server, free_port, publisher_token, running, tabadol_cli
from synthetic import ORG_NAME, cached_data_dir, generator_fingerprint
from workload import Target, find_collection, ingest, measure, open_client, warm_up

RESULTS = Path(__file__).resolve().parent / "results"
SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "tabadol_bench"
THROUGHPUT_KINDS = ("match_type", "get_object", "added_after")  # the scaling target: match_type


def _database() -> str:
    with psycopg.connect(f"{SERVER}/test", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if exists.fetchone() is None:
            admin.execute(f'CREATE DATABASE "{DATABASE}"')  # type: ignore[arg-type]
    return f"{SERVER}/{DATABASE}"


def _serve(data: Path, workers: int, log: Path) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "tabadol", "serve", "--data", str(data), "--port", str(port)]
    argv += ["--workers", str(workers)]
    env = {**os.environ, "TABADOL_LOG_LEVEL": "warning"}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    return Server("tabadol", process, port, log)


def migrate(n: int, url: str, work: Path) -> tuple[Path, dict[str, Any]]:
    source, _ = cached_data_dir(n)
    data = work / "node"
    shutil.copytree(source, data)
    schema = f"bench_{n}_{generator_fingerprint()}"
    with psycopg.connect(url, autocommit=True) as conn:  # a run writes to it: start afresh
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]
    started = time.perf_counter()
    subprocess.run(  # minutes at 1M: longer than tabadol_cli's bound
        [sys.executable, "-m", "tabadol", "migrate", "--data", str(data), "--to", url,
         "--schema", schema, "--switch"],
        check=True, capture_output=True, timeout=3600,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    return data, {"schema": schema, "seconds": round(seconds, 1)}


def latency(data: Path, workers: int, requests: int, logs: Path) -> dict[str, Any]:
    samples = sample_from(data)
    token = publisher_token(data, ORG_NAME)
    server = _serve(data, workers, logs / f"postgres-{workers}w.log")
    out: dict[str, Any] = {}
    with running(server, "/taxii2/"), open_client(server.base_url, bearer=token) as client:
        collection = find_collection(client, "/taxii2/root/", "public")
        target = Target(f"pg {workers}w", client, f"/taxii2/root/collections/{collection}/objects/")
        warm_up(target, _queries("page_1000", samples, seed=99), n=10)
        for number, kind in enumerate(KINDS):
            out[kind] = measure(
                target, f"{kind} ({workers}w)", _queries(kind, samples, seed=1000 + number),
                max_requests=requests, budget_s=300.0,
            ).as_dict()  # fmt: skip
        search = Target(f"pg {workers}w", client, "/api/v1/search")
        warm_up(search, _searches("search_common", seed=98), n=10)
        for number, kind in enumerate(SEARCH_KINDS):
            out[kind] = measure(
                search, f"{kind} ({workers}w)", _searches(kind, seed=2000 + number),
                max_requests=requests, budget_s=300.0,
            ).as_dict()  # fmt: skip
        out["throughput"] = {
            kind: throughput(server.base_url, token, collection, samples, kind)
            for kind in THROUGHPUT_KINDS
        }
    return out


def sample_from(data: Path) -> Any:
    """Ids, types and positions drawn from the SQLite file the node was moved from (the same
    rows are in PostgreSQL)."""
    return sample(data / "tabadol.db")


def throughput(
    base: str, token: str, collection: str, samples: Any, kind: str, connections: int = 16
) -> dict[str, Any]:
    """Requests/s for 20 s from wrk (one thread, `connections` keep-alive connections, after
    5 s of the same load not counted), cycling through 500 requests of `kind`. wrk is written
    in C and spends a few microseconds per request, so on these 2 shared cores the CPU goes to
    the server and PostgreSQL, not to the load generator (a Python client parsing every page
    took a third of a core per worker)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: `make bench-postgres` installs it (Debian: wrk)")
    objects = f"/taxii2/root/collections/{collection}/objects/"
    queries = itertools.islice(_queries(kind, samples, seed=500), 500)
    paths = [objects + q.suffix + ("?" + urlencode(q.params) if q.params else "") for q in queries]
    script = "\n".join(
        [
            "local paths = {" + ",".join(json.dumps(path) for path in paths) + "}",
            "local i = 0",
            f'wrk.headers["Authorization"] = "Bearer {token}"',
            'wrk.headers["Accept"] = "application/taxii+json;version=2.1"',
            "request = function()",
            "  i = i % #paths + 1",
            '  return wrk.format("GET", paths[i])',
            "end",
        ]
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:  # holds a token: not kept
        lua.write(script)
        lua.flush()
        for seconds in (5, 20):  # the first run warms the workers' caches and connections
            run = subprocess.run(
                [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", lua.name, base],
                capture_output=True, text=True, timeout=120, check=True,
            )  # fmt: skip
    rate = re.search(r"Requests/sec:\s+([\d.]+)", run.stdout)
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", run.stdout)
    return {
        "kind": kind,
        "connections": connections,
        "seconds": 20,
        "requests_per_s": float(rate.group(1)) if rate else 0.0,
        "non_2xx": int(failed.group(1)) if failed else 0,
    }


def ingest_attack(url: str, work: Path, logs: Path, workers: int, runs: int = 5) -> dict[str, Any]:
    """The median of `runs` fresh nodes (`ingest_once`)."""
    done = [ingest_once(url, work, logs, workers, run) for run in range(runs)]
    rates = sorted(d["objects_per_s"] for d in done)
    return {
        **done[0],
        "objects_per_s": rates[len(rates) // 2],
        "runs": [d["objects_per_s"] for d in done],
    }


def ingest_once(url: str, work: Path, logs: Path, workers: int, run: int) -> dict[str, Any]:
    """Two clients at once, each posting both ATT&CK bundles (500 objects per envelope) into
    a collection of its own (`public`, `members`), each object in three versions, on a fresh
    schema served by `workers`."""
    data = work / f"ingest-{workers}-{run}"
    schema = f"bench_ingest_{workers}w_{run}_{int(time.time())}"
    env = {"TABADOL_DATABASE_URL": url, "TABADOL_DATABASE_SCHEMA": schema}
    tabadol_cli("init", str(data), env=env)  # writes the two settings into tabadol.toml
    tabadol_cli("org", "add", "Bench Org", "--data", str(data))
    token = publisher_token(data, "Bench Org")
    versioned = [o for _, named in load_bundles().named for o in named if "modified" in o]
    objects = [  # three versions of each object: 3 x 3,8xx writes per client, seconds of work
        {**o, "modified": f"{2030 + version}-01-01T00:00:00.000Z"}
        for version in range(3)
        for o in versioned
    ]
    server = _serve(data, workers, logs / f"postgres-ingest-{workers}w.log")
    results: dict[str, Any] = {}
    with running(server, "/taxii2/"):

        def post_all(title: str) -> None:
            with open_client(server.base_url, bearer=token) as client:
                collection = find_collection(client, "/taxii2/root/", title)
                target = Target("pg", client, f"/taxii2/root/collections/{collection}/objects/")
                results[title] = ingest(target, objects)

        started = time.perf_counter()
        threads = [threading.Thread(target=post_all, args=(t,)) for t in ("public", "members")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(600)
        seconds = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')  # type: ignore[arg-type]
    stored = sum(done.stored for done in results.values())
    return {
        "workers": workers,
        "clients": 2,
        "objects": 2 * len(objects),
        "stored": stored,
        "seconds": round(seconds, 2),
        "objects_per_s": round(stored / seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    url = _database()
    with tempfile.TemporaryDirectory(prefix="tabadol-pg-bench-") as tmp:
        work = Path(tmp)
        data, moved = migrate(args.scale, url, work)
        results: dict[str, Any] = {
            "command": "bench/postgres.py " + " ".join(sys.argv[1:]),
            "objects": args.scale,
            "migrate": moved,
        }
        for key, run in (
            ("ingest_one_worker", lambda: ingest_attack(url, work, logs, 1)),
            ("ingest_two_workers", lambda: ingest_attack(url, work, logs, 2)),
            ("one_worker", lambda: latency(data, 1, args.requests, logs)),
            ("two_workers", lambda: latency(data, 2, args.requests, logs)),
        ):
            results[key] = run()
            (RESULTS / "postgres.json").write_text(json.dumps(results, indent=2))  # so far
    results["read_scaling"] = {
        kind: round(
            results["two_workers"]["throughput"][kind]["requests_per_s"]
            / results["one_worker"]["throughput"][kind]["requests_per_s"],
            2,
        )
        for kind in THROUGHPUT_KINDS
        if results["one_worker"]["throughput"][kind]["requests_per_s"]
    }
    (RESULTS / "postgres.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
