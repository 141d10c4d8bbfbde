"""Writes a match to the store: durable plies through the Journal, the rest as a bus subscriber."""

from __future__ import annotations

import asyncio
import functools
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
    event with the store's writer, which writes `events` and `branches` rows along with the next
    ply (one commit for both) and reports failures here, so it never slows or breaks the match.
    Without `match_id` one recorder serves every match it is given; with it, events of other
    matches are ignored.
    """

    def __init__(self, store: Store, match_id: str | None = None, *, batch_size: int = 256) -> None:
        self.store = store
        self.match_id = match_id
        self.batch_size = batch_size
        """Kept for callers; the store's writer batches every match's events together."""
        self.failed = 0
        """Events that could not be written."""
        self._closed = False

    # -- Journal ----------------------------------------------------------------------------

    async def record(self, event: Event) -> None:
        """Persists a durable event; returns once it is committed."""
        if self.match_id is not None and event.match_id != self.match_id:
            return
        if isinstance(event, MatchStarted):
            await asyncio.shield(self.store.mark_running(event.match_id))
        elif isinstance(event, MoveCommitted):
            # No shield needed: a queued ply lands even when the match is cancelled meanwhile.
            await self.store.add_ply(event.match_id, event.record)
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
        """Queues `event` with the store's writer; never blocks, never raises."""
        if self._closed or (self.match_id is not None and event.match_id != self.match_id):
            return
        try:
            self.store.queue_event(event, functools.partial(self._dropped, event))
        except Exception as exc:
            self._dropped(event, exc)

    def _dropped(self, event: Event, exc: BaseException) -> None:
        self.failed += 1
        log.warning(
            "replay recorder dropped %s of match %s: %s: %s",
            type(event).__name__,
            event.match_id,
            type(exc).__name__,
            exc,
        )

    async def flush(self) -> None:
        """Waits until every queued event has been written (or has failed)."""
        self.store.flush_soon()
        await self.store.written()

    async def aclose(self) -> None:
        """Writes what is queued and gives up the match's lease."""
        self._closed = True
        await self.flush()
        if self.match_id is not None and self.store.holds_lease(self.match_id):
            try:
                await self.store.release_lease(self.match_id)
            except Exception as exc:  # a lease left behind goes stale with its process
                log.warning("could not release the lease of %s: %s", self.match_id, exc)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
