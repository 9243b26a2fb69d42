"""The trust benchmark: what signatures, verification, sealing and the audit log cost.

Ingest of the ATT&CK bundles over TAXII POST (the foundation benchmark's ingest: 500 objects
per envelope, one keep-alive connection, a fresh node per run) in four modes, interleaved
run by run so that machine drift hits them alike:

* `off`       — the foundation release (commit FOUNDATION, before any trust feature: no
                signing, no verification, no audit log), run from `git archive` of that
                commit with the same virtualenv;
* `node-signs` — today's code, a node-custody org: the node signs every object, audits;
* `verifies`  — today's code, a client-custody org whose objects arrive signed (signed by
                the benchmark before the clock starts): the node verifies every signature;
* `sealed`    — today's code, posted into the org's own channel (AMBER+STRICT by default):
                signed, then end-to-end encrypted to the org, then the sealed form signed.

Then, in process, the audit log: entries appended per second (one entry per transaction,
and 100 per transaction) and `audit verify` throughput.

    .venv/bin/python bench/trust.py [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from attack import ORG, load_bundles
from servers import publisher_token, running, start_tabadol, tabadol_cli
from tabadol.client.remote import load_keyfile
from tabadol.crypto.object_signature import attach_signature
from tabadol.domain.audit import AuditEvent
from tabadol.node.node import init_node, open_node
from tabadol.usecases.trust import audit
from workload import Target, find_collection, ingest, open_client

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
FOUNDATION = "0d6a6c4"  # the last commit before the trust features
MODES = ("off", "node-signs", "verifies", "sealed")


def _foundation_src(into: Path) -> Path:
    """The foundation's `src/` extracted from git (nothing in the work tree changes)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", FOUNDATION, "src"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


@contextmanager
def _session(mode: str, logs: Path, env: dict[str, str]) -> Iterator[tuple[Target, Path]]:
    """A fresh node for one mode, set up with the CLI as an operator would."""
    with tempfile.TemporaryDirectory(prefix=f"tabadol-trust-{mode}-") as tmp:
        data = Path(tmp) / "node"
        tabadol_cli("init", str(data), env=env)
        if mode == "verifies":
            keyfile = Path(tmp) / "org.keys"
            public = tabadol_cli("key", "generate", "--out", str(keyfile), env=env)
            (Path(tmp) / "org.pub").write_text(public)
            tabadol_cli(
                "org",
                "add",
                ORG,
                "--data",
                str(data),
                "--public-keys",
                str(Path(tmp) / "org.pub"),
                env=env,
            )
        else:
            tabadol_cli("org", "add", ORG, "--data", str(data), env=env)
        token = publisher_token(data, ORG, env=env)
        server = start_tabadol(data, logs / f"tabadol-trust-{mode}.log", env=env)
        with running(server, "/taxii2/"), open_client(server.base_url, bearer=token) as client:
            title = ORG if mode == "sealed" else "public"
            collection = find_collection(client, "/taxii2/root/", title)
            target = Target(mode, client, f"/taxii2/root/collections/{collection}/objects/")
            yield target, Path(tmp) / "org.keys"


def _signed_copy(objects: list[Any], keyfile: Path) -> list[Any]:
    keys = load_keyfile(keyfile)
    signed = []
    for obj in objects:
        copy = dict(obj)
        attach_signature(copy, keys.signing, keys.sign_id)
        signed.append(copy)
    return signed


def ingest_modes(runs: int, logs: Path) -> dict[str, Any]:
    bundles = load_bundles()
    objects = [obj for _, named in bundles.named for obj in named]
    seconds: dict[str, list[float]] = {mode: [] for mode in MODES}
    checks: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="tabadol-foundation-") as tmp:
        old_src = _foundation_src(Path(tmp))
        envs: dict[str, dict[str, str]] = {mode: {} for mode in MODES}
        envs["off"] = {"PYTHONPATH": str(old_src)}
        for run in range(runs):
            for mode in MODES:
                with _session(mode, logs, envs[mode]) as (target, keyfile):
                    payload = objects
                    if mode == "verifies":
                        payload = _signed_copy(objects, keyfile)
                    done = ingest(target, payload)
                seconds[mode].append(done.seconds)
                checks[mode] = {"stored": done.stored, "failed": done.failed}
                print(
                    f"run {run + 1}/{runs} {mode}: {len(objects) / done.seconds:,.0f} obj/s",
                    file=sys.stderr,
                )
    rates = {m: len(objects) / statistics.median(s) for m, s in seconds.items()}
    return {
        "objects": len(objects),
        "runs": runs,
        "objects_per_s": {m: round(r, 1) for m, r in rates.items()},
        "objects_per_s_each": {m: [round(len(objects) / s, 1) for s in seconds[m]] for m in MODES},
        "cost_vs_off_percent": {
            m: round(100 * (1 - rates[m] / rates["off"]), 1) for m in MODES if m != "off"
        },
        "stored_failed": checks,
    }


def audit_rates(entries: int) -> dict[str, Any]:
    """Entries appended per second, alone and in batches, and `audit verify` throughput."""
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tabadol-audit-") as tmp:
        data = Path(tmp) / "node"
        init_node(data)
        with open_node(data) as node:
            for per_txn in (1, 100):
                count = entries if per_txn > 1 else entries // 10
                events = [
                    AuditEvent(
                        "bench",
                        "org:Bench/token:1",
                        object_ids=[f"indicator--{i:036d}"],
                        detail={"n": i},
                    )
                    for i in range(per_txn)
                ]
                started = time.perf_counter()
                for _ in range(count // per_txn):
                    node.store.append_audit(events, node.clock())
                elapsed = time.perf_counter() - started
                figures[f"append_per_s_{per_txn}_per_txn"] = round(count / elapsed, 1)
            total = node.store.audit_size()
            started = time.perf_counter()
            result = audit.verify_log(node)
            elapsed = time.perf_counter() - started
            assert result.ok, result.problems[:3]
            figures["verify"] = {
                "entries": total,
                "heads": result.heads,
                "seconds": round(elapsed, 3),
                "entries_per_s": round(total / elapsed, 1),
            }
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh nodes per mode")
    parser.add_argument("--audit-entries", type=int, default=100_000)
    args = parser.parse_args()
    logs = RESULTS / "logs"
    results = {
        "command": "bench/trust.py " + " ".join(sys.argv[1:]),
        "foundation_commit": FOUNDATION,
        "ingest": ingest_modes(args.runs, logs),
        "audit": audit_rates(args.audit_entries),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "trust.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
