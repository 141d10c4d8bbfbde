"""Actors decide moves; speculators guess the opponent's next move."""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from typing import Any

from arena.core.game import GameState


@dataclass(frozen=True)
class Usage:
    """Tokens and cost of one or more model calls. `cost_usd` None means the price is unknown."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float | None = 0.0

    def __add__(self, other: Usage) -> Usage:
        cost = (
            None
            if self.cost_usd is None or other.cost_usd is None
            else self.cost_usd + other.cost_usd
        )
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_tokens + other.cached_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            cost,
        )

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cost_usd": self.cost_usd,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Usage:
        """Reads what `as_dict` wrote; malformed counts read as 0, a malformed cost as None."""
        if not isinstance(data, dict):
            return cls()

        def count(key: str) -> int:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return 0
            return int(value) if math.isfinite(value) and 0 <= value < 2**62 else 0

        cost = data.get("cost_usd", 0.0)
        cost_usd = (
            float(cost)
            if isinstance(cost, int | float) and not isinstance(cost, bool) and math.isfinite(cost)
            else None
        )
        return cls(
            count("input_tokens"),
            count("output_tokens"),
            count("cached_tokens"),
            count("reasoning_tokens"),
            cost_usd,
        )


@dataclass(frozen=True)
class Attempt:
    """One try of a model at a move that was rejected, with the feedback it was given."""

    raw: str
    parsed: str | None
    error: str


@dataclass(frozen=True)
class Decision:
    """What an actor decided for one state.

    `move` is None when the actor could not produce a move; such a decision is never committed.
    """

    move: str | None
    raw: str = ""
    attempts: tuple[Attempt, ...] = ()
    usage: Usage = field(default_factory=Usage)
    flagged: str | None = None
    """Why the move is not the actor's own choice (e.g. `random fallback`), else None."""
    forfeit: str | None = None
    """A termination reason when the actor gives up (e.g. `forfeit: illegal move`)."""
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Guess:
    """A predicted move with its probability."""

    move: str
    probability: float


class Actor(abc.ABC):
    """A player's decision maker.

    `decide` must depend only on the state and the actor's fixed configuration, so that a
    decision computed speculatively earlier is the one the actor would make now.
    """

    name: str = "actor"
    spec: str = ""
    concurrency: int = 8
    """How many decisions may run at once (speculative branches included)."""
    last_ply: int | None = None
    """The ply count beyond which this actor has nothing to play (a recorded game's length)."""
    person: bool = False
    """True for a person at the keyboard: never asked to pre-think, never credited with saved
    time (see arena.core.ledger)."""
    cpu_bound: bool = False
    """True when a decision's duration grows with local CPU contention (a node-limited engine):
    its speculative branches compete with the real decision for the same cores."""

    async def start(self) -> None:
        """Acquire resources (processes, clients). Called once per match."""

    async def close(self) -> None:
        """Release every resource; called on every exit path."""

    @abc.abstractmethod
    async def decide(self, state: GameState) -> Decision:
        """The move for `state`."""

    def fingerprint(self) -> str:
        """Identifies the request an actor sends for a state besides the state itself."""
        return self.spec or self.name

    def expected_cost_usd(self) -> float:
        """Expected dollars of one decision (0 for engines); used by the cost-aware policy."""
        return 0.0

    def cancelled_usage(self, state: GameState, running_s: float) -> Usage:
        """Estimated usage of a decision for `state` cancelled after `running_s` seconds.

        A closed request may still be billed; model actors estimate it, engines cost nothing.
        """
        return Usage()


class Speculator(abc.ABC):
    """Predicts the move the player to move will make."""

    name: str = "speculator"
    spec: str = ""
    usage: Usage = Usage()
    """Accumulated usage of the speculator's own calls (model speculators)."""

    async def start(self) -> None:
        """Acquire resources. Called once per match."""

    async def close(self) -> None:
        """Release every resource."""

    @abc.abstractmethod
    async def predict(self, state: GameState, k: int) -> list[Guess]:
        """Up to `k` legal, distinct moves for the side to move, most likely first."""

    def observe(self, state: GameState, move: str) -> None:
        """Learn from the move actually played at `state` (adaptive speculators)."""


def clean_guesses(state: GameState, guesses: list[Guess], k: int) -> list[Guess]:
    """Keeps legal, distinct guesses, most probable first, at most `k`."""
    seen: set[str] = set()
    out: list[Guess] = []
    for g in sorted(guesses, key=lambda g: -g.probability):
        if g.move in seen or not state.is_legal(g.move):
            continue
        seen.add(g.move)
        out.append(g)
        if len(out) >= k:
            break
    return out
