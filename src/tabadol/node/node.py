"""A node: its settings, storage, clock and keys, opened from one data directory."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from tabadol.config import CONFIG_FILE, Settings, load_settings, write_settings
from tabadol.crypto import keyfiles
from tabadol.crypto.signing import key_id, sign
from tabadol.crypto.wrapping import load_or_create_secret
from tabadol.domain.audience import AudienceKind
from tabadol.domain.audit import head_payload
from tabadol.domain.errors import InvalidInput, KeysUnavailable, UnwrapError
from tabadol.domain.model import ChannelDefaults
from tabadol.domain.paging import PageTokens
from tabadol.node.changes import ChangeSignal
from tabadol.node.documents import DocumentCache
from tabadol.node.guards import PeerGuards
from tabadol.private_files import private_directory, tighten
from tabadol.storage.contract import Store
from tabadol.storage.opening import open_store

KEYS_DIR = Path("keys")

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
    node_key: SigningKey  # signs audit tree heads and the directory (org identities)
    key_secret_path: Path  # the secret wrapping org private keys; outside data_dir
    changes: ChangeSignal = field(default_factory=ChangeSignal)  # notified after each commit
    guards: PeerGuards = field(default_factory=PeerGuards)  # replay and flood guards of peers
    documents: DocumentCache = field(default_factory=DocumentCache)  # signed directories served
    unwrapped: dict[str, bytes] = field(default_factory=dict)  # key id -> private key
    unwrapped_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def node_key_id(self) -> str:
        return key_id(bytes(self.node_key.verify_key))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def init_node(data_dir: Path, settings: Settings | None = None) -> None:
    """Create a data directory: settings file, node key, database with its public channels."""
    if keyfiles.exists(data_dir / KEYS_DIR):
        raise InvalidInput(f"{data_dir} is already a tabadol data directory")
    private_directory(data_dir)
    settings = settings or Settings()
    write_settings(data_dir, settings)
    effective = load_settings(data_dir)  # with TABADOL_* overrides, as open_node reads them
    key = SigningKey.generate()  # its public half names the node, and the secret's file
    secret = load_or_create_secret(
        key_secret_path(data_dir, effective, node_id_of(bytes(key.verify_key)))
    )
    keyfiles.write_node_key(data_dir / KEYS_DIR, key, secret)
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
    keys_dir = data_dir / KEYS_DIR
    if not keyfiles.exists(keys_dir):
        raise InvalidInput(f"{data_dir} is not a tabadol data directory (run `tabadol init`)")
    settings = load_settings(data_dir, **overrides)
    for path, mode in ((data_dir, 0o700), (keys_dir, 0o700), (data_dir / CONFIG_FILE, 0o600)):
        tighten(path, mode)  # a directory made by an older version, under umask 022
    node_id = node_id_of(keyfiles.node_public_key(keys_dir))
    secret_path = key_secret_path(data_dir, settings, node_id)
    if not secret_path.exists():
        raise KeysUnavailable(
            f"the key secret {secret_path} is missing: the node key and the org keys are"
            " wrapped under it; restore it (setting key_secret_file)"
        )
    try:
        key = keyfiles.load_node_key(keys_dir, load_or_create_secret(secret_path))
    except UnwrapError:
        raise KeysUnavailable(
            f"the key secret {secret_path} does not open the node key: restore the right one"
        ) from None
    seed = bytes(key)
    paging_secret = hashlib.blake2b(seed, person=b"tabadol-paging", digest_size=32).digest()
    node_key_id = key_id(bytes(key.verify_key))

    def sign_head(size: int, root: bytes, at: int) -> tuple[str, bytes]:
        return node_key_id, sign(key, head_payload(size, root, at))

    changes = ChangeSignal()
    return Node(
        data_dir=data_dir,
        settings=settings,
        store=_open_store(data_dir, settings, sign_head, changes.notify),
        changes=changes,
        clock=clock,
        page_tokens=PageTokens(paging_secret),
        node_id=node_id,
        channel_defaults=settings.channel_defaults(),
        node_key=key,
        key_secret_path=secret_path,
    )


def _open_store(
    data_dir: Path,
    settings: Settings,
    sign_head: Callable[[int, bytes, int], tuple[str, bytes]],
    on_commit: Callable[[], None],
) -> Store:
    """SQLite (the file in the data directory) or PostgreSQL (`database_url`)."""
    return open_store(
        data_dir / settings.database,
        settings.database_url,
        schema=settings.database_schema or None,
        max_connections=settings.worker_threads,
        head_signer=sign_head,
        on_commit=on_commit,
    )


def node_id_of(public_key: bytes) -> str:
    """A stable UUID naming the node, derived from its public key."""
    digest = hashlib.sha256(b"tabadol node id" + public_key).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def key_secret_path(data_dir: Path, settings: Settings, node_id: str) -> Path:
    """Where the key-wrapping secret lives: never inside the data directory, so that the
    data directory (or a backup of it) alone does not give the org private keys."""
    if settings.key_secret_file:
        path = Path(settings.key_secret_file).expanduser()
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        path = base / "tabadol" / "secrets" / f"{node_id}.key"
    resolved, data = path.resolve(), data_dir.resolve()
    if resolved == data or data in resolved.parents:
        raise InvalidInput(
            f"key_secret_file {path} lies inside the data directory; keep it elsewhere"
        )
    return path
