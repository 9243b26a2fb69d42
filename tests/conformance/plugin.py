"""The session-wide check (issue 13): every STIX object a server emits while the tests run —
TAXII reads, the member and peer change feeds and streams, `tabadol export`, from servers in
this process and in subprocesses — is judged at the end of the session by `stix2.parse`
(`allow_custom=False`) and stix2-validator in strict mode, each distinct object once. An
object refused for something the node did fails the session, with the first ones and their
reasons listed; what its producer posted that way is counted, not held against the node.

`TABADOL_STIX_CONFORMANCE`: `enforce` (the default) fails the session, `report` only prints
the summary, `off` records nothing. `TABADOL_STIX_REPORT=FILE` also writes every refused
object with its reasons as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import instrument
from .check import PARSE, TOOLS, VALIDATOR, Judge, Judged, Ledger, reasons_by_cause

MODE = "TABADOL_STIX_CONFORMANCE"
REPORT = "TABADOL_STIX_REPORT"
RECORD_DIR = "TABADOL_STIX_RECORD_DIR"  # where subprocesses write what they record
SOURCE = "TABADOL_STIX_SOURCE"  # the test that started a subprocess
SITE = Path(__file__).resolve().parent / "site"
MODES = ("enforce", "report", "off")
LISTED = 10
TOOL_NAMES = {PARSE: "stix2.parse (allow_custom=False)", VALIDATOR: "stix2-validator --strict"}


class LedgerSink:
    """The test process's sink: every server thread writes into the session's ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.source = ""
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def emitted(self, obj: Any, channel: str) -> None:
        with self._lock:
            self.ledger.add_emitted(obj, channel, self.source)

    def posted(self, obj: Any) -> None:
        with self._lock:
            self.ledger.add_posted(obj)

    def failed(self, text: str) -> None:
        self.failures.append(text)


class Conformance:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.ledger = Ledger()
        self.sink = LedgerSink(self.ledger)
        self.directory = Path(tempfile.mkdtemp(prefix="tabadol-stix-"))
        self.judged: list[Judged] = []
        self.judge = Judge()
        self.seconds = 0.0
        self._environ = {name: os.environ.get(name) for name in (RECORD_DIR, SOURCE, "PYTHONPATH")}

    def start(self) -> None:
        os.environ[RECORD_DIR] = str(self.directory)
        path = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = str(SITE) + (os.pathsep + path if path else "")
        instrument.install(self.sink)

    def stop(self) -> None:
        for name, value in self._environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(self.directory, ignore_errors=True)

    def _read_subprocesses(self) -> None:
        for path in sorted(self.directory.glob("record-*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                if record["kind"] == "emitted":
                    self.ledger.add_emitted(record["object"], record["channel"], record["source"])
                elif record["kind"] == "posted":
                    self.ledger.add_posted(record["object"])
                else:
                    self.sink.failures.append(f"{record['source']}: {record['object']}")

    def finish(self) -> None:
        started = time.perf_counter()
        self._read_subprocesses()
        self.judged = self.ledger.judge(self.judge)
        self.seconds = time.perf_counter() - started

    @property
    def held(self) -> list[Judged]:
        return [j for j in self.judged if not j.held.accepted]

    @property
    def failed(self) -> bool:
        return self.mode == "enforce" and bool(self.held or self.sink.failures)

    def lines(self) -> Iterator[str]:
        judged, held = self.judged, self.held
        channels: Counter[str] = Counter(c for j in judged for c in j.emitted.channels)
        yield (
            f"{self.ledger.seen} objects emitted, {len(judged)} distinct; by channel: "
            + ", ".join(f"{name} {count}" for name, count in sorted(channels.items()))
        )
        for tool in TOOLS:
            refused = sum(j.verdict.refused_by(tool) for j in judged)
            mine = sum(j.held.refused_by(tool) for j in judged)
            yield (
                f"{TOOL_NAMES[tool]}: {mine} refused for what the node did"
                f" ({refused - mine} more refused for their producer's own content)"
            )
        for tool in TOOLS:
            for cause, count in reasons_by_cause(judged, tool).most_common(25):
                yield f"  [{tool}] {count:5d} × {cause}"
        for item in held[:LISTED]:
            obj = item.emitted.obj
            where = ", ".join(sorted(item.emitted.channels))
            test = min(item.emitted.sources, default="?")
            held = item.held.reasons
            reasons = "; ".join(f"{t}: {' | '.join(held[t])}" for t in TOOLS if held[t])
            yield f"  {obj.get('id')} ({where}; {test}): {reasons}"
        for failure in self.sink.failures[:LISTED]:
            yield f"  recording failed: {failure}"
        per_object = {t: 1000 * s / max(self.judge.runs, 1) for t, s in self.judge.seconds.items()}
        yield (
            f"judged {self.judge.runs} objects in {self.seconds:.1f} s"
            f" ({per_object[PARSE]:.2f} ms an object for stix2.parse,"
            f" {per_object[VALIDATOR]:.2f} ms for the validator)"
        )

    def verdict(self) -> str:
        if not self.held and not self.sink.failures:
            return "every emitted object is STIX the field accepts"
        outcome = "the session fails" if self.mode == "enforce" else "report only"
        return f"{len(self.held)} emitted objects are not STIX the field accepts: {outcome}"

    def write_report(self, path: Path) -> None:
        rows = [
            {
                "id": j.emitted.obj.get("id"),
                "channels": sorted(j.emitted.channels),
                "tests": sorted(j.emitted.sources),
                "held": j.held.reasons,
                "all": j.verdict.reasons,
                "object": j.emitted.obj,
            }
            for j in self.held
        ]
        path.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")


_KEY = pytest.StashKey[Conformance]()


def conformance_of(config: pytest.Config) -> Conformance | None:
    """The session's check (None when `TABADOL_STIX_CONFORMANCE=off`)."""
    return config.stash.get(_KEY, None)


def pytest_configure(config: pytest.Config) -> None:
    mode = os.environ.get(MODE, "enforce")
    if mode not in MODES:
        raise pytest.UsageError(f"{MODE} must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "off":
        return
    conformance = Conformance(mode)
    conformance.start()
    config.stash[_KEY] = conformance


def pytest_unconfigure(config: pytest.Config) -> None:
    conformance = config.stash.get(_KEY, None)
    if conformance is not None:
        conformance.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """What a test's servers emit is attributed to it (its subprocesses inherit the name)."""
    conformance = item.config.stash.get(_KEY, None)
    if conformance is not None:
        conformance.sink.source = item.nodeid
        os.environ[SOURCE] = item.nodeid
    yield


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    conformance = session.config.stash.get(_KEY, None)
    if conformance is None:
        return
    conformance.finish()
    report = os.environ.get(REPORT)
    if report:
        conformance.write_report(Path(report))
    if conformance.failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    conformance = config.stash.get(_KEY, None)
    if conformance is None:
        return
    terminalreporter.section("STIX conformance of what the servers emitted (issue 13)")
    for line in conformance.lines():
        terminalreporter.write_line(line)
    terminalreporter.write_line(conformance.verdict(), red=conformance.failed, bold=True)
