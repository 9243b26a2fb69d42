"""The foundation benchmark: `make bench`, or `.venv/bin/python bench/run.py [--scale N]`.

One run measures tabadol against medallion (the OASIS TAXII 2.1 reference server) on the
MITRE ATT&CK bundles, tabadol's full read against a raw SQLite + orjson floor, and a served
node holding N synthetic objects. Servers run one at a time (the machine has 2 cores and
the client needs one), each on 127.0.0.1, each stopped before the next starts. Results go
to bench/results/latest.json (and .md) and a Markdown table on stdout; bench/README.md
explains every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import attack
import medallion_env
import report
import scale

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="objects in the scale run")
    parser.add_argument("--skip-scale", action="store_true", help="ATT&CK part only")
    parser.add_argument("--skip-medallion", action="store_true", help="no baseline server")
    parser.add_argument("--requests", type=int, default=200, help="requests per query kind")
    parser.add_argument(
        "--medallion-budget",
        type=float,
        default=45.0,
        help="seconds per medallion query kind (it takes seconds per request; ≥ 3 are made)",
    )
    return parser.parse_args(argv)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor()


def _machine() -> dict[str, Any]:
    """Enough to tell whether two result files are comparable."""
    commit = subprocess.run(
        ["git", "-C", str(BENCH), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "tabadol_commit": commit,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _attack_part(args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    """tabadol, then medallion (installed first, so pip never runs during a measurement)."""
    medallion_version = None if args.skip_medallion else medallion_env.ensure_installed()
    bundles = attack.load_bundles()
    print(f"ATT&CK: {bundles.total} objects, {len(bundles.ids)} ids", flush=True)
    tab_plan = attack.Plan(max_requests=args.requests, budget_s=120.0, full_reads=21)
    part: dict[str, Any] = {"expected": attack.expected(bundles)}
    part["tabadol"] = attack.run_server(attack.tabadol_session, bundles, tab_plan, logs)
    print("tabadol done", flush=True)
    if medallion_version is not None:
        med_plan = attack.Plan(
            max_requests=args.requests, budget_s=args.medallion_budget, full_reads=1
        )
        part["medallion"] = attack.run_server(attack.medallion_session, bundles, med_plan, logs)
        part["medallion"]["version"] = medallion_version
        print("medallion done", flush=True)
    return part


def _markdown(results: dict[str, Any], verdicts: list[report.Verdict]) -> str:
    part = results["attack"]
    med = part.get("medallion")
    label = f"medallion {med['version']} (memory)" if med else "medallion (skipped)"
    sections = ["## ATT&CK, side by side", report.attack_table(part["tabadol"], med, label)]
    if "scale" in results:
        sections += ["## Scale", report.scale_table(results["scale"])]
    sections += ["## Targets", report.verdict_table(verdicts)]
    return "\n\n".join(sections) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # SIGTERM (a CI timeout, `kill`) must unwind like Ctrl-C, so every server is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": _machine()}
    results["attack"] = _attack_part(args, logs)
    verdicts = report.attack_verdicts(
        results["attack"]["tabadol"], results["attack"].get("medallion")
    )
    if not args.skip_scale:
        results["scale"] = scale.run_scale(args.scale, args.requests, logs)
        verdicts += report.scale_verdicts(results["scale"])
    results["verdicts"] = [v.as_dict() for v in verdicts]
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    markdown = _markdown(results, verdicts)
    (RESULTS / "latest.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
