"""The workspace benchmark (issue 16): what the reading pages cost a node with many objects.

A data directory is built with N synthetic objects (`synthetic.load`: the public channel,
through `publish_objects`) plus a report naming 100,000 indicators (the first 1,000 of them
stored). A person of the bench org is invited, enrolled and signed in over HTTP, then a real
`tabadol serve` is timed with the session cookie on one keep-alive connection:

1. `GET /inbox` (the newest 50), and with filters (type, TLP, author org, a date range);
2. `GET /inbox?q=…` (the cross-script search: words drawn from the generator's vocabulary,
   some written with Arabic letters);
3. `GET /items/{report}?tab=indicators`: the first page of the report's 100,000 indicators;
4. the weight of the inbox: the HTML, the stylesheets, scripts and font it names, on the
   first visit and after it (every static file is served `immutable`, so a browser fetches
   it once).

Times are wall times over loopback (the server's time plus well under a millisecond).

    .venv/bin/python bench/workspace.py [--objects 100000] [--requests 200]

Targets at 1,000,000 objects: inbox p95 <= 100 ms with and without filters; search p95
<= 150 ms; the first indicators page of a 100,000-indicator report <= 300 ms; the inbox
<= 150 KB after the first visit, fonts included.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from servers import running, start_tabadol
from synthetic import VOCABULARY, load
from tabadol.domain.audience import AudienceKind
from tabadol.domain.model import Role
from tabadol.node.node import open_node
from tabadol.usecases.membership import lookup, principals
from tabadol.usecases.membership.principals import OPERATOR
from tabadol.usecases.people import accounts
from tabadol.usecases.publishing.publish import publish_objects
from workload import percentile

RESULTS = Path(__file__).resolve().parent / "results"
ORG = "Bench Org"
EMAIL = "reader@bench.example"
PASSWORD = "a long enough bench password"
REFS = 100_000
STORED_REFS = 1_000
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')
_FONT = re.compile(rb'url\("?(/static/[^")]+)"?\)')


def _indicator(n: int) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n + 1)}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": f"bench indicator {n}",
        "pattern": f"[ipv4-addr:value = '10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }


def build(data: Path, objects: int) -> tuple[str, str, dict[str, Any]]:
    """The node: `objects` synthetic ones, the big report, an invited reader. Returns the
    report's id, the reader's enrolment secret and the load summary."""
    summary = load(data, objects)
    with open_node(data) as node:
        org = node.store.org_by_name(ORG)
        assert org is not None
        publisher = principals.org_principal(node, org, Role.PUBLISHER)
        public = lookup.collection_by_kind(node, AudienceKind.PUBLIC)
        stored = [_indicator(n) for n in range(STORED_REFS)]
        for start in range(0, len(stored), 500):
            publish_objects(node, publisher, public, stored[start : start + 500])
        refs = [f"indicator--{uuid.UUID(int=n + 1)}" for n in range(REFS)]
        report_id = f"report--{uuid.uuid4()}"
        big = {
            "type": "report",
            "spec_version": "2.1",
            "id": report_id,
            "created": "2026-01-02T00:00:00.000Z",
            "modified": "2026-01-02T00:00:00.000Z",
            "name": "گزارش با صد هزار شاخص",
            "published": "2026-01-02T00:00:00Z",
            "object_refs": refs,
        }
        status = publish_objects(node, publisher, public, [big])
        assert not status.failures, status.failures
        link = accounts.invite(node, OPERATOR, ORG, EMAIL, "reader").url.rsplit("/", 1)[-1]
    return report_id, link, summary


def sign_in(http: httpx.Client, link: str) -> None:
    page = http.get(f"/enrol/{link}")
    token = _CSRF.search(page.text)
    assert token is not None, page.text
    fields = {"password": PASSWORD, "confirm": PASSWORD, "csrf": token.group(1)}
    assert http.post(f"/enrol/{link}", data=fields).status_code == 200
    form = _CSRF.search(http.get("/sign-in").text)
    assert form is not None
    fields = {"email": EMAIL, "password": PASSWORD, "next": "", "csrf": form.group(1)}
    signed = http.post("/sign-in", data=fields)
    assert signed.headers.get("location") == "/inbox", signed.text


def timed(http: httpx.Client, paths: list[str]) -> dict[str, float]:
    ms = []
    for path in paths:
        started = time.perf_counter()
        answer = http.get(path)
        ms.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "max_ms": round(max(ms), 2),
    }


def weight(http: httpx.Client) -> dict[str, int]:
    """Bytes of the inbox: its HTML, and what it names (stylesheets' fonts too), as sent to
    a browser that accepts gzip."""
    html = http.get("/inbox", headers={"Accept-Encoding": "gzip"})
    assets = set(_ASSET.findall(html.text))
    for sheet in [a for a in assets if a.endswith(".css")]:
        assets |= {u.decode() for u in _FONT.findall(http.get(sheet).content)}
    sizes = {}
    for asset in sorted(assets):
        answer = http.get(asset, headers={"Accept-Encoding": "gzip"})
        sizes[asset] = int(answer.headers.get("content-length") or len(answer.content))
    html_bytes = int(html.headers.get("content-length") or len(html.content))
    return {
        "html": html_bytes,
        "static_first_visit": sum(sizes.values()),
        "first_visit": html_bytes + sum(sizes.values()),
        "after_first_visit": html_bytes,  # every static file is cached as immutable
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(16)
    with tempfile.TemporaryDirectory(prefix="bench-workspace-") as tmp:
        data = Path(tmp) / "node"
        started = time.perf_counter()
        report_id, link, summary = build(data, args.objects)
        build_s = round(time.perf_counter() - started, 1)
        server = start_tabadol(data, Path(tmp) / "server.log")
        with (
            running(server, "/taxii2/"),
            httpx.Client(base_url=server.base_url, timeout=60) as http,
        ):
            sign_in(http, link)
            n = args.requests
            words = [w for w in VOCABULARY[:2000] if len(w) > 3]
            arabic = str.maketrans({"ی": "ي", "ک": "ك"})
            filters = [
                "/inbox?type=indicator",
                "/inbox?tlp=TLP:CLEAR&type=report",
                f"/inbox?org={ORG}&type=note",
                "/inbox?from=2024-01-01&to=2024-02-01",
                "/inbox?tlp=TLP:RED",
                "/inbox?org=No such org",
            ]
            http.get("/inbox")  # warm: templates compiled, catalogues read
            results = {
                "objects": args.objects,
                "build_seconds": build_s,
                "load": summary,
                "inbox": timed(http, ["/inbox"] * n),
                "inbox_filtered": timed(http, [filters[i % len(filters)] for i in range(n)]),
                "inbox_by_filter": {f: timed(http, [f] * max(10, n // 4)) for f in filters},
                "search": timed(
                    http,
                    [
                        "/inbox?q=" + rng.choice(words).translate(arabic if i % 2 else {})
                        for i in range(n)
                    ],
                ),
                "report_indicators_first_page": timed(
                    http, [f"/items/{report_id}?tab=indicators"] * max(10, n // 10)
                ),
                "inbox_weight_bytes": weight(http),
            }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "workspace.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
