"""The live match screen: board, players, moves, speculation, latency and the event log."""

from __future__ import annotations

from collections import deque
from typing import ClassVar

import chess
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, Static, Tab, Tabs
from textual.worker import Worker

from arena.core.errors import ArenaError
from arena.core.events import (
    BranchAdopted,
    BranchCancelled,
    BranchFinished,
    BranchStarted,
    Event,
    GuessesMade,
    IllegalAttempt,
    MatchEnded,
    MatchStarted,
    MoveCommitted,
    TurnStarted,
)
from arena.core.game import GameState
from arena.core.ledger import MatchStats
from arena.core.match import Match, MatchSummary
from arena.engines import EngineOptions, EnginePool
from arena.games import replay
from arena.games.chess import ChessState
from arena.games.openspiel import OpenSpielState
from arena.players.human import HumanPlayer, IllegalMoveError
from arena.players.trace import TracePlayer
from arena.tui.format import (
    captured,
    count,
    move_line,
    move_texts,
    percent,
    pgn_of,
    saving,
    seconds,
    short_name,
    side_name,
)
from arena.tui.screens.base import ArenaScreen
from arena.tui.screens.dialogs import ConfirmScreen
from arena.tui.widgets.board import Board, board_fit
from arena.tui.widgets.evaluation import ANALYSIS_S, EvalBar
from arena.tui.widgets.game_board import GameBoard
from arena.tui.widgets.latency import LatencyPanel
from arena.tui.widgets.log import EventLog
from arena.tui.widgets.move_input import MoveInput
from arena.tui.widgets.moves import MoveList
from arena.tui.widgets.players import PlayerCard
from arena.tui.widgets.speculation import SpeculationPanel

MIN_TIME_SCALE = 1 / 1024
MAX_TIME_SCALE = 100.0
"""The range `>` and `<` move a recording's time scale in (`--time-scale` allows 0..100)."""
RIGHT_MIN_WIDTH = 48
"""The speculation column is kept at least this wide while it shows anything."""
SPECULATION_ROWS = 9
LATENCY_ROWS = 9
LOG_ROWS = 6

PANELS = {
    "speculation": "#speculation",
    "latency": "#latency",
    "log": "#log",
    "moves": "#moves",
}


def _last_move(state: GameState) -> str | None:
    return state.path[-1] if state.path else None


class LiveScreen(ArenaScreen):
    """Watches (or plays) one match, fed by the match's events through `feed`."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # noqa: RUF012

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space,p", "toggle_pause", "Pause"),
        Binding("left", "step(-1)", "Back a move"),
        Binding("right", "step(1)", "Forward", show=False),
        Binding("end", "follow", "Back to live"),
        Binding("f", "flip", "Flip"),
        Binding("v", "toggle_eval", "Eval", show=False),
        Binding("s", "toggle_panel('speculation')", "Guesses", show=False),
        Binding("t", "toggle_panel('latency')", "Timing", show=False),
        Binding("l", "toggle_panel('log')", "Log", show=False),
        Binding("m", "toggle_panel('moves')", "Moves", show=False),
        Binding("greater_than_sign", "speed(0.5)", "Faster", key_display=">"),
        Binding("less_than_sign", "speed(2)", "Slower", key_display="<", show=False),
        Binding("c", "copy('fen')", "Copy position", show=False),
        Binding("C", "copy('pgn')", "Copy PGN", show=False),
    ]

    class EventsArrived(Message):
        """New match events wait in the screen's inbox. A backlog collapses to one message."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LiveScreen.EventsArrived)

    class MatchFinished(Message):
        """The match ended; `result` and `termination` as the runner reported them."""

        def __init__(self, result: str, termination: str, stats: MatchStats) -> None:
            super().__init__()
            self.result = result
            self.termination = termination
            self.stats = stats

    def __init__(
        self,
        match: Match,
        *,
        static: bool = False,
        note: str | None = None,
        analysis: bool | None = None,
    ) -> None:
        super().__init__()
        self.analysis = (
            analysis
            if analysis is not None
            else not static and not any(s.actor.cpu_bound for s in match.seats)
        )
        """True shows an evaluation bar from a Stockfish analysis of each position (`v`). Off
        by default when an engine plays (it would compete for the cores) and in tests."""
        self._analyser: EnginePool | None = None
        self.match = match
        """The match shown; the screen pauses and resumes it and answers for human seats."""
        self.static = static
        """True to show no running clocks (tests and snapshots)."""
        self.note = note
        start = match.state
        self.is_chess = isinstance(start, ChessState)
        """False for the other games (OpenSpiel): their own board, no evaluation bar, no PGN."""
        if not self.is_chess:
            self.analysis = False
        self.state: GameState = start
        """The real current state, as far as the events processed so far tell."""
        self._states: dict[int, GameState] = {start.ply: start}
        self.root = self._root()
        """The state the path of every state of this match starts from."""
        self._branch_paths: dict[int, tuple[str, ...]] = {}
        self._inbox: deque[Event] = deque()
        self.to_move: int | None = None
        """The side deciding a real move now, None between turns and after the end."""
        self.finished: MatchEnded | None = None
        """The end of the match, once it came."""
        self.failure: str | None = None
        self.is_stopping = False
        """True once the app is stopping the match (to quit)."""
        self.events_seen = 0
        """How many events the screen has processed (tests wait on it)."""
        self.hidden_panels: set[str] = set()
        """Panels the person hid (s, t, l, m)."""
        self.active_tab = "latency"
        """The panel shown when timing and events share a place as tabs."""
        self.viewing: int | None = None
        """The ply picked with ← → to look back at (plies played on the board shown); None
        follows the game."""

    # -- feeding ------------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        """The match bus subscriber: never blocks, safe from any thread or task."""
        self._inbox.append(event)
        self.post_message(self.EventsArrived())

    @property
    def torn_down(self) -> bool:
        """True once the screen is being removed (the app exits while the match still runs).

        Textual removes the widgets before the screen, so what arrives then updates nothing.
        """
        return self._pruning or self._closing or self._closed or not self.is_attached

    def on_live_screen_events_arrived(self, _message: EventsArrived) -> None:
        if self.torn_down:
            self._inbox.clear()
            return
        while self._inbox:
            event = self._inbox.popleft()
            self.events_seen += 1
            self._apply(event)
        self._update_status()

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        seats = self.match.seats
        cards = [
            PlayerCard(
                side,
                short_name(seat.actor.spec or seat.actor.name),
                seat.speculator.spec if seat.speculator else None,
                ticking=not self.static,
                human=isinstance(seat.actor, HumanPlayer),
                label=self.side(side),
                id=f"player-{side}",
            )
            for side, seat in enumerate(seats)
        ]
        yield Static("", id="status")
        if self.note:
            yield Static(self.note, id="note")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield cards[1]
                board = Board(id="board") if self.is_chess else GameBoard(id="board")
                board.set_position(self.state.position(), _last_move(self.state))
                yield board
                yield EvalBar(id="eval")
                yield cards[0]
                yield Static("", id="result")
                if self.human_sides:
                    yield MoveInput(blink=not self.static, id="move-input")
                moves = MoveList(id="moves")
                if isinstance(self.state, ChessState):
                    moves.set_start(self.state.start_fen)
                else:
                    moves.set_first_side(self.match.start_state.to_move)
                moves.set_moves(self.move_texts())
                yield moves
            with Vertical(id="right"):
                yield SpeculationPanel(persons=frozenset(self.human_sides), id="speculation")
                yield Tabs(
                    Tab("Timing", id="tab-latency"), Tab("Events", id="tab-log"), id="panel-tabs"
                )
                yield LatencyPanel(id="latency")
                yield EventLog(id="log")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#speculation").border_title = "Speculation"
        self.query_one("#latency").border_title = "Latency"
        self.query_one("#log").border_title = "Events"
        self.query_one("#moves").border_title = "Moves"
        self.query_one("#result").display = False
        if len(self.human_sides) == 1 and 1 in self.human_sides:
            self.action_flip()
        if self.note:
            self.query_one(EventLog).add(None, self.note)
        self.query_one(EvalBar).display = self.analysis
        if self.analysis:
            self.evaluate(self.state.position())
        self._fit()
        self._update_status()

    def on_resize(self) -> None:
        self._fit()

    @property
    def tabbed(self) -> bool:
        """True when the timing and event panels share one place, as tabs (short terminals)."""
        return self.has_class("-tabbed")

    def _fit(self) -> None:
        """Sizes the board to the terminal and puts the panels that do not fit into tabs."""
        if not self.is_mounted:
            return
        width, height = self.size
        note = 1 if self.note and self.query_one("#note").display else 0
        result = 1 if self.query_one("#result").display else 0
        entry = 3 if self.human_sides else 0
        entry += 1 if self.analysis else 0
        moves = 4 if self.query_one("#moves").display else 0
        room = height - 2 - note - 6 - result - entry - moves
        right = [p for p in ("speculation", "latency", "log") if p not in self.hidden_panels]
        right_min = RIGHT_MIN_WIDTH if right else 0
        board_width, board_height = board_fit(width - right_min, room)
        if self.is_chess:
            self.query_one(Board).styles.height = board_height
        else:
            board_width = 40
        left = self.query_one("#left")
        left.styles.width = "1fr" if not right else max(30, board_width)
        self.query_one("#right").display = bool(right)
        # Timing and events stacked when both fit under the guesses, else tabs.
        tabbed = height - 3 - note - SPECULATION_ROWS < LATENCY_ROWS + LOG_ROWS
        self.set_class(tabbed, "-tabbed")
        tabs = self.query_one("#panel-tabs", Tabs)
        shown_below = [p for p in ("latency", "log") if p not in self.hidden_panels]
        tabs.display = tabbed and bool(shown_below)
        if tabbed and shown_below and self.active_tab not in shown_below:
            self.active_tab = shown_below[0]
        for name in ("latency", "log"):
            visible = name not in self.hidden_panels and (not tabbed or name == self.active_tab)
            self.query_one(PANELS[name]).display = visible
        self.query_one("#speculation").display = "speculation" not in self.hidden_panels
        self.query_one("#moves").display = "moves" not in self.hidden_panels
        if tabbed and shown_below:
            tabs.active = f"tab-{self.active_tab}"

    @on(Tabs.TabActivated, "#panel-tabs")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        name = (event.tab.id or "tab-latency").removeprefix("tab-")
        if name != self.active_tab:
            self.active_tab = name
            self._fit()

    @property
    def human_sides(self) -> list[int]:
        return [i for i, s in enumerate(self.match.seats) if isinstance(s.actor, HumanPlayer)]

    # -- events -------------------------------------------------------------------------------

    def state_at(self, ply: int) -> GameState | None:
        return self._states.get(ply)

    def side(self, side: int) -> str:
        """The side's name in this game: White / Black in chess, the game's own otherwise."""
        return side_name(side, None if self.is_chess else self.state)

    def move_texts(self) -> list[str]:
        """The moves played so far in the game's readable notation (SAN in chess)."""
        if isinstance(self.state, ChessState):
            return list(self.state.san_history)
        return move_texts(self.root, self.state.path)

    def _root(self) -> GameState:
        state = self.match.start_state
        if isinstance(state, OpenSpielState):
            return state.game.start()
        if isinstance(state, ChessState):
            return ChessState.from_fen(state.start_fen)
        return replay(state, ()) if not state.path else state  # pragma: no cover

    @property
    def first_ply(self) -> int:
        """The ply of the state the paths start from."""
        return self.state.ply - len(self.state.path)

    def board_widget(self) -> Board | GameBoard:
        return self.query_one("#board", Board) if self.is_chess else self.query_one(GameBoard)

    def _card(self, side: int) -> PlayerCard:
        return self.query_one(f"#player-{side}", PlayerCard)

    def _log(self, event: Event, line: str) -> None:
        self.query_one(EventLog).add(event.t, line)

    def _apply(self, event: Event) -> None:
        match event:
            case MatchStarted():
                self._match_started(event)
            case TurnStarted():
                self._turn_started(event)
            case GuessesMade():
                self._guesses_made(event)
            case BranchStarted():
                self._branch_started(event)
            case BranchFinished():
                self._branch_finished(event)
            case BranchCancelled():
                self._branch_cancelled(event)
            case BranchAdopted():
                self._branch_adopted(event)
            case IllegalAttempt():
                self._illegal_attempt(event)
            case MoveCommitted():
                self._move_committed(event)
            case MatchEnded():
                self._match_ended(event)

    def _match_started(self, event: MatchStarted) -> None:
        white, black = event.players
        names = self.side(0), self.side(1)
        self._log(event, f"match {event.match_id}: {white} ({names[0]}) vs {black} ({names[1]})")
        if event.history:
            # A resumed match: its earlier plies keep their marks and count in the totals.
            hits = {r.ply: r.hit for r in event.history}
            first = self.first_ply
            texts = self.move_texts()
            self.query_one(MoveList).set_moves(
                texts, [hits.get(first + i, False) for i in range(len(texts))]
            )
            self.query_one(LatencyPanel).load(event.history)
            saved = count(len(event.history), "saved ply", "saved plies")
            self._log(event, f"resumed at ply {event.ply} with {saved}")
        for side, spec in enumerate(event.speculators):
            if spec:
                self._log(event, f"{self.side(side)} guesses with {spec}")

    def _turn_started(self, event: TurnStarted) -> None:
        self.to_move = event.side
        self._card(event.side).start_thinking()
        self._card(1 - event.side).stop("waiting")
        self._log(event, f"ply {event.ply + 1}: {self.side(event.side)} to move")
        if event.side in self.human_sides and event.ply == self.state.ply:
            self.query_one(MoveInput).ask(self.state)
            self.board_widget().interactive = True

    def _guesses_made(self, event: GuessesMade) -> None:
        state = self.state_at(event.ply)
        if state is None:
            return
        panel = self.query_one(SpeculationPanel)
        panel.feed(event, state)
        guesser = self.match.seats[event.side].speculator
        panel.border_subtitle = guesser.spec if guesser is not None else None
        if self._reveals_human_move(state.path, event.ply + 1):
            self._log(event, f"{self.side(event.side)} guesses your move (shown after you play)")
            return
        guesses = ", ".join(
            f"{move_line(state, [g.move])} {g.probability:.0%}" for g in event.guesses
        )
        self._log(
            event,
            f"{self.side(event.side)} guesses {guesses or 'nothing'} ({seconds(event.predict_s)})",
        )

    def _reveals_human_move(self, path: tuple[str, ...], length: int | None = None) -> bool:
        """True if `path` (up to `length` plies) holds a human's move not yet played: showing
        it would tell the human what the opponent expects of them."""
        first = self.root.to_move
        end = len(path) if length is None else length
        start = len(self.state.path)
        return any((first + i) % 2 in self.human_sides for i in range(start, end))

    def _branch_path(self, path: tuple[str, ...], ply: int) -> str:
        """The speculated moves of a branch in SAN, from the first ply not yet played."""
        base = min(ply - 1, self.state.ply)
        state = self.state_at(base)
        if state is None or path[:base] != state.path[:base]:
            return " ".join(path[base:])
        return move_line(state, path[base:])

    def _branch_started(self, event: BranchStarted) -> None:
        self._branch_paths[event.branch_id] = event.path
        self.query_one(SpeculationPanel).feed(event)
        if self._reveals_human_move(event.path):
            who = self.side(event.side)
            self._log(event, f"branch {event.branch_id}: {who} pre-thinks a reply")
            return
        self._log(
            event,
            f"branch {event.branch_id}: {self.side(event.side)} pre-thinks after "
            f"{self._branch_path(event.path, event.ply)} ({event.probability:.0%})",
        )

    def _branch_finished(self, event: BranchFinished) -> None:
        self.query_one(SpeculationPanel).feed(event)
        path = self._branch_paths.pop(event.branch_id, None)
        if path is not None and self._reveals_human_move(path):
            self._log(event, f"branch {event.branch_id} ready ({seconds(event.duration_s)})")
            return
        if event.error:
            outcome = f"failed: {event.error}"
        elif event.move is None:
            # e.g. a recording that never reached the guessed position has no reply to give.
            outcome = "ended without a reply"
        else:
            move = event.move
            if path is not None:
                move = self._format_at(path, event.move)
            outcome = f"ready: reply {move}"
        self._log(event, f"branch {event.branch_id} {outcome} ({seconds(event.duration_s)})")

    def _format_at(self, path: tuple[str, ...], move: str) -> str:
        """`move` in readable notation in the state `path` (from the root) leads to."""
        try:
            return move_line(replay(self.root, path), [move])
        except ArenaError:
            return move

    def _branch_cancelled(self, event: BranchCancelled) -> None:
        self._branch_paths.pop(event.branch_id, None)
        self.query_one(SpeculationPanel).feed(event)
        self._log(event, f"branch {event.branch_id} cancelled after {seconds(event.running_s)}")

    def _branch_adopted(self, event: BranchAdopted) -> None:
        self.query_one(SpeculationPanel).feed(event)
        how = "ready" if event.ready else "still thinking"
        self._log(
            event,
            f"{self.side(event.side)} uses pre-computed branch {event.branch_id} ({how})",
        )

    def _illegal_attempt(self, event: IllegalAttempt) -> None:
        attempt = event.attempt
        self._log(event, f"{self.side(event.side)} tried {attempt.raw[:40]!r}: {attempt.error}")

    def _move_committed(self, event: MoveCommitted) -> None:
        record = event.record
        if record.ply == self.state.ply and self.state.is_legal(record.move):
            self.state = self.state.apply(record.move)
        else:
            self.state = self.match.state
        self._states[self.state.ply] = self.state
        self.to_move = None
        if self.viewing is None:
            self.board_widget().set_position(self.state.position(), record.move)
        if self.analysis:
            self.evaluate(self.state.position())
        self.query_one(MoveList).add_move(record.san, record.hit)
        if self.note and self.query_one("#note").display:
            # The note (which players were chosen) is in the log too; the board needs the row.
            self.query_one("#note").display = False
            self._fit()
        self._card(record.side).committed(record.decision_s, record.usage, record.hit)
        if isinstance(self.state, ChessState):
            for side, taken in enumerate(captured(self.state.start_fen, self.state.position())):
                self._card(side).set_captured(taken)
        self.query_one(SpeculationPanel).feed(event)
        self.query_one(LatencyPanel).add_record(record)
        if record.side in self.human_sides:
            self._human_done()
        detail = f"thought {seconds(record.decision_s)}, waited {seconds(record.wait_s)}"
        if record.hit and record.saved_s > 0:
            detail += f", saved {seconds(record.saved_s)}"
        guessed = f"guessed #{record.rank}" if record.rank else "not guessed"
        self._log(
            event,
            f"ply {record.ply + 1}: {self.side(record.side)} plays {record.san} "
            f"({detail}; {guessed})",
        )

    def _match_ended(self, event: MatchEnded) -> None:
        self.finished = event
        self.to_move = None
        for side in (0, 1):
            self._card(side).stop("done")
        if self.human_sides:
            self._human_done()
        self.query_one(LatencyPanel).finish(event.stats)
        stats = event.stats
        summary = (
            f"{event.result} · {event.termination} · {count(stats.plies, 'ply')} · "
            f"{saving(stats.saved_s, stats.saved_pct)} · hit rate {percent(100 * stats.hit_rate)}"
        )
        result = self.query_one("#result", Static)
        result.update(f"{event.result}  {event.termination}")
        result.display = True
        self._fit()
        self._log(event, f"match over: {summary}")
        self.post_message(self.MatchFinished(event.result, event.termination, stats))

    # -- when the worker ends -----------------------------------------------------------------

    def match_failed(self, error: str) -> None:
        """The match worker raised instead of returning a summary."""
        if self.torn_down:
            return
        self.failure = error
        self.query_one(EventLog).add(None, f"match failed: {error}")
        result = self.query_one("#result", Static)
        result.update(f"error: {error}")
        result.display = True
        self._update_status()

    def stopping(self) -> None:
        """The app is stopping the match; says so until the players are closed."""
        if self.torn_down:
            return
        self.is_stopping = True
        self._update_status()

    def match_returned(self, summary: MatchSummary) -> None:
        """The match worker returned; shows the outcome if no MatchEnded event did."""
        if self.torn_down:
            return
        if self.finished is None:
            outcome = summary.outcome
            result = self.query_one("#result", Static)
            result.update(f"{outcome.result}  {outcome.termination}")
            result.display = True
        self._update_status()

    # -- status -------------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self.match.paused

    def _update_status(self) -> None:
        white, black = (short_name(s.actor.spec or s.actor.name) for s in self.match.seats)
        if self.finished is not None:
            state = f"over: {self.finished.result} {self.finished.termination}"
        elif self.failure is not None:
            state = "failed"
        elif self.is_stopping:
            state = "⏹ stopping"
        elif self.paused:
            state = "⏸ paused" + (" after this move" if self.to_move is not None else "")
        else:
            state = "▶ live"
        ply = f"ply {self.state.ply}"
        if self.viewing is not None:
            ply = f"viewing ply {self.viewing}/{self.state.ply}"
        speed = ""
        scale = self.time_scale
        if scale is not None:
            speed = f" · speed ×{1 / scale:g}" if scale > 0 else " · speed max"
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f" {state} · {ply} · {white} vs {black} · match {self.match.match_id}{speed}")
        self.query_one("#status", Static).update(text)

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_pause" and self.finished is not None:
            return False
        if action == "speed":
            return self.time_scale is not None
        if action == "follow":
            return self.viewing is not None
        if action in ("toggle_eval", "flip") or (action == "copy" and parameters == ("pgn",)):
            return self.is_chess
        return super().check_action(action, parameters)

    def action_back(self) -> None:
        """Home: at once after the match, else after asking (the match stops, saved)."""
        if len(self.app.screen_stack) <= 2:
            return
        if self.finished is not None or self.failure is not None:
            self.app.pop_screen()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(self.LeaveRequested())

        self.app.push_screen(
            ConfirmScreen("Stop the match and go back home? Every ply so far is saved."),
            answered,
        )

    class LeaveRequested(Message):
        """The person asked to stop the match and go back home."""

    def action_toggle_pause(self) -> None:
        if self.finished is not None:
            return
        if self.paused:
            self.match.resume()
        else:
            self.match.pause()
        self._update_status()

    # -- looking back -------------------------------------------------------------------------

    def action_step(self, delta: int) -> None:
        """Shows the board `delta` plies from the one shown; the game goes on meanwhile."""
        now = self.state.ply if self.viewing is None else self.viewing
        first = self.first_ply
        target = max(first, min(self.state.ply, now + delta))
        self._view(None if target == self.state.ply else target)

    def action_follow(self) -> None:
        self._view(None)

    def _view(self, ply: int | None) -> None:
        self.viewing = ply
        board = self.board_widget()
        moves = self.query_one(MoveList)
        panel = self.query_one(SpeculationPanel)
        first = self.first_ply
        if ply is None:
            board.set_position(self.state.position(), _last_move(self.state))
            moves.current = None
            panel.select(None)
            board.interactive = self.to_move in self.human_sides
        else:
            state = self.state_at(ply) or replay(self.root, self.state.path[: ply - first])
            board.set_position(state.position(), _last_move(state))
            board.interactive = False
            moves.current = ply - first - 1 if ply > first else None
            panel.select(ply - 1)
        self.refresh_bindings()
        self._update_status()

    # -- evaluation -----------------------------------------------------------------------------

    def action_toggle_eval(self) -> None:
        self.analysis = not self.analysis
        self.query_one(EvalBar).display = self.analysis
        if self.analysis:
            self.evaluate(self.state.position())
        self._fit()

    @work(exclusive=True, group="eval", exit_on_error=False)
    async def evaluate(self, fen: str) -> None:
        """Scores `fen` with Stockfish in its own process, never in the match's way."""
        bar = self.query_one(EvalBar)
        outcome = self.state.outcome()
        if not self.is_chess:
            return
        if outcome is not None:
            bar.note = f"game over {outcome.result}"
            return
        if self._analyser is None:
            self._analyser = EnginePool(
                EngineOptions(movetime=ANALYSIS_S, threads=1, hash_mb=16), size=1
            )
            await self._analyser.start()
        infos = await self._analyser.analyse(chess.Board(fen), multipv=1)
        score = infos[0].get("score") if infos else None
        if score is None or fen != self.state.position():
            return
        white = score.white()
        bar.show_score(white.score(), white.mate())

    def worker_failed(self, worker: Worker[object], message: str) -> None:
        if worker.group == "eval":
            # No Stockfish (or a broken one) costs the bar, not the match.
            self.query_one(EvalBar).note = f"off: {message}"
            return
        super().worker_failed(worker, message)

    async def on_unmount(self) -> None:
        if self._analyser is not None:
            await self._analyser.close()
            self._analyser = None

    # -- trace playback -----------------------------------------------------------------------

    @property
    def _traces(self) -> list[TracePlayer]:
        return [s.actor for s in self.match.seats if isinstance(s.actor, TracePlayer)]

    @property
    def time_scale(self) -> float | None:
        """The playback time scale of the recorded players, None when there are none."""
        traces = self._traces
        return traces[0].time_scale if traces else None

    def action_speed(self, factor: float) -> None:
        """Plays recordings `1 / factor` times as fast (from the next move on)."""
        for player in self._traces:
            player.time_scale = min(MAX_TIME_SCALE, max(MIN_TIME_SCALE, player.time_scale * factor))
        self._update_status()

    # -- copying ------------------------------------------------------------------------------

    def action_copy(self, what: str) -> None:
        """Copies the position (FEN in chess) or the game so far (PGN, chess only)."""
        state = self.state if self.viewing is None else self.state_at(self.viewing) or self.state
        if not isinstance(self.state, ChessState) or what == "fen":
            text = state.position()
            what = "fen" if self.is_chess else "position"
        else:
            names = [s.actor.spec or s.actor.name for s in self.match.seats]
            result = self.finished.result if self.finished is not None else "*"
            text = pgn_of(self.state.start_fen, self.state.path, names[0], names[1], result)
        self.app.copy_to_clipboard(text)
        label = what.upper() if what in ("fen", "pgn") else what.capitalize()
        self.notify(f"{label} copied to the clipboard", timeout=3)

    def action_flip(self) -> None:
        if not self.is_chess:
            return
        board = self.query_one(Board)
        board.flipped = not board.flipped
        self.query_one(EvalBar).flipped = board.flipped
        left = self.query_one("#left", Vertical)
        top, bottom = (
            (self._card(0), self._card(1))
            if board.flipped
            else (
                self._card(1),
                self._card(0),
            )
        )
        left.move_child(top, before=board)
        left.move_child(bottom, after=board)

    def action_toggle_panel(self, name: str) -> None:
        if self.tabbed and name in ("latency", "log") and name != self.active_tab:
            # Tabs: the key brings its panel to the front rather than hiding it.
            self.active_tab = name
            self.hidden_panels.discard(name)
        else:
            self.hidden_panels ^= {name}
        self._fit()

    # -- the human seat -----------------------------------------------------------------------

    def _human_done(self) -> None:
        self.query_one(MoveInput).done()
        self.board_widget().interactive = False

    def _submit(self, text: str) -> bool:
        side = self.state.to_move
        actor = self.match.seats[side].actor
        if self.to_move != side or not isinstance(actor, HumanPlayer):
            self.query_one(MoveInput).set_error("not your move")
            return False
        try:
            actor.submit(self.state, text)
        except IllegalMoveError as exc:
            self.query_one(MoveInput).set_error(str(exc))
            return False
        self._human_done()
        return True

    @on(MoveInput.MoveEntered)
    def _move_entered(self, event: MoveInput.MoveEntered) -> None:
        # The move as read (any letter case), so `nc3` plays Nc3.
        self._submit(event.move)

    @on(Board.MoveSelected)
    @on(GameBoard.MoveSelected)
    def _move_selected(self, event: Board.MoveSelected | GameBoard.MoveSelected) -> None:
        self._submit(event.move)
