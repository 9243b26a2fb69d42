"""A peer sync that fails, retries and recovers says so in the node's log (issue 14, finding
10), where only `tabadol peer status` showed it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from .nodes import FedNode, federation, note, wait_until


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[dict[str, FedNode]]:
    yield from federation(tmp_path, {"A": ["Org A1"], "B": ["Org B1"]})


def _messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "tabadol.sync" and r.levelno == level
    ]


def test_sync_failures_retries_and_recovery_are_logged(
    pair: dict[str, FedNode], caplog: pytest.LogCaptureFixture
) -> None:
    """B stops: A logs each failed attempt (a warning, with the reason and the wait) and
    its retries; B comes back: A logs the recovery and catches up."""
    a, b = pair["A"], pair["B"]
    b_id = b.card().node_id
    caplog.set_level(logging.INFO, logger="tabadol.sync")
    wait_until(lambda: a.node.store.org_by_name("Org B1") is not None, "A follows B")
    b.stop()
    wait_until(lambda: len(_messages(caplog, logging.WARNING)) >= 2, "two failures logged")
    failures = [m for m in _messages(caplog, logging.WARNING) if "failed" in m]
    assert failures[0].startswith(f"sync with {b_id} failed (")
    assert "failure 1); retry in " in failures[0]
    wait_until(
        lambda: any(m.startswith(f"sync with {b_id}: retrying") for m in _messages(caplog, 20)),
        "a retry logged",
    )
    b.start()
    b.publish("Org B1", "members", [note("after the outage")])
    wait_until(
        lambda: any("recovered after" in m for m in _messages(caplog, logging.WARNING)),
        "the recovery logged",
    )
    recovered = [m for m in _messages(caplog, logging.WARNING) if "recovered" in m]
    assert recovered[0].startswith(f"sync with {b_id} recovered after ")
    assert all("\n" not in r.getMessage() for r in caplog.records)
