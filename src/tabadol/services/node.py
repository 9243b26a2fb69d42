"""A node: its settings, storage, clock and keys, opened from one data directory."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabadol.config import Settings, load_settings, write_settings
from tabadol.crypto.keyfiles import create_signing_key, load_signing_key
from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import InvalidInput
from tabadol.domain.model import ChannelDefaults
from tabadol.domain.paging import PageTokens
from tabadol.storage.base import Store
from tabadol.storage.sqlite.store import SQLiteStore

NODE_KEY_FILE = Path("keys") / "node.ed25519"

Clock = Callable[[], int]


def system_clock() -> int:
    """Now, in microseconds since the epoch (UTC)."""
    return time.time_ns() // 1000


@dataclass
class Node:
    """Everything a use case needs; built once per process (or per test)."""

    data_dir: Path
    settings: Settings
    store: Store
    clock: Clock
    page_tokens: PageTokens
    node_id: str  # a stable UUID derived from the node key
    channel_defaults: ChannelDefaults

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def init_node(data_dir: Path, settings: Settings | None = None) -> None:
    """Create a data directory: settings file, node key, database with its public channels."""
    if (data_dir / NODE_KEY_FILE).exists():
        raise InvalidInput(f"{data_dir} is already a tabadol data directory")
    data_dir.mkdir(parents=True, exist_ok=True)
    write_settings(data_dir, settings or Settings())
    create_signing_key(data_dir / NODE_KEY_FILE)
    with open_node(data_dir) as node:
        for kind, description in (
            (AudienceKind.MEMBERS, "Shared with every member organization of the exchange."),
            (AudienceKind.PUBLIC, "Public: readable by anyone this node serves."),
        ):
            node.store.create_collection(
                collection_uuid(node, kind.value), kind, None, kind.value, description
            )


def collection_uuid(node: Node, name: str) -> str:
    """A stable collection id, unique to this node."""
    return str(uuid.uuid5(uuid.UUID(node.node_id), name))


def open_node(data_dir: Path, clock: Clock = system_clock, **overrides: Any) -> Node:
    """Open an initialized data directory."""
    key_path = data_dir / NODE_KEY_FILE
    if not key_path.exists():
        raise InvalidInput(f"{data_dir} is not a tabadol data directory (run `tabadol init`)")
    settings = load_settings(data_dir, **overrides)
    key = load_signing_key(key_path)
    seed = bytes(key)
    node_id = str(
        uuid.UUID(
            bytes=hashlib.sha256(b"tabadol node id" + bytes(key.verify_key)).digest()[:16],
            version=4,
        )
    )
    paging_secret = hashlib.blake2b(seed, person=b"tabadol-paging", digest_size=32).digest()
    return Node(
        data_dir=data_dir,
        settings=settings,
        store=SQLiteStore(data_dir / settings.database),
        clock=clock,
        page_tokens=PageTokens(paging_secret),
        node_id=node_id,
        channel_defaults=settings.channel_defaults(),
    )
