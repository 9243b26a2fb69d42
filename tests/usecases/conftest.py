"""Fixtures of the people tests (their helpers are in `people_setup.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tabadol.domain.model import Org
from tabadol.node.node import Node
from tabadol.usecases.membership import organizations

from .people_setup import ManualClock, open_people_node


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def pnode(data_dir: Path, clock: ManualClock) -> Iterator[Node]:
    """A node on the test's clock, hashing passwords with cheap Argon2 parameters."""
    with open_people_node(data_dir, clock) as node:
        yield node


@pytest.fixture
def org(pnode: Node) -> Org:
    return organizations.add_org(pnode, "Pardis CERT")
