"""The match's active clock: monotonic time with paused intervals taken out."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


class ActiveClock:
    """Seconds on `source` (monotonic by default) that were not spent paused.

    Every duration in the ledger is a difference of two readings of this clock, so a pause never
    counts as thinking, waiting or saving.
    """

    def __init__(self, source: Clock = time.monotonic) -> None:
        self.source = source
        self._paused_total = 0.0
        self._paused_at: float | None = None

    def __call__(self) -> float:
        now = self.source()
        paused = self._paused_total
        if self._paused_at is not None:
            paused += now - self._paused_at
        return now - paused

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    @property
    def paused_s(self) -> float:
        """Seconds spent paused so far."""
        return self.source() - self() if self._paused_at is not None else self._paused_total

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self.source()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_total += self.source() - self._paused_at
            self._paused_at = None


__all__ = ["ActiveClock", "Clock"]
