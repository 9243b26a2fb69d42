"""The raw floor: how fast the same rows come out of tabadol's SQLite file with no server.

A full read over TAXII can never beat reading the stored JSON and serializing page envelopes
in-process; how close it gets says how much the HTTP, policy and paging layers cost. The
floor parses each stored body and re-serializes each page with orjson (a fair "read +
serialize"; tabadol itself splices the stored bytes and may beat it).
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

_ROWS = (
    "SELECT body FROM objects WHERE collection_id ="
    " (SELECT id FROM collections WHERE uuid = ?) AND is_last = 1 ORDER BY date_added"
)


@dataclass
class Floor:
    objects: int
    seconds: float  # median of the repeats

    @property
    def objects_per_s(self) -> float:
        return self.objects / self.seconds


def _one_pass(db: Path, collection_uuid: str, page: int) -> tuple[int, float]:
    """Open, read every latest version of the collection, serialize envelopes of `page`."""
    started = time.perf_counter()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cursor = conn.execute(_ROWS, (collection_uuid,))
        total = 0
        while rows := cursor.fetchmany(page):
            objects = [orjson.loads(body) for (body,) in rows]
            orjson.dumps({"more": True, "next": "x" * 40, "objects": objects})
            total += len(objects)
    finally:
        conn.close()
    return total, time.perf_counter() - started


def raw_floor(db: Path, collection_uuid: str, page: int = 1000, repeats: int = 21) -> Floor:
    """Median over `repeats` passes (the first also warms the OS page cache, as the
    server's reads were warm too)."""
    passes = [_one_pass(db, collection_uuid, page) for _ in range(repeats)]
    return Floor(passes[0][0], statistics.median(s for _, s in passes))
