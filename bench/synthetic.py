"""Synthetic STIX 2.1 content at scale, loaded straight into a tabadol data directory.

The ATT&CK bundles hold 4k objects; the targets speak of a node with a million. This module
makes N realistic objects (indicators, relationships, reports, notes, identities, malware;
a fraction re-published as later versions; custom `x_` properties) from a fixed seed, and
loads them through `publish_objects` — the same validation, marking and storage path as a
TAXII POST, minus HTTP — so a 1M node builds in minutes rather than an hour of POSTs.

    .venv/bin/python bench/synthetic.py --objects 1000000 --data /tmp/node-1m
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tabadol.domain.audience import AudienceKind
from tabadol.domain.model import Role
from tabadol.node.node import init_node, open_node
from tabadol.storage.sqlite.schema import MIGRATIONS
from tabadol.usecases.membership import lookup, organizations, principals
from tabadol.usecases.publishing.publish import publish_objects

RESULTS = Path(__file__).resolve().parent / "results"
SUMMARY_FILE = "bench-load.json"
SEED = 20260101
BATCH = 5000
ORG_NAME = "Bench Org"
VERSION_FRACTION = 0.10  # share of emitted objects that are a later version of an earlier one
START = datetime(2024, 1, 1, tzinfo=UTC)
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"

# type -> weight among new objects (re-versions are drawn on top of these)
TYPE_WEIGHTS: dict[str, int] = {
    "indicator": 42,
    "relationship": 30,
    "report": 8,
    "note": 8,
    "malware": 5,
    "identity": 2,
    "observed-data": 5,
}
# fmt: off
_WORDS = (
    "loader", "dropper", "beacon", "phishing", "credential", "lateral", "exfil", "ransomware",
    "wiper", "botnet", "c2", "persistence", "spearphish", "watering-hole", "supply-chain",
    "backdoor", "implant", "stealer", "miner", "proxy", "tunnel", "sinkhole", "campaign",
    "actor", "infrastructure", "payload", "stager", "obfuscated", "signed", "macro",
)
# fmt: on


_PERSIAN = (
    "حمله",
    "سرور",
    "بدافزار",
    "باج‌افزار",
    "فیشینگ",
    "نفوذ",
    "آسیب‌پذیری",
    "شبکه",
    "کاربر",
    "گزارش",
    "هشدار",
    "دامنه",
    "کیف‌پول",
    "رمزگذاری",
    "سازمان",
    "وزارت",
    "بانک",
    "نشانی",
    "مهاجم",
    "تهدید",
    "امنیت",
    "سایبری",
    "کارگروه",
    "زیرساخت",
    "پایگاه",
    "داده",
    "دسترسی",
    "هجوم",
    "الخادم",
    "البرمجيات",
    "الخبيثة",
    "التصيد",
    "الثغرة",
    "الشبكة",
    "المستخدم",
    "التقرير",
    "تحذير",
    "النطاق",
    "المحفظة",
    "التشفير",
    "المؤسسة",
    "الوزارة",
    "المصرف",
)
_SYLLABLES = ("با", "ر", "سا", "کی", "مو", "نی", "تا", "دو", "شه", "گا", "لی", "پو", "زن", "فر")


def _vocabulary() -> list[str]:
    """English and Persian/Arabic words, then 20,000 pseudo-words from Persian syllables."""
    rng = random.Random(11)
    made = {"".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))) for _ in range(30_000)}
    return [*_WORDS, *_PERSIAN, *sorted(made)[:20_000]]


VOCABULARY = _vocabulary()
_ZIPF = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(VOCABULARY))))
_ARABIC_SPELLING = str.maketrans({"ی": "ي", "ک": "ك"})


def generator_fingerprint() -> str:
    """Hash of this generator and of tabadol's schema: a cached data dir is reused only
    when both the content it holds and the layout it was written in are unchanged."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update("\n".join(MIGRATIONS).encode())
    return digest.hexdigest()[:12]


def stamp(moment: datetime) -> str:
    """A STIX timestamp with millisecond precision."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class _Known:
    """Ids emitted so far, for references and later versions (bounded memory)."""

    ids: list[str]
    versions: dict[str, datetime]
    bodies: dict[str, dict[str, Any]]
    versioned: list[str]  # the keys of `bodies`, for a cheap random choice


class Generator:
    """Deterministic stream of STIX 2.1 objects; `seed` fixes every id and timestamp."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.known = _Known(ids=[], versions={}, bodies={}, versioned=[])
        self.authors = [self._uuid("identity") for _ in range(20)]
        self.types = list(TYPE_WEIGHTS)
        self.weights = list(TYPE_WEIGHTS.values())
        self.clock = START

    def _uuid(self, stix_type: str) -> str:
        return f"{stix_type}--{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def _words(self, low: int, high: int) -> str:
        """Words from a Zipfian vocabulary in English, Persian and Arabic (a few frequent
        words, a long tail of rare ones), as real reports are, so that search at scale meets
        both common and rare terms; Persian words sometimes come in Arabic letters."""
        words = self.rng.choices(VOCABULARY, cum_weights=_ZIPF, k=self.rng.randint(low, high))
        if self.rng.random() < 0.2:
            words = [w.translate(_ARABIC_SPELLING) for w in words]
        return " ".join(words)

    def _ip(self) -> str:
        r = self.rng
        return f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def _refs(self, k: int) -> list[str]:
        if not self.known.ids:
            return [self._uuid("indicator") for _ in range(k)]
        return [self.rng.choice(self.known.ids) for _ in range(k)]

    def _ends(self) -> list[str]:
        """A relationship's two ends: SDOs or SCOs, never an SRO (the node refuses those:
        domain/stix_rules.py), drawn again a bounded number of times."""
        ends = []
        for _ in range(2):
            ref = self._refs(1)[0]
            for _ in range(20):
                if not ref.startswith(("relationship--", "sighting--")):
                    break
                ref = self._refs(1)[0]
            else:
                ref = self._uuid("indicator")
            ends.append(ref)
        return ends

    def _common(self, stix_type: str, created: datetime) -> dict[str, Any]:
        r = self.rng
        obj: dict[str, Any] = {
            "type": stix_type,
            "spec_version": "2.1",
            "id": self._uuid(stix_type),
            "created": stamp(created),
            "modified": stamp(created),
            "created_by_ref": r.choice(self.authors),
            "labels": r.sample(_WORDS, k=r.randint(1, 3)),
            "confidence": r.randint(10, 100),
            "x_bench_source": f"feed-{r.randint(1, 40)}",
            "x_bench_score": round(r.random() * 10, 2),
        }
        if r.random() < 0.5:  # the rest take the channel default (also CLEAR in `public`)
            obj["object_marking_refs"] = [TLP_CLEAR]
        if r.random() < 0.4:
            obj["external_references"] = [
                {
                    "source_name": f"vendor-{r.randint(1, 30)}",
                    "url": f"https://example.org/reports/{r.getrandbits(48):x}",
                    "description": self._words(4, 12),
                }
            ]
        return obj

    def _body(self, stix_type: str, obj: dict[str, Any], created: datetime) -> None:
        """The type-specific properties (the ones STIX 2.1 requires, plus typical ones)."""
        r = self.rng
        if stix_type == "indicator":
            value = f"[ipv4-addr:value = '{self._ip()}']"
            if r.random() < 0.4:
                value = f"[file:hashes.'SHA-256' = '{r.getrandbits(256):064x}']"
            obj.update(
                name=f"{self._words(1, 3)} indicator",
                description=self._words(8, 30),
                indicator_types=[r.choice(["malicious-activity", "anomalous-activity"])],
                pattern=value,
                pattern_type="stix",
                valid_from=stamp(created),
                kill_chain_phases=[
                    {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "c2"}
                ],
            )
        elif stix_type == "relationship":
            source, target = self._ends()
            obj.update(
                relationship_type=r.choice(["indicates", "uses", "targets", "related-to"]),
                source_ref=source,
                target_ref=target,
                description=self._words(3, 12),
            )
        elif stix_type == "report":
            obj.update(
                name=f"Report: {self._words(2, 6)}",
                description=self._words(20, 60),
                published=stamp(created),
                report_types=["threat-report"],
                object_refs=self._refs(r.randint(2, 12)),
            )
        elif stix_type == "note":
            obj.update(
                abstract=self._words(3, 8),
                content=self._words(15, 50),
                authors=[f"analyst-{r.randint(1, 200)}"],
                object_refs=self._refs(r.randint(1, 4)),
            )
        elif stix_type == "malware":
            obj.update(
                name=f"{r.choice(_WORDS).title()}{r.randint(1, 999)}",
                description=self._words(10, 40),
                is_family=r.random() < 0.7,
                malware_types=[r.choice(["backdoor", "ransomware", "trojan", "worm"])],
            )
        elif stix_type == "identity":
            obj.update(
                name=f"{self._words(1, 2).title()} {r.randint(1, 9999)}",
                identity_class=r.choice(["organization", "individual", "group"]),
                sectors=[r.choice(["energy", "finance", "government", "healthcare"])],
            )
        else:  # observed-data
            obj.update(
                first_observed=stamp(created),
                last_observed=stamp(created + timedelta(minutes=r.randint(1, 600))),
                number_observed=r.randint(1, 50),
                object_refs=self._refs(r.randint(1, 3)),
            )

    def _new(self) -> dict[str, Any]:
        stix_type = self.rng.choices(self.types, self.weights)[0]
        obj = self._common(stix_type, self.clock)
        self._body(stix_type, obj, self.clock)
        return obj

    def _reversion(self) -> dict[str, Any] | None:
        """A later version of an object emitted earlier (only those kept in `bodies`)."""
        if not self.known.versioned:
            return None
        stix_id = self.rng.choice(self.known.versioned)
        obj = dict(self.known.bodies[stix_id])
        last = self.known.versions[stix_id]
        modified = max(self.clock, last + timedelta(milliseconds=1))
        obj["modified"] = stamp(modified)
        obj["confidence"] = self.rng.randint(10, 100)
        obj["x_bench_revision"] = obj.get("x_bench_revision", 0) + 1
        self.known.versions[stix_id] = modified
        return obj

    def _remember(self, obj: dict[str, Any]) -> None:
        stix_id = obj["id"]
        if stix_id in self.known.versions:
            return
        self.known.ids.append(stix_id)
        if self.rng.random() < 0.02 and len(self.known.bodies) < 20_000:
            self.known.bodies[stix_id] = obj
            self.known.versioned.append(stix_id)
            self.known.versions[stix_id] = self.clock

    def objects(self, n: int) -> Iterator[dict[str, Any]]:
        """Yield `n` object versions; timestamps advance so later versions sort later."""
        for _ in range(n):
            self.clock += timedelta(milliseconds=self.rng.randint(1, 40))
            obj = self._reversion() if self.rng.random() < VERSION_FRACTION else None
            if obj is None:
                obj = self._new()
                self._remember(obj)
            yield obj


def load(
    data_dir: Path, n: int, *, batch: int = BATCH, advance: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Init `data_dir`, add the bench org, publish `n` objects into `public` in batches."""
    init_node(data_dir)
    stored = failed = 0
    started = time.perf_counter()
    with open_node(data_dir) as node:
        org = organizations.add_org(node, ORG_NAME)
        principal = principals.org_principal(node, org, Role.PUBLISHER)
        public = lookup.collection_by_kind(node, AudienceKind.PUBLIC)
        chunk: list[dict[str, Any]] = []
        for obj in Generator().objects(n):
            chunk.append(obj)
            if len(chunk) == batch:
                status = publish_objects(node, principal, public, chunk)
                stored, failed = stored + len(status.successes), failed + len(status.failures)
                if advance:
                    advance(len(chunk))
                chunk = []
        if chunk:
            status = publish_objects(node, principal, public, chunk)
            stored, failed = stored + len(status.successes), failed + len(status.failures)
            if advance:
                advance(len(chunk))
    seconds = time.perf_counter() - started
    return {"objects": n, "stored": stored, "failed": failed, "load_seconds": round(seconds, 1)}


def load_with_progress(data_dir: Path, n: int) -> dict[str, Any]:
    """`load` under a Rich progress bar (a 1M load takes minutes; show that it moves)."""
    columns = (
        TextColumn("generating + loading"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("load", total=n)
        return load(data_dir, n, advance=lambda k: bar.advance(task, k))


def cached_data_dir(n: int, results: Path = RESULTS) -> tuple[Path, dict[str, Any]]:
    """The data dir holding `n` generated objects, built once and reused across runs.

    Keyed by N and `generator_fingerprint()`; built under a `.partial` name and renamed when
    complete, so an interrupted build is never mistaken for a finished one.
    """
    final = results / f"scale-{n}-{generator_fingerprint()}"
    for stale in results.glob(f"scale-{n}-*"):  # another generator or schema: 1+ GB each
        if stale != final:
            shutil.rmtree(stale, ignore_errors=True)
    summary_path = final / SUMMARY_FILE
    if summary_path.exists():
        summary: dict[str, Any] = json.loads(summary_path.read_text())
        summary["cached"] = True
        return final, summary
    partial = final.with_name(final.name + ".partial")
    results.mkdir(parents=True, exist_ok=True)
    summary = load_with_progress(partial, n)
    if summary["failed"]:
        raise RuntimeError(f"{summary['failed']} generated objects were refused: {summary}")
    (partial / SUMMARY_FILE).write_text(json.dumps(summary))
    partial.rename(final)
    summary["cached"] = False
    return final, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1_000_000, help="object versions to make")
    parser.add_argument(
        "--data", type=Path, help="new data directory (default: the cache under bench/results/)"
    )
    args = parser.parse_args(argv)
    if args.data is None:
        path, summary = cached_data_dir(args.objects)
        print(f"{path}: {summary}")
        return 0
    if args.data.exists():
        print(f"{args.data} exists; give a new directory", file=sys.stderr)
        return 1
    summary = load_with_progress(args.data, args.objects)
    print(summary)
    return 0 if summary["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
