"""The signed directory documents a node serves, kept until the directory changes: signing
one costs a node-key signature over every org and key, and peers ask for it on each change.

Held by the `Node` (one cache per node, even with several nodes in one process)."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any

Document = dict[str, Any]


class DocumentCache:
    """Documents by key, each good while the directory fingerprint it was built at holds."""

    def __init__(self) -> None:
        self._documents: dict[Hashable, tuple[str, Document]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, fingerprint: str) -> Document | None:
        """The document kept under `key`, if it was built at `fingerprint`."""
        with self._lock:
            kept = self._documents.get(key)
        return kept[1] if kept is not None and kept[0] == fingerprint else None

    def put(self, key: Hashable, fingerprint: str, document: Document) -> None:
        with self._lock:
            self._documents[key] = (fingerprint, document)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._documents.pop(key, None)
