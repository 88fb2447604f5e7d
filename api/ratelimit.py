"""Rate limits: failed authentications per client address, expensive requests per API key.

Token buckets kept in this process: each `serve` process limits on its own, so N processes
allow up to N times the rate (documented in the README). A client over a limit gets 429 with
`Retry-After`: 500 bad keys in 1.9 s were once answered with 500 401s, each a database query,
and nothing stopped one key from queueing rounds or imports as fast as it could send them."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


class TooManyRequests(Exception):
    def __init__(self, retry_after_s: float, what: str) -> None:
        self.retry_after_s = max(1, math.ceil(retry_after_s))
        super().__init__(f"too many {what}: retry in {self.retry_after_s} s")


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """At most `per_minute` events a minute for each key, in bursts of up to `per_minute`."""

    # Buckets of clients gone quiet are dropped past this many, so memory stays bounded.
    MAX_KEYS = 10_000

    def __init__(
        self, per_minute: int, what: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.what = what
        self.clock = clock
        self.buckets: dict[Hashable, _Bucket] = {}
        self.lock = threading.Lock()

    def _refilled(self, key: Hashable, now: float) -> _Bucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= self.MAX_KEYS:
                self._drop_full(now)
            bucket = self.buckets[key] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        return bucket

    def _drop_full(self, now: float) -> None:
        full = [
            key
            for key, bucket in self.buckets.items()
            if bucket.tokens + (now - bucket.at) * self.rate >= self.capacity
        ]
        for key in full or list(self.buckets)[: self.MAX_KEYS // 2]:
            del self.buckets[key]

    def check(self, key: Hashable) -> None:
        """Raise TooManyRequests if `key` has no event left, without spending one."""
        with self.lock:
            bucket = self._refilled(key, self.clock())
            if bucket.tokens < 1:
                raise TooManyRequests((1 - bucket.tokens) / self.rate, self.what)

    def spend(self, key: Hashable) -> None:
        """Count one event of `key`; raise TooManyRequests if it had none left."""
        with self.lock:
            bucket = self._refilled(key, self.clock())
            if bucket.tokens < 1:
                raise TooManyRequests((1 - bucket.tokens) / self.rate, self.what)
            bucket.tokens -= 1
