"""Telegram's flood limits modelled as token buckets."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class FloodLimits:
    """Tunable flood limits; the defaults follow Telegram's documented numbers.

    A bucket holds at most ``*_burst`` messages and refills at the given rate, so the
    defaults allow 30 messages at once overall then 30/s, 1 message per second in one private
    chat (the 2nd within a second is refused), 20 messages at once in one group then 20/min.
    """

    global_per_second: float = 30.0
    global_burst: int = 30
    private_per_second: float = 1.0
    private_burst: int = 1
    group_per_minute: float = 20.0
    group_burst: int = 20


class TokenBucket:
    """A token bucket: ``capacity`` tokens, refilled at ``rate`` tokens per second."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now

    def wait_time(self, now: float) -> float:
        """Return seconds until one token is available (0.0 if one is available now)."""
        self._refill(now)
        if self.tokens >= 1.0:
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        """Consume one token (call after wait_time returned 0)."""
        self._refill(now)
        self.tokens -= 1.0


class FloodLimiter:
    """Counts send*/edit* calls per chat and overall; answers how long to wait on excess."""

    def __init__(self, limits: FloodLimits, monotonic: Callable[[], float]) -> None:
        self.limits = limits
        self._monotonic = monotonic
        self._global: TokenBucket | None = None
        self._chats: dict[int | str, TokenBucket] = {}

    def reset(self) -> None:
        """Forget all counted messages (all buckets full again)."""
        self._global = None
        self._chats.clear()

    def _bucket(self, chat_id: int | str, private: bool, now: float) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            lim = self.limits
            if private:
                bucket = TokenBucket(lim.private_burst, lim.private_per_second, now)
            else:
                bucket = TokenBucket(lim.group_burst, lim.group_per_minute / 60.0, now)
            self._chats[chat_id] = bucket
        return bucket

    def acquire(self, chat_id: int | str, private: bool) -> int:
        """Count one message to chat_id; return 0 if allowed, else retry_after seconds (>= 1).

        A refused message consumes nothing.
        """
        now = self._monotonic()
        if self._global is None:
            lim = self.limits
            self._global = TokenBucket(lim.global_burst, lim.global_per_second, now)
        chat_bucket = self._bucket(chat_id, private, now)
        wait = max(self._global.wait_time(now), chat_bucket.wait_time(now))
        if wait > 0:
            return max(1, math.ceil(min(wait, 86400.0)))
        self._global.take(now)
        chat_bucket.take(now)
        return 0
