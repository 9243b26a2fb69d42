"""One sync loop per peer: follow its change stream, take in its directory when it changes,
apply each page with the cursor in one transaction; on failure, back off (the state is
persisted per peer, so `tabadol peer status` shows it and a restart resumes it)."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from tabadol.domain.errors import PeerError, PeerPaused, TabadolError
from tabadol.domain.federation import Peer
from tabadol.node.node import Node
from tabadol.sync.client import PeerClient
from tabadol.usecases.federation import peer_directory, sync_state
from tabadol.usecases.federation.sync_in import apply_page
from tabadol.usecases.reading.feed import MAX_BATCH

log = logging.getLogger("tabadol.sync")
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 60.0
MANAGER_TICK_S = 1.0

ClientFactory = Callable[[Node, Peer], PeerClient]


def default_client(node: Node, peer: Peer) -> PeerClient:
    return PeerClient(peer.url, node.node_key, node.clock, peer.node_id)


def _take_page(node: Node, client: PeerClient, peer: Peer, page: dict[str, Any]) -> Peer:
    """Apply one page of the peer's feed (its directory first, if it changed)."""
    version = page.get("directory")
    if isinstance(version, int) and version != peer.directory_version:
        refused = peer_directory.take_in(node, peer, client.directory(), version)
        for reason in refused:
            log.warning("directory of %s: %s", peer.node_id, reason)
    changes, cursor, head = page.get("changes"), page.get("cursor"), page.get("head")
    if not isinstance(changes, list) or not isinstance(cursor, int) or not isinstance(head, int):
        raise PeerError("a page needs changes, cursor and head")
    if len(changes) > MAX_BATCH:
        raise PeerError(f"a page of {len(changes)} changes (at most {MAX_BATCH} are asked for)")
    current = sync_state.current(node, peer.id)
    if current is None or current.paused:
        raise PeerPaused(f"{peer.node_id} was paused or removed here")
    channels = page.get("channels")
    offered = [str(c) for c in channels] if isinstance(channels, list) else None
    if changes or cursor > current.cursor:
        result = apply_page(node, current, changes, cursor, head)
        if result.refused:
            log.warning("%s: refused %d items", peer.node_id, len(result.refused))
    else:
        sync_state.record_contact(node, peer, head)
    current = sync_state.current(node, peer.id) or current
    if offered is not None and set(offered) != set(current.channels):
        _backfill(node, client, current, set(offered) - set(current.channels), offered)
    return sync_state.current(node, peer.id) or current


def _backfill(
    node: Node, client: PeerClient, peer: Peer, new: set[str], offered: list[str]
) -> None:
    """Read newly offered channels from their start, without moving the main cursor (which
    went past what this node was not entitled to then); then record the channels."""
    if peer.cursor > 0 and peer.channels:
        for channel in sorted(new):
            after = 0
            while True:
                page = client.changes(after, channel=channel)
                changes = page.get("changes")
                if not isinstance(changes, list) or not changes:
                    break
                if len(changes) > MAX_BATCH:
                    raise PeerError(f"a page of {len(changes)} changes")
                apply_page(node, peer, changes, peer.cursor, int(page.get("head", 0)))
                if int(page.get("cursor", after)) <= after:
                    break
                after = int(page["cursor"])
    apply_page(node, peer, [], peer.cursor, peer.peer_head, channels=offered)


def sync_once(node: Node, peer: Peer, client: PeerClient | None = None) -> Peer:
    """Pull until caught up with the peer (no stream): for the CLI and for tests."""
    own = client is None
    client = client or default_client(node, peer)
    try:
        while True:
            before = peer.cursor
            page = client.changes(peer.cursor)
            peer = _take_page(node, client, peer, page)
            if not page.get("changes") or peer.cursor == before:
                return peer
    finally:
        if own:
            client.close()


class PeerSync(threading.Thread):
    """Follows one peer until stopped."""

    def __init__(self, node: Node, peer: Peer, stop: threading.Event, make: ClientFactory) -> None:
        super().__init__(name=f"tabadol-sync-{peer.node_id[:8]}", daemon=True)
        self.node, self.peer_id, self.stop_event, self.make = node, peer.id, stop, make
        self.client: PeerClient | None = None

    def interrupt(self) -> None:
        """Cut the open stream, so that the thread sees the stop at once."""
        client = self.client
        if client is not None:
            client.abort()

    def run(self) -> None:
        while not self.stop_event.is_set():
            peer = sync_state.current(self.node, self.peer_id)
            if peer is None or not peer.direct or peer.paused:
                return
            wait = self._wait_before(peer)
            if wait > 0:
                self.stop_event.wait(wait)
                continue
            failures = peer.failures
            if failures:
                log.info("sync with %s: retrying (%d failed so far)", peer.node_id, failures)
            client = self.client = self.make(self.node, peer)
            try:
                for page in client.stream(peer.cursor):
                    if self.stop_event.is_set():
                        return
                    peer = _take_page(self.node, client, peer, page)
                    if failures:  # at the failures' level: a log read at warning shows both
                        log.warning("sync with %s recovered after %d failures", peer.node_id,
                                    failures)  # fmt: skip
                        failures = 0
            except PeerPaused:
                return
            except TabadolError as exc:  # the peer failed (PeerFailure), or refused a page
                if not self.stop_event.is_set():
                    self._failed(peer, exc)
            except Exception as exc:  # a bug must not end the loop: it is logged, kept, retried
                if not self.stop_event.is_set():
                    log.exception("sync with %s", peer.node_id)
                    self._failed(peer, exc)
            finally:
                self.client = None
                client.close()

    def _wait_before(self, peer: Peer) -> float:
        if peer.retry_at is None:
            return 0.0
        return max(0.0, (peer.retry_at - self.node.clock()) / 1e6)

    def _failed(self, peer: Peer, exc: Exception) -> None:
        current = sync_state.current(self.node, peer.id) or peer
        delay = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** min(current.failures, 16))
        delay *= 0.5 + random.random() / 2  # noqa: S311 (jitter, not a secret)
        message = f"{type(exc).__name__}: {exc}"
        sync_state.record_failure(self.node, peer, message, delay)
        log.warning("sync with %s failed (%s, failure %d); retry in %.1f s", peer.node_id,
                    message, current.failures + 1, delay)  # fmt: skip


class SyncManager:
    """Keeps one PeerSync per direct, active peer (peers added or removed while the node runs
    are picked up within a second)."""

    def __init__(self, node: Node, make: ClientFactory = default_client) -> None:
        self.node, self.make = node, make
        self._stop = threading.Event()
        self._loops: dict[int, PeerSync] = {}
        self._thread = threading.Thread(target=self._run, name="tabadol-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        for loop in self._loops.values():
            loop.interrupt()
        for loop in self._loops.values():
            loop.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                active = {p.id: p for p in sync_state.followed_peers(self.node)}
            except Exception:  # the manager must outlive a closing database: retried next tick
                log.exception("listing peers")
                active = {}
            for peer_id, peer in active.items():
                loop = self._loops.get(peer_id)
                if loop is None or not loop.is_alive():
                    if loop is None:
                        log.info("following peer %s at %s", peer.node_id, peer.url)
                    loop = PeerSync(self.node, peer, self._stop, self.make)
                    self._loops[peer_id] = loop
                    loop.start()
            self._stop.wait(MANAGER_TICK_S)
