"""MCTS as a speculator for OpenSpiel games: the top k moves by visit count.

    mcts[:simulations=N,rollouts=N,uct_c=X,seed=N]   (default 500 simulations)

A guess's probability is its share of the root's visits. The search is seeded by the state and
its own seed stream, so it is an independent estimate even against an `mcts` player with the
same settings, not a copy of that player's search.
"""

from __future__ import annotations

from arena.core.actor import Guess, Speculator
from arena.core.errors import ArenaError
from arena.core.game import GameState
from arena.games.openspiel import OpenSpielState
from arena.games.search import MCTSOptions, derive_seed, mcts


class MCTSSpeculator(Speculator):
    """Guesses the k most visited root moves of an MCTS search."""

    def __init__(self, options: MCTSOptions, seed: int = 0, spec: str = "mcts") -> None:
        self.options = options
        self.seed = seed
        self.spec = spec
        self.name = spec

    async def predict(self, state: GameState, k: int) -> list[Guess]:
        if not isinstance(state, OpenSpielState):
            raise ArenaError(f"{self.spec} speculates on OpenSpiel games only")
        if k <= 0 or state.outcome() is not None:
            return []
        seed = derive_seed("mcts-speculator", self.seed, state.key())
        result = await mcts(state, self.options, seed)
        total = sum(n for _, n in result.visits)
        if total <= 0:
            return [Guess(result.best, 1.0)]
        # The bot's own choice first (a proven win can have fewer visits), then by visits.
        ranked = [(result.best, dict(result.visits).get(result.best, 0))]
        ranked += [(m, n) for m, n in result.visits if m != result.best]
        return [Guess(m, n / total) for m, n in ranked[:k]]
