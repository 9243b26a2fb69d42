"""The client side of the benchmark: one keep-alive HTTP connection, TAXII 2.1 requests.

Both servers are driven by the same code, differing only in URL and credentials, so the
figures compare servers, not clients. Latency is wall time until the whole response body has
arrived (the server's work plus loopback transfer); decoding the JSON is left out because
it is the client's cost, identical for both servers.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

TAXII_21 = "application/taxii+json;version=2.1"
MAX_PAGES = 100_000  # a bound on any paging loop, far above what the data needs


@dataclass
class Target:
    """A TAXII collection on one server, and the client that talks to it."""

    name: str
    client: httpx.Client
    objects_url: str  # …/collections/<id>/objects/


def open_client(
    base_url: str, *, bearer: str | None = None, basic: tuple[str, str] | None = None
) -> httpx.Client:
    """One HTTP/1.1 connection, kept alive across every request (no pool effects)."""
    headers = {"Accept": TAXII_21}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    return httpx.Client(
        base_url=base_url,
        headers=headers,
        auth=basic,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        timeout=httpx.Timeout(600.0, connect=10.0),
    )


def find_collection(client: httpx.Client, api_root: str, title: str) -> str:
    """The id of the collection titled `title` under `api_root`, via TAXII 2.1 section 5.1."""
    response = client.get(f"{api_root}collections/")
    response.raise_for_status()
    for collection in orjson.loads(response.content).get("collections", []):
        if collection.get("title") == title:
            return str(collection["id"])
    raise RuntimeError(f"no collection titled {title!r} at {api_root}")


# --- statistics ------------------------------------------------------------------------------
def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: with 5 samples p99 is the maximum)."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Latency:
    """Milliseconds per request over `n` requests, and objects per response."""

    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    objects_min: int
    objects_max: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(ms: Sequence[float], counts: Sequence[int]) -> Latency:
    return Latency(
        n=len(ms),
        p50_ms=round(percentile(ms, 50), 2),
        p95_ms=round(percentile(ms, 95), 2),
        p99_ms=round(percentile(ms, 99), 2),
        mean_ms=round(statistics.fmean(ms), 2),
        objects_min=min(counts),
        objects_max=max(counts),
    )


def progress_bar() -> Progress:
    """A Rich bar for the loops that take long (medallion queries, scale sweeps)."""
    return Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )


# --- requests --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """One GET: query parameters, and a suffix to the objects URL (`<id>/` for section 5.6)."""

    params: dict[str, str]
    suffix: str = ""


def get_page(target: Target, query: Query) -> tuple[float, dict[str, Any]]:
    """One GET of the objects endpoint: (ms until the body is in, decoded envelope)."""
    started = time.perf_counter()
    response = target.client.get(target.objects_url + query.suffix, params=query.params)
    response.read()
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{target.name}: GET {query} -> {response.status_code}")
    envelope: dict[str, Any] = orjson.loads(response.content) if response.content else {}
    return elapsed_ms, envelope


def measure(
    target: Target,
    label: str,
    requests: Iterable[Query],
    *,
    max_requests: int,
    budget_s: float,
    min_requests: int = 3,
) -> Latency:
    """Time requests one after another until `max_requests` or the time budget runs out
    (but at least `min_requests`): a slow server gets fewer samples, not an endless run."""
    ms: list[float] = []
    counts: list[int] = []
    deadline = time.monotonic() + budget_s
    with progress_bar() as bar:
        task = bar.add_task(f"{target.name}: {label}", total=max_requests)
        for query in requests:
            elapsed, envelope = get_page(target, query)
            ms.append(elapsed)
            counts.append(len(envelope.get("objects", envelope.get("hits", []))))
            bar.advance(task)
            if len(ms) >= max_requests or (len(ms) >= min_requests and time.monotonic() > deadline):
                break
    return summarize(ms, counts)


def warm_up(target: Target, requests: Iterable[Query], n: int = 5) -> None:
    """A few untimed requests first: connection set-up and first-use costs are not latency."""
    for i, query in enumerate(requests):
        if i >= n:
            return
        get_page(target, query)


@dataclass
class Ingest:
    objects: int
    envelopes: int
    seconds: float
    stored: int
    failed: int
    request_timestamps: list[str]  # each envelope's status `request_timestamp`, in order

    @property
    def objects_per_s(self) -> float:
        return self.objects / self.seconds


def ingest(target: Target, objects: Sequence[Any], per_envelope: int = 500) -> Ingest:
    """POST `objects` in envelopes of `per_envelope`, one after another, timing the whole."""
    headers = {"Content-Type": TAXII_21}
    bodies = [
        orjson.dumps({"objects": list(objects[i : i + per_envelope])})
        for i in range(0, len(objects), per_envelope)
    ]
    stored = failed = 0
    stamps: list[str] = []
    started = time.perf_counter()
    for body in bodies:
        response = target.client.post(target.objects_url, content=body, headers=headers)
        if response.status_code != 202:
            raise RuntimeError(f"{target.name}: POST -> {response.status_code} {response.text}")
        status = orjson.loads(response.content)
        stored += int(status.get("success_count", 0))
        failed += int(status.get("failure_count", 0))
        stamps.append(str(status.get("request_timestamp", "")))
    seconds = time.perf_counter() - started
    return Ingest(len(objects), len(bodies), seconds, stored, failed, stamps)


@dataclass
class FullRead:
    """A full read; `seconds` sums the requests (until each body is in), so the client's
    JSON decoding between pages — needed to find `next` — is not charged to the server."""

    objects: int
    pages: int
    seconds: float
    wall_seconds: float
    first_page_s: float

    @property
    def objects_per_s(self) -> float:
        return self.objects / self.seconds


def full_read(target: Target, limit: int = 1000) -> FullRead:
    """Every object (latest versions, the TAXII default), following `more`/`next`."""
    params = {"limit": str(limit)}
    total = pages = 0
    request_ms: list[float] = []
    started = time.perf_counter()
    while pages < MAX_PAGES:
        elapsed_ms, envelope = get_page(target, Query(params))
        request_ms.append(elapsed_ms)
        pages += 1
        total += len(envelope.get("objects", []))
        if not envelope.get("more") or not envelope.get("next"):
            break
        params = {"limit": str(limit), "next": str(envelope["next"])}
    wall = time.perf_counter() - started
    return FullRead(total, pages, sum(request_ms) / 1000, wall, request_ms[0] / 1000)
