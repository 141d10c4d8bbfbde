"""OpenSpiel games in the TUI: each board kind live with MCTS players, a replay, the human seat."""

from __future__ import annotations

import pytest

from arena.core.match import Match
from arena.core.policy import SpeculationPolicy
from arena.games import load_game
from arena.session import MatchPlan, build_seats
from arena.tui.app import ArenaApp
from arena.tui.screens.live import LiveScreen
from arena.tui.widgets.game_board import GameBoard
from arena.tui.widgets.moves import MoveList
from arena.tui.widgets.players import PlayerCard

from .conftest import wait_until

SIZE = (120, 40)
MCTS = "mcts:simulations=20"


def mcts_match(game: str, plies: int, *, speculate: bool = True) -> Match:
    """A short match of `game` between small MCTS players (with MCTS speculators)."""
    plan = MatchPlan(
        white=MCTS,
        black=MCTS,
        white_speculator=MCTS if speculate else None,
        black_speculator=MCTS if speculate else None,
        max_plies=plies,
        policy=SpeculationPolicy(enabled=speculate, k=2),
        game=game,
    )
    loaded = load_game(game)
    return Match(
        f"test-{game.partition(':')[0]}",
        loaded.start(),
        build_seats(plan, loaded),
        policy=plan.policy,
        max_plies=plies,
    )


@pytest.mark.parametrize(
    ("game", "plies", "sides"),
    [
        ("connect_four", 6, ("X", "O")),
        ("othello", 4, ("Black", "White")),
        ("checkers", 4, ("Black", "White")),
        ("go:board_size=5", 4, ("Black", "White")),
        ("breakthrough", 4, ("Black", "White")),
    ],
)
async def test_live_match_of_each_board(game: str, plies: int, sides: tuple[str, str]) -> None:
    """A short MCTS match of each board kind plays to its ply limit on the live screen: the
    game's board follows the moves, the move list shows them, the cards use the game's names."""
    match = mcts_match(game, plies)
    app = ArenaApp(match, static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await wait_until(pilot, lambda: screen.finished is not None, timeout=60)
        board = screen.query_one(GameBoard)
        assert board.position == match.state.position()
        assert screen.query_one(MoveList).sans == list(match.state.path)
        assert len(match.state.path) == plies
        cards = [screen.query_one(f"#player-{side}", PlayerCard) for side in (0, 1)]
        assert tuple(c.label for c in cards) == sides
        assert "ply" in str(screen.query_one("#status").render())
