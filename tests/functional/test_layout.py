"""The live screen at every size, its status line, its help, and moving around a live match."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static, Tabs

from arena.core.match import Match, Seat
from arena.core.policy import SpeculationPolicy
from arena.games.chess import ChessState
from arena.games.traces import load_trace
from arena.players.trace import TracePlayer
from arena.tui.app import ArenaApp
from arena.tui.screens.dialogs import ConfirmScreen, HelpScreen
from arena.tui.screens.home import HomeScreen
from arena.tui.screens.live import LiveScreen
from arena.tui.speculation_model import LABELS
from arena.tui.widgets.board import Board
from arena.tui.widgets.evaluation import EvalBar
from arena.tui.widgets.latency import LatencyPanel
from arena.tui.widgets.log import EventLog
from arena.tui.widgets.matches import MatchTable
from arena.tui.widgets.moves import MoveList
from arena.tui.widgets.players import PlayerCard
from arena.tui.widgets.speculation import SpeculationPanel

from .conftest import SCHOLAR, scholar_match, store_fixed_matches, to_uci, wait_until

TRACE = Path(__file__).resolve().parents[2] / "arena" / "data" / "traces" / "gpt5-4c277d18.jsonl"


def live(app: ArenaApp) -> LiveScreen:
    assert app.live is not None
    return app.live


def status(screen: LiveScreen) -> str:
    return str(screen.query_one("#status", Static).render())


async def test_the_status_line_leads_with_the_state_ply_short_names_and_the_id() -> None:
    base = scholar_match(0.05, 0.05)
    seats = (
        Seat(TracePlayer(load_trace(TRACE), 0.001, spec=f"trace:{TRACE}"), None),
        base.seats[1],
    )
    match = Match("a1b2c3d4e5f6", base.start_state, seats, policy=SpeculationPolicy())
    app = ArenaApp(match, static=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.state.ply >= 1)
        line = status(screen)
        assert line.startswith(" ▶ live · ply ") or line.startswith(" over")
        assert "gpt5-4c277d18 vs scripted-black" in line
        assert "/traces/" not in line
        await wait_until(pilot, lambda: screen.finished is not None)
        assert status(screen).startswith(" over: ")
    app = ArenaApp(scholar_match(0.05, 0.05), static=True)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.finished is not None)
        assert "match test-match" in status(screen)


async def test_the_board_grows_with_the_terminal() -> None:
    heights = []
    for size in ((80, 24), (100, 30), (160, 50)):
        app = ArenaApp(scholar_match(0.05, 0.05, max_plies=2), static=True)
        async with app.run_test(size=size) as pilot:
            board = live(app).query_one(Board)
            await pilot.pause()
            heights.append(board.size.height)
            assert board.size.width <= size[0] - 48
    assert heights == sorted(heights) and heights[0] < heights[-1]
    assert heights[-1] >= 33  # the 9x4 squares at 160x50


async def test_short_terminals_put_timing_and_events_in_tabs() -> None:
    app = ArenaApp(scholar_match(0.05, 0.05), static=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = live(app)
        await pilot.pause()
        tabs = screen.query_one("#panel-tabs", Tabs)
        assert screen.tabbed and tabs.display
        latency, log = screen.query_one(LatencyPanel), screen.query_one(EventLog)
        assert latency.display and not log.display
        await pilot.press("l")
        assert log.display and not latency.display
        assert tabs.active == "tab-log"
        await pilot.press("t")
        assert latency.display and not log.display
    app = ArenaApp(scholar_match(0.05, 0.05), static=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = live(app)
        await pilot.pause()
        assert not screen.tabbed and not screen.query_one("#panel-tabs").display
        assert screen.query_one(LatencyPanel).display and screen.query_one(EventLog).display


async def test_hiding_the_panels_gives_the_board_the_room() -> None:
    app = ArenaApp(scholar_match(0.05, 0.05, max_plies=2), static=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = live(app)
        board = screen.query_one(Board)
        await pilot.pause()
        before = board.size.width
        await pilot.press("s", "t", "l")
        await pilot.pause()
        assert not screen.query_one("#right").display
        assert board.size.width > before


async def test_help_explains_speculation_with_the_panels_words() -> None:
    app = ArenaApp(scholar_match(0.05, 0.05, max_plies=2), static=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = str(app.screen.query_one("#help-text", Static).render())
        assert "What speculation is" in text
        assert all(label.word in text for label in LABELS.values())
        assert "without speculation" in text
        await pilot.press("escape")
        assert isinstance(app.screen, LiveScreen)


async def test_stepping_back_while_live_shows_the_chosen_ply() -> None:
    app = ArenaApp(scholar_match(0.05, 0.05), static=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.state.ply >= 3)
        board = screen.query_one(Board)
        await pilot.press("left")
        shown = screen.viewing
        assert shown is not None and shown < screen.state.ply
        assert (
            board.fen
            == ChessState.from_moves(screen.state.start_fen, to_uci(SCHOLAR)[:shown]).position()
        )
        assert screen.query_one(MoveList).current == shown - 1
        assert screen.query_one(SpeculationPanel).selected == shown - 1
        assert f"viewing ply {shown}/" in status(screen)
        # The game goes on meanwhile; the board stays where it was put.
        await wait_until(pilot, lambda: screen.finished is not None)
        assert (
            board.fen
            == ChessState.from_moves(screen.state.start_fen, to_uci(SCHOLAR)[:shown]).position()
        )
        await pilot.press("end")
        assert screen.viewing is None and board.fen == screen.state.position()


async def test_trace_playback_speed() -> None:
    base = scholar_match(0.05, 0.05)
    player = TracePlayer(load_trace(TRACE), 0.01, spec="trace:gpt5-4c277d18")
    match = Match("speed", base.start_state, (Seat(player, None), base.seats[1]), max_plies=2)
    app = ArenaApp(match, static=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = live(app)
        await pilot.pause()
        assert "speed ×100" in status(screen)
        await pilot.press("greater_than_sign")
        assert player.time_scale == 0.005
        assert "speed ×200" in status(screen)
        await pilot.press("less_than_sign", "less_than_sign")
        assert player.time_scale == 0.02


async def test_copy_fen_and_pgn() -> None:
    app = ArenaApp(scholar_match(0.01, 0.01), static=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.finished is not None)
        await pilot.press("c")
        assert app.clipboard == screen.state.position()
        await pilot.press("C")
        assert "1. e4 e5 2. Bc4 Nc6 3. Qh5 Nf6 4. Qxf7# 1-0" in app.clipboard


async def test_escape_goes_home_from_a_match_started_there(tmp_path: Path) -> None:
    async def factory(params: dict[str, str]) -> Match:
        return scholar_match(0.05, 2.0)

    app = ArenaApp(db_path=str(tmp_path / "a.db"), match_factory=factory, static=True)
    async with app.run_test(size=(120, 40)) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        await pilot.click("#start")
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen))
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is home)
        assert not app.match_running


async def test_the_quit_question_goes_away_when_the_match_ends() -> None:
    # Black's slower moves keep the match running until the question is up, on a loaded machine too.
    app = ArenaApp(scholar_match(0.2, 0.6), static=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: app.match_running and screen.events_seen > 0)
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await wait_until(pilot, lambda: screen.finished is not None)
        await wait_until(pilot, lambda: app.screen is screen)


async def test_ctrl_c_asks_to_quit_and_the_exit_says_where_the_match_is() -> None:
    # Black thinks longer than the test runs: the match is still running when ctrl+c comes.
    app = ArenaApp(scholar_match(0.2, 30.0), static=True, db_path=":memory:")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.match_running and live(app).events_seen > 0)
        await pilot.press("ctrl+c")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
    assert app.exit_message() == "saved as test-match — arena replay test-match"


async def test_the_viewer_moves_with_arrows_and_pages_and_sorts_show_arrows(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "a.db")
    await store_fixed_matches(db)
    app = ArenaApp(db_path=db, start_screen="replays", static=True)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(MatchTable)
        await wait_until(pilot, lambda: table.row_count == 3)
        table.sort_by("plies")
        labels = {c.key.value: c.label.plain for c in table.ordered_columns}
        assert labels["plies"].endswith(("▲", "▼"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is not None and hasattr(app.screen, "plies"))
        viewer = app.screen
        await wait_until(pilot, lambda: bool(getattr(viewer, "plies", None)))
        assert getattr(viewer, "position", None) == 0
        await pilot.press("down", "down")
        assert getattr(viewer, "position", None) == 2
        await pilot.press("up")
        assert getattr(viewer, "position", None) == 1
        await pilot.press("pagedown")
        assert getattr(viewer, "position", None) == len(SCHOLAR)
        await pilot.press("pageup")
        assert getattr(viewer, "position", None) == 0


async def test_v_shows_an_evaluation_bar_from_stockfish() -> None:
    app = ArenaApp(scholar_match(0.05, 3.0), static=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = live(app)
        bar = screen.query_one(EvalBar)
        assert not bar.display, "off in tests and engine matches unless asked for"
        await wait_until(pilot, lambda: screen.state.ply >= 1)
        await pilot.press("v")
        assert bar.display
        await wait_until(pilot, lambda: bar.cp is not None or bar.mate is not None, timeout=20)
        assert bar.note == ""
        await pilot.press("v")
        assert not bar.display


async def test_the_cards_show_captured_pieces() -> None:
    app = ArenaApp(scholar_match(0.01, 0.01), static=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.finished is not None)
        white = screen.query_one("#player-0", PlayerCard)
        assert white.captured == "♟ +1"
        assert "♟ +1" in white.render().plain  # type: ignore[union-attr]
