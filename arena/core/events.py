"""Typed events the match runner publishes; the TUI, the store and the printer subscribe."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from arena.core.actor import Attempt, Guess, Usage
from arena.core.game import Side

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Base of every match event. `t` is seconds since the match started (monotonic)."""

    match_id: str
    t: float


@dataclass(frozen=True)
class MatchStarted(Event):
    players: tuple[str, str]
    speculators: tuple[str | None, str | None]
    start_fen: str
    ply: int
    """The ply the match starts (or resumes) at."""


@dataclass(frozen=True)
class TurnStarted(Event):
    ply: int
    side: Side
    key: str


@dataclass(frozen=True)
class GuessesMade(Event):
    ply: int
    side: Side
    """The side whose speculator guessed (the waiting side)."""
    guesses: tuple[Guess, ...]
    predict_s: float
    depth: int = 1


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class BranchFinished(Event):
    branch_id: int
    ply: int
    side: Side
    move: str | None
    duration_s: float
    usage: Usage
    error: str | None = None


@dataclass(frozen=True)
class BranchCancelled(Event):
    branch_id: int
    ply: int
    side: Side
    running_s: float
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class BranchAdopted(Event):
    """A speculative branch became the real decision (a hit)."""

    branch_id: int
    ply: int
    side: Side
    ready: bool
    """True when the branch had already finished at the moment it was adopted."""


@dataclass(frozen=True)
class IllegalAttempt(Event):
    ply: int
    side: Side
    attempt: Attempt


@dataclass(frozen=True)
class PlyRecord:
    """Everything known about one committed ply."""

    ply: int
    side: Side
    move: str
    san: str
    fen_after: str
    decision_s: float
    """Duration of the committed call."""
    wait_s: float
    """Visible wait: from the state being known to the move being committed."""
    saved_s: float
    hit: bool
    rank: int | None
    """Rank of the guess that matched the played move (1 = top), None if not guessed."""
    guesses: tuple[Guess, ...]
    branches_started: int
    branches_cancelled: int
    usage: Usage
    wasted_usage: Usage
    attempts: tuple[Attempt, ...] = ()
    flagged: str | None = None
    raw: str = ""
    commit_latency_s: float | None = None
    """For a hit on a finished branch: time from the previous commit to adoption."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ply": self.ply,
            "side": self.side,
            "move": self.move,
            "san": self.san,
            "fen_after": self.fen_after,
            "decision_s": round(self.decision_s, 6),
            "wait_s": round(self.wait_s, 6),
            "saved_s": round(self.saved_s, 6),
            "hit": self.hit,
            "rank": self.rank,
            "guesses": [{"move": g.move, "p": round(g.probability, 4)} for g in self.guesses],
            "branches_started": self.branches_started,
            "branches_cancelled": self.branches_cancelled,
            "usage": self.usage.as_dict(),
            "wasted_usage": self.wasted_usage.as_dict(),
            "attempts": [
                {"raw": a.raw, "parsed": a.parsed, "error": a.error} for a in self.attempts
            ],
            "flagged": self.flagged,
        }


@dataclass(frozen=True)
class MoveCommitted(Event):
    record: PlyRecord


@dataclass(frozen=True)
class MatchEnded(Event):
    result: str
    termination: str
    stats: dict[str, Any]


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
