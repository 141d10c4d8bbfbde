"""Baseline and recorded predictors: random, and the guesses stored in a trace."""

from __future__ import annotations

import asyncio
import hashlib
import random

from arena.core.actor import Guess, Speculator, Usage
from arena.core.game import GameState
from arena.games.traces import Trace, check_time_scale

# The trace records a ranked top 3 without probabilities; these make the ranking explicit.
TRACE_RANK_PROBABILITIES = (0.5, 0.3, 0.2)


class RandomSpeculator(Speculator):
    """k distinct legal moves at random (seeded by the state): the floor to beat."""

    def __init__(self, seed: int = 0, spec: str = "random") -> None:
        self.seed = seed
        self.spec = spec
        self.name = spec

    async def predict(self, state: GameState, k: int) -> list[Guess]:
        moves = sorted(state.legal_moves())
        rng = random.Random(hashlib.sha256(f"{self.seed}|{state.key()}".encode()).digest())
        picked = rng.sample(moves, min(k, len(moves)))
        return [Guess(m, 1 / len(moves)) for m in picked]


class TraceGuessSpeculator(Speculator):
    """The paper's own LLM speculator: the guesses recorded in the trace, at their recorded
    latency x `time_scale` and with their recorded tokens."""

    def __init__(self, traces: list[Trace], time_scale: float = 1.0, spec: str = "trace-guesses"):
        self.traces = traces
        self.time_scale = check_time_scale(time_scale)
        self.spec = spec
        self.name = spec
        self.usage = Usage()

    async def predict(self, state: GameState, k: int) -> list[Guess]:
        for trace in self.traces:
            rec = trace.at_state(state)
            if rec is None:
                continue
            await asyncio.sleep(rec.guess_latency_s * self.time_scale)
            self.usage = self.usage + Usage(
                input_tokens=rec.guess_input_tokens,
                output_tokens=rec.guess_output_tokens,
                cost_usd=None,
            )
            return [
                Guess(m, p)
                for m, p in zip(rec.guesses[:k], TRACE_RANK_PROBABILITIES, strict=False)
                if state.is_legal(m)
            ]
        return []
