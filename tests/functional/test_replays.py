"""The replay browser and viewer on a real SQLite store, and the home screen."""

from __future__ import annotations

from pathlib import Path

import chess
from textual.widgets import Button, Input, Label

from arena.core.match import Match
from arena.tui.app import ArenaApp
from arena.tui.screens.home import FORM_DEFAULTS, HomeScreen
from arena.tui.screens.live import LiveScreen
from arena.tui.screens.replay import ReplayScreen
from arena.tui.screens.replays import ReplaysScreen
from arena.tui.widgets.board import Board
from arena.tui.widgets.matches import MatchTable
from arena.tui.widgets.moves import MoveList
from arena.tui.widgets.ply_detail import PlyDetail

from .conftest import SCHOLAR, record_scholar_matches, scholar_match, to_uci, wait_until

SIZE = (120, 40)


async def test_replays_lists_saved_matches_sorts_and_filters(tmp_path: Path) -> None:
    db = str(tmp_path / "arena.db")
    ids = await record_scholar_matches(db, 3)
    app = ArenaApp(db_path=db, start_screen="replays", static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplaysScreen)
        table = screen.query_one(MatchTable)
        await wait_until(pilot, lambda: table.row_count == 3)
        assert {r.id for r in table.shown} == set(ids)
        assert all(r.plies == len(SCHOLAR) and r.result == "1-0" for r in table.shown)
        table.sort_by("id", reverse=False)
        assert [r.id for r in table.shown] == sorted(ids)
        await pilot.press("O")
        assert [r.id for r in table.shown] == sorted(ids, reverse=True)
        await pilot.press("slash")
        assert screen.query_one("#filter", Input).has_focus
        await pilot.press(*"scholar01")
        await wait_until(pilot, lambda: table.row_count == 1)
        assert "1 of 3" in str(screen.query_one("#status").render())
        await pilot.press("enter")  # leaves the filter for the table
        await pilot.press("enter")  # opens the match
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        replay = app.screen
        assert isinstance(replay, ReplayScreen) and replay.match_id == "scholar01"
        await pilot.press("escape")
        assert app.screen is screen


async def test_replay_steps_through_plies_with_predictions(tmp_path: Path) -> None:
    db = str(tmp_path / "arena.db")
    (match_id,) = await record_scholar_matches(db, 1)
    app = ArenaApp(db_path=db, start_screen=("replay", match_id), static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await wait_until(pilot, lambda: screen.match is not None)
        board = screen.query_one(Board)
        moves = to_uci(SCHOLAR)
        # It opens at the start, with the match's summary in view.
        assert screen.position == 0 and board.fen == chess.STARTING_FEN
        assert "Start position" in screen.query_one(PlyDetail).plain
        await pilot.press("right")
        assert screen.position == 1 and board.last_move == moves[0]
        detail = screen.query_one(PlyDetail).plain
        # Ply 1: Black guessed e4 (hit) and d4 (miss), and pre-thought replies to both.
        assert "White played e4" in detail
        assert "Black guessed White's move" in detail and "hit" in detail and "miss" in detail
        assert "reply used" in detail and "dropped" in detail
        assert "Black predicted White's move e4 (#1, 60%) — reply was" in detail
        assert screen.query_one(MoveList).current == 0
        await pilot.press("right", "right", "left")
        assert screen.position == 2
        expected = chess.Board()
        for move in moves[:2]:
            expected.push_uci(move)
        assert board.fen == expected.fen()
        await pilot.press("end")
        assert screen.position == len(SCHOLAR)
        assert "1-0 checkmate" in str(screen.query_one("#status").render())


async def test_replay_exports_pgn(tmp_path: Path) -> None:
    db = str(tmp_path / "arena.db")
    (match_id,) = await record_scholar_matches(db, 1)
    app = ArenaApp(db_path=db, start_screen=("replay", match_id), static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await wait_until(pilot, lambda: screen.match is not None)
        await pilot.press("e")
        await wait_until(pilot, lambda: screen.exported is not None)
    path = tmp_path / f"{match_id}.pgn"
    assert screen.exported == path
    pgn = path.read_text()
    assert '[Result "1-0"]' in pgn and "4. Qxf7#" in pgn


async def test_replay_of_an_unknown_match_says_so(tmp_path: Path) -> None:
    db = str(tmp_path / "arena.db")
    await record_scholar_matches(db, 1)
    app = ArenaApp(db_path=db, start_screen=("replay", "nope"), static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await wait_until(pilot, lambda: screen.error is not None)
        assert "no match 'nope'" in str(screen.query_one("#status").render())
        assert app.is_running


async def test_home_lists_recent_matches_and_opens_one(tmp_path: Path) -> None:
    db = str(tmp_path / "arena.db")
    await record_scholar_matches(db, 2)
    app = ArenaApp(db_path=db, static=True)
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        table = home.query_one(MatchTable)
        await wait_until(pilot, lambda: table.row_count == 2)
        assert home.query_one("#start", Button).disabled, "no factory: no start button"
        table.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("escape")
        assert app.screen is home
        await pilot.press("r")
        assert isinstance(app.screen, ReplaysScreen)


async def test_home_without_a_database_still_works() -> None:
    app = ArenaApp(static=True, note="No API keys found: playing stockfish vs stockfish")
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        await wait_until(pilot, lambda: home.recent_error is not None)
        assert "no replay database" in str(home.query_one("#recent-status", Label).render())
        assert "No API keys found" in str(home.query_one("#note").render())


async def test_home_form_starts_a_match_through_the_factory() -> None:
    asked: list[dict[str, str]] = []

    async def factory(params: dict[str, str]) -> Match:
        asked.append(params)
        return scholar_match(max_plies=int(params["max_plies"]))

    app = ArenaApp(match_factory=factory, static=True)
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        home.query_one("#field-max_plies", Input).value = "4"
        await pilot.click("#start")
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen))
        assert asked == [{**FORM_DEFAULTS, "max_plies": "4"}]
        live = app.screen
        assert isinstance(live, LiveScreen)
        await wait_until(pilot, lambda: live.finished is not None)
        assert live.finished is not None and live.finished.termination == "max plies"
        await pilot.press("escape")
        assert app.screen is home


async def test_a_match_started_from_home_shows_the_start_note() -> None:
    note = "No API key found: Stockfish plays Stockfish (see README)"

    async def factory(params: dict[str, str]) -> Match:
        return scholar_match()

    app = ArenaApp(match_factory=factory, note=note, static=True)
    async with app.run_test(size=SIZE) as pilot:
        assert note in str(app.screen.query_one("#note").render())
        await pilot.click("#start")
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen))
        live = app.screen
        assert isinstance(live, LiveScreen)
        assert note in str(live.query_one("#note").render())


async def test_home_form_rejects_bad_values_and_shows_factory_errors() -> None:
    async def factory(params: dict[str, str]) -> Match:
        from arena.core.errors import ArenaError

        raise ArenaError(f"unknown player kind in {params['white']!r}")

    app = ArenaApp(match_factory=factory, static=True)
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        error = home.query_one("#form-error", Label)
        home.query_one("#field-k", Input).value = "zero"
        await pilot.click("#start")
        assert "Guesses (k)" in str(error.render())
        home.query_one("#field-k", Input).value = "3"
        home.query_one("#field-white", Input).value = "chess-bot"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "unknown player kind" in str(error.render()))
        assert isinstance(app.screen, HomeScreen)
        assert not home.query_one("#start", Button).disabled
