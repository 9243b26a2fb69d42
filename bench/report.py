"""Targets and tables: turn the raw figures into pass/fail verdicts and Markdown.

The targets are the ones the foundation issue set; each verdict sits next to the number it
judges, so a regression shows up as a FAIL in the table, not as a number to recompute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RSS_LIMIT_MB = 300.0


@dataclass
class Verdict:
    name: str
    value: float
    target: str
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "target": self.target, "pass": self.passed}


def _mark(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def attack_verdicts(tab: dict[str, Any], med: dict[str, Any] | None) -> list[Verdict]:
    """The ATT&CK-side targets; the ones relative to medallion need its figures."""
    read_rate = tab["full_read"]["objects_per_s"]
    floor_pct = 100 * read_rate / tab["raw_floor"]["objects_per_s"]
    verdicts = [
        Verdict("full read, % of raw floor", round(floor_pct, 1), "≥ 50 %", floor_pct >= 50),
        Verdict(
            "peak server RSS, ATT&CK (MB)",
            tab["memory_mb"]["VmHWM"],
            f"≤ {RSS_LIMIT_MB:.0f} MB",
            tab["memory_mb"]["VmHWM"] <= RSS_LIMIT_MB,
        ),
    ]
    if med is not None:
        ingest_x = tab["ingest"]["objects_per_s"] / med["ingest"]["objects_per_s"]
        read_x = read_rate / med["full_read"]["objects_per_s"]
        verdicts[:0] = [
            Verdict("ingest, × medallion", round(ingest_x, 1), "≥ 5×", ingest_x >= 5),
            Verdict("full read, × medallion", round(read_x, 1), "≥ 100×", read_x >= 100),
        ]
    return verdicts


def scale_verdicts(scale: dict[str, Any]) -> list[Verdict]:
    lat = scale["latency"]
    n = f"{scale['objects']:,}"
    rss = scale["memory_mb"]["VmHWM"]
    type_p99 = lat["match_type"]["p99_ms"]
    page_p95 = lat["page_1000"]["p95_ms"]
    search_p95 = max(lat[k]["p95_ms"] for k in lat if k.startswith("search_"))
    return [
        Verdict(f"search p95 (worst kind) @ {n} (ms)", search_p95, "≤ 50 ms", search_p95 <= 50),
        Verdict(f"match[type] p99 @ {n} (ms)", type_p99, "≤ 20 ms", type_p99 <= 20),
        Verdict(f"1,000-object page p95 @ {n} (ms)", page_p95, "≤ 300 ms", page_p95 <= 300),
        Verdict(f"peak server RSS @ {n} (MB)", rss, f"≤ {RSS_LIMIT_MB:.0f} MB", rss <= 300),
    ]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _lat(fig: dict[str, Any] | None, kind: str) -> str:
    if fig is None:
        return "—"
    entry = fig["latency"][kind]
    return f"{_num(entry['p50_ms'], 1)} / {_num(entry['p99_ms'], 1)} (n={entry['n']})"


def _seconds(fig: dict[str, Any]) -> str:
    read = fig["full_read"]
    return f"{read['seconds_median']:.3f} ({read['first_page_s']:.3f})"


_ATTACK_ROWS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("ingest, objects/s (POST, 500 per envelope)", lambda f: _num(f["ingest"]["objects_per_s"])),
    (
        "full read, objects/s (limit=1000, all pages)",
        lambda f: _num(f["full_read"]["objects_per_s"]),
    ),
    ("full read, seconds (first page)", _seconds),
    ("match[type]=attack-pattern, p50 / p99 ms", lambda f: _lat(f, "match_type")),
    ("match[id] (10 random ids), p50 / p99 ms", lambda f: _lat(f, "match_id")),
    ("added_after=<mid>, p50 / p99 ms", lambda f: _lat(f, "added_after")),
    ("peak server RSS (VmHWM), MB", lambda f: _num(f["memory_mb"]["VmHWM"], 1)),
]


def attack_table(tab: dict[str, Any], med: dict[str, Any] | None, versions: str) -> str:
    """tabadol vs medallion on the ATT&CK bundles, one measure per row."""
    rows = [[label, get(tab), get(med) if med else "—"] for label, get in _ATTACK_ROWS]
    floor = tab["raw_floor"]["objects_per_s"]
    share = 100 * tab["full_read"]["objects_per_s"] / floor
    rows.append(
        ["raw floor (SQLite + orjson), objects/s", f"{_num(floor)} (full read: {share:.0f} %)", "—"]
    )
    return _table(["ATT&CK ICS + Mobile (3,974 objects)", "tabadol", versions], rows)


def scale_table(scale: dict[str, Any]) -> str:
    lat = scale["latency"]
    limit = scale["filter_limit"]

    def row(label: str, kind: str) -> list[str]:
        e = lat[kind]
        return [
            label,
            _num(e["p50_ms"], 1),
            _num(e["p95_ms"], 1),
            _num(e["p99_ms"], 1),
            str(e["n"]),
            f"{e['objects_min']}–{e['objects_max']}",
        ]

    rows = [
        row(f"match[type]=<random type>, limit={limit}", "match_type"),
        row("match[type]=<random type>, limit=1000", "match_type_page"),
        row(f"match[id] (10 random ids), limit={limit}", "match_id"),
        row("GET objects/<random id>/ (section 5.6)", "get_object"),
        row(f"added_after=<random position>, limit={limit}", "added_after"),
        row("1,000-object page from a random position", "page_1000"),
        row("search: a rare word, limit=20", "search_rare"),
        row("search: a common word, limit=20", "search_common"),
        row("search: two words, limit=20", "search_two_words"),
        row("search: a Persian word in Arabic letters, limit=20", "search_arabic_spelling"),
    ]
    header = [f"{scale['objects']:,} objects", "p50 ms", "p95 ms", "p99 ms", "n", "objects"]
    return _table(header, rows)


def verdict_table(verdicts: list[Verdict]) -> str:
    rows = [[v.name, _num(v.value, 1), v.target, _mark(v.passed)] for v in verdicts]
    return _table(["target", "measured", "goal", "result"], rows)
