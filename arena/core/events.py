"""Typed events the match runner publishes; the TUI, the store and the printer subscribe."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from arena.core.actor import Attempt, Guess, Usage
from arena.core.game import Side
from arena.core.ledger import MatchStats, PlyRecord

log = logging.getLogger(__name__)


class BranchStatus(StrEnum):
    """The one vocabulary of a speculative branch's life, for the store and every panel."""

    RUNNING = "running"
    """Started, no answer yet."""
    FINISHED = "finished"
    """Answered (or failed, with an error); waiting to be adopted or dropped."""
    ADOPTED = "adopted"
    """Became the real decision of its ply: its reply was used."""
    CANCELLED = "cancelled"
    """Stopped while running, or dropped unused after finishing, because the game went elsewhere."""


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every match event. `t` is seconds since the match started (monotonic)."""

    match_id: str
    t: float


@dataclass(frozen=True, kw_only=True)
class MatchStarted(Event):
    players: tuple[str, str]
    speculators: tuple[str | None, str | None]
    start_fen: str
    ply: int
    """The ply the match starts (or resumes) at."""
    history: tuple[PlyRecord, ...] = ()
    """The plies of earlier sessions when the match resumes (already stored; not re-written)."""


@dataclass(frozen=True, kw_only=True)
class TurnStarted(Event):
    ply: int
    side: Side


@dataclass(frozen=True, kw_only=True)
class GuessesMade(Event):
    ply: int
    side: Side
    """The side whose speculator guessed (the waiting side)."""
    guesses: tuple[Guess, ...]
    predict_s: float
    depth: int = 1


@dataclass(frozen=True, kw_only=True)
class BranchStarted(Event):
    branch_id: int
    ply: int
    """The ply the branch would decide."""
    side: Side
    path: tuple[str, ...]
    guess: str
    probability: float
    rank: int
    depth: int


@dataclass(frozen=True, kw_only=True)
class BranchFinished(Event):
    branch_id: int
    ply: int
    side: Side
    move: str | None
    duration_s: float
    usage: Usage
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class BranchCancelled(Event):
    branch_id: int
    ply: int
    side: Side
    running_s: float
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True, kw_only=True)
class BranchAdopted(Event):
    """A speculative branch became the real decision (a hit)."""

    branch_id: int
    ply: int
    side: Side
    ready: bool
    """True when the branch had already finished at the moment it was adopted."""


@dataclass(frozen=True, kw_only=True)
class IllegalAttempt(Event):
    ply: int
    side: Side
    attempt: Attempt


@dataclass(frozen=True, kw_only=True)
class MoveCommitted(Event):
    record: PlyRecord


@dataclass(frozen=True, kw_only=True)
class MatchEnded(Event):
    result: str
    termination: str
    stats: MatchStats
    """The whole match's accounting (earlier sessions of a resumed match included)."""
    max_plies: int | None = None
    """The ply limit this session ran under."""


Subscriber = Callable[[Event], None]


class EventBus:
    """Fan-out to subscribers. A subscriber must not block; one that raises is dropped."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def publish(self, event: Event) -> None:
        for sub in list(self._subscribers):
            try:
                sub(event)
            except Exception:
                log.exception("event subscriber failed; dropping it")
                self._subscribers.remove(sub)


__all__ = [
    "BranchAdopted",
    "BranchCancelled",
    "BranchFinished",
    "BranchStarted",
    "BranchStatus",
    "Event",
    "EventBus",
    "GuessesMade",
    "IllegalAttempt",
    "MatchEnded",
    "MatchStarted",
    "MatchStats",
    "MoveCommitted",
    "PlyRecord",
    "Subscriber",
    "TurnStarted",
]
