"""Waking the streams after a commit: in-process writers notify at once; writes from another
process (a CLI import, another worker) are found by the streams' short poll."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType


class ChangeSignal:
    """Notified after every committed write; awaited by the change streams."""

    def __init__(self) -> None:
        self._listeners: set[Listener] = set()
        self._lock = threading.Lock()
        self._version = 0
        self._cond = threading.Condition()
        self.closed = False  # the node is shutting down: streams end

    def close(self) -> None:
        """The server is stopping: wake every stream so that it ends now."""
        self.closed = True
        self.notify()

    def notify(self) -> None:
        """Called by the storage after each commit, from the writing thread."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.wake()
        with self._cond:
            self._version += 1
            self._cond.notify_all()

    def listen(self) -> Listener:
        """Register before reading the feed, so a commit in between is not missed."""
        return Listener(self)

    def _add(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.add(listener)

    def _remove(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    @property
    def version(self) -> int:
        return self._version

    def wait_sync(self, seen: int, timeout: float) -> int:
        """For threads: wait until a commit after version `seen` (or the timeout)."""
        with self._cond:
            self._cond.wait_for(lambda: self._version != seen, timeout)
            return self._version


class Listener:
    """One stream's registration; `wait` returns at the next commit or after `timeout`."""

    def __init__(self, signal: ChangeSignal) -> None:
        self._signal = signal
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()

    def __enter__(self) -> Listener:
        self._signal._add(self)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._signal._remove(self)
