"""OpenSpiel games in the TUI: each board kind live with MCTS players, a replay, the human seat."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, Select

from arena.core.match import Match, Seat
from arena.core.policy import NO_SPECULATION, SpeculationPolicy
from arena.games import load_game
from arena.players.human import HumanPlayer
from arena.session import MatchPlan, build_seats
from arena.tui.app import ArenaApp
from arena.tui.screens.home import FORM_DEFAULTS, HomeScreen
from arena.tui.screens.live import LiveScreen
from arena.tui.screens.replay import ReplayScreen
from arena.tui.widgets.board import Board
from arena.tui.widgets.game_board import GameBoard
from arena.tui.widgets.moves import MoveList
from arena.tui.widgets.players import PlayerCard
from arena.tui.widgets.ply_detail import PlyDetail

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


async def record_game(db: str, game: str, plies: int) -> str:
    """Plays a short MCTS match of `game` into a real store at `db`; its id."""
    from arena.session import prepare_match
    from arena.store import Store

    plan = MatchPlan(
        white=MCTS,
        black=MCTS,
        white_speculator=MCTS,
        black_speculator=MCTS,
        max_plies=plies,
        policy=SpeculationPolicy(k=2),
        game=game,
    )
    store = await Store.open(db)
    try:
        prepared = await prepare_match(plan, store)
        await prepared.run()
        return prepared.match.match_id
    finally:
        await store.close()


async def test_replay_of_a_connect_four_match_steps_through(tmp_path: Path) -> None:
    """The viewer rebuilds a saved Connect Four match: its board at each ply, X/O in the
    per-ply view, and `e` writes JSON (PGN is chess-only)."""
    db = str(tmp_path / "arena.db")
    match_id = await record_game(db, "connect_four", 6)
    app = ArenaApp(db_path=db, start_screen=("replay", match_id), static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await wait_until(pilot, lambda: screen.match is not None)
        board = screen.query_one(GameBoard)
        assert board.display and not screen.query_one(Board).display
        assert board.position == "connect_four|"
        detail = screen.query_one(PlyDetail)
        assert "X mcts" in detail.plain and "O mcts" in detail.plain
        await pilot.press("right")
        first = screen.plies[0]
        assert first.move.startswith("x")
        assert board.position == screen.states[1].position()
        assert f"Ply 1: X played {first.move}" in detail.plain
        await pilot.press("end")
        assert screen.position == 6
        assert board.position.count(",") == 5
        await pilot.press("left")
        assert screen.query_one(MoveList).current == 4
        await pilot.press("e")
        await wait_until(pilot, lambda: screen.exported is not None)
    assert screen.exported == tmp_path / f"{match_id}.json"
    data = json.loads(screen.exported.read_text())
    assert data["match"]["game"] == "connect_four"


async def test_home_form_chooses_a_game_and_its_players() -> None:
    """The game chooser lists the OpenSpiel games; choosing one proposes MCTS players and
    speculators (fields still at their defaults only) and puts the game into the form values."""
    asked: list[dict[str, str]] = []

    async def factory(params: dict[str, str]) -> Match:
        asked.append(params)
        return mcts_match(params["game"], int(params["max_plies"]))

    app = ArenaApp(match_factory=factory, static=True)
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        await wait_until(pilot, lambda: "connect_four" in home.games)
        home.query_one("#field-black_speculator", Input).value = "random"
        home.query_one("#field-game", Select).value = "connect_four"
        await wait_until(pilot, lambda: home.game == "connect_four")
        values = home.params()
        assert values["white"] == values["black"] == values["white_speculator"] == "mcts"
        assert values["black_speculator"] == "random"  # typed: kept
        home.query_one("#field-white", Input).value = MCTS
        home.query_one("#field-black", Input).value = MCTS
        home.query_one("#field-max_plies", Input).value = "2"
        await pilot.click("#start")
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen))
        assert asked[0]["game"] == "connect_four"
        live = app.screen
        assert isinstance(live, LiveScreen)
        await wait_until(pilot, lambda: live.finished is not None, timeout=30)
        assert live.query_one(GameBoard).position.count(",") == 1
        await pilot.press("escape")
        assert app.screen is home
        home.query_one("#field-game", Select).value = "chess"
        await wait_until(pilot, lambda: home.game == "chess")
        assert home.params()["white"] == MCTS  # typed: kept
        assert home.params()["white_speculator"] == FORM_DEFAULTS["white_speculator"]


def human_game_match(game: str, plies: int, black: str | None = None) -> Match:
    """`game` after `plies` fixed moves (the middle legal move each time), a person to move
    first; the second seat another person, or `black` (a player spec)."""
    loaded = load_game(game)
    state = loaded.start()
    for _ in range(plies):
        moves = state.legal_moves()
        state = state.apply(moves[len(moves) // 2])
    second: Seat
    if black is None:
        second = Seat(HumanPlayer(), None)
    else:
        plan = MatchPlan(white="human", black=black, game=game)
        second = build_seats(plan, loaded)[1]
    return Match(
        f"test-{loaded.spec}", state, (Seat(HumanPlayer(), None), second), policy=NO_SPECULATION
    )


async def test_human_types_and_clicks_connect_four_moves() -> None:
    """The human seat in Connect Four: a column typed (`3`), an illegal one refused with the
    legal moves named, a column clicked on the board."""
    match = human_game_match("connect_four", 0, black=MCTS)
    app = ArenaApp(match, static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        entry = screen.query_one("#move-entry", Input)
        await wait_until(pilot, lambda: not entry.disabled)
        assert "x0" in entry.placeholder
        await pilot.press("3", "enter")
        await wait_until(pilot, lambda: screen.state.ply >= 1)
        assert screen.state.path[0] == "x3"
        await wait_until(pilot, lambda: screen.state.ply == 2 and not entry.disabled)
        await pilot.press("9", "enter")
        error = screen.query_one("#move-error", Label)
        await wait_until(pilot, lambda: "illegal move: 9" in str(error.render()))
        assert "legal: x0 x1" in str(error.render())
        assert screen.state.ply == 2
        board = screen.query_one(GameBoard)
        assert board.interactive
        # Content starts after one cell of padding; each column takes two cells.
        await pilot.click(board, offset=(1 + 2 * 5, 2))
        await wait_until(pilot, lambda: screen.state.ply >= 3)
        assert screen.state.path[2] == "x5"


@pytest.mark.parametrize(
    ("game", "plies"),
    [("connect_four", 9), ("othello", 8), ("checkers", 8), ("go:board_size=9", 12)],
)
def test_board_snapshot(snap_compare: Callable[..., bool], game: str, plies: int) -> None:
    """Each board kind at 100x30 in a fixed position, a person to move: the game's board, its
    side names on the cards, its moves in the list, the move box (no evaluation bar)."""
    app = ArenaApp(human_game_match(game, plies), static=True)

    async def ready(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await wait_until(pilot, lambda: screen.to_move is not None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=ready)
