"""Search players for OpenSpiel games: OpenSpiel's MCTS bot and an exact solver.

    mcts[:simulations=N,rollouts=N,uct_c=X,seed=N]   MCTS (default 1000 simulations, 1 rollout)
    solver[:positions=N,simulations=N,seed=N]        exact minimax where the game is small

Both are deterministic: a search is seeded by the player's seed and the state's key, so the same
state gets the same move whether it is decided now or speculatively earlier.
"""

from __future__ import annotations

from arena.core.actor import Actor, Decision
from arena.core.errors import ArenaError
from arena.core.game import GameState
from arena.games.openspiel import OpenSpielState
from arena.games.search import MCTSOptions, derive_seed, mcts, solve


def openspiel_state(state: GameState, who: str) -> OpenSpielState:
    if not isinstance(state, OpenSpielState):
        raise ArenaError(f"{who} plays OpenSpiel games only (e.g. --game connect_four)")
    return state


class MCTSPlayer(Actor):
    """OpenSpiel's MCTS bot; the move is its best child, the visit counts are in `info`."""

    cpu_bound = True

    def __init__(self, options: MCTSOptions, seed: int = 0, spec: str = "mcts") -> None:
        self.options = options
        self.seed = seed
        self.spec = spec
        self.name = spec

    async def decide(self, state: GameState) -> Decision:
        game_state = openspiel_state(state, self.spec)
        result = await mcts(game_state, self.options, derive_seed("mcts", self.seed, state.key()))
        total = sum(n for _, n in result.visits) or 1
        top = ", ".join(f"{m} {n / total:.0%}" for m, n in result.visits[:3])
        return Decision(
            move=result.best,
            raw=f"{result.best} (visits: {top})",
            info={"visits": dict(result.visits[:8])},
        )

    def fingerprint(self) -> str:
        return f"{self.spec}|{self.options}|seed={self.seed}"


class SolverPlayer(Actor):
    """Plays perfectly where the game from here has at most `positions` positions (tic-tac-toe,
    Connect Four endgames); elsewhere it plays MCTS's move and flags it."""

    cpu_bound = True

    def __init__(
        self, positions: int, fallback: MCTSOptions, seed: int = 0, spec: str = "solver"
    ) -> None:
        self.positions = positions
        self.fallback = fallback
        self.seed = seed
        self.spec = spec
        self.name = spec

    async def decide(self, state: GameState) -> Decision:
        game_state = openspiel_state(state, self.spec)
        move = await solve(game_state, self.positions)
        if move is not None:
            return Decision(move=move, raw=f"{move} (solved)")
        seed = derive_seed("mcts", self.seed, state.key())
        result = await mcts(game_state, self.fallback, seed)
        return Decision(
            move=result.best,
            raw=f"{result.best} (mcts)",
            flagged=f"unsolved within {self.positions} positions: mcts move",
        )

    def fingerprint(self) -> str:
        return f"{self.spec}|positions={self.positions}|{self.fallback}|seed={self.seed}"
