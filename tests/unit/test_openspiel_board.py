"""The board of a non-chess game as the TUI draws it (the pure drawing, and the widget)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from arena.games import load_game
from arena.games.openspiel import OpenSpielState
from arena.tui.widgets.game_board import GameBoard, board_text


def after(name: str, moves: list[str]) -> OpenSpielState:
    state = load_game(name).start()
    assert isinstance(state, OpenSpielState)
    for move in moves:
        state = state.apply(move)
    return state


def test_connect_four_discs_fall_into_numbered_columns() -> None:
    text = board_text(after("connect_four", ["x3", "o3", "x4"])).plain
    lines = text.splitlines()
    assert lines[5] == "· · · ● ● · · " and lines[4] == "· · · ● · · · "
    assert lines[6] == "0 1 2 3 4 5 6"
    assert lines[-1] == "o to move · last x4"


def test_othello_counts_discs_and_labels_stay_labels() -> None:
    text = board_text(after("othello", ["d3"])).plain
    assert "white to move · last d3 · black 4 · white 1" in text
    assert text.splitlines()[0].strip() == "a b c d e f g h"


def test_checkers_rank_labels_are_not_kings() -> None:
    lines = board_text(after("checkers", [])).plain.splitlines()
    assert lines[0] == "8·⛂·⛂·⛂·⛂" and lines[7] == "1⛀·⛀·⛀·⛀·"
    assert lines[-1].endswith("black 12 · white 12")


def test_a_finished_game_shows_its_result() -> None:
    state = after("tic_tac_toe", ["x(0,0)", "o(1,0)", "x(0,1)", "o(1,1)", "x(0,2)"])
    assert board_text(state).plain.splitlines()[-1] == "1-0 (three in a row) · last x(0,2)"


async def test_the_widget_follows_set_position() -> None:
    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield GameBoard()

    async with Host().run_test(size=(60, 20)) as pilot:
        board = pilot.app.query_one(GameBoard)
        board.set_position(after("connect_four", ["x3"]).position(), "x3")
        await pilot.pause()
        state = board.state()
        assert state is not None and state.path == ("x3",)
        assert "last x3" in str(board.render())
