"""Deterministic test actors and speculators (pure; no engines, no network)."""

from __future__ import annotations

import asyncio
import hashlib
import random

from arena.core.actor import Actor, Decision, Guess, Speculator, Usage
from arena.core.game import GameState


def _rng(*parts: object) -> random.Random:
    return random.Random(hashlib.sha256("|".join(map(str, parts)).encode()).digest())


def chosen_move(seed: int, state: GameState) -> str:
    """The move a seeded deterministic actor plays at `state`."""
    return _rng("move", seed, state.key()).choice(sorted(state.legal_moves()))


class SeededActor(Actor):
    """Plays a move that depends only on (seed, state), after a latency drawn from the same."""

    def __init__(self, seed: int, max_latency: float = 0.02, tokens: int = 0) -> None:
        self.seed = seed
        self.max_latency = max_latency
        self.tokens = tokens
        self.spec = f"seeded:{seed}"
        self.name = self.spec
        self.calls: list[str] = []
        self.cancelled: list[str] = []

    async def decide(self, state: GameState) -> Decision:
        self.calls.append(state.key())
        latency = _rng("latency", self.seed, state.key()).uniform(0, self.max_latency)
        try:
            await asyncio.sleep(latency)
        except asyncio.CancelledError:
            self.cancelled.append(state.key())
            raise
        move = chosen_move(self.seed, state)
        return Decision(move=move, raw=move, usage=Usage(self.tokens, self.tokens, cost_usd=None))


class OracleSpeculator(Speculator):
    """Guesses the opponent's real move with probability `quality`, plus decoys."""

    def __init__(self, opponent_seed: int, quality: float, seed: int = 0, delay: float = 0.0):
        self.opponent_seed = opponent_seed
        self.quality = quality
        self.seed = seed
        self.delay = delay
        self.spec = f"oracle:{quality}"
        self.name = self.spec

    async def predict(self, state: GameState, k: int) -> list[Guess]:
        await asyncio.sleep(self.delay)
        rng = _rng("guess", self.seed, state.key())
        moves = sorted(state.legal_moves())
        rng.shuffle(moves)
        true = chosen_move(self.opponent_seed, state)
        picks = [m for m in moves if m != true][:k]
        if rng.random() < self.quality:
            picks.insert(rng.randrange(0, min(k, len(picks) + 1)), true)
        picks = picks[:k]
        return [Guess(m, 1 / (i + 2)) for i, m in enumerate(picks)]
