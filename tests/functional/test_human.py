"""A person at one seat: typing or picking a move, and the human actor on its own."""

from __future__ import annotations

import asyncio

import chess
import pytest
from textual.widgets import Input, Label

from arena.core.match import Match, Seat
from arena.core.policy import NO_SPECULATION
from arena.games.chess import ChessState
from arena.players.human import HumanPlayer, IllegalMoveError
from arena.tui.app import ArenaApp
from arena.tui.screens.dialogs import ConfirmScreen
from arena.tui.screens.live import LiveScreen
from arena.tui.widgets.board import Board
from arena.tui.widgets.log import EventLog
from arena.tui.widgets.speculation import SpeculationPanel

from .conftest import SCHOLAR, ScriptedActor, scholar_match, wait_until

SIZE = (120, 40)


def human_match() -> tuple[HumanPlayer, ArenaApp]:
    human = HumanPlayer()
    return human, ArenaApp(
        scholar_match(black=ScriptedActor(SCHOLAR, 0.05), white=human), static=True
    )


def screen_of(app: ArenaApp) -> LiveScreen:
    assert app.live is not None
    return app.live


async def test_typing_a_legal_move_commits_it() -> None:
    _, app = human_match()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        entry = screen.query_one("#move-entry", Input)
        await wait_until(pilot, lambda: not entry.disabled)
        assert entry.has_focus
        await pilot.press("e", "4", "enter")
        await wait_until(pilot, lambda: screen.state.ply >= 1)
        assert screen.state.path[0] == "e2e4"
        assert screen.query_one(Board).last_move in ("e2e4", "e7e5")
        # Black replies by itself; the input comes back for White's second move.
        await wait_until(pilot, lambda: screen.state.ply == 2 and not entry.disabled)
        assert entry.value == ""


async def test_an_illegal_move_shows_an_error_and_is_not_played() -> None:
    human, app = human_match()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        entry = screen.query_one("#move-entry", Input)
        await wait_until(pilot, lambda: not entry.disabled)
        await pilot.press("K", "e", "2", "enter")
        error = screen.query_one("#move-error", Label)
        await wait_until(pilot, lambda: "illegal" in str(error.render()))
        assert error.has_class("-error")
        assert app.match is not None and app.match.state.ply == 0
        assert human.is_waiting(screen.state)
        assert not entry.disabled and entry.value == "Ke2"
        # Correcting it plays it.
        entry.value = ""
        await pilot.press("N", "f", "3", "enter")
        await wait_until(pilot, lambda: screen.state.ply >= 1)
        assert screen.state.path[0] == "g1f3"


async def test_the_input_suggests_legal_san_moves() -> None:
    _, app = human_match()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        entry = screen.query_one("#move-entry", Input)
        await wait_until(pilot, lambda: not entry.disabled)
        await pilot.press("N", "f")
        await wait_until(pilot, lambda: entry._suggestion == "Nf3")
        await pilot.press("right", "enter")
        await wait_until(pilot, lambda: screen.state.ply >= 1)
        assert screen.state.path[0] == "g1f3"


async def test_picking_squares_on_the_board_plays_the_move() -> None:
    _, app = human_match()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        board = screen.query_one(Board)
        await wait_until(pilot, lambda: board.interactive)
        board.focus()
        board.cursor = chess.E2
        await pilot.press("enter")
        assert board.selected == chess.E2
        await pilot.press("up", "up", "enter")
        await wait_until(pilot, lambda: screen.state.ply >= 1)
        assert screen.state.path[0] == "e2e4"


async def test_clicking_squares_plays_the_move() -> None:
    _, app = human_match()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        board = screen.query_one(Board)
        await wait_until(pilot, lambda: board.interactive)

        def offset(square: int) -> tuple[int, int]:
            cols, rows, left, top = board._layout()
            x = left + 2 + chess.square_file(square) * cols + cols // 2
            y = top + (7 - chess.square_rank(square)) * rows + rows // 2
            gutter = board.gutter
            return x + gutter.left, y + gutter.top

        assert await pilot.click(Board, offset=offset(chess.G1))
        assert board.selected == chess.G1
        assert await pilot.click(Board, offset=offset(chess.F3))
        await wait_until(pilot, lambda: screen.state.ply >= 1)
        assert screen.state.path[0] == "g1f3"


async def test_the_opponents_guesses_show_after_the_person_moves() -> None:
    _, app = human_match()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        panel = screen.query_one(SpeculationPanel)
        entry = screen.query_one("#move-entry", Input)
        await wait_until(pilot, lambda: not entry.disabled)
        # Black's speculator guessed while the person thinks, but the guesses stay hidden:
        # seeing them would tell the person what the opponent expects.
        await wait_until(pilot, lambda: 0 in panel.plies)
        await pilot.pause()
        before = panel.plain
        assert "guesses your move" in before and "e4" not in before
        log = screen.query_one(EventLog)
        assert any("guesses your move" in line for line in log.entries)
        assert not any("pre-thinks after" in line for line in log.entries)
        await pilot.press("e", "4", "enter")
        await wait_until(pilot, lambda: panel.plies[0].played_text == "e4")
        await pilot.pause()
        assert "Black predicted your move e4 (#1" in panel.plain
        first = panel.plies[0]
        assert first.hit_rank == 1
        assert [first.outcome(r) for r in first.rows] == ["hit", "miss"]


async def test_human_decides_only_for_the_state_submitted() -> None:
    human = HumanPlayer()
    start = ChessState.from_fen(None)
    hypothetical = start.apply("e2e4")
    speculative = asyncio.ensure_future(human.decide(hypothetical))
    real = asyncio.ensure_future(human.decide(start))
    await asyncio.sleep(0)
    assert human.is_waiting(start) and human.is_waiting(hypothetical)
    with pytest.raises(IllegalMoveError):
        human.submit(start, "Ke2")
    assert human.submit(start, "d4") == "d2d4"
    decision = await real
    assert decision.move == "d2d4" and decision.raw == "d4"
    await asyncio.sleep(0)
    assert not speculative.done(), "a hypothetical position is never answered"
    speculative.cancel()
    with pytest.raises(asyncio.CancelledError):
        await speculative
    assert not human.is_waiting(hypothetical)


async def test_a_move_submitted_before_the_match_asks_is_kept_for_that_state() -> None:
    human = HumanPlayer()
    start = ChessState.from_fen(None)
    human.submit(start, "e2e4")
    decision = await human.decide(start)
    assert decision.move == "e2e4"


async def test_escape_leaves_the_move_box_so_keys_work_again() -> None:
    _, app = human_match()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        entry = screen.query_one("#move-entry", Input)
        await wait_until(pilot, lambda: not entry.disabled and entry.has_focus)
        await pilot.press("f")
        assert entry.value == "f", "letters go to the move box while it has focus"
        await pilot.press("escape")
        assert not entry.has_focus
        flipped = screen.query_one(Board).flipped
        await pilot.press("f")
        assert screen.query_one(Board).flipped != flipped
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, LiveScreen)


def promotion_match() -> tuple[HumanPlayer, ArenaApp]:
    human = HumanPlayer()
    start = ChessState.from_fen("4k3/P7/8/8/8/8/8/4K3 w - - 0 1")
    seats = (Seat(human, None), Seat(ScriptedActor([], 0.05), None))
    return human, ArenaApp(Match("promo", start, seats, policy=NO_SPECULATION), static=True)


async def test_lower_case_san_is_read() -> None:
    _, app = human_match()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        entry = screen.query_one("#move-entry", Input)
        await wait_until(pilot, lambda: not entry.disabled)
        await pilot.press("n", "c", "3", "enter")
        await wait_until(pilot, lambda: screen.state.ply >= 1)
        assert screen.state.path[0] == "b1c3"


async def test_an_error_clears_when_typing_resumes() -> None:
    _, app = human_match()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        entry = screen.query_one("#move-entry", Input)
        await wait_until(pilot, lambda: not entry.disabled)
        await pilot.press("K", "e", "2", "enter")
        error = screen.query_one("#move-error", Label)
        await wait_until(pilot, lambda: error.display)
        await pilot.press("backspace")
        assert not error.display


async def test_a_promotion_without_its_piece_gets_a_hint_and_completion_offers_the_queen() -> None:
    _, app = promotion_match()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        entry = screen.query_one("#move-entry", Input)
        await wait_until(pilot, lambda: not entry.disabled)
        await pilot.press("a", "8", "enter")
        error = screen.query_one("#move-error", Label)
        await wait_until(pilot, lambda: error.display)
        assert "a8=Q" in str(error.render()) and "a7a8q" in str(error.render())
        entry.value = ""
        await pilot.press("a", "8")
        await wait_until(pilot, lambda: entry._suggestion == "a8=Q+")
        await pilot.press("right", "enter")
        await wait_until(pilot, lambda: screen.state.ply >= 1)
        assert screen.state.path[0] == "a7a8q"


async def test_the_revealed_guesses_stay_until_the_next_move() -> None:
    human = HumanPlayer()
    app = ArenaApp(scholar_match(black=ScriptedActor(SCHOLAR, 5.0), white=human), static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        panel = screen.query_one(SpeculationPanel)
        entry = screen.query_one("#move-entry", Input)
        await wait_until(pilot, lambda: not entry.disabled and 0 in panel.plies)
        await pilot.press("e", "4", "enter")
        # While Black thinks about its reply, the guesses about the person's e4 are in view.
        await wait_until(pilot, lambda: screen.state.ply == 1)
        await pilot.pause()
        assert "#1 e4" in panel.plain and "Black predicted your move e4" in panel.plain
        assert screen.state.ply == 1
