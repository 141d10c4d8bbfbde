"""A real Stockfish match in the app (slow: starts engine processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.core.match import Match, Seat
from arena.core.policy import SpeculationPolicy
from arena.engines import EngineOptions
from arena.games.chess import ChessState
from arena.players.stockfish import EnginePlayer
from arena.speculators.stockfish import EngineSpeculator
from arena.tui.app import ArenaApp
from arena.tui.widgets.board import Board
from arena.tui.widgets.latency import LatencyPanel
from arena.tui.widgets.moves import MoveList

from .conftest import wait_until

STOCKFISH = Path("/usr/games/stockfish")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not STOCKFISH.exists(), reason="Stockfish is not installed"),
]


def engine(depth: int) -> EnginePlayer:
    return EnginePlayer(
        EngineOptions(depth=depth, binary=str(STOCKFISH)), f"stockfish:depth={depth}"
    )


def guesser() -> EngineSpeculator:
    return EngineSpeculator(EngineOptions(depth=2, binary=str(STOCKFISH)), "stockfish:depth=2")


async def test_stockfish_plays_six_plies_in_the_app() -> None:
    match = Match(
        "stockfish-smoke",
        ChessState.from_fen(None),
        (Seat(engine(4), guesser()), Seat(engine(4), guesser())),
        policy=SpeculationPolicy(k=3),
        max_plies=6,
    )
    app = ArenaApp(match, static=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.summary is not None, timeout=60)
        screen = app.live
        assert screen is not None and screen.finished is not None
        assert screen.finished.termination == "max plies"
        assert len(screen.query_one(MoveList).sans) == 6
        assert screen.query_one(Board).fen == match.state.position()
        assert len(screen.query_one(LatencyPanel).totals.records) == 6
    assert app.summary is not None and len(app.summary.records) == 6
