"""An adaptive blend: learns during a match how well each predictor foresees *this* opponent."""

from __future__ import annotations

import asyncio
import math

from arena.core.actor import Guess, Speculator, Usage
from arena.core.game import GameState

# Probability a predictor is charged for a move it did not list (keeps log-loss finite).
FLOOR = 0.02


class BlendSpeculator(Speculator):
    """Runs several predictors at once and mixes their guesses with Hedge weights.

    After each opponent move, a predictor's weight is multiplied by its probability for the move
    actually played (raised to `eta`), so the blend drifts to the predictor that foresees this
    opponent best, while the others still contribute their distinct guesses.
    """

    def __init__(self, children: list[Speculator], spec: str, eta: float = 1.0) -> None:
        self.children = children
        self.spec = spec
        self.name = spec
        self.eta = eta
        self.weights = [1.0] * len(children)
        self._pending: dict[str, list[list[Guess]]] = {}

    async def start(self) -> None:
        for child in self.children:
            await child.start()

    async def close(self) -> None:
        for child in self.children:
            await child.close()

    async def predict(self, state: GameState, k: int) -> list[Guess]:
        # Each child is asked for more than k so that the mix can reorder across children.
        results = await asyncio.gather(
            *(c.predict(state, k + 2) for c in self.children), return_exceptions=True
        )
        per_child = [r if isinstance(r, list) else [] for r in results]
        self.usage = sum((c.usage for c in self.children), Usage())
        self._pending[state.key()] = per_child
        total = sum(self.weights)
        mixed: dict[str, float] = {}
        for weight, guesses in zip(self.weights, per_child, strict=True):
            for g in guesses:
                mixed[g.move] = mixed.get(g.move, 0.0) + weight / total * g.probability
        ranked = sorted(mixed.items(), key=lambda kv: -kv[1])[:k]
        return [Guess(m, p) for m, p in ranked]

    def observe(self, state: GameState, move: str) -> None:
        per_child = self._pending.pop(state.key(), None)
        for child in self.children:
            child.observe(state, move)
        if per_child is None:
            return
        for i, guesses in enumerate(per_child):
            p = next((g.probability for g in guesses if g.move == move), 0.0)
            self.weights[i] *= math.exp(self.eta * math.log(max(p, FLOOR)))
        top = max(self.weights)
        self.weights = [max(w / top, 1e-6) for w in self.weights]
