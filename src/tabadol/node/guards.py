"""What a node remembers of the peer requests it has seen, per process: the nonces of the
last few minutes (a replay is refused) and a token bucket per peer (a flood gets 429s).

Held by the `Node` and created with it, so that two nodes in one process (tests, the demo)
never share them, and the rate limiter reads the node's monotonic clock (a test steps it)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

SKEW_US = 300_000_000  # a signed request is good for five minutes either side of now
NONCES_KEPT = 100_000
RATE_PER_S = 50.0  # peer requests per second, sustained (a stream is one request)
BURST = 100

Monotonic = Callable[[], float]


class NonceCache:
    """The nonces of the signed requests seen in the last window: a replay is refused."""

    def __init__(self, capacity: int = NONCES_KEPT) -> None:
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def first_use(self, nonce: str, at_us: int, now_us: int) -> bool:
        """False for a nonce seen in the window, and when the cache is full of nonces still
        inside it (never forget one that could be replayed: refuse instead)."""
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now_us - 2 * SKEW_US:
                self._seen.popitem(last=False)
            if nonce in self._seen or len(self._seen) >= self._capacity:
                return False
            self._seen[nonce] = max(at_us, now_us)
            return True


class RateLimiter:
    """A token bucket per peer: a flooding peer gets 429s while the others go on."""

    def __init__(
        self, rate: float = RATE_PER_S, burst: int = BURST, monotonic: Monotonic = time.monotonic
    ) -> None:
        self.rate, self._burst, self._monotonic = rate, burst, monotonic
        self._buckets: dict[int, tuple[float, float]] = {}  # peer id -> (tokens, at)
        self._lock = threading.Lock()

    def allow(self, peer_id: int) -> bool:
        """Take one token from the peer's bucket, refilled at `rate` since its last request."""
        with self._lock:
            now_s = self._monotonic()
            tokens, at = self._buckets.get(peer_id, (float(self._burst), now_s))
            tokens = min(float(self._burst), tokens + (now_s - at) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[peer_id] = (tokens - 1.0 if allowed else tokens, now_s)
            return allowed


@dataclass
class PeerGuards:
    """The replay and flood guards of one node's peer endpoints."""

    monotonic: Monotonic = time.monotonic
    nonces: NonceCache = field(default_factory=NonceCache)
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(monotonic=self.monotonic)
