"""Searches on OpenSpiel games, run in worker processes: MCTS and an exact solver.

OpenSpiel's C++ MCTS holds the GIL while it searches, so a search in this process would stop
the event loop (and with it every other decision and speculative branch). Searches run in a
pool of spawned worker processes instead, one per core: the real decision and the branches
that speculate on the reply run side by side, as engine processes do for chess. A search that is
cancelled before it starts never runs; one already running finishes in its worker and is
dropped.

Every search is a pure function of the game, the actions from the start and a seed, so a
decision computed speculatively is the one the same search gives later.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from arena.core.errors import ArenaError
from arena.games.openspiel import OpenSpielState


@dataclass(frozen=True, kw_only=True)
class MCTSOptions:
    """OpenSpiel's MCTS bot (UCT with random rollouts and MCTS-Solver)."""

    simulations: int = 1000
    """Simulations per search."""
    rollouts: int = 1
    """Random rollouts per leaf evaluation."""
    uct_c: float = 2.0
    """The UCT exploration constant."""
    solve: bool = True
    """Back up proven wins and losses (MCTS-Solver)."""
    max_memory_mb: int = 256


@dataclass(frozen=True, kw_only=True)
class SearchResult:
    """A finished MCTS search at a state."""

    best: str
    """The bot's move: a proven win first, else the most visited child."""
    visits: tuple[tuple[str, int], ...]
    """Root moves and their visit counts, most visited first (ties in action order)."""


def derive_seed(*parts: object) -> int:
    """A 31-bit seed from `parts` (stable across processes, unlike `hash`)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: the parent runs threads (aiosqlite, the event loop's executor).
        context = multiprocessing.get_context("spawn")
        _pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 2, mp_context=context)
    return _pool


@atexit.register
def shutdown() -> None:
    """Stops the workers (searches still queued are dropped)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


async def _run(function: Any, *args: Any) -> Any:
    global _pool
    for attempt in (1, 2):
        try:
            return await asyncio.wrap_future(_executor().submit(function, *args))
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a fresh pool once.
            _pool = None
            if attempt == 2:
                raise ArenaError("the search worker processes died") from None
    raise AssertionError("unreachable")


async def mcts(state: OpenSpielState, options: MCTSOptions, seed: int) -> SearchResult:
    """MCTS at `state`, seeded by `seed` (derive it from the state for a pure decision)."""
    if state.outcome() is not None:
        raise ArenaError("no search on a finished game")
    best, visits = await _run(
        _mcts_job,
        state.game.game_string,
        state.actions,
        options.simulations,
        options.rollouts,
        options.uct_c,
        options.solve,
        options.max_memory_mb,
        seed,
    )
    named = [(state.move_of(a), n) for a, n in visits]
    best_move = state.move_of(best)
    assert best_move is not None
    return SearchResult(best=best_move, visits=tuple((m, n) for m, n in named if m is not None))


async def solve(state: OpenSpielState, max_positions: int) -> str | None:
    """A move of optimal value by exhaustive minimax (shortest win, longest loss; the first in
    action order among equals), or None when the game has more than `max_positions` positions
    from here."""
    if state.outcome() is not None:
        raise ArenaError("no search on a finished game")
    action = await _run(_solve_job, state.game.game_string, state.actions, max_positions)
    return None if action is None else state.move_of(action)


# -- in the worker processes --------------------------------------------------------------------

_games: dict[str, Any] = {}


def _state(game_string: str, actions: tuple[int, ...]) -> tuple[Any, Any]:
    import pyspiel

    game = _games.get(game_string)
    if game is None:
        game = _games[game_string] = pyspiel.load_game(game_string)
    state = game.new_initial_state()
    for action in actions:
        state.apply_action(action)
    return game, state


def _mcts_job(
    game_string: str,
    actions: tuple[int, ...],
    simulations: int,
    rollouts: int,
    uct_c: float,
    solve: bool,
    max_memory_mb: int,
    seed: int,
) -> tuple[int, list[tuple[int, int]]]:
    import pyspiel

    game, state = _state(game_string, actions)
    evaluator = pyspiel.RandomRolloutEvaluator(rollouts, seed)
    bot = pyspiel.MCTSBot(game, evaluator, uct_c, simulations, max_memory_mb, solve, seed, False)
    root = bot.mcts_search(state)
    order = {a: i for i, a in enumerate(state.legal_actions())}
    children = sorted(root.children, key=lambda c: (-c.explore_count, order.get(c.action, 0)))
    return root.best_child().action, [(c.action, c.explore_count) for c in children]


class _TooBig(Exception):
    pass


_WIN = 10_000


def _solve_job(game_string: str, actions: tuple[int, ...], max_positions: int) -> int | None:
    _, root = _state(game_string, actions)
    memo: dict[tuple[str, int], int] = {}

    def value(state: Any, player: int) -> int:
        """The value of `state` for `player`: +-(_WIN - plies to the end) for a win or loss."""
        if state.is_terminal():
            returns = state.returns()
            diff = returns[player] - returns[1 - player]
            return _WIN if diff > 0 else -_WIN if diff < 0 else 0
        mover = state.current_player()
        key = (str(state), mover)
        known = memo.get(key)
        if known is None:
            if len(memo) >= max_positions:
                raise _TooBig
            known = max(_shrink(value(state.child(a), mover)) for a in state.legal_actions())
            memo[key] = known
        return known if mover == player else -known

    mover = root.current_player()
    try:
        scored = [(_shrink(value(root.child(a), mover)), a) for a in root.legal_actions()]
    except _TooBig:
        return None
    best = max(v for v, _ in scored)
    return int(next(a for v, a in scored if v == best))


def _shrink(value: int) -> int:
    """One ply further from the end: a win is worth less, a loss costs less."""
    return value - 1 if value > 0 else value + 1 if value < 0 else 0
