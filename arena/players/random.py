"""A seeded random mover: the weakest baseline, deterministic per position."""

from __future__ import annotations

import hashlib
import random

from arena.core.actor import Actor, Decision
from arena.core.game import GameState


class RandomPlayer(Actor):
    """Picks a legal move at random; the choice depends only on the seed and the state."""

    def __init__(self, seed: int = 0, spec: str = "random") -> None:
        self.seed = seed
        self.spec = spec
        self.name = spec

    async def decide(self, state: GameState) -> Decision:
        moves = sorted(state.legal_moves())
        digest = hashlib.sha256(f"{self.seed}|{state.key()}".encode()).digest()
        move = random.Random(digest).choice(moves)
        return Decision(move=move, raw=move)
