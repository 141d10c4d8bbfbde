"""Per-provider limits shared by every game of a tournament: requests in flight and per minute.

Every model call of a process (players, speculators, speculative branches, retries) passes the
gate installed with `arena.providers.base.set_call_gate`; the `ProviderLimiter` is that gate. It
keeps one bucket per endpoint, keyed by provider kind and base URL (the official OpenAI API and a
local vLLM server are different servers with different limits). A 429 pauses the whole bucket for
its `retry-after` (or the retry's backoff), so other games stop sending too instead of each
finding the limit by itself.

Limits are given as `KEY=IN_FLIGHT[/PER_MINUTE]`, where KEY is a kind (`openai`), a base URL
(`http://127.0.0.1:8000/v1`) or both (`openai@http://127.0.0.1:8000/v1`); the most specific
matching rule applies, and 0 means unbounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from arena.core.errors import ArenaError
from arena.providers.base import Provider

DEFAULT_IN_FLIGHT = 8
"""Requests in flight per endpoint when no rule names it."""


@dataclass(frozen=True, kw_only=True)
class ProviderLimit:
    """A rule: requests in flight and per minute for the endpoints `key` names."""

    key: str
    in_flight: int | None = None
    per_minute: int | None = None

    @classmethod
    def parse(cls, text: str) -> ProviderLimit:
        key, eq, value = text.rpartition("=")
        if not eq or not key.strip():
            raise ArenaError(
                f"--limit {text!r}: write KEY=IN_FLIGHT[/PER_MINUTE], e.g. openai=8/500"
            )
        first, _, second = value.partition("/")
        try:
            in_flight = int(first) if first.strip() else 0
            per_minute = int(second) if second.strip() else 0
        except ValueError:
            raise ArenaError(f"--limit {text!r}: the limits must be whole numbers") from None
        if in_flight < 0 or per_minute < 0:
            raise ArenaError(f"--limit {text!r}: the limits must be 0 (unbounded) or more")
        return cls(key=key.strip(), in_flight=in_flight or None, per_minute=per_minute or None)

    def specificity(self, kind: str, base_url: str) -> int | None:
        """How specifically this rule names the endpoint (higher wins); None if it does not."""
        if self.key == f"{kind}@{base_url}":
            return 3
        if base_url and self.key.rstrip("/") == base_url.rstrip("/"):
            return 2
        if self.key == kind:
            return 1
        return None

    def __str__(self) -> str:
        return f"{self.key}={self.in_flight or 0}/{self.per_minute or 0}"


@dataclass
class _Bucket:
    in_flight: int | None
    per_minute: int | None
    semaphore: asyncio.Semaphore | None
    starts: deque[float] = field(default_factory=deque)
    paused_until: float = 0.0
    admit_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    active: int = 0
    peak: int = 0
    calls: int = 0
    throttles: int = 0


@dataclass(frozen=True, kw_only=True)
class BucketStats:
    endpoint: str
    in_flight_limit: int | None
    per_minute_limit: int | None
    calls: int
    peak_in_flight: int
    throttles: int


class ProviderLimiter:
    """The gate every provider call passes (see the module docstring)."""

    window_s: float = 60.0
    """The per-minute window (shorter in tests)."""

    def __init__(
        self,
        limits: Sequence[ProviderLimit] = (),
        *,
        default_in_flight: int | None = DEFAULT_IN_FLIGHT,
    ) -> None:
        self.limits = tuple(limits)
        self.default_in_flight = default_in_flight
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def _bucket(self, provider: Provider) -> _Bucket:
        key = (provider.kind, provider.base_url or "")
        bucket = self._buckets.get(key)
        if bucket is None:
            ranked = [(rule.specificity(*key), rule) for rule in self.limits]
            matching = [(s, rule) for s, rule in ranked if s is not None]
            rule = max(matching, key=lambda pair: pair[0])[1] if matching else None
            in_flight = rule.in_flight if rule is not None else self.default_in_flight
            per_minute = rule.per_minute if rule is not None else None
            bucket = _Bucket(
                in_flight=in_flight,
                per_minute=per_minute,
                semaphore=asyncio.Semaphore(in_flight) if in_flight else None,
            )
            self._buckets[key] = bucket
        return bucket

    @contextlib.asynccontextmanager
    async def call(self, provider: Provider) -> AsyncIterator[None]:
        """Holds one request slot of the endpoint for the duration of one HTTP call."""
        bucket = self._bucket(provider)
        if bucket.semaphore is not None:
            await bucket.semaphore.acquire()
        try:
            await self._admit(bucket)
            bucket.active += 1
            bucket.calls += 1
            bucket.peak = max(bucket.peak, bucket.active)
            try:
                yield
            finally:
                bucket.active -= 1
        finally:
            if bucket.semaphore is not None:
                bucket.semaphore.release()

    async def _admit(self, bucket: _Bucket) -> None:
        """Waits out a 429 pause and the per-minute window (first come, first served)."""
        async with bucket.admit_lock:
            while True:
                now = time.monotonic()
                if bucket.paused_until > now:
                    await asyncio.sleep(bucket.paused_until - now)
                    continue
                if bucket.per_minute is None:
                    return
                while bucket.starts and bucket.starts[0] <= now - self.window_s:
                    bucket.starts.popleft()
                if len(bucket.starts) < bucket.per_minute:
                    bucket.starts.append(now)
                    return
                await asyncio.sleep(bucket.starts[0] + self.window_s - now)

    def throttled(self, provider: Provider, seconds: float) -> None:
        """The endpoint answered 429: nobody sends to it for `seconds`."""
        bucket = self._bucket(provider)
        bucket.throttles += 1
        bucket.paused_until = max(bucket.paused_until, time.monotonic() + max(0.0, seconds))

    def stats(self) -> list[BucketStats]:
        return [
            BucketStats(
                endpoint=f"{kind}@{url}" if url else kind,
                in_flight_limit=b.in_flight,
                per_minute_limit=b.per_minute,
                calls=b.calls,
                peak_in_flight=b.peak,
                throttles=b.throttles,
            )
            for (kind, url), b in self._buckets.items()
        ]


__all__ = ["DEFAULT_IN_FLIGHT", "BucketStats", "ProviderLimit", "ProviderLimiter"]
