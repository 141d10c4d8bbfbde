"""Writes a match to the store: durable plies through the Journal, the rest as a bus subscriber."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Self

from arena.core.events import Event, MatchEnded, MatchStarted, MoveCommitted
from arena.store.db import Store

log = logging.getLogger(__name__)


class MatchRecorder:
    """Records matches into a `Store`.

    As the runner's `Journal`, `record` is awaited for MatchStarted, MoveCommitted and MatchEnded,
    so a committed ply is on disk before the next turn; its errors propagate (a ply that cannot
    be saved should stop the match). As an `EventBus` subscriber, calling it only queues the
    event; a background task writes `events` and `branches` rows and logs its failures, so it
    never slows or breaks the match. Without `match_id` one recorder serves every match it is
    given; with it, events of other matches are ignored.
    """

    def __init__(self, store: Store, match_id: str | None = None, *, batch_size: int = 256) -> None:
        self.store = store
        self.match_id = match_id
        self.batch_size = batch_size
        self.failed = 0
        """Events that could not be written."""
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    # -- Journal ----------------------------------------------------------------------------

    async def record(self, event: Event) -> None:
        """Persists a durable event; returns once it is committed."""
        if self.match_id is not None and event.match_id != self.match_id:
            return
        # Shielded: when the match is cancelled mid-write the ply still lands (or fails whole).
        if isinstance(event, MatchStarted):
            await asyncio.shield(self.store.mark_running(event.match_id))
        elif isinstance(event, MoveCommitted):
            await asyncio.shield(self.store.add_ply(event.match_id, event.record))
        elif isinstance(event, MatchEnded):
            await asyncio.shield(
                self.store.finish_match(
                    event.match_id,
                    event.result,
                    event.termination,
                    event.stats,
                    max_plies=event.max_plies,
                )
            )
            await self.flush()

    # -- subscriber -------------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        """Queues `event` for the background writer; never blocks, never raises."""
        if self._closed or (self.match_id is not None and event.match_id != self.match_id):
            return
        try:
            if self._task is None:
                self._task = asyncio.get_running_loop().create_task(
                    self._drain(), name="arena-store-recorder"
                )
            self._queue.put_nowait(event)
        except Exception:
            self.failed += 1
            log.exception("replay recorder could not queue %s", type(event).__name__)

    async def flush(self) -> None:
        """Waits until every queued event has been written (or has failed)."""
        if self._task is not None and not self._task.done():
            await self._queue.join()

    async def aclose(self) -> None:
        """Writes what is queued, stops the background task and gives up the match's lease."""
        self._closed = True
        await self.flush()
        if self.match_id is not None and self.store.holds_lease(self.match_id):
            try:
                await self.store.release_lease(self.match_id)
            except Exception as exc:  # a lease left behind goes stale with its process
                log.warning("could not release the lease of %s: %s", self.match_id, exc)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                # Re-raise only a cancellation aimed at the caller, not the one we just sent.
                if current is not None and current.cancelling():
                    raise
            self._task = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _drain(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write(self, batch: list[Event]) -> None:
        try:
            await self.store.append_events(batch)
            return
        except Exception as exc:
            if self.store.closed or len(batch) == 1:
                self.failed += len(batch)
                log.warning(
                    "replay recorder dropped %d event(s): %s: %s",
                    len(batch),
                    type(exc).__name__,
                    exc,
                )
                return
        # One bad event (say, of a match not in the store) must not cost the others.
        for event in batch:
            try:
                await self.store.append_events([event])
            except Exception as exc:
                self.failed += 1
                log.warning(
                    "replay recorder dropped %s of match %s: %s: %s",
                    type(event).__name__,
                    event.match_id,
                    type(exc).__name__,
                    exc,
                )
