"""Part 2: a served node holding N synthetic objects (default one million).

The data dir comes from `synthetic.cached_data_dir` (built once, reused while the generator
and the schema are unchanged). Query inputs — ids, types, positions — are drawn from the
SQLite file before the server starts, with a fixed seed, so every run asks the same things.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import synthetic
from servers import publisher_token, running, start_tabadol
from tabadol.domain.timestamps import format_us
from workload import Query, Target, find_collection, measure, open_client, warm_up

FILTER_LIMIT = 100  # `limit` of the filtered queries the ≤ 20 ms target is about
PAGE = 1000  # the big-page target
IDS_PER_QUERY = 10
TAIL_MARGIN = 20_000  # page starts are drawn far enough from the end to fill 1,000 rows


@dataclass
class Samples:
    """Random existing ids and `date_added` positions of the public collection."""

    ids: list[str]
    positions: list[int]


def sample(db: Path, k: int = 5000, seed: int = 7) -> Samples:
    """Draw rows by random `seq` (the rowid): no full scan, same draw every run. Rows too
    close to the end are skipped so that a page from any drawn position can fill."""
    rng = random.Random(seed)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        public = conn.execute("SELECT id FROM collections WHERE kind = 'public'").fetchone()[0]
        top = conn.execute("SELECT max(seq) FROM objects").fetchone()[0]
        last = max(2, top - min(TAIL_MARGIN, top // 4))
        ids: list[str] = []
        positions: list[int] = []
        for _ in range(20 * k):  # bounded: a miss (another collection's row) just retries
            row = conn.execute(
                "SELECT stix_id, date_added FROM objects WHERE seq = ? AND collection_id = ?",
                (rng.randint(1, last), public),
            ).fetchone()
            if row is not None:
                ids.append(row[0])
                positions.append(row[1])
                if len(ids) == k:
                    break
    finally:
        conn.close()
    if len(ids) < IDS_PER_QUERY:
        raise RuntimeError(f"{db}: too few public objects to sample")
    return Samples(ids, positions)


def _queries(kind: str, samples: Samples, seed: int) -> Iterator[Query]:
    """Endless requests of one kind, drawn with `seed`."""
    rng = random.Random(seed)
    types = list(synthetic.TYPE_WEIGHTS)
    while True:
        position = format_us(rng.choice(samples.positions))
        if kind == "match_type":
            yield Query({"match[type]": rng.choice(types), "limit": str(FILTER_LIMIT)})
        elif kind == "match_type_page":
            yield Query({"match[type]": rng.choice(types), "limit": str(PAGE)})
        elif kind == "match_id":
            ids = rng.sample(samples.ids, IDS_PER_QUERY)
            yield Query({"match[id]": ",".join(ids), "limit": str(FILTER_LIMIT)})
        elif kind == "get_object":  # TAXII 2.1 section 5.6: one object by id
            yield Query({}, suffix=f"{rng.choice(samples.ids)}/")
        elif kind == "added_after":
            yield Query({"added_after": position, "limit": str(FILTER_LIMIT)})
        else:  # page_1000: a full page from a random position
            yield Query({"added_after": position, "limit": str(PAGE)})


KINDS = ("match_type", "match_id", "get_object", "added_after", "page_1000", "match_type_page")
SEARCH_KINDS = ("search_rare", "search_common", "search_two_words", "search_arabic_spelling")
SEARCH_LIMIT = 20


def _searches(kind: str, seed: int) -> Iterator[Query]:
    """Endless search requests of one kind. The vocabulary is Zipfian: the first words are in
    a large share of documents, the tail in few."""
    rng = random.Random(seed)
    words = synthetic.VOCABULARY
    head, tail = words[:60], words[2000:]
    while True:
        if kind == "search_rare":
            q = rng.choice(tail)
        elif kind == "search_common":
            q = rng.choice(head)
        elif kind == "search_two_words":
            q = f"{rng.choice(words[:400])} {rng.choice(words[:400])}"
        else:  # a Persian word asked in Arabic letters
            q = rng.choice([w for w in words[30:400] if "ی" in w or "ک" in w])
            q = q.replace("ی", "ي").replace("ک", "ك")
        yield Query({"q": q, "limit": str(SEARCH_LIMIT)})


def run_scale(n: int, requests: int, logs: Path) -> dict[str, Any]:
    """Build or reuse the N-object node, serve it, time each query kind."""
    data, load = synthetic.cached_data_dir(n)
    samples = sample(data / "tabadol.db")
    token = publisher_token(data, synthetic.ORG_NAME)
    server = start_tabadol(data, logs / f"tabadol-scale-{n}.log")
    latency: dict[str, Any] = {}
    with running(server, "/taxii2/"), open_client(server.base_url, bearer=token) as client:
        collection = find_collection(client, "/taxii2/root/", "public")
        target = Target("tabadol", client, f"/taxii2/root/collections/{collection}/objects/")
        warm_up(target, _queries("page_1000", samples, seed=99), n=10)
        for number, kind in enumerate(KINDS):
            latency[kind] = measure(
                target,
                f"{kind} @ {n:,}",
                _queries(kind, samples, seed=1000 + number),
                max_requests=requests,
                budget_s=600.0,
            ).as_dict()
        search = Target("tabadol", client, "/api/v1/search")
        warm_up(search, _searches("search_common", seed=98), n=10)
        for number, kind in enumerate(SEARCH_KINDS):
            latency[kind] = measure(
                search,
                f"{kind} @ {n:,}",
                _searches(kind, seed=2000 + number),
                max_requests=requests,
                budget_s=600.0,
            ).as_dict()
        memory = server.memory_mb()
    db_bytes = sum(p.stat().st_size for p in data.glob("tabadol.db*"))
    return {
        "objects": n,
        "load": load,
        "db_mib": round(db_bytes / 2**20, 1),
        "filter_limit": FILTER_LIMIT,
        "latency": latency,
        "memory_mb": memory,
    }
