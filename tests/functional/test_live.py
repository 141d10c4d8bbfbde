"""The live match screen, driven by real matches between fast scripted players."""

from __future__ import annotations

import time

import chess
from textual.geometry import Region
from textual.message import Message

from arena.core.match import Match, MatchSummary, Seat
from arena.core.policy import SpeculationPolicy
from arena.games.chess import ChessState
from arena.tui.app import ArenaApp
from arena.tui.screens.dialogs import ConfirmScreen, HelpScreen
from arena.tui.screens.live import LiveScreen
from arena.tui.speculation_model import Shown
from arena.tui.widgets.board import Board
from arena.tui.widgets.latency import LatencyPanel, LatencyTable
from arena.tui.widgets.moves import MoveList
from arena.tui.widgets.players import PlayerCard
from arena.tui.widgets.speculation import SpeculationPanel

from .conftest import (
    SCHOLAR,
    ListSpeculator,
    ScriptedActor,
    scholar_match,
    to_uci,
    wait_until,
)

SIZE = (120, 40)

SLAV = [
    "d4",
    "d5",
    "c4",
    "c6",
    "Nf3",
    "Nf6",
    "Nc3",
    "a6",
    "e3",
    "b5",
    "b3",
    "Bg4",
    "Be2",
    "e6",
    "O-O",
    "Nbd7",
    "h3",
    "Bh5",
    "Bb2",
    "Bd6",
    "Qc2",
    "O-O",
    "Rac1",
    "Rc8",
    "Rfd1",
    "Qe7",
    "Ne5",
    "Bxe2",
    "Qxe2",
    "Nxe5",
    "dxe5",
    "Bxe5",
]
"""32 plies of a Slav: more rows than the move list has at 120x40, so it has to scroll."""


def live(app: ArenaApp) -> LiveScreen:
    assert app.live is not None
    return app.live


def final_board() -> chess.Board:
    board = chess.Board()
    for move in to_uci(SCHOLAR):
        board.push_uci(move)
    return board


async def test_board_and_moves_show_the_position_after_the_moves() -> None:
    app = ArenaApp(scholar_match(), static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.finished is not None)
        board = screen.query_one(Board)
        assert board.fen == final_board().fen()
        assert board.last_move == to_uci(SCHOLAR)[-1]
        assert screen.query_one(MoveList).sans == SCHOLAR
        result = screen.query_one("#result")
        assert result.display
        assert "1-0" in str(result.render()) and "checkmate" in str(result.render())
        await wait_until(pilot, lambda: app.summary is not None)
        assert app.summary is not None and app.summary.outcome.result == "1-0"


def slav_match() -> Match:
    """The Slav between scripted players that guess every other move right, so hits (a reply
    played at once, two commits in one batch of events) alternate with misses."""
    guesses = {ply: [(san, 0.7)] for ply, san in enumerate(SLAV) if ply % 4 < 2}
    white_guesses = {p: g for p, g in guesses.items() if p % 2 == 1}
    black_guesses = {p: g for p, g in guesses.items() if p % 2 == 0}
    seats = (
        Seat(ScriptedActor(SLAV, 0.03, "white"), ListSpeculator(white_guesses, "list-white")),
        Seat(ScriptedActor(SLAV, 0.03, "black"), ListSpeculator(black_guesses, "list-black")),
    )
    return Match(
        "slav",
        ChessState.from_fen(None),
        seats,
        policy=SpeculationPolicy(k=3),
        max_plies=len(SLAV),
    )


def visible_text(widget: MoveList) -> str:
    """The widget's lines that its parent does not clip away."""
    assert widget.parent is not None
    parent = widget.parent.region  # type: ignore[attr-defined]
    shown = widget.region.intersection(parent)
    lines = widget.render_lines(Region(0, 0, *widget.outer_size))
    top = shown.y - widget.region.y
    return "\n".join(strip.text for strip in lines[top : top + shown.height])


async def test_move_list_holds_every_committed_move_and_shows_the_newest() -> None:
    app = ArenaApp(slav_match(), static=True, note="No API key found: a note like the CLI's")
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        moves = screen.query_one(MoveList)
        seen = 0
        while seen < len(SLAV):
            await wait_until(pilot, lambda n=seen: screen.state.ply > n)  # type: ignore[misc]
            await pilot.pause()
            seen = screen.state.ply
            assert moves.sans == SLAV[:seen]
            newest = visible_text(moves).splitlines()
            number = (seen + 1) // 2
            row = next((line for line in newest if f" {number}. " in line), "")
            assert SLAV[seen - 1] in row, f"ply {seen}: {SLAV[seen - 1]} not on screen"
        await wait_until(pilot, lambda: screen.finished is not None)
        assert moves.sans == SLAV


async def test_result_message_is_posted_once_at_the_end() -> None:
    seen: list[Message] = []
    app = ArenaApp(scholar_match(), static=True)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await wait_until(pilot, lambda: live(app).finished is not None)
        await pilot.pause()
    # A message is seen once per node it bubbles through; count distinct messages.
    finished = list({id(m): m for m in seen if isinstance(m, LiveScreen.MatchFinished)}.values())
    assert [(m.result, m.termination) for m in finished] == [("1-0", "checkmate")]
    assert finished[0].stats.plies == len(SCHOLAR)


async def test_flip_turns_the_board_and_swaps_the_player_cards() -> None:
    app = ArenaApp(scholar_match(), static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        board = screen.query_one(Board)
        left = list(screen.query_one("#left").children)
        assert left.index(screen.query_one("#player-1")) < left.index(board)
        await pilot.press("f")
        assert board.flipped
        left = list(screen.query_one("#left").children)
        assert left.index(screen.query_one("#player-0")) < left.index(board)
        assert left.index(screen.query_one("#player-1")) > left.index(board)
        await pilot.press("f")
        assert not board.flipped


def first_rank_line(board: Board) -> str:
    return next(line for line in str(board.render()).splitlines() if line.strip())


async def test_flipped_board_draws_rank_one_on_top() -> None:
    app = ArenaApp(scholar_match(), static=True)
    async with app.run_test(size=SIZE) as pilot:
        board = live(app).query_one(Board)
        top_row = first_rank_line(board)
        assert top_row.lstrip().startswith("8")
        await pilot.press("f")
        await pilot.pause()
        top_row = first_rank_line(board)
        assert top_row.lstrip().startswith("1")


async def test_pause_holds_the_next_turn_and_resume_continues() -> None:
    match = scholar_match(0.1, 0.1)
    app = ArenaApp(match, static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.state.ply >= 1)
        await pilot.press("space")
        assert match.paused
        assert "paused" in str(screen.query_one("#status").render())
        # The turn in progress finishes; then nothing moves until resumed.
        await wait_until(
            pilot, lambda: screen.to_move is None and screen.state.ply == match.state.ply
        )
        paused_at = match.state.ply
        deadline = time.monotonic() + 0.5  # five times a decision: a turn would have started
        while time.monotonic() < deadline:
            await pilot.pause(0.05)
            assert match.state.ply == paused_at
        assert screen.finished is None
        await pilot.press("p")
        assert not match.paused
        await wait_until(pilot, lambda: screen.finished is not None)
        assert screen.state.ply == len(SCHOLAR)


async def test_speculation_panel_shows_guesses_hits_and_misses() -> None:
    # Black's replies take ten times White's moves, so a missed one is still running (cancelled).
    app = ArenaApp(scholar_match(0.05, 0.5), static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        panel = screen.query_one(SpeculationPanel)
        await wait_until(pilot, lambda: 0 in panel.plies)
        first = panel.plies[0]
        assert first.guesser == 1
        assert [(r.text, r.probability) for r in first.rows] == [("e4", 0.6), ("d4", 0.3)]
        await wait_until(pilot, lambda: screen.finished is not None)
        # Ply 0: Black guessed e4 first; its reply to e4 was used, the one to d4 dropped.
        first = panel.plies.get(0) or first
        assert [first.outcome(r) for r in first.rows] == ["hit", "miss"]
        assert first.rows[0].shown == Shown.USED
        assert first.rows[1].shown == Shown.DROPPED
        # Ply 4: Black guessed d3 only; White played Qh5.
        fourth = panel.plies[4]
        assert fourth.played_text == "Qh5" and fourth.hit_rank is None
        assert [fourth.outcome(r) for r in fourth.rows] == ["miss"]
        # Ply 5: White guessed Nf6 first and its prepared Qxf7# was played at once.
        fifth = panel.plies[5]
        branch = fifth.rows[0].branch
        assert fifth.hit_rank == 1 and branch is not None and branch.move_text == "Qxf7#"
        assert branch.ready is not None and fifth.saved_s is not None
        text = panel.plain
        assert "White guessed Black's move" in text and "Nf6" in text and "hit" in text
        assert "White predicted Black's move Nf6 (#1, 80%) — reply was" in text


async def test_speculation_panel_lists_depth_two_branches() -> None:
    # Black guesses e4 at ply 0; White's speculator answers e5 for Black, so White pre-thinks
    # its move after e4 e5 (Bc4) two plies ahead, and plays it at once on ply 2.
    # White thinks 1 s on ply 0, so ply 0 stays the panel's current ply while it is checked.
    base = scholar_match(1.0, 0.3)
    match = Match("deep", base.start_state, base.seats, policy=SpeculationPolicy(k=3, depth=2))
    app = ArenaApp(match, static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        panel = screen.query_one(SpeculationPanel)
        await wait_until(pilot, lambda: 0 in panel.plies and bool(panel.plies[0].deep))
        (deep,) = panel.plies[0].deep
        assert (deep.guess, deep.answer_text) == ("e2e4", "e5")
        assert deep.probability == 0.6 * 0.5
        text = panel.plain
        assert "↳ then e5" in text and "White: pre-thinking" in text
        await wait_until(
            pilot, lambda: deep.branch.shown == Shown.USED and deep.branch.move_text is not None
        )
        assert deep.branch.move_text == "Bc4"


async def test_latency_panel_totals_match_the_committed_plies() -> None:
    app = ArenaApp(scholar_match(), static=True)
    async with app.run_test(size=SIZE) as pilot:
        # The summary (worker result) can land before the screen has read the last events.
        await wait_until(pilot, lambda: app.summary is not None)
        await wait_until(pilot, lambda: live(app).finished is not None)
        assert app.summary is not None
        records = app.summary.records
        totals = live(app).query_one(LatencyPanel).totals
        assert len(totals.records) == len(SCHOLAR)
        stats = app.summary.stats
        # The panel shows the ledger's figures, not figures of its own.
        assert totals.stats == stats
        assert stats.sequential_s == round(sum(r.decision_s for r in records), 4)
        assert stats.adopted_plies == sum(r.hit for r in records) > 0
        text = str(live(app).query_one(LatencyTable).render())
        assert f"instant {stats.adopted_plies}" in text
        assert f"({stats.saved_pct:.0f}%)" in text


async def test_player_cards_follow_the_turn() -> None:
    # Black thinks far longer than the test runs: a slow poll on a loaded machine cannot see
    # white's second move before black's first.
    app = ArenaApp(scholar_match(1.0, 60.0, speculate=False), static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        white = screen.query_one("#player-0", PlayerCard)
        black = screen.query_one("#player-1", PlayerCard)
        await wait_until(pilot, lambda: screen.to_move == 0)
        assert white.to_move and not black.to_move
        assert white.has_class("-to-move")
        assert "thinking…" in str(white.render())
        await wait_until(pilot, lambda: screen.to_move == 1)
        assert black.to_move and not white.to_move
        assert white.last_s is not None and white.moves == 1


async def test_quit_asks_while_the_match_runs() -> None:
    match = scholar_match(5.0, 5.0)
    white = match.seats[0].actor
    assert isinstance(white, ScriptedActor)
    app = ArenaApp(match, static=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: live(app).to_move == 0)
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, LiveScreen)
        assert app.match_running
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.match_running)
    assert white.closed, "players are closed when the match stops"


async def test_quit_answers_y_and_n_while_a_prepared_reply_still_thinks() -> None:
    """`q` then `n` keeps the match; `q` then `y` stops it at once, even while the side to move
    waits on a reply pre-computed for the move just played (that wait swallowed the stop)."""
    # Black pre-thinks its reply to e4 for 4 s; White plays e4 at once, so Black adopts it running
    # (4 s: the keys below land before it answers even on a loaded machine).
    match = scholar_match(0.05, 4.0)
    app = ArenaApp(match, static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        panel = screen.query_one(SpeculationPanel)
        await wait_until(pilot, lambda: 0 in panel.plies and panel.plies[0].played is not None)
        hit = panel.plies[0].rows[0].branch
        await wait_until(pilot, lambda: hit is not None and hit.ready is not None)
        assert hit is not None and hit.ready is False
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, LiveScreen)
        assert app.match_running and app.return_code is None
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: app.return_code is not None, timeout=5.0)
        assert app.return_code == 0
        assert not app.match_running
    # Black's move in progress may still land; the rest of the game (to ply 7) must not.
    assert match.state.ply <= 2


async def test_a_second_ctrl_q_exits_at_once_while_the_match_stops() -> None:
    """ctrl+q stops the match first, and the status says so; pressed again it exits at once."""
    match = scholar_match(0.05, 2.0)
    app = ArenaApp(match, static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.state.ply == 1)
        await pilot.press("ctrl+q")
        assert screen.is_stopping
        # The runner stops at once (even while an adopted reply thinks); the status says which.
        await wait_until(
            pilot,
            lambda: any(
                w in str(screen.query_one("#status").render()) for w in ("stopping", "aborted")
            ),
        )
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: app.return_code is not None, timeout=1.0)
    assert match.state.ply < len(SCHOLAR)


async def test_quit_without_asking_once_the_match_is_over() -> None:
    app = ArenaApp(scholar_match(), static=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.summary is not None)
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.return_code == 0


async def test_ui_keeps_answering_keys_while_a_player_thinks_for_seconds() -> None:
    match = scholar_match(8.0, 8.0)
    app = ArenaApp(match, static=False, analysis=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.to_move == 0)
        board = screen.query_one(Board)
        started = time.monotonic()
        for _ in range(4):
            await pilot.press("f")
        await pilot.press("s")
        assert not screen.query_one(SpeculationPanel).display
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert time.monotonic() - started < 2.0, "keys were answered while White thinks"
        assert not board.flipped
        assert match.state.ply == 0
        # The ticking clock runs while White thinks.
        card = screen.query_one("#player-0", PlayerCard)
        first = card.elapsed()
        await wait_until(pilot, lambda: (card.elapsed() or 0) > (first or 0) + 0.2)


async def test_panel_toggles_hide_and_show() -> None:
    app = ArenaApp(scholar_match(), static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        for key, selector in (
            ("s", "#speculation"),
            ("t", "#latency"),
            ("l", "#log"),
            ("m", "#moves"),
        ):
            widget = screen.query_one(selector)
            assert widget.display
            await pilot.press(key)
            assert not widget.display
            await pilot.press(key)
            assert widget.display


class BrokenMatch(Match):
    async def run(self) -> MatchSummary:
        raise RuntimeError("the runner broke")


async def test_a_failing_match_worker_is_reported_not_raised() -> None:
    base = scholar_match()
    match = BrokenMatch("broken", base.start_state, base.seats)
    app = ArenaApp(match, static=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.failure is not None)
        assert "the runner broke" in (screen.failure or "")
        assert "failed" in str(screen.query_one("#status").render())
        assert app.is_running
